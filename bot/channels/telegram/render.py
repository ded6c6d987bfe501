"""Neutral replies -> Telegram Bot API calls (plain data, stored in the outbox, sent later).

An operation is `{"method": <python-telegram-bot Bot method>, "kwargs": {...}}` with
`reply_markup` in the Bot API's own JSON shape. Rendering happens when the reply is produced,
so a tap can turn into an edit of the tapped message (multi-select toggles, "✓ your answer").
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.channels import texts
from bot.channels.textfit import split_text, truncate
from quiz.messages import Button, Buttons, Card, Image, Reply, Text

log = logging.getLogger(__name__)

Op = dict[str, Any]

TEXT_LIMIT = 4000  # Bot API: 4096 characters after entity parsing; keep a margin
CAPTION_LIMIT = 1000  # Bot API: 1024
CALLBACK_DATA_BYTES = 64
SELECTED = "✓ "
DONE = "✅ "
_ROW_CHARS = 24  # short buttons share a row up to about this many characters
_ANSWER_PREFIXES = ("/a/", "/done/")
_ANSWER_PAYLOADS = ("/consent/yes", "/consent/no")


@dataclass(frozen=True)
class Tap:
    """The inline button a person tapped: the callback query's message and data."""

    message_id: int
    data: str
    text_html: str = ""
    keyboard: list[list[dict[str, Any]]] = field(default_factory=list)

    def title(self) -> str | None:
        for row in self.keyboard:
            for button in row:
                if button.get("callback_data") == self.data:
                    return str(button.get("text", "")).removeprefix(SELECTED)
        return None

    def selected_titles(self) -> list[str]:
        return [
            str(b["text"]).removeprefix(SELECTED)
            for row in self.keyboard
            for b in row
            if str(b.get("text", "")).startswith(SELECTED)
        ]


def _fits(payload: str) -> bool:
    if len(payload.encode("utf-8")) <= CALLBACK_DATA_BYTES:
        return True
    log.warning("button payload longer than 64 bytes left out on Telegram: %r", payload[:80])
    return False


def _button(title: str, payload: str) -> dict[str, Any]:
    return {"text": title, "callback_data": payload}


def _rows(buttons: Sequence[dict[str, Any]], max_chars: int = _ROW_CHARS) -> list[list[dict]]:
    """Greedy rows: short buttons side by side, long ones alone."""
    rows: list[list[dict[str, Any]]] = []
    row: list[dict[str, Any]] = []
    width = 0
    for b in buttons:
        w = len(b["text"])
        if row and (width + w > max_chars or len(row) == 3):
            rows.append(row)
            row, width = [], 0
        row.append(b)
        width += w
    if row:
        rows.append(row)
    return rows


def inline_keyboard(reply: Buttons) -> dict[str, Any] | None:
    """The inline keyboard of a Buttons reply: options, then 'done', then the small actions."""
    options = [
        _button(f"{SELECTED}{b.title}" if b.selected else b.title, b.payload)
        for b in reply.buttons
        if _fits(b.payload)
    ]
    long_options = any(len(o["text"]) > 14 for o in options) or len(options) <= 3
    rows = [[o] for o in options] if long_options else _rows(options, max_chars=30)
    if reply.done is not None and _fits(reply.done.payload):
        rows.append([_button(f"{DONE}{reply.done.title}", reply.done.payload)])
    rows += _rows([_button(b.title, b.payload) for b in reply.nav if _fits(b.payload)])
    return {"inline_keyboard": rows} if rows else None


def _card_keyboard(buttons: Sequence[Button]) -> dict[str, Any] | None:
    row = [_button(b.title, b.payload) for b in buttons if _fits(b.payload)]
    return {"inline_keyboard": _rows(row, max_chars=30)} if row else None


