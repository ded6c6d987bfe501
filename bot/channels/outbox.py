"""The sender that empties the outbox: in order per chat, retried with backoff, crash-safe.

Replies are written to the outbox inside the pipeline's transaction (`Write.outbox`); this task
delivers them afterwards. A process that dies between the two leaves the rows in the database,
and the next process sends them. Channels plug in a `Delivery` that performs one stored call and
classifies failures as `RetryLater` (429, 5xx, network) or `Undeliverable`.

Per wake-up one statement claims whole chats (see `bot.store.outbox.claim`); each chat is then
delivered in order by its own task. New chats are claimed while others are still in flight, up
to `concurrency` chats at once.

The common case needs no claim at all: a turn whose chat has nothing waiting writes its rows
claimed for this process (`Outbound.claim_seconds`) and hands them over (`take`); rows handed
over while that chat's calls are still going out follow them in the same task. Rows written
unclaimed behind calls going out here are looked for when those are done; rows of other
processes, expired claims and retries by the claim and the poll.

The outcomes of the chats done in one pass of the event loop are recorded together, by one
statement when every call went out (on Postgres without BEGIN and COMMIT: one round trip).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from bot.store import outbox as store
from bot.store.outbox import DEAD, TEMPLATE_NEEDED
from bot.store.turns import TurnDatabase, Tx

__all__ = ["DEAD", "TEMPLATE_NEEDED", "Delivery", "OutboxSender", "RetryLater", "Undeliverable"]

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


@dataclass(frozen=True)
class _SetAside:
    """A row that can never be sent: kept with its status for the operator."""

    id: int
    status: str
    reason: str


@dataclass(frozen=True)
class _Wait:
    """A row to try again after `seconds`; its chat waits for it."""

    id: int
    attempts: int
    seconds: float
    reason: str


@dataclass
class _Outcome:
    """What happened to one run of a chat's rows, recorded in the database afterwards."""

    sent: list[int] = field(default_factory=list)
    set_aside: list[_SetAside] = field(default_factory=list)
    wait: _Wait | None = None
    rest: list[int] = field(default_factory=list)  # handed back unsent (behind a wait)

    @property
    def only_sent(self) -> bool:
        """Recorded by one statement: the sent rows are deleted."""
        return not self.set_aside and self.wait is None and not self.rest


class Delivery(Protocol):
    """Performs one stored platform call for one chat."""

    channel: str

    async def deliver(self, chat_id: str, op: dict[str, Any]) -> None: ...


