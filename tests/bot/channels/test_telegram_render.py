"""Telegram rendering (inline keyboards, taps as edits) and reading real Bot API updates."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram.inbound import from_update, language, to_inbound
from bot.channels.telegram.render import Tap, inline_keyboard, render
from quiz.messages import Button, Buttons, Card, QuizMeta, Text
from quiz.protocol import answer_payload
from tests.fakes.quiz_walk import quiz_transcript
from tests.fakes.telegram_api import TelegramUser


def question(multi: bool = False, selected: int | None = None) -> Buttons:
    return Buttons(
        text="Voor wie zet jij je graag in?",
        buttons=tuple(
            Button(t, answer_payload("causes_who", t.lower()), selected=i == selected)
            for i, t in enumerate(["Ouderen", "Jongeren", "Dieren"])
        ),
        quiz=QuizMeta("causes_who", "multi" if multi else "choice", 14, 17),
        multi=multi,
        done=Button("Klaar", "/done/causes_who") if multi else None,
        nav=(Button("Waarom vraag ik dit?", "/why"), Button("Terug", "/back")),
    )


def buttons_of(markup: dict[str, Any]) -> list[tuple[str, str]]:
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


def test_question_is_a_message_with_an_inline_keyboard() -> None:
    [op] = render([question()], chat_id=42, lang="nl")
    assert op["method"] == "send_message"
    kwargs = op["kwargs"]
    assert kwargs["text"] == "<i>Vraag 14 van 17</i>\nVoor wie zet jij je graag in?"
    assert kwargs["parse_mode"] == "HTML"
    assert buttons_of(kwargs["reply_markup"]) == [
        ("Ouderen", "/a/causes_who/ouderen"),
        ("Jongeren", "/a/causes_who/jongeren"),
        ("Dieren", "/a/causes_who/dieren"),
        ("Waarom vraag ik dit?", "/why"),
        ("Terug", "/back"),
    ]


def test_multi_select_toggle_edits_the_keyboard_in_place() -> None:
    tap = Tap(message_id=77, data="/a/causes_who/jongeren", text_html="Voor wie?")
    ops = render([question(multi=True, selected=1)], chat_id=42, lang="nl", tap=tap)
    [op] = ops
    assert op["method"] == "edit_message_reply_markup"
    assert op["kwargs"]["message_id"] == 77
    shown = buttons_of(op["kwargs"]["reply_markup"])
    assert shown[:4] == [
        ("Ouderen", "/a/causes_who/ouderen"),
        ("✓ Jongeren", "/a/causes_who/jongeren"),
        ("Dieren", "/a/causes_who/dieren"),
        ("✅ Klaar", "/done/causes_who"),
    ]


def test_an_answer_tap_keeps_the_choice_on_the_question() -> None:
    keyboard = inline_keyboard(question())
    assert keyboard is not None
    tap = Tap(77, "/a/causes_who/dieren", "Voor wie &amp; wat?", keyboard["inline_keyboard"])
    edit, nxt, _ = render([Text("Top!"), question()], chat_id=42, lang="nl", tap=tap)
    assert edit == {
        "method": "edit_message_text",
        "kwargs": {
            "chat_id": 42,
            "message_id": 77,
            "text": "Voor wie &amp; wat?\n\n<b>✓ Dieren</b>",
            "parse_mode": "HTML",
        },
    }
    assert nxt["method"] == "send_message" and nxt["kwargs"]["text"] == "Top!"


def test_done_tap_lists_the_chosen_answers() -> None:
    keyboard = inline_keyboard(question(multi=True, selected=0))
    assert keyboard is not None
    tap = Tap(5, "/done/causes_who", "Voor wie?", keyboard["inline_keyboard"])
    edit = render([Text("ok")], chat_id=1, lang="nl", tap=tap)[0]
    assert edit["kwargs"]["text"].endswith("<b>✓ Ouderen</b>")


def test_place_question_offers_the_share_location_button() -> None:
    reply = Buttons("Waar woon je?", (), quiz=QuizMeta("place", "place", 11, 17),
                    allow_location=True, nav=(Button("Waarom?", "/why"),))  # fmt: skip
    question_op, location_op = render([reply], chat_id=9, lang="nl")
    assert buttons_of(question_op["kwargs"]["reply_markup"]) == [("Waarom?", "/why")]
    markup = location_op["kwargs"]["reply_markup"]
    assert markup["keyboard"] == [[{"text": "📍 Deel locatie", "request_location": True}]]
    assert markup["one_time_keyboard"] is True


def test_cards_escape_html_and_split_long_text() -> None:
    card = Card(title="Koken & eten <samen>", subtitle="Buurthuis", text="x. " * 3000,
                buttons=(Button("Ik wil helpen", "/help/v1"),))  # fmt: skip
    ops = render([card], chat_id=3, lang="nl")
    assert ops[0]["kwargs"]["text"] == "<b>Koken &amp; eten &lt;samen&gt;</b>"
    assert all(len(op["kwargs"]["text"]) <= 4096 for op in ops)
    assert "reply_markup" in ops[-1]["kwargs"] and len(ops) >= 3


def test_payloads_over_64_bytes_are_left_out() -> None:
    reply = Buttons("?", (Button("ok", "/a/q/ok"), Button("too long", "/info/" + "x" * 80)))
    [op] = render([reply], chat_id=1, lang="nl")
    assert buttons_of(op["kwargs"]["reply_markup"]) == [("ok", "/a/q/ok")]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_message_of_the_real_quiz_fits_telegram(lang: str) -> None:
    ops = render(quiz_transcript(lang), chat_id=1, lang=lang)
    for op in ops:
        kwargs = op["kwargs"]
        assert 0 < len(kwargs.get("text") or kwargs.get("caption") or "x") <= 4096
        markup = kwargs.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            assert all(len(b["callback_data"].encode()) <= 64 for b in row)


# ---------------------------------------------------------------------- updates in


@pytest.fixture
def user() -> TelegramUser:
    return TelegramUser(fake=None, deliver=None)  # type: ignore[arg-type]


def parse(data: dict[str, Any]) -> Any:
    """As the webhook reads an update (its JSON); polling's PTB objects must read the same."""
    found = from_update(data)
    assert to_inbound(Update.de_json(data, None)) == found
    return found


