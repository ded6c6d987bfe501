"""Durable jobs on the real database: due times, dedupe, retries with backoff, leases that
outlive a killed runner, and two runners that never run a job twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.jobs import store
from bot.jobs.registry import Context, register
from bot.jobs.runner import LEASE, backoff, run_batch, run_due
from bot.store.db import get_engine

T0 = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]

calls: Counter[int] = Counter()
failures: dict[int, int] = {}


@register("test.count")
async def _count(ctx: Context) -> str:
    calls[ctx.job.id] += 1
    left = failures.get(ctx.job.id, 0)
    if left:
        failures[ctx.job.id] = left - 1
        raise RuntimeError("not yet")
    await asyncio.sleep(float(ctx.payload.get("sleep", 0)))
    return "counted"


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()
    failures.clear()


async def _add(settings: Settings, n: int, due: datetime = T0, **payload: object) -> list[int]:
    async with get_engine(settings.database_url).begin() as conn:
        for i in range(n):
            await store.enqueue(conn, "test.count", due, dict(payload), f"t:{i}", now=T0)
        return [j.id for j in await store.list_jobs(conn) if j.kind == "test.count"]


async def _job(settings: Settings, job_id: int) -> store.Job:
    async with get_engine(settings.database_url).connect() as conn:
        job = await store.get(conn, job_id)
    assert job is not None
    return job


async def test_runs_only_what_is_due_once_and_dedupes(settings: Settings) -> None:
    [soon] = await _add(settings, 1, T0 + timedelta(hours=1))
    async with get_engine(settings.database_url).begin() as conn:
        again = await store.enqueue(conn, "test.count", T0, {}, "t:0", now=T0)
    assert again is False

    assert [r for r in await run_due(settings, T0) if r.kind == "test.count"] == []
    await run_due(settings, T0 + timedelta(hours=1))
    await run_due(settings, T0 + timedelta(hours=2))

    assert calls == {soon: 1}
    assert (await _job(settings, soon)).status == "done"


async def test_failures_retry_with_backoff_then_succeed(settings: Settings) -> None:
    [job_id] = await _add(settings, 1)
    failures[job_id] = 2

    first = [r for r in await run_due(settings, T0) if r.kind == "test.count"]
    assert [r.outcome for r in first] == ["retry"]
    job = await _job(settings, job_id)
    assert job.status == "pending" and job.due_at == T0 + backoff(1)
    assert "not yet" in (job.last_error or "")

    await run_due(settings, T0 + backoff(1))
    await run_due(settings, T0 + backoff(1) + backoff(2))
    assert calls[job_id] == 3
    assert (await _job(settings, job_id)).status == "done"


async def test_gives_up_after_max_attempts(settings: Settings) -> None:
    [job_id] = await _add(settings, 1)
    failures[job_id] = 100
    at = T0
    for _ in range(12):
        await run_due(settings, at)
        at += timedelta(hours=2)
    assert calls[job_id] == 8
    assert (await _job(settings, job_id)).status == "dead"


async def test_a_claimed_job_of_a_dead_runner_runs_after_its_lease(settings: Settings) -> None:
    [job_id] = await _add(settings, 1)
    async with get_engine(settings.database_url).begin() as conn:
        [claimed] = await store.claim(conn, T0, LEASE, 10)  # ...and the runner dies
    assert claimed.id == job_id

    await run_due(settings, T0 + LEASE - timedelta(seconds=1))
    assert calls[job_id] == 0
    await run_due(settings, T0 + LEASE + timedelta(seconds=1))
    assert calls[job_id] == 1
    assert (await _job(settings, job_id)).status == "done"


async def test_two_runners_never_run_a_job_twice(settings: Settings) -> None:
    ids = await _add(settings, 40, sleep=0.01)
    ran: dict[str, list[int]] = {"a": [], "b": []}

    async def runner(name: str) -> None:
        while batch := await run_batch(settings, T0, limit=4):
            ran[name].extend(r.id for r in batch if r.outcome == "done")

    await asyncio.gather(runner("a"), runner("b"))

    assert sorted(ran["a"] + ran["b"]) == sorted(ids)
    assert all(calls[i] == 1 for i in ids)
    if "postgresql" in settings.database_url:
        assert ran["a"] and ran["b"]  # SKIP LOCKED: both took a share


KILLED_RUNNER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from datetime import datetime
    from bot.config import Settings
    from bot.jobs.registry import register
    from bot.jobs.runner import run_due

    @register("test.count")
    async def hang(ctx):
        Path(sys.argv[2]).write_text(str(ctx.job.id))
        await asyncio.sleep(600)

    asyncio.run(run_due(Settings(database_url=sys.argv[1]), datetime.fromisoformat(sys.argv[3])))
    """
)


async def test_kill_9_loses_nothing_and_runs_the_job_once_more(
    settings: Settings, tmp_path: Path
) -> None:
    [job_id] = await _add(settings, 1)
    marker = tmp_path / "claimed"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUNNER, settings.database_url, str(marker), T0.isoformat()],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        for _ in range(600):
            if marker.exists():
                break
            await asyncio.sleep(0.05)
        assert marker.read_text() == str(job_id)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (await _job(settings, job_id)).status == "running"

    await run_due(settings, T0 + timedelta(minutes=1))
    assert calls[job_id] == 0  # the dead runner's lease still holds
    await run_due(settings, T0 + LEASE + timedelta(minutes=1))
    await run_due(settings, T0 + LEASE + timedelta(minutes=2))
    assert calls[job_id] == 1
    assert (await _job(settings, job_id)).status == "done"


async def test_server_loop_runs_due_jobs(settings: Settings) -> None:
    from bot.jobs.runner import start

    [job_id] = await _add(settings, 1, datetime.now(UTC) - timedelta(seconds=1))
    stop = start(settings)
    try:
        for _ in range(200):
            if calls[job_id]:
                break
            await asyncio.sleep(0.05)
    finally:
        await stop()
    assert calls[job_id] == 1
