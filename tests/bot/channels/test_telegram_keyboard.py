"""The place question's '📍 Deel locatie' reply keyboard goes away once the conversation moves
on: exactly once, whether the place was typed, shared or skipped (real webhooks in, the fake
Bot API's sendMessage payloads checked)."""

from __future__ import annotations

from typing import Any

from bot.channels.telegram.render import render
from bot.config import Settings
from quiz.messages import Button, Buttons, QuizMeta, Text
from tests.fakes.harness import TelegramStack, telegram_stack

UTRECHT = (52.0907, 5.1214)
REMOVE = {"remove_keyboard": True}


def sends(st: TelegramStack) -> list[dict[str, Any]]:
    """The parameters of every sendMessage call that went through, oldest first."""
    return [c.params for c in st.fake.calls_of("sendMessage")]


def removals(st: TelegramStack) -> list[dict[str, Any]]:
    return [p for p in sends(st) if p.get("reply_markup") == REMOVE]


def location_keyboards(st: TelegramStack) -> list[dict[str, Any]]:
    return [p for p in sends(st) if "keyboard" in (p.get("reply_markup") or {})]


def first_answer(st: TelegramStack) -> str:
    """The first answer button of the newest question ('done' once a pick is made)."""
    rows = st.user.last_keyboard_message()["reply_markup"]["inline_keyboard"]
    return next(
        b["callback_data"] for row in rows for b in row if b["callback_data"].startswith("/a/")
    )


async def tap_answer(st: TelegramStack) -> None:
    data = first_answer(st)
    await st.user.tap(data)
    question = data.split("/")[2]
    done = [b for b in st.user.buttons() if b["callback_data"] == f"/done/{question}"]
    if done:
        await st.user.tap(done[0]["callback_data"])


async def to_place_question(st: TelegramStack) -> None:
    await st.user.say("/start")
    await st.user.tap("/consent/yes")
    for _ in range(20):
        if location_keyboards(st):
            assert not removals(st)
            return
        if any(b["callback_data"] == "/nearby/yes" for b in st.user.buttons()):
            await st.user.tap("/nearby/yes")
            continue
        await tap_answer(st)
    raise AssertionError("the place question never came")


async def test_typed_place_removes_the_keyboard_once(settings: Settings) -> None:
    async with telegram_stack(settings) as st:
        await to_place_question(st)
        # Not a place: the question is asked again, keyboard and all, nothing removed.
        await st.user.say("blabla")
        assert not removals(st)
        assert len(location_keyboards(st)) == 2

        before = len(sends(st))
        await st.user.say("3511 AB")
        after = sends(st)[before:]
        # The next question has an inline keyboard, so a short message goes first.
        assert after[0] == {
            "chat_id": st.user.user_id,
            "text": "Oké.",
            "parse_mode": "HTML",
            "reply_markup": REMOVE,
        }
        assert "inline_keyboard" in after[1]["reply_markup"]

        for _ in range(3):  # later turns send no removal again
            await tap_answer(st)
        await st.user.say("/help")
        assert len(removals(st)) == 1


async def test_shared_location_removes_the_keyboard(settings: Settings) -> None:
    async with telegram_stack(settings, language_code="en") as st:
        await to_place_question(st)
        before = len(sends(st))
        await st.user.share_location(*UTRECHT)
        after = sends(st)[before:]
        assert after[0]["text"] == "OK." and after[0]["reply_markup"] == REMOVE
        assert [p for p in after[1:] if p.get("reply_markup") == REMOVE] == []
        await tap_answer(st)
        assert len(removals(st)) == 1


async def test_skipping_the_place_question_removes_the_keyboard(settings: Settings) -> None:
    async with telegram_stack(settings) as st:
        await to_place_question(st)
        before = len(sends(st))
        await st.user.say("/overslaan")
        assert sends(st)[before]["reply_markup"] == REMOVE
        await st.user.say("/mijngegevens")
        assert len(removals(st)) == 1


async def test_no_removal_without_the_place_question(settings: Settings) -> None:
    async with telegram_stack(settings) as st:
        await st.user.say("/start")
        await st.user.tap("/consent/yes")
        for _ in range(3):
            await tap_answer(st)
        await st.user.say("/help")
        await st.user.say("/stop")
        await st.user.say("/verder")
        assert len(sends(st)) >= 8
        assert not location_keyboards(st)
        assert all("remove_keyboard" not in (p.get("reply_markup") or {}) for p in sends(st))


# ---------------------------------------------------------------------- rendering alone


def next_question() -> Buttons:
    return Buttons(
        "Hoeveel tijd heb je per week?",
        (Button("1 uur", "/a/hours/1"),),
        quiz=QuizMeta("hours", "choice", 12, 17),
    )


def place_question() -> Buttons:
    return Buttons("Waar woon je?", (), quiz=QuizMeta("place", "place", 11, 17),
                   allow_location=True, nav=(Button("Waarom?", "/why"),))  # fmt: skip


def test_a_text_reply_first_carries_the_removal() -> None:
    ops = render([Text("Top!"), next_question()], chat_id=5, lang="nl", keyboard_shown=True)
    assert len(ops) == 2
    assert ops[0]["kwargs"] == {
        "chat_id": 5,
        "text": "Top!",
        "parse_mode": "HTML",
        "reply_markup": REMOVE,
    }
    assert "inline_keyboard" in ops[1]["kwargs"]["reply_markup"]


def test_an_inline_keyboard_first_gets_a_message_before_it() -> None:
    ops = render([next_question()], chat_id=5, lang="en", keyboard_shown=True)
    assert len(ops) == 2
    assert ops[0]["kwargs"]["text"] == "OK." and ops[0]["kwargs"]["reply_markup"] == REMOVE
    assert "inline_keyboard" in ops[1]["kwargs"]["reply_markup"]


def test_asking_the_place_again_keeps_the_keyboard() -> None:
    ops = render([Text("Waarom..."), place_question()], chat_id=5, lang="nl", keyboard_shown=True)
    assert all(op["kwargs"].get("reply_markup") != REMOVE for op in ops)
    assert ops[-1]["kwargs"]["reply_markup"]["keyboard"]


def test_nothing_removed_when_no_keyboard_is_shown() -> None:
    ops = render([Text("Top!"), next_question()], chat_id=5, lang="nl")
    assert "reply_markup" not in ops[0]["kwargs"]