def test_start_deep_link_carries_campaign_and_language(user: TelegramUser) -> None:
    update = user.text_update("/start KRACHT_wk-12")
    inbound, chat_id, tap = parse(update)
    assert inbound.payload == "/start" and tap is None and chat_id == user.user_id
    assert inbound.meta == {"start": True, "campaign": "KRACHT_wk-12", "lang": "nl"}
    assert inbound.external_id == str(update["update_id"])
    bad, _, _ = parse(user.text_update("/start " + "x" * 65))
    assert "campaign" not in bad.meta and bad.meta["start"] is True
    odd, _, _ = parse(user.text_update("/start kr@cht!"))
    assert "campaign" not in odd.meta


@pytest.mark.parametrize(
    ("code", "lang"), [("nl", "nl"), ("nl-BE", "nl"), ("en-GB", "en"), ("de", "en"), (None, None)]
)
def test_language_code_picks_dutch_or_english(code: str | None, lang: str | None) -> None:
    assert language(code) == lang


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("/help", "/help"),
        ("/opnieuw", "/restart"),
        ("/stop", "/stop"),
        ("/mijngegevens", "/my_data"),
        ("/verwijder", "/delete_data"),
        ("/help@vrijwilligerskracht_bot", "/help"),
    ],
)
def test_commands(user: TelegramUser, text: str, payload: str) -> None:
    inbound, _, _ = parse(user.text_update(text))
    assert (inbound.payload, inbound.text) == (payload, None)


def test_text_location_and_taps(user: TelegramUser) -> None:
    text, _, _ = parse(user.text_update("Ik help graag ouderen"))
    assert text.text == "Ik help graag ouderen" and text.payload is None
    loc, _, _ = parse(user.location_update(52.0907, 5.1214))
    assert loc.location == (52.0907, 5.1214)
    message = {
        "message_id": 31,
        "from": {"id": 7000000001, "is_bot": True, "first_name": "VK"},
        "chat": {"id": user.user_id, "type": "private", "first_name": "Sanne"},
        "date": 1764400000,
        "text": "Wat doe je het liefst?",
        "reply_markup": {"inline_keyboard": [[{"text": "Buiten", "callback_data": "/a/q/out"}]]},
    }
    tapped, chat_id, tap = parse(user.callback_update(message, "/a/q/out"))
    assert tapped.payload == "/a/q/out" and chat_id == user.user_id
    assert tap is not None and tap.message_id == 31 and tap.title() == "Buiten"


def test_group_chats_are_ignored(user: TelegramUser) -> None:
    update = user.text_update("/start")
    update["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Buurt"}
    assert parse(update) is None
