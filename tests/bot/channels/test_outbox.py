"""The outbox: written with the turn, delivered in order per chat, once, with retries."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.outbox import OutboxSender, RetryLater, Undeliverable, enqueue_in_turn
from bot.config import Settings
from bot.pipeline import Inbound, Pipeline
from bot.store import outbox
from bot.store.db import session_scope

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
    async with session_scope(url) as session:
        await outbox.enqueue(session, "test", chat, [{"n": n} for n in numbers], **kw)


async def statuses(url: str) -> dict[str, int]:
    async with session_scope(url) as session:
        return await outbox.counts(session, "test")


def per_chat(calls: list[tuple[str, int]], chat: str) -> list[int]:
    return [n for c, n in calls if c == chat]


async def test_two_senders_deliver_each_row_once_in_chat_order(db_url: str) -> None:
    for chat in ("a", "b", "c"):
        await add(db_url, chat, range(12))
    delivery = Recording()
    one, two = OutboxSender(db_url, delivery, **FAST), OutboxSender(db_url, delivery, **FAST)
    await asyncio.gather(one.drain(), two.drain(), one.drain())
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
    async with session_scope(db_url) as session:
        [head] = await outbox.due_heads(session, "test", now, 10)
        assert await outbox.claim(session, head, now, now + timedelta(seconds=60)) is not None
    delivery = Recording()
    await OutboxSender(db_url, delivery, **FAST).run_once()
    assert delivery.calls == []  # the chat is owned by another sender; its order is kept


async def test_replies_are_written_in_the_same_transaction_as_the_turn(
    settings: Settings,
) -> None:
    from bot.store.conversations import conversations

    pipeline = Pipeline(settings)

    def render(replies: list[Any], lang: str) -> list[dict[str, Any]]:
        return [{"n": i, "lang": lang} for i, _ in enumerate(replies)]

    write = enqueue_in_turn("test", "chat-1", render, "nl")
    await pipeline.handle(Inbound("test", "u1", text="/start", external_id="m1"), write)
    async with session_scope(settings.database_url) as session:
        rows = (await session.execute(select(outbox.outbox))).mappings().all()
    assert [r["op"] for r in rows] == [{"n": 0, "lang": "nl"}, {"n": 1, "lang": "nl"}]

    async def broken(session: Any, conversation_id: str, replies: list[Any]) -> None:
        await write(session, conversation_id, replies)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        await pipeline.handle(Inbound("test", "u2", text="/start", external_id="m2"), broken)
    async with session_scope(settings.database_url) as session:
        assert len((await session.execute(select(outbox.outbox))).all()) == 2
        assert len((await session.execute(select(conversations))).all()) == 1


async def test_erasure_forgets_set_aside_rows_but_still_confirms(settings: Settings) -> None:
    pipeline = Pipeline(settings)

    def render(replies: list[Any], lang: str) -> list[dict[str, Any]]:
        return [{"n": i} for i, _ in enumerate(replies)]

    write = enqueue_in_turn("test", "chat-1", render, "nl")
    result = await pipeline.handle(Inbound("test", "u1", text="/start"), write)
    async with session_scope(settings.database_url) as session:
        ids = [r[0] for r in (await session.execute(select(outbox.outbox.c.id))).all()]
        await outbox.give_up(session, ids[0], outbox.DEAD, "blocked")
    await pipeline.handle(Inbound("test", "u1", payload="/delete_data"), write)
    async with session_scope(settings.database_url) as session:
        left = (await session.execute(select(outbox.outbox))).mappings().all()
    assert {r["status"] for r in left} == {outbox.PENDING}
    assert all(r["conversation_id"] == result.conversation_id for r in left)
    assert len(left) == 2  # the welcome's consent question and the erasure confirmation


async def test_old_set_aside_rows_are_purged(db_url: str) -> None:
    await add(db_url, "a", range(2))
    async with session_scope(db_url) as session:
        ids = [r[0] for r in (await session.execute(select(outbox.outbox.c.id))).all()]
        await outbox.give_up(session, ids[0], outbox.DEAD, "blocked")
        assert await outbox.purge(session, outbox.utcnow() - timedelta(days=30)) == 0
        assert await outbox.purge(session, outbox.utcnow() + timedelta(seconds=1)) == 1
    assert await statuses(db_url) == {outbox.PENDING: 1}