class OutboxSender:
    """Background task delivering one channel's outbox rows."""

    def __init__(
        self,
        database: TurnDatabase | str,
        delivery: Delivery,
        *,
        poll_seconds: float = 2.0,
        claim_seconds: float = 120.0,
        max_attempts: int = 20,
        backoff_base: float = 1.0,
        backoff_cap: float = 600.0,
        concurrency: int = 64,
        batch: int = 100,
        keep_days: int = 30,
    ) -> None:
        self.db = TurnDatabase(database) if isinstance(database, str) else database
        self._own_db = isinstance(database, str)
        self.delivery = delivery
        self.channel = delivery.channel
        self.poll_seconds = poll_seconds
        self.claim_seconds = claim_seconds
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.concurrency = concurrency
        self.batch = batch
        self.keep_days = keep_days
        self._purged_at: float | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._chats: dict[str, asyncio.Task[None]] = {}  # chat id -> its calls going out here
        self._behind: set[str] = set()  # chats with rows written behind those calls
        self._more: dict[str, list[store.Item]] = {}  # rows handed over behind those calls
        self._records: list[tuple[_Outcome, asyncio.Future[None]]] = []
        self._full = False
        self._retry_at: float | None = None  # loop time of the earliest retry scheduled here
        self.sent = 0

    # ------------------------------------------------------------------ lifecycle

    def wake(self, chat_id: str | None = None) -> None:
        """New rows were committed unclaimed: look now instead of at the next poll. Rows of
        a chat whose calls are going out here wait for them: looked for when they are done."""
        if chat_id is not None and self.holds(chat_id):
            self._behind.add(chat_id)
        else:
            self._wake.set()

    @property
    def hand_over_seconds(self) -> float | None:
        """How long a turn may claim its rows for this sender (`Outbound.claim_seconds`):
        None while the sender is not running, so no row waits out a claim nobody serves."""
        return self.claim_seconds if self._task is not None and not self._stopping else None

    def holds(self, chat_id: str) -> bool:
        """Whether this chat's calls are going out here now: rows handed over for it then
        follow them (`take`), rows written unclaimed wait for them (`wake`)."""
        return chat_id in self._chats

    def take(self, items: Sequence[store.Item]) -> None:
        """Deliver rows a turn claimed for this sender as it wrote them (`claim_seconds`):
        no claim statement, no round of the sender's loop. Rows of a chat whose calls are
        going out here follow those calls in the same task. When not running, the claim
        expires and any sender takes them."""
        if not items:
            return
        if self.hand_over_seconds is None:
            self._wake.set()
            return
        items = sorted(items, key=lambda i: i.id)
        chat = items[0].chat_id
        if self.holds(chat):
            self._more.setdefault(chat, []).extend(items)
        else:
            self._start(items)

    def _start(self, items: Sequence[store.Item]) -> asyncio.Task[None]:
        chat = items[0].chat_id
        task = asyncio.create_task(self._chat(chat, items))
        self._inflight.add(task)
        self._chats[chat] = task
        task.add_done_callback(lambda done: self._finished(done, chat))
        return task

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"outbox-{self.channel}")

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the calls in flight (up to `timeout`), then stop."""
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._inflight:
            _done, pending = await asyncio.wait(set(self._inflight), timeout=timeout)
            for t in pending:
                t.cancel()
        if self._own_db:
            await self.db.close()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._purge_now_and_then()
                await self._fill()
                delay = self._until_retry()
            except Exception:
                log.exception("outbox %s: sender round failed", self.channel)
                delay = self.poll_seconds
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
        if self._inflight:
            await asyncio.wait(set(self._inflight))

    async def _purge_now_and_then(self) -> None:
        """Hourly: forget set-aside rows older than `keep_days` (they hold chat ids)."""
        now = asyncio.get_running_loop().time()
        if self._purged_at is not None and now - self._purged_at < 3600:
            return
        self._purged_at = now
        async with self.db.transaction() as tx:
            await store.purge(tx, store.utcnow() - timedelta(days=self.keep_days))

    def _until_retry(self) -> float:
        """How long to sleep: until the next poll, or sooner when a retry this sender
        scheduled falls due. New rows wake the sender directly (`wake`; a finishing chat too);
        the poll finds rows of other processes and expired claims."""
        loop = asyncio.get_running_loop().time()
        if self._retry_at is not None and self._retry_at <= loop + self.poll_seconds:
            at, self._retry_at = self._retry_at, None
            return max(at - loop, 0.01)
        return self.poll_seconds

    async def _next_delay(self) -> float:
        now = store.utcnow()
        async with self.db.transaction() as tx:
            at = await store.next_due(tx, self.channel, now)
        if at is None:
            return self.poll_seconds
        return min(self.poll_seconds, max((at - now).total_seconds(), 0.01))

    # ------------------------------------------------------------------ work

    async def _claim(self, chats: int) -> dict[str, list[store.Item]]:
        now = store.utcnow()
        until = now + timedelta(seconds=self.claim_seconds)
        async with self.db.transaction() as tx:
            items = await store.claim(tx, self.channel, now, until, chats)
        by_chat: dict[str, list[store.Item]] = {}
        for item in items:
            by_chat.setdefault(item.chat_id, []).append(item)
        return by_chat

    async def _fill(self) -> list[asyncio.Task[None]]:
        """Claim due chats up to the free capacity and start delivering each."""
        free = min(self.concurrency - len(self._inflight), self.batch)
        if free <= 0 or self._stopping:
            self._full = free <= 0
            return []
        claimed = await self._claim(free)
        # At capacity, more chats may be due: look again as soon as one is done.
        self._full = len(claimed) >= free
        return [self._start(items) for items in claimed.values()]

    def _finished(self, task: asyncio.Task[None], chat: str) -> None:
        self._inflight.discard(task)
        if self._chats.get(chat) is task:  # the task ended early (cancelled or failed)
            del self._chats[chat]
            self._more.pop(chat, None)  # their claims expire; any sender takes them then
        if chat in self._behind:  # rows written behind this chat's calls are due now
            self._behind.discard(chat)
            self._wake.set()
        elif self._full:
            self._wake.set()

    async def run_once(self) -> int:
        """Deliver everything due now; returns how many calls went out."""
        before = self.sent
        while True:
            tasks = await self._fill()
            if not tasks:
                break
            await asyncio.gather(*tasks)
        return self.sent - before

    async def drain(self, timeout: float = 10.0) -> None:
        """Send until nothing is pending, waiting out backoffs (tests, one-shot commands)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            if await self.run_once():
                continue
            async with self.db.transaction() as tx:
                if not (await store.counts(tx, self.channel)).get(store.PENDING, 0):
                    return
            await asyncio.sleep(min(await self._next_delay(), max(end - loop.time(), 0)))

    async def _chat(self, chat: str, items: Sequence[store.Item]) -> None:
        """Send one chat's claimed rows in order, record what happened, then the rows turns
        handed over behind them meanwhile (`take`), until none are left."""
        while items:
            outcome = await self._send(items)
            if outcome.wait is not None or self._stopping:
                outcome.rest += [i.id for i in self._more.pop(chat, [])]
            await self._record(outcome)
            items = self._more.pop(chat, [])
            if items and (outcome.wait is not None or self._stopping):
                await self._record(_Outcome(rest=[i.id for i in items]))
                items = []
        # No await from the last look at `_more` to here: nothing is handed over unseen.
        if self._chats.get(chat) is asyncio.current_task():
            del self._chats[chat]

    async def _send(self, items: Sequence[store.Item]) -> _Outcome:
        """Deliver in order until a call has to wait; the rest stays for later."""
        outcome = _Outcome()
        for n, item in enumerate(items):
            if self._stopping:
                outcome.rest = [i.id for i in items[n:]]
                break
            result = await self._deliver(item)
            if result is None:
                outcome.sent.append(item.id)
            elif isinstance(result, _SetAside):
                outcome.set_aside.append(result)
            else:
                outcome.wait = result
                outcome.rest = [i.id for i in items[n + 1 :]]
                break
        return outcome

    async def _record(self, outcome: _Outcome) -> None:
        """Record one outcome; the outcomes of chats done in the same pass of the event
        loop share one transaction. A failure is logged: the claims expire and the rows go
        out again (at-least-once) after claim_seconds."""
        future = asyncio.get_running_loop().create_future()
        self._records.append((outcome, future))
        if len(self._records) == 1:
            asyncio.get_running_loop().call_soon(self._write_records)
        await future

    def _write_records(self) -> None:
        batch, self._records = self._records, []
        task = asyncio.create_task(self._write(batch))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _write(self, batch: list[tuple[_Outcome, asyncio.Future[None]]]) -> None:
        sent = [i for outcome, _ in batch for i in outcome.sent]
        try:
            if all(outcome.only_sent for outcome, _ in batch):  # the common case
                async with self.db.autocommit() as tx:
                    await store.sent(tx, sent)
            else:
                async with self.db.transaction() as tx:
                    await store.sent(tx, sent)
                    for outcome, _ in batch:
                        await self._apply(tx, outcome)
                    await store.release(tx, [i for outcome, _ in batch for i in outcome.rest])
        except Exception:
            log.exception("outbox %s: recording deliveries failed", self.channel)
        else:
            self.sent += sum(len(outcome.sent) for outcome, _ in batch)
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    async def _apply(self, tx: Tx, outcome: _Outcome) -> None:
        for aside in outcome.set_aside:
            await store.give_up(tx, aside.id, aside.status, aside.reason)
        wait = outcome.wait
        if wait is not None:
            at = store.utcnow() + timedelta(seconds=wait.seconds)
            await store.retry_later(tx, wait.id, wait.attempts, at, wait.reason)
            due = asyncio.get_running_loop().time() + wait.seconds
            self._retry_at = min(self._retry_at or due, due)
            self._wake.set()  # the loop sleeps until then, not a whole poll

    async def _deliver(self, item: store.Item) -> _SetAside | _Wait | None:
        """One call; None when it went out."""
        if item.window_ends_at is not None and store.utcnow() > item.window_ends_at:
            log.warning(
                "outbox %s: service window closed for row %d; a template message is needed",
                self.channel,
                item.id,
            )
            return _SetAside(item.id, store.TEMPLATE_NEEDED, "24-hour service window closed")
        try:
            await self.delivery.deliver(item.chat_id, item.op)
        except RetryLater as exc:
            attempts = item.attempts + 1
            if attempts >= self.max_attempts:
                log.error("outbox %s: row %d failed %d times", self.channel, item.id, attempts)
                return _SetAside(item.id, store.DEAD, exc.reason)
            log.info("outbox %s: row %d retried later: %s", self.channel, item.id, exc.reason)
            return _Wait(item.id, attempts, self._backoff(attempts, exc.after), exc.reason)
        except Undeliverable as exc:
            log.warning("outbox %s: row %d undeliverable: %s", self.channel, item.id, exc.reason)
            return _SetAside(item.id, exc.status, exc.reason)
        except Exception as exc:  # an unexpected bug must not stop the other chats
            log.exception("outbox %s: row %d failed unexpectedly", self.channel, item.id)
            attempts = item.attempts + 1
            return _Wait(item.id, attempts, self._backoff(attempts, None), repr(exc))
        return None

    def _backoff(self, attempts: int, after: float | None) -> float:
        if after is not None:
            return max(after, 0.0)
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempts - 1))
        return delay * random.uniform(0.75, 1.0)
