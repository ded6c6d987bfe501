"""Runs due jobs: once (`run_due`, used by `jobs run --now`) or as the server's loop (`start`).

Each batch is claimed in one short transaction; each job then runs outside it and is settled
in another, so a slow handler never holds a lock. Failures retry with exponential backoff
(30 s, 1 min, 2 min, ... at most 1 h) up to the kind's `max_attempts`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import clock
from bot.jobs import store
from bot.jobs.registry import Context, GiveUp, kinds

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH = 20
POLL_S = 5.0
# Periodic jobs reschedule themselves; re-creating a lost one is a rare safety net (and a
# write), not something for every poll.
ENSURE_PERIODIC_S = 600.0
MAX_ROUNDS = 50


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Ran:
    id: int
    kind: str
    outcome: str  # done | retry | dead | lost (another runner took it over)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "outcome": self.outcome, "note": self.note}


async def ensure_periodic(settings: Settings, now: datetime) -> None:
    from bot.store.db import get_engine

    async with get_engine(settings.database_url).begin() as conn:
        for kind, spec in kinds().items():
            if spec.every is not None:
                await store.enqueue(conn, kind, now, {}, f"periodic:{kind}", now=now)


async def _settle(settings: Settings, job: store.Job, now: datetime) -> Ran:
    from bot.store.db import get_engine

    spec = kinds().get(job.kind)
    engine = get_engine(settings.database_url)
    note: str | None = None
    error: str | None = None
    give_up = False
    if spec is None:
        error, give_up = f"unknown job kind {job.kind!r}", True
    else:
        try:
            note = await spec.handler(Context(settings, now, job))
        except GiveUp as exc:
            error, give_up = str(exc) or "gave up", True
        except Exception as exc:
            log.warning("job %s (%s) failed: %s", job.id, job.kind, exc)
            error = f"{type(exc).__name__}: {exc}"
    async with engine.begin() as conn:
        if error is None and spec is not None and spec.every is not None:
            # Never push a periodic job beyond real time (after `jobs run --now` in the future).
            base = min(now, datetime.now(UTC))
            ok = await store.reschedule(conn, job, base + spec.every)
            return Ran(job.id, job.kind, "done" if ok else "lost", note)
        if error is None:
            ok = await store.finish(conn, job, now)
            return Ran(job.id, job.kind, "done" if ok else "lost", note)
        max_attempts = spec.max_attempts if spec is not None else 1
        retry_at = None if give_up or job.attempts >= max_attempts else now + backoff(job.attempts)
        ok = await store.fail(conn, job, error, retry_at, now)
        outcome = ("retry" if retry_at else "dead") if ok else "lost"
        return Ran(job.id, job.kind, outcome, error)


async def run_batch(
    settings: Settings, now: datetime, limit: int = BATCH, exclude: Collection[int] = ()
) -> list[Ran]:
    """Claim and run one batch of jobs due at `now` (except the ids in `exclude`)."""
    from bot.store.db import get_engine

    engine = get_engine(settings.database_url)
    async with engine.connect() as conn:
        if not await store.any_due(conn, now, exclude):
            return []
    async with engine.begin() as conn:
        claimed = await store.claim(conn, now, LEASE, limit, exclude)
    return [await _settle(settings, job, now) for job in claimed]


async def run_due(settings: Settings, now: datetime | None = None) -> list[Ran]:
    """Run every job due at `now` (default: the clock), including jobs that those jobs
    schedule for no later than `now`. A job retried later is not run again here."""
    now = now or clock.now()
    ran: list[Ran] = []
    periodic_ran: set[int] = set()  # a periodic job runs once per call, not in every round
    periodic = {kind for kind, spec in kinds().items() if spec.every is not None}
    with clock.frozen(now):
        await ensure_periodic(settings, now)
        for _ in range(MAX_ROUNDS):
            batch = await run_batch(settings, now, exclude=periodic_ran)
            ran.extend(batch)
            periodic_ran.update(r.id for r in batch if r.kind in periodic)
            # Retries are due later and dead jobs are gone: only done jobs can add work.
            if not any(r.outcome == "done" for r in batch):
                break
    return ran


async def bring_forward(settings: Settings, kind: str, now: datetime) -> bool:
    """Make the periodic job `kind` due now (a turn wrote what it handles); False when it is
    running or not there."""
    from bot.store.db import get_engine

    async with get_engine(settings.database_url).begin() as conn:
        return await store.bring_forward(conn, f"periodic:{kind}", now)


async def loop(
    settings: Settings,
    poll_s: float = POLL_S,
    stop: asyncio.Event | None = None,
    wake: Wake | None = None,
) -> None:
    """The server's runner: due jobs at real time, every `poll_s` seconds, until cancelled,
    and at once when `wake` is poked (its periodic kinds brought forward first).

    An idle poll is one read (`any_due`): it runs beside the message path on every replica."""
    stop = stop or asyncio.Event()
    wake = wake or Wake()
    ensured_at: float | None = None
    loop_time = asyncio.get_running_loop().time
    while not stop.is_set():
        try:
            if ensured_at is None or loop_time() - ensured_at > ENSURE_PERIODIC_S:
                await ensure_periodic(settings, clock.now())
                ensured_at = loop_time()
            for kind in wake.take():
                await bring_forward(settings, kind, clock.now())
            while await run_batch(settings, clock.now()):
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("jobs runner: a round failed; trying again")
        if not stop.is_set():
            await wake.wait(stop, poll_s)


class Wake:
    """Pokes for the runner: `poke(kind)` brings the periodic job `kind` forward and runs it
    now, instead of waiting for its period. The periodic run stays the safety net (another
    process's turn, a poke lost in a restart)."""

    def __init__(self) -> None:
        self._kinds: set[str] = set()
        self._event = asyncio.Event()

    def poke(self, kind: str) -> None:
        self._kinds.add(kind)
        self._event.set()

    def take(self) -> list[str]:
        kinds, self._kinds = sorted(self._kinds), set()
        self._event.clear()
        return kinds

    async def wait(self, stop: asyncio.Event, timeout: float) -> None:
        """Until stopped, poked or `timeout` seconds passed."""
        waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._event.wait())}
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()


def start(settings: Settings, wake: Wake | None = None) -> Callable[[], Awaitable[None]]:
    """Start the runner as a background task; returns the coroutine function that stops it.

    Off when `settings.jobs_runner` is false (e.g. a dedicated `jobs run` cron instead).
    """
    if not settings.jobs_runner:

        async def nothing() -> None:
            return None

        return nothing
    stop = asyncio.Event()
    task = asyncio.create_task(loop(settings, stop=stop, wake=wake), name="vk-jobs-runner")

    async def stopper() -> None:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()

    return stopper
