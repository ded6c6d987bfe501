"""Neutral replies -> WhatsApp Cloud API messages, within WhatsApp's limits.

Choices degrade in three steps: up to 3 reply buttons (titles ≤ 20 characters), else an
interactive list (≤ 10 rows, titles ≤ 24, descriptions ≤ 72), else numbered text the person
answers by typing a number. Bodies of interactive messages are ≤ 1024 characters; longer text
goes ahead as plain messages. The result is plain data stored in the outbox:

    {"type": "text", "text"}
    {"type": "buttons", "text", "buttons": [{"id", "title"}], "header"?, "footer"?}
    {"type": "list", "text", "button", "sections": [{"title", "rows": [{"id", "title",
     "description"?}]}], "header"?, "footer"?}
    {"type": "location_request", "text"}
    {"type": "image", "url", "caption"?}
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot.channels import texts
from bot.channels.telegram.render import absolute_url
from bot.channels.textfit import shorten_unique, split_for_body, split_text, truncate
from quiz.messages import Button, Buttons, Card, Image, Reply, Text

log = logging.getLogger(__name__)

Op = dict[str, Any]

MAX_BUTTONS = 3
BUTTON_TITLE = 20
MAX_ROWS = 10
ROW_TITLE = 24
ROW_DESCRIPTION = 72
SECTION_TITLE = 24
LIST_BUTTON = 20
HEADER = 60
FOOTER = 60
BODY = 1024
TEXT = 4096
BUTTON_ID = 256
ROW_ID = 200
SELECTED = "✓ "


def _ids_fit(buttons: Sequence[Button], limit: int) -> list[Button]:
    kept = [b for b in buttons if len(b.payload) <= limit]
    if len(kept) < len(buttons):
        log.warning("WhatsApp: left out %d button(s) with over-long ids", len(buttons) - len(kept))
    return kept


def _text_ops(text: str) -> list[Op]:
    return [{"type": "text", "text": chunk} for chunk in split_text(text, TEXT)]


def _interactive(op: Op, body: str) -> list[Op]:
    """Leading plain messages for what does not fit the body, then the interactive one."""
    lead, tail = split_for_body(body or "…", BODY, TEXT)
    op["text"] = tail
    return [*({"type": "text", "text": t} for t in lead), op]


def _titled(items: Sequence[Button], multi: bool) -> list[str]:
    return [f"{SELECTED}{b.title}" if multi and b.selected else b.title for b in items]


def _buttons_op(body: str, items: Sequence[Button], multi: bool, header: str | None) -> list[Op]:
    op: Op = {
        "type": "buttons",
        "buttons": [
            {"id": b.payload, "title": t} for b, t in zip(items, _titled(items, multi), strict=True)
        ],
    }
    if header:
        op["header"] = truncate(header, HEADER)
    return _interactive(op, body)


def _rows(items: Sequence[Button], multi: bool) -> list[dict[str, Any]]:
    """List rows with short, unique titles; a shortened title keeps its full text below."""
    room = ROW_TITLE - (len(SELECTED) if multi else 0)
    short = shorten_unique([b.title for b in items], room)
    rows = []
    for b, title in zip(items, short, strict=True):
        row: dict[str, Any] = {
            "id": b.payload,
            "title": f"{SELECTED}{title}" if multi and b.selected else title,
        }
        description = b.description
        if title != " ".join(b.title.split()):
            description = f"{b.title} — {description}" if description else b.title
        if description:
            row["description"] = truncate(description, ROW_DESCRIPTION)
        rows.append(row)
    return rows


def _list_op(
    body: str,
    items: Sequence[Button],
    nav: Sequence[Button],
    multi: bool,
    lang: str,
    header: str | None,
) -> list[Op]:
    sections = [
        {
            "title": truncate(texts.t(lang, "list_section"), SECTION_TITLE),
            "rows": _rows(items, multi),
        }
    ]
    if nav:
        sections.append(
            {
                "title": truncate(texts.t(lang, "nav_section"), SECTION_TITLE),
                "rows": _rows(nav, False),
            }
        )
    op: Op = {
        "type": "list",
        "button": truncate(texts.t(lang, "list_button"), LIST_BUTTON),
        "sections": sections,
    }
    if header:
        op["header"] = truncate(header, HEADER)
    return _interactive(op, body)


def _numbered(body: str, reply: Buttons, lang: str, header: str | None) -> list[Op]:
    lines = [
        f"{i}. {SELECTED if b.selected and reply.multi else ''}{b.title}"
        for i, b in enumerate(reply.buttons, start=1)
    ]
    hint = texts.t(lang, "numbered_hint_multi" if reply.multi else "numbered_hint")
    parts = [f"_{header}_" if header else "", body, "\n".join(lines), hint]
    if reply.nav:
        parts.append(texts.t(lang, "typing_hint"))
    return _text_ops("\n\n".join(p for p in parts if p))


def render_buttons(reply: Buttons, lang: str) -> list[Op]:
    header = (
        texts.t(lang, "progress", step=reply.quiz.step, total=reply.quiz.total)
        if reply.quiz is not None
        else None
    )
    hint = texts.t(lang, "typing_hint")
    if reply.allow_location:
        body = f"{reply.text}\n\n{hint}" if reply.nav else reply.text
        lead, tail = split_for_body(body, BODY, TEXT)
        return [
            *({"type": "text", "text": t} for t in lead),
            {"type": "location_request", "text": tail},
        ]
    items = list(reply.buttons)
    if reply.done is not None:
        items.append(reply.done)
    items = _ids_fit(items, ROW_ID)
    nav = _ids_fit(list(reply.nav), ROW_ID)
    titles = _titled(items, reply.multi)
    fit_buttons = all(len(t) <= BUTTON_TITLE for t in titles)
    if not items and not nav:
        return _text_ops(reply.text)
    if (
        fit_buttons
        and len(items) + len(nav) <= MAX_BUTTONS
        and all(len(b.title) <= BUTTON_TITLE for b in nav)
    ):
        return _buttons_op(reply.text, [*items, *nav], reply.multi and not nav, header)
    if items and fit_buttons and len(items) <= MAX_BUTTONS:
        ops = _buttons_op(reply.text, items, reply.multi, header)
        if nav:
            ops[-1]["footer"] = truncate(hint, FOOTER)
        return ops
    if len(items) <= MAX_ROWS:
        room = MAX_ROWS - len(items)
        ops = _list_op(reply.text, items, nav[:room], reply.multi, lang, header)
        if len(nav) > room:
            ops[-1]["footer"] = truncate(hint, FOOTER)
        return ops
    return _numbered(reply.text, reply, lang, header)


def _card_body(card: Card) -> str:
    parts = [f"*{card.title}*"]
    if card.subtitle:
        parts.append(f"_{card.subtitle}_")
    body = "\n".join(parts)
    return f"{body}\n\n{card.text}" if card.text else body


def render_card(card: Card, lang: str, public_url: str) -> list[Op]:
    ops: list[Op] = []
    if card.image_url:
        ops.append(
            {
                "type": "image",
                "url": absolute_url(card.image_url, public_url),
                "caption": truncate(card.title, BODY),
            }
        )
    body = _card_body(card)
    if not card.buttons:
        return ops + _text_ops(body)
    return ops + render_buttons(Buttons(text=body, buttons=card.buttons), lang)


def render(replies: Sequence[Reply], lang: str, public_url: str = "") -> list[Op]:
    """All WhatsApp messages for one turn's replies, in order."""
    ops: list[Op] = []
    for reply in replies:
        if isinstance(reply, Text):
            ops += _text_ops(reply.text)
        elif isinstance(reply, Buttons):
            ops += render_buttons(reply, lang)
        elif isinstance(reply, Card):
            ops += render_card(reply, lang, public_url)
        elif isinstance(reply, Image):
            ops.append(
                {
                    "type": "image",
                    "url": absolute_url(reply.url, public_url),
                    "caption": truncate(reply.alt, BODY),
                }
            )
    return ops
