"""Telegram end to end: real webhook updates over HTTP into our app, replies arriving at a fake
Bot API server on 127.0.0.1 through the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.config import Settings
from bot.store.db import session_scope
from tests.fakes.harness import TelegramStack, telegram_stack, with_vacancies

UTRECHT = (52.0907, 5.1214)


def texts(st: TelegramStack) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in st.fake.sent(st.user.user_id)]


def last(st: TelegramStack) -> dict[str, Any]:
    return st.fake.sent(st.user.user_id)[-1]


def answers(msg: dict[str, Any]) -> list[dict[str, Any]]:
    rows = msg.get("reply_markup", {}).get("inline_keyboard", [])
    return [b for row in rows for b in row if b["callback_data"].startswith(("/a/", "/done/"))]


async def conversation(st: TelegramStack) -> dict[str, Any]:
    from bot.store.conversations import conversations

    async with session_scope(st.settings.database_url) as session:
        rows = (await session.execute(select(conversations))).mappings().all()
    assert len(rows) == 1
    return dict(rows[0])


async def walk_by_taps(st: TelegramStack) -> None:
    """Answer every question by tapping buttons (two picks on multi-select questions) and
    share a location on the place question."""
    user = st.user
    for _ in range(60):
        msg = last(st)
        if msg["text"].startswith("Wil je meer zien"):
            return
        if msg["text"].startswith("Wil je werk bij jou in de buurt zien?"):
            await user.tap("/nearby/yes")
            continue
        if msg.get("_reply_keyboard"):
            button = msg["_reply_keyboard"]["keyboard"][0][0]
            assert button == {"text": "📍 Deel locatie", "request_location": True}
            await user.share_location(*UTRECHT)
            continue
        keyboard = user.last_keyboard_message()
        options = answers(keyboard)
        done = [b for b in options if b["callback_data"].startswith("/done/")]
        if done:
            calls = len(st.fake.calls_of("sendMessage"))
            await user.tap(options[0]["callback_data"])
            await user.tap(options[1]["callback_data"])
            # Toggling edits the question in place: ✓ marks, no new messages.
            marked = [b["text"] for b in answers(st.fake.messages[keyboard["message_id"]])]
            assert marked[0].startswith("✓ ") and marked[1].startswith("✓ ")
            assert len(st.fake.calls_of("sendMessage")) == calls
            await user.tap(done[0]["callback_data"])
        else:
            await user.tap(options[0]["callback_data"])
    raise AssertionError("the quiz did not finish")


async def test_whole_quiz_by_taps_to_recommendations(settings: Settings) -> None:
    async with telegram_stack(settings) as st:
        await with_vacancies(st)
        await st.user.say("/start KRACHT")
        assert texts(st)[0].startswith("Hoi!")
        consent = st.user.last_keyboard_message()
        await st.user.tap("/consent/yes")
        # The tap is answered at once and the question keeps the chosen answer.
        assert st.fake.calls_of("answerCallbackQuery")
        edited = st.fake.messages[consent["message_id"]]
        assert edited["text"].endswith("✓ Ja, dat is goed") and "reply_markup" not in edited
        assert last(st)["text"].startswith("Vraag 1 van 12\nHoe oud ben je?")

        await walk_by_taps(st)

        shown = texts(st)
        assert any(t.startswith("Jij bent ") for t in shown), shown[-8:]
        assert any(t.startswith("Dit vrijwilligerswerk past bij jou:") for t in shown)
        cards = [m for m in st.fake.sent(st.user.user_id) if "/help/" in str(m.get("reply_markup"))]
        assert len(cards) >= 1
        help_button = next(
            b["callback_data"]
            for row in cards[0]["reply_markup"]["inline_keyboard"]
            for b in row
            if b["callback_data"].startswith("/help/")
        )
        await st.user.tap(help_button)
        assert last(st)["text"].startswith("Fijn dat je wilt helpen")
        await st.user.tap("/h/how/self")  # no sharing: the details to reach out oneself
        assert any("✉ " in t for t in texts(st)[-3:])

        conv = await conversation(st)
        assert conv["campaign"] == "KRACHT"
        assert conv["phase"] == "result"
        assert conv["state"]["answers"]["place"]["place"] == "Utrecht"


async def test_whole_quiz_by_typing(settings: Settings) -> None:
    async with telegram_stack(settings, language_code="en-GB") as st:
        await with_vacancies(st)
        await st.user.say("/start")
        assert texts(st)[0].startswith("Hi!")
        await st.user.say("yes")
        for _ in range(40):
            text = last(st)["text"]
            if text.startswith("Do you want to see more"):
                break
            if text.startswith("Do you want to see work near you?"):
                await st.user.say("yes please")
            elif "How old are you?" in text:
                await st.user.say("I am 34")
            elif "postcode" in text.lower():
                await st.user.say("3511 AB")
            elif "Done" in str(last(st).get("reply_markup")) or "'done'" in text.lower():
                await st.user.say("1, 2")
            else:
                await st.user.say("1")
        else:
            raise AssertionError(texts(st)[-5:])
        assert any(t.startswith("You are ") for t in texts(st))
        conv = await conversation(st)
        assert conv["lang"] == "en"
        assert conv["state"]["answers"]["place"]["postcode"].startswith("3511")


async def test_forged_webhooks_are_rejected(settings: Settings) -> None:
    async with telegram_stack(settings) as st:
        update = st.user.text_update("/start")
        missing = await st.post(update, secret=None)
        wrong = await st.post(update, secret="not-the-secret")
        assert (missing.status_code, wrong.status_code) == (403, 403)
        await st.settle()
        assert st.fake.sent() == []
        from bot.store.conversations import conversations

        async with session_scope(st.settings.database_url) as session:
            assert (await session.execute(select(conversations))).first() is None


async def test_duplicate_update_is_processed_once(settings: Settings) -> None:
    async with telegram_stack(settings) as st:
        update = st.user.text_update("/start")
        first = await st.post(update)
        again = await st.post(update)
        assert (first.status_code, again.status_code) == (200, 200)
        await st.settle()
        assert len(st.fake.sent()) == 2  # welcome + consent question, once


async def test_commands_map_to_engine_actions(settings: Settings) -> None:
    async with telegram_stack(settings) as st:
        await st.user.say("/start")
        await st.user.tap("/consent/yes")
        await st.user.tap("/a/age/a18")
        await st.user.tap("/a/motive/learn")
        await st.user.say("/mijngegevens")
        assert any(t.startswith("Dit weet ik van je:") for t in texts(st)[-3:])
        await st.user.say("/opnieuw")
        assert any(t.startswith("We beginnen opnieuw") for t in texts(st)[-3:])
        await st.user.say("/stop")
        assert last(st)["text"].startswith("Oké, we stoppen even")
        await st.user.say("/verwijder")
        assert last(st)["text"].startswith("Klaar: ik heb je antwoorden en ons gesprek gewist")
        from bot.store.conversations import conversations

        async with session_scope(st.settings.database_url) as session:
            assert (await session.execute(select(conversations))).first() is None


async def test_rate_limit_and_server_errors_are_retried_in_order(settings: Settings) -> None:
    async with telegram_stack(settings) as st:
        st.fake.fail("sendMessage", 429, retry_after=1)
        st.fake.fail("sendMessage", 502, times=2)
        await st.user.say("/start")
        statuses = [c.status for c in st.fake.calls if c.method == "sendMessage"]
        assert statuses[:3] == [429, 502, 502]
        assert [m["text"][:4] for m in st.fake.sent()] == ["Hoi!", "Mag "]


async def test_polling_mode(settings: Settings) -> None:
    import asyncio

    polling = settings.model_copy(update={"telegram_polling": True})
    async with telegram_stack(polling) as st:
        st.fake.push_update(st.user.text_update("/start"))
        for _ in range(300):
            if len(st.fake.sent()) >= 2:
                break
            await asyncio.sleep(0.02)
        assert [m["text"][:4] for m in st.fake.sent()] == ["Hoi!", "Mag "]
        assert st.fake.calls_of("deleteWebhook")