def location_keyboard(lang: str) -> dict[str, Any]:
    """A one-time reply keyboard with the 'Deel locatie' button (request_location)."""
    return {
        "keyboard": [[{"text": texts.t(lang, "share_location"), "request_location": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
        "input_field_placeholder": texts.t(lang, "location_placeholder"),
    }


REMOVE_KEYBOARD: dict[str, Any] = {"remove_keyboard": True}
_SENDS = ("send_message", "send_photo")


def asks_place(replies: Sequence[Reply]) -> bool:
    """Whether these replies (re)ask the place question, with its 'Deel locatie' keyboard."""
    return any(isinstance(r, Buttons) and r.allow_location for r in replies)


def remove_reply_keyboard(ops: list[Op], chat_id: int | str, lang: str) -> list[Op]:
    """Put ReplyKeyboardRemove on the turn's first outgoing message.

    A message has one reply_markup: when the first one carries an inline keyboard, a short
    message without one goes before it.
    """
    first = next((i for i, op in enumerate(ops) if op["method"] in _SENDS), len(ops))
    if first < len(ops) and "reply_markup" not in ops[first]["kwargs"]:
        ops[first]["kwargs"]["reply_markup"] = dict(REMOVE_KEYBOARD)
        return ops
    text = html.escape(texts.t(lang, "keyboard_closed"))
    return [*ops[:first], _send(chat_id, text, dict(REMOVE_KEYBOARD)), *ops[first:]]


def _send(chat_id: int | str, text: str, markup: dict[str, Any] | None = None) -> Op:
    kwargs: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
    if markup:
        kwargs["reply_markup"] = markup
    return {"method": "send_message", "kwargs": kwargs}


def _send_text(chat_id: int | str, raw: str, markup: dict[str, Any] | None = None) -> list[Op]:
    """Escaped text, split into messages that fit; the keyboard goes on the last one."""
    chunks = split_text(raw, TEXT_LIMIT) or ["…"]
    ops = [_send(chat_id, html.escape(c)) for c in chunks]
    if markup:
        ops[-1]["kwargs"]["reply_markup"] = markup
    return ops


def _question_text(reply: Buttons, lang: str) -> tuple[str, str]:
    """(HTML prefix, raw text): a progress line above quiz questions."""
    if reply.quiz is None:
        return "", reply.text
    progress = texts.t(lang, "progress", step=reply.quiz.step, total=reply.quiz.total)
    return f"<i>{html.escape(progress)}</i>\n", reply.text


def _render_buttons(chat_id: int | str, reply: Buttons, lang: str) -> list[Op]:
    prefix, raw = _question_text(reply, lang)
    ops = _send_text(chat_id, raw, inline_keyboard(reply))
    ops[0]["kwargs"]["text"] = prefix + ops[0]["kwargs"]["text"]
    if reply.allow_location:
        ops.append(
            _send(chat_id, html.escape(texts.t(lang, "location_hint")), location_keyboard(lang))
        )
    return ops


def _card_html(card: Card) -> str:
    parts = [f"<b>{html.escape(card.title)}</b>"]
    if card.subtitle:
        parts.append(f"<i>{html.escape(card.subtitle)}</i>")
    body = "\n".join(parts)
    if card.text:
        body += "\n\n" + html.escape(card.text)
    return body


def _render_card(chat_id: int | str, card: Card, public_url: str) -> list[Op]:
    markup = _card_keyboard(card.buttons)
    ops: list[Op] = []
    if card.image_url:
        caption = f"<b>{html.escape(truncate(card.title, CAPTION_LIMIT))}</b>"
        ops.append(
            {
                "method": "send_photo",
                "kwargs": {
                    "chat_id": chat_id,
                    "photo": absolute_url(card.image_url, public_url),
                    "caption": caption,
                    "parse_mode": "HTML",
                },
            }
        )
    full = _card_html(card)
    if len(full) <= TEXT_LIMIT:
        ops.append(_send(chat_id, full, markup))
        return ops
    head = f"<b>{html.escape(card.title)}</b>"
    ops.append(_send(chat_id, head))
    ops += _send_text(chat_id, card.text, markup)
    return ops


def absolute_url(url: str, public_url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return public_url.rstrip("/") + "/" + url.lstrip("/")


def _tap_edits(
    chat_id: int | str, replies: list[Reply], tap: Tap | None
) -> tuple[list[Op], list[Reply]]:
    """Instant feedback on the tapped message; returns (edit ops, replies still to send)."""
    if tap is None:
        return [], replies
    first = replies[0] if replies else None
    parts = tap.data.split("/")
    if (
        isinstance(first, Buttons)
        and first.multi
        and first.quiz is not None
        and tap.data.startswith("/a/")
        and len(parts) == 4
        and parts[2] == first.quiz.question_id
    ):
        # A multi-select toggle: redraw the keyboard in place with its ✓ marks.
        op = {
            "method": "edit_message_reply_markup",
            "kwargs": {
                "chat_id": chat_id,
                "message_id": tap.message_id,
                "reply_markup": inline_keyboard(first),
            },
        }
        return [op], replies[1:]
    if tap.text_html and (tap.data.startswith(_ANSWER_PREFIXES) or tap.data in _ANSWER_PAYLOADS):
        chosen = tap.selected_titles() if tap.data.startswith("/done/") else []
        title = ", ".join(chosen) if chosen else tap.title()
        if title:
            # The question keeps what was chosen; its buttons go (no double answers).
            text = f"{tap.text_html}\n\n<b>{html.escape(SELECTED + title)}</b>"
            op = {
                "method": "edit_message_text",
                "kwargs": {
                    "chat_id": chat_id,
                    "message_id": tap.message_id,
                    "text": text,
                    "parse_mode": "HTML",
                },
            }
            return [op], replies
    return [], replies


def render(
    replies: Sequence[Reply],
    chat_id: int | str,
    lang: str,
    tap: Tap | None = None,
    public_url: str = "",
    keyboard_shown: bool = False,
) -> list[Op]:
    """All Bot API calls for one turn's replies, in order.

    `keyboard_shown`: the place question's reply keyboard is still on screen from an earlier
    turn; unless these replies ask the place question again, the first message removes it.
    """
    ops, rest = _tap_edits(chat_id, list(replies), tap)
    for reply in rest:
        if isinstance(reply, Text):
            ops += _send_text(chat_id, reply.text)
        elif isinstance(reply, Buttons):
            ops += _render_buttons(chat_id, reply, lang)
        elif isinstance(reply, Card):
            ops += _render_card(chat_id, reply, public_url)
        elif isinstance(reply, Image):
            ops.append(
                {
                    "method": "send_photo",
                    "kwargs": {
                        "chat_id": chat_id,
                        "photo": absolute_url(reply.url, public_url),
                        "caption": truncate(reply.alt, CAPTION_LIMIT),
                    },
                }
            )
    if keyboard_shown and not asks_place(replies):
        ops = remove_reply_keyboard(ops, chat_id, lang)
    return ops
