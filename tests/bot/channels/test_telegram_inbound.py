"""Updates are read from their JSON without PTB's object tree, exactly as PTB would read them:
the tapped message's text comes back as the same HTML, and malformed updates are refused."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Message

from bot.channels.telegram.inbound import _text_html, from_update

CHAT = {"id": 42, "type": "private", "first_name": "Sam"}

MESSAGES = [
    ("Hoi! Wat lijkt je het leukst?", []),
    (
        "Vraag 2 van 6\n\nWat doe je <graag> & waarom?",
        [{"type": "italic", "offset": 0, "length": 13}],
    ),
    (
        "🤝 De Verbinder — jij brengt mensen samen.\n\n✓ Koffie schenken",
        [
            {"type": "bold", "offset": 0, "length": 15},
            {"type": "italic", "offset": 3, "length": 12},
            {"type": "bold", "offset": 45, "length": 17},
        ],
    ),
    (
        "Lees meer op onze site of bel 030-1234567.",
        [
            {"type": "text_link", "offset": 13, "length": 9, "url": "https://example.org/?a=1&b=2"},
            {"type": "phone_number", "offset": 30, "length": 11},
        ],
    ),
    (
        "👩‍👩‍👧 samen 😀 <b>niet vet</b>",
        [
            {"type": "underline", "offset": 9, "length": 5},
            {"type": "bold", "offset": 18, "length": 4},
        ],
    ),
]


@pytest.mark.parametrize(("text", "entities"), MESSAGES)
def test_text_html_matches_ptb(text: str, entities: list[dict[str, Any]]) -> None:
    raw = {"message_id": 7, "date": 1_760_000_000, "chat": CHAT, "text": text}
    if entities:
        raw["entities"] = entities
    ptb = Message.de_json(raw, None)
    assert ptb is not None
    assert _text_html(raw) == ptb.text_html


def tap_update(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "update_id": 5,
        "callback_query": {
            "id": "99",
            "from": {"id": 42, "is_bot": False, "first_name": "Sam", "language_code": "en"},
            "message": message,
            "chat_instance": "1",
            "data": "/a/motive/values",
        },
    }


def test_tap_keeps_keyboard_and_formatting() -> None:
    keyboard = [[{"text": "Iets betekenen", "callback_data": "/a/motive/values"}]]
    message = {
        "message_id": 11,
        "date": 1_760_000_000,
        "chat": CHAT,
        "text": "Waarom wil je helpen?",
        "entities": [{"type": "bold", "offset": 0, "length": 6}],
        "reply_markup": {"inline_keyboard": keyboard},
    }
    parsed = from_update(tap_update(message))
    assert parsed is not None
    inbound, chat_id, tap = parsed
    assert (inbound.sender, inbound.payload, inbound.meta, chat_id) == (
        "42",
        "/a/motive/values",
        {"lang": "en"},
        42,
    )
    assert tap is not None and tap.message_id == 11 and tap.keyboard == keyboard
    assert tap.text_html == "<b>Waarom</b> wil je helpen?"
    # A message too old for Telegram to show (date 0): answered, but nothing to edit.
    old = from_update(tap_update({"message_id": 11, "date": 0, "chat": CHAT}))
    assert old is not None and old[2] is None


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": "1", "message": {"chat": CHAT, "from": {"id": 1}, "text": "hoi"}},
        {"update_id": 1, "message": {"chat": "private", "from": {"id": 1}, "text": "hoi"}},
        {"update_id": 1, "message": {"chat": CHAT, "from": {"id": "x"}, "text": "hoi"}},
        {
            "update_id": 1,
            "message": {
                "chat": CHAT,
                "from": {"id": 1},
                "location": {"latitude": "NaN", "longitude": 5},
            },
        },
        {
            "update_id": 1,
            "message": {
                "chat": CHAT,
                "from": {"id": 1},
                "location": {"latitude": float("inf"), "longitude": 5},
            },
        },
        {"update_id": 1, "callback_query": []},
        {
            "update_id": 1,
            "callback_query": {
                "id": "1",
                "from": {"id": 1},
                "message": {
                    "message_id": 1,
                    "date": 5,
                    "chat": CHAT,
                    "reply_markup": {"inline_keyboard": "x"},
                },
            },
        },
    ],
)
def test_malformed_updates_raise(update: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        from_update(update)


@pytest.mark.parametrize(
    "update",
    [
        {
            "update_id": 1,
            "message": {"chat": {"id": -5, "type": "group"}, "from": {"id": 1}, "text": "hoi"},
        },
        {"update_id": 1, "inline_query": {"id": "1", "from": {"id": 1}, "query": "x"}},
        {"update_id": 1, "poll": {"id": "1"}},
        {"update_id": 1, "message": {"chat": CHAT, "text": "no sender"}},
    ],
)
def test_updates_we_do_not_answer(update: dict[str, Any]) -> None:
    assert from_update(update) is None
