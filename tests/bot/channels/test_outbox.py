"""The outbox: written with the turn, delivered in order per chat, once, with retries."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.base import Outbound, RenderContext
from bot.channels.outbox import OutboxSender, RetryLater, Undeliverable
from bot.config import Settings
from bot.pipeline import Inbound, Pipeline
from bot.store import outbox
from bot.store.db import session_scope
from bot.store.turns import TurnDatabase

FAST: dict[str, Any] = {"poll_seconds": 0.02, "backoff_base": 0.02, "backoff_cap": 0.1}


class Recording:
    """A platform stand-in that records calls and fails on request."""

    channel = "test"

    def __init__(self, fail: dict[tuple[str, int], list[Exception]] | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail = fail or {}

    async def deliver(self, chat_id: str, op: dict[str, Any]) -> None:
        await asyncio.sleep(random.uniform(0, 0.003))
        errors = self.fail.get((chat_id, op["n"]))
        if errors:
            raise errors.pop(0)
        self.calls.append((chat_id, op["n"]))


async def add(url: str, chat: str, numbers: range, **kw: Any) -> None:
    db = TurnDatabase(url)
    async with db.transaction() as tx:
        await outbox.enqueue(tx, "test", chat, [{"n": n} for n in numbers], **kw)
    await db.close()


async def statuses(url: str) -> dict[str, int]:
    db = TurnDatabase(url)
    async with db.transaction() as tx:
        found = await outbox.counts(tx, "test")
    await db.close()
    return found


async def ids(url: str) -> list[int]:
    async with session_scope(url) as session:
        return [r[0] for r in (await session.execute(select(outbox.outbox.c.id))).all()]


async def give_up(url: str, row_id: int) -> None:
    db = TurnDatabase(url)
    async with db.transaction() as tx:
        await outbox.give_up(tx, row_id, outbox.DEAD, "blocked")
    await db.close()


def per_chat(calls: list[tuple[str, int]], chat: str) -> list[int]:
    return [n for c, n in calls if c == chat]


async def test_two_senders_deliver_each_row_once_in_chat_order(db_url: str) -> None:
    for chat in ("a", "b", "c"):
        await add(db_url, chat, range(12))
    delivery = Recording()
    one, two = OutboxSender(db_url, delivery, **FAST), OutboxSender(db_url, delivery, **FAST)
    await asyncio.gather(one.drain(), two.drain(), one.drain())
    await one.stop()
    await two.stop()
    assert sorted(delivery.calls) == sorted((c, n) for c in "abc" for n in range(12))
    for chat in "abc":
        assert per_chat(delivery.calls, chat) == list(range(12))
    assert await statuses(db_url) == {}


async def test_a_failing_chat_waits_without_holding_up_others(db_url: str) -> None:
    await add(db_url, "slow", range(3))
    await add(db_url, "fast", range(3))
    delivery = Recording({("slow", 0): [RetryLater("502"), RetryLater("timeout")]})
    sender = OutboxSender(db_url, delivery, **FAST)
    await sender.run_once()
    assert per_chat(delivery.calls, "fast") == [0, 1, 2]
    assert per_chat(delivery.calls, "slow") == []
    await sender.drain(timeout=5)
    assert per_chat(delivery.calls, "slow") == [0, 1, 2]


async def test_retry_after_is_respected(db_url: str) -> None:
    await add(db_url, "a", range(1))
    delivery = Recording({("a", 0): [RetryLater("429", after=30)]})
    sender = OutboxSender(db_url, delivery, **FAST)
    await sender.run_once()
    async with session_scope(db_url) as session:
        row = (await session.execute(select(outbox.outbox))).mappings().one()
    wait = outbox.as_utc(row["next_attempt_at"]) - outbox.utcnow()  # type: ignore[operator]
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
    assert row["attempts"] == 1 and row["claimed_until"] is None


async def test_undeliverable_and_exhausted_rows_are_set_aside(db_url: str) -> None:
    await add(db_url, "a", range(3))
    delivery = Recording(
        {("a", 0): [Undeliverable("bot was blocked")], ("a", 1): [RetryLater("5xx")] * 5}
    )
    sender = OutboxSender(db_url, delivery, max_attempts=3, **FAST)
    await sender.drain(timeout=5)
    assert delivery.calls == [("a", 2)]
    assert await statuses(db_url) == {outbox.DEAD: 2}


async def test_closed_service_window_is_recorded_not_sent(db_url: str) -> None:
    past = outbox.utcnow() - timedelta(minutes=1)
    await add(db_url, "a", range(2), window_ends_at=past)
    delivery = Recording()
    await OutboxSender(db_url, delivery, **FAST).drain()
    assert delivery.calls == []
    assert await statuses(db_url) == {outbox.TEMPLATE_NEEDED: 2}


async def test_claimed_rows_are_left_to_their_owner(db_url: str) -> None:
    await add(db_url, "a", range(2))
    now = outbox.utcnow()
    db = TurnDatabase(db_url)
    async with db.transaction() as tx:
        claimed = await outbox.claim(tx, "test", now, now + timedelta(seconds=60), 10)
    assert [i.op["n"] for i in claimed] == [0, 1]
    await add(db_url, "a", range(2, 3))  # a later row of the owned chat
    delivery = Recording()
    await OutboxSender(db_url, delivery, **FAST).run_once()
    assert delivery.calls == []  # the chat is owned by another sender; its order is kept
    async with db.transaction() as tx:
        await outbox.release(tx, [i.id for i in claimed])
    await db.close()
    await OutboxSender(db_url, delivery, **FAST).run_once()
    assert delivery.calls == [("a", 0), ("a", 1), ("a", 2)]


def numbered(chat: str = "chat-1") -> Outbound:
    def render(replies: list[Any], context: RenderContext) -> list[dict[str, Any]]:
        return [{"n": i, "lang": context.lang} for i, _ in enumerate(replies)]

    return Outbound("test", chat, render)


async def test_replies_are_written_in_the_same_transaction_as_the_turn(
    settings: Settings,
) -> None:
    from bot.store.conversations import conversations

    pipeline = Pipeline(settings)
    await pipeline.handle(Inbound("test", "u1", text="/start", external_id="m1"), numbered())
    async with session_scope(settings.database_url) as session:
        rows = (await session.execute(select(outbox.outbox))).mappings().all()
    assert [r["op"] for r in rows] == [{"n": 0, "lang": "nl"}, {"n": 1, "lang": "nl"}]

    def broken(replies: list[Any], context: RenderContext) -> list[dict[str, Any]]:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        await pipeline.handle(
            Inbound("test", "u2", text="/start", external_id="m2"),
            Outbound("test", "chat-2", broken),
        )
    async with session_scope(settings.database_url) as session:
        assert len((await session.execute(select(outbox.outbox))).all()) == 2
        assert len((await session.execute(select(conversations))).all()) == 1
    await pipeline.close()


async def test_renderers_see_the_question_before_and_after_the_turn(settings: Settings) -> None:
    pipeline = Pipeline(settings)
    seen: list[tuple[str | None, str | None]] = []

    def render(replies: list[Any], context: RenderContext) -> list[dict[str, Any]]:
        before, after = context.question_before, context.question_after
        seen.append((before and before.id, after and after.id))
        return []

    out = Outbound("test", "chat-1", render)
    await pipeline.handle(Inbound("test", "u1", text="/start"), out)
    await pipeline.handle(Inbound("test", "u1", payload="/consent/yes"), out)
    first = pipeline.quiz.questions[0].id
    assert seen[0][0] is None  # a new conversation has nothing on screen yet
    assert seen[1] == (seen[0][1], first)
    await pipeline.close()


async def test_erasure_forgets_set_aside_rows_but_still_confirms(settings: Settings) -> None:
    pipeline = Pipeline(settings)
    await pipeline.handle(Inbound("test", "u1", text="/start"), numbered())
    await give_up(settings.database_url, (await ids(settings.database_url))[0])
    await pipeline.handle(Inbound("test", "u1", payload="/delete_data"), numbered())
    async with session_scope(settings.database_url) as session:
        left = (await session.execute(select(outbox.outbox))).mappings().all()
    assert {r["status"] for r in left} == {outbox.PENDING}
    assert len(left) == 2  # the welcome's consent question and the erasure confirmation
    # The confirmation's row no longer points at the erased conversation.
    assert left[-1]["conversation_id"] is None
    await pipeline.close()


async def test_old_set_aside_rows_are_purged(db_url: str) -> None:
    await add(db_url, "a", range(2))
    await give_up(db_url, (await ids(db_url))[0])
    db = TurnDatabase(db_url)
    async with db.transaction() as tx:
        assert await outbox.purge(tx, outbox.utcnow() - timedelta(days=30)) == 0
        assert await outbox.purge(tx, outbox.utcnow() + timedelta(seconds=1)) == 1
    await db.close()
    assert await statuses(db_url) == {outbox.PENDING: 1}


async def test_two_replicas_share_one_outbox_without_sending_twice(db_url: str) -> None:
    """Two senders, each with its own database connections (as two replicas have), running
    their background loops while rows keep arriving: every row goes out once, in chat order."""
    chats = [f"chat-{n}" for n in range(25)]
    delivery = Recording()
    replicas = [OutboxSender(db_url, delivery, **FAST) for _ in range(2)]
    for replica in replicas:
        replica.start()
    try:
        for batch in range(4):
            for chat in chats:
                await add(db_url, chat, range(batch * 5, batch * 5 + 5))
            for replica in replicas:
                replica.wake()
            await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while len(delivery.calls) < len(chats) * 20 and loop.time() < end:
            await asyncio.sleep(0.05)
    finally:
        for replica in replicas:
            await replica.stop()
    assert sorted(delivery.calls) == sorted((c, n) for c in chats for n in range(20))
    for chat in chats:
        assert per_chat(delivery.calls, chat) == list(range(20))
    assert sum(r.sent for r in replicas) == len(chats) * 20
    assert await statuses(db_url) == {}


async def test_turns_hand_their_rows_to_their_own_replica_in_chat_order(
    settings: Settings,
) -> None:
    """Two replicas, each with its pipeline and sender: their turns write rows claimed for
    their own sender (no claim statement) unless the chat has rows waiting, which may be the
    other replica's. People write to either replica, fast; every call goes out once, and each
    chat's calls in the order of its turns."""
    delivery = Recording()
    pipelines = [Pipeline(settings, database=TurnDatabase(settings.database_url)) for _ in "ab"]
    senders = [OutboxSender(p.database(), delivery, **FAST) for p in pipelines]
    for sender in senders:
        sender.start()
    turn_no: dict[str, int] = {}
    handed = waited = 0

    def outbound(chat: str, sender: OutboxSender) -> Outbound:
        n = turn_no[chat] = turn_no.get(chat, -1) + 1

        def render(replies: list[Any], context: RenderContext) -> list[dict[str, Any]]:
            return [{"n": n * 100 + i} for i, _ in enumerate(replies)]

        return Outbound("test", chat, render, claim_seconds=sender.hand_over_seconds)

    async def person(k: int) -> None:
        nonlocal handed, waited
        chat = f"chat-{k}"
        for step, text in enumerate(["/start", "/consent/yes", "hallo", "/back", "/restart"]):
            pipeline, sender = pipelines[(k + step) % 2], senders[(k + step) % 2]
            inbound = Inbound("test", chat, payload=text, external_id=f"{chat}-{step}")
            result = await pipeline.handle(inbound, outbound(chat, sender))
            if result.claimed:
                handed += 1
                sender.take(result.claimed)
            else:
                waited += 1
                sender.wake(chat)
            await asyncio.sleep(random.uniform(0, 0.004))

    try:
        await asyncio.gather(*(person(k) for k in range(12)))
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while await statuses(settings.database_url) and loop.time() < end:
            await asyncio.sleep(0.05)
    finally:
        for sender in senders:
            await sender.stop()
        for pipeline in pipelines:
            await pipeline.close()
    assert await statuses(settings.database_url) == {}
    assert len(delivery.calls) == len(set(delivery.calls))  # nothing twice
    for k in range(12):
        sent = per_chat(delivery.calls, f"chat-{k}")
        assert sent == sorted(sent) and {n // 100 for n in sent} == set(range(5))
    assert handed and waited  # both paths were taken: handed over, and waiting behind a chat
    assert sum(s.sent for s in senders) == len(delivery.calls)


async def test_a_sender_that_is_not_running_is_handed_nothing(db_url: str) -> None:
    """Rows claimed for a sender that never runs would wait out the claim: none are."""
    sender = OutboxSender(db_url, Recording(), **FAST)
    assert sender.hand_over_seconds is None
    sender.start()
    assert sender.hand_over_seconds == sender.claim_seconds
    await sender.stop()
    assert sender.hand_over_seconds is None


async def test_one_pass_records_sent_retried_and_set_aside_rows_together(db_url: str) -> None:
    """Chats done in the same pass share one record: each row still gets its own outcome."""
    await add(db_url, "fine", range(3))
    await add(db_url, "busy", range(2))
    await add(db_url, "blocked", range(2))
    delivery = Recording(
        {("busy", 0): [RetryLater("429", 30.0)], ("blocked", 0): [Undeliverable("blocked")]}
    )
    sender = OutboxSender(db_url, delivery, **FAST)
    assert await sender.run_once() == 4
    assert await statuses(db_url) == {"pending": 2, "dead": 1}
    assert per_chat(delivery.calls, "fine") == [0, 1, 2]
    assert per_chat(delivery.calls, "blocked") == [1]
    assert per_chat(delivery.calls, "busy") == []  # waits 30 s, its second row behind it
    await sender.stop()


class Slow(Recording):
    """Each call takes 30 ms: the second hand-over comes while the first calls are going out."""

    async def deliver(self, chat_id: str, op: dict[str, Any]) -> None:
        await asyncio.sleep(0.03)
        self.calls.append((chat_id, op["n"]))


async def test_rows_handed_over_behind_calls_going_out_follow_them(db_url: str) -> None:
    """A turn's rows taken while its chat's calls are on their way go out after them, in
    order, from the same task; nothing is left pending."""
    await add(db_url, "chat", range(6))
    db = TurnDatabase(db_url)
    now = outbox.utcnow()
    async with db.transaction() as tx:
        items = await outbox.claim(tx, "test", now, now + timedelta(seconds=60), 10)
    await db.close()
    delivery = Slow()
    sender = OutboxSender(db_url, delivery, **FAST)
    sender.start()
    try:
        sender.take(items[:3])
        await asyncio.sleep(0)
        assert sender.holds("chat")
        sender.take(items[3:])  # while the first three are going out
        loop = asyncio.get_running_loop()
        end = loop.time() + 5
        while (sender.holds("chat") or await statuses(db_url)) and loop.time() < end:
            await asyncio.sleep(0.01)
    finally:
        await sender.stop()
    assert per_chat(delivery.calls, "chat") == list(range(6))
    assert await statuses(db_url) == {}
    assert sender.sent == 6


async def test_a_record_waits_for_another_writer_instead_of_failing(db_url: str) -> None:
    """SQLite: when another process writes as a delivery is recorded, the record waits its
    turn (a failed record leaves the rows claimed, to be sent again minutes later)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("Postgres has row locks, not one writer")
    import sqlite3

    from bot.store.url import parse_db_url

    await add(db_url, "chat", range(2))
    other = sqlite3.connect(parse_db_url(db_url).database or "", isolation_level=None)

    class WriterMeanwhile(Recording):
        async def deliver(self, chat_id: str, op: dict[str, Any]) -> None:
            await super().deliver(chat_id, op)
            if not other.in_transaction:  # another process starts writing for 0.2 s
                other.execute("BEGIN IMMEDIATE")
                asyncio.get_running_loop().call_later(0.2, other.execute, "COMMIT")

    sender = OutboxSender(db_url, WriterMeanwhile(), **FAST)
    try:
        assert await sender.run_once() == 2
    finally:
        await sender.stop()
        other.close()
    assert await statuses(db_url) == {}
