"""The sender that empties the outbox: in order per chat, retried with backoff, crash-safe.

Replies are written to the outbox inside the pipeline's transaction (see `enqueue_in_turn`);
this task delivers them afterwards. A process that dies between the two leaves the rows in the
database, and the next process sends them. Channels plug in a `Delivery` that performs one
stored call and classifies failures as `RetryLater` (429, 5xx, network) or `Undeliverable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.store import outbox as store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from quiz.messages import Reply

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """A temporary failure: try this call again later (after `after` seconds if given)."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after


class Undeliverable(Exception):
    """This call can never succeed (blocked bot, bad request, closed service window)."""

    def __init__(self, reason: str, status: str = store.DEAD) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class Delivery(Protocol):
    """Performs one stored platform call for one chat."""

    channel: str

    async def deliver(self, chat_id: str, op: dict[str, Any]) -> None: ...


class OutboxSender:
    """Background task delivering one channel's outbox rows."""

    def __init__(
        self,
        database_url: str,
        delivery: Delivery,
        *,
        poll_seconds: float = 2.0,
        claim_seconds: float = 120.0,
        max_attempts: int = 20,
        backoff_base: float = 1.0,
        backoff_cap: float = 600.0,
        concurrency: int = 16,
        batch: int = 100,
        keep_days: int = 30,
    ) -> None:
        self.database_url = database_url
        self.delivery = delivery
        self.channel = delivery.channel
        self.poll_seconds = poll_seconds
        self.claim_seconds = claim_seconds
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.batch = batch
        self.keep_days = keep_days
        self._purged_at: float | None = None
        self._gate = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    # ------------------------------------------------------------------ lifecycle

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"outbox-{self.channel}")

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the calls in flight (up to `timeout`), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(task, timeout)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._purge_now_and_then()
                await self.run_once()
                delay = await self._next_delay()
            except Exception:
                log.exception("outbox %s: sender round failed", self.channel)
                delay = self.poll_seconds
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()

    async def _purge_now_and_then(self) -> None:
        """Hourly: forget set-aside rows older than `keep_days` (they hold chat ids)."""
        from bot.store.db import session_scope

        now = asyncio.get_running_loop().time()
        if self._purged_at is not None and now - self._purged_at < 3600:
            return
        self._purged_at = now
        async with session_scope(self.database_url) as session:
            await store.purge(session, store.utcnow() - timedelta(days=self.keep_days))

    async def _next_delay(self) -> float:
        from sqlalchemy import func, select

        from bot.store.db import session_scope

        async with session_scope(self.database_url) as session:
            row = (
                await session.execute(
                    select(func.min(store.outbox.c.next_attempt_at)).where(
                        store.outbox.c.status == store.PENDING,
                        store.outbox.c.channel == self.channel,
                    )
                )
            ).first()
        at = store.as_utc(row[0]) if row else None
        if at is None:
            return self.poll_seconds
        wait = (at - store.utcnow()).total_seconds()
        return min(self.poll_seconds, max(wait, 0.01))

    # ------------------------------------------------------------------ work

    async def run_once(self) -> int:
        """Deliver everything due now; returns how many calls went out."""
        from bot.store.db import session_scope

        before = self.sent
        async with session_scope(self.database_url) as session:
            heads = await store.due_heads(session, self.channel, store.utcnow(), self.batch)
        tasks = [asyncio.create_task(self._chat(row_id)) for row_id in heads]
        if tasks:
            await asyncio.gather(*tasks)
        return self.sent - before

    async def drain(self, timeout: float = 10.0) -> None:
        """Send until nothing is pending, waiting out backoffs (tests, one-shot commands)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            if await self.run_once():
                continue
            if not await self._pending():
                return
            await asyncio.sleep(min(await self._next_delay(), max(end - loop.time(), 0)))

    async def _pending(self) -> int:
        from bot.store.db import session_scope

        async with session_scope(self.database_url) as session:
            return (await store.counts(session, self.channel)).get(store.PENDING, 0)

    async def _claim(self, row_id: int) -> store.Item | None:
        from bot.store.db import session_scope

        now = store.utcnow()
        async with session_scope(self.database_url) as session:
            if not await store.is_due(session, row_id, now):
                return None
            return await store.claim(
                session, row_id, now, now + timedelta(seconds=self.claim_seconds)
            )

    async def _chat(self, row_id: int | None) -> None:
        """Send one chat's rows in order until it is empty or has to wait."""
        from bot.store.db import session_scope

        async with self._gate:
            while row_id is not None and not self._stopping:
                item = await self._claim(row_id)
                if item is None or not await self._deliver(item):
                    return
                async with session_scope(self.database_url) as session:
                    row_id = await store.next_head(session, self.channel, item.chat_id)

    async def _deliver(self, item: store.Item) -> bool:
        """Perform one call and record the outcome; False when the chat has to wait."""
        from bot.store.db import session_scope

        now = store.utcnow()
        if item.window_ends_at is not None and now > item.window_ends_at:
            log.warning(
                "outbox %s: service window closed for row %d; a template message is needed",
                self.channel,
                item.id,
            )
            async with session_scope(self.database_url) as session:
                await store.give_up(
                    session, item.id, store.TEMPLATE_NEEDED, "24-hour service window closed"
                )
            return True
        try:
            await self.delivery.deliver(item.chat_id, item.op)
        except RetryLater as exc:
            attempts = item.attempts + 1
            async with session_scope(self.database_url) as session:
                if attempts >= self.max_attempts:
                    log.error("outbox %s: row %d failed %d times", self.channel, item.id, attempts)
                    await store.give_up(session, item.id, store.DEAD, exc.reason)
                    return True
                at = store.utcnow() + timedelta(seconds=self._backoff(attempts, exc.after))
                await store.retry_later(session, item.id, attempts, at, exc.reason)
            log.info("outbox %s: row %d retried later: %s", self.channel, item.id, exc.reason)
            return False
        except Undeliverable as exc:
            log.warning("outbox %s: row %d undeliverable: %s", self.channel, item.id, exc.reason)
            async with session_scope(self.database_url) as session:
                await store.give_up(session, item.id, exc.status, exc.reason)
            return True
        except Exception as exc:  # an unexpected bug must not stop the other chats
            log.exception("outbox %s: row %d failed unexpectedly", self.channel, item.id)
            attempts = item.attempts + 1
            async with session_scope(self.database_url) as session:
                at = store.utcnow() + timedelta(seconds=self._backoff(attempts, None))
                await store.retry_later(session, item.id, attempts, at, repr(exc))
            return False
        async with session_scope(self.database_url) as session:
            await store.sent(session, item.id)
        self.sent += 1
        return True

    def _backoff(self, attempts: int, after: float | None) -> float:
        if after is not None:
            return max(after, 0.0)
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempts - 1))
        return delay * random.uniform(0.75, 1.0)


async def conversation_lang(session: AsyncSession, conversation_id: str) -> str | None:
    """The conversation's language as just saved; None when the person erased their data."""
    from sqlalchemy import select

    from bot.store.conversations import conversations

    row = (
        await session.execute(
            select(conversations.c.lang).where(conversations.c.id == conversation_id)
        )
    ).first()
    return str(row[0]) if row is not None and row[0] else None


def enqueue_in_turn(
    channel: str,
    chat_id: str,
    render: Callable[[list[Reply], str], Sequence[dict[str, Any]]],
    lang_hint: str,
    window_ends_at: datetime | None = None,
) -> Callable[[AsyncSession, str, list[Reply]], Awaitable[None]]:
    """The pipeline's `in_transaction` callback: render the replies into the outbox."""

    async def write(session: AsyncSession, conversation_id: str, replies: list[Reply]) -> None:
        lang = await conversation_lang(session, conversation_id)
        if lang is None:
            # Erased in this very turn: drop set-aside rows that still hold the chat id (the
            # confirmation below is still sent, then deleted like every sent row).
            await store.forget_conversation(session, conversation_id)
            lang = lang_hint
        ops = render(replies, lang)
        await store.enqueue(session, channel, chat_id, ops, conversation_id, window_ends_at)

    return write
