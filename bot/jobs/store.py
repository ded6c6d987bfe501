"""Reads and writes of the `jobs` table. Every function takes an open connection; the caller
owns the transaction (so a job can be written in the same transaction as what caused it)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.jobs.table import DEAD, DONE, PENDING, RUNNING, jobs

_j = jobs.c


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone; they are stored in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    out = as_utc(value)
    assert out is not None
    return out


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    status: str
    attempts: int
    claimed_until: datetime | None
    dedupe_key: str | None
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "due_at": self.due_at.isoformat(),
            "payload": self.payload,
            "status": self.status,
            "attempts": self.attempts,
            "claimed_until": self.claimed_until.isoformat() if self.claimed_until else None,
            "dedupe_key": self.dedupe_key,
            "last_error": self.last_error,
        }


def _job(row: Any) -> Job:
    return Job(
        id=int(row.id),
        kind=str(row.kind),
        due_at=_utc(row.due_at),
        payload=dict(row.payload or {}),
        status=str(row.status),
        attempts=int(row.attempts),
        claimed_until=as_utc(row.claimed_until),
        dedupe_key=row.dedupe_key,
        last_error=row.last_error,
    )


async def enqueue(
    conn: AsyncConnection,
    kind: str,
    due_at: datetime,
    payload: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
    *,
    now: datetime,
) -> bool:
    """Add a job; with a dedupe key an existing job of that key wins. True when added."""
    values = {
        "kind": kind,
        "due_at": _utc(due_at),
        "payload": dict(payload or {}),
        "status": PENDING,
        "attempts": 0,
        "created_at": _utc(now),
        "dedupe_key": dedupe_key,
    }
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(jobs).values(values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(jobs).values(values).on_conflict_do_nothing()
    result = await conn.execute(stmt)
    return bool(result.rowcount)


def _claimable(now: datetime, exclude: Collection[int] = ()) -> Any:
    due = sa.or_(
        sa.and_(_j.status == PENDING, _j.due_at <= now),
        sa.and_(_j.status == RUNNING, _j.claimed_until < now),  # lease expired: runner died
    )
    return sa.and_(due, _j.id.not_in(list(exclude))) if exclude else due


async def any_due(conn: AsyncConnection, now: datetime, exclude: Collection[int] = ()) -> bool:
    """A cheap read before taking the write lock."""
    query = sa.select(_j.id).where(_claimable(_utc(now), exclude)).limit(1)
    row = (await conn.execute(query)).first()
    return row is not None


async def claim(
    conn: AsyncConnection,
    now: datetime,
    lease: timedelta,
    limit: int,
    exclude: Collection[int] = (),
) -> list[Job]:
    """Take up to `limit` due jobs (oldest due first) for `lease`.

    Postgres: the rows are picked `FOR UPDATE SKIP LOCKED`, so concurrent runners get
    disjoint batches; SQLite: the UPDATE holds the database write lock.
    """
    now = _utc(now)
    pick = (
        sa.select(_j.id)
        .where(_claimable(now, exclude))
        .order_by(_j.due_at, _j.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if conn.dialect.name == "postgresql":
        # A locking CTE runs once; `id IN (subquery)` could be re-run per row and, seeing
        # the rows it just claimed as taken, claim more than `limit`.
        picked = pick.cte("picked")
        match: Any = _j.id == picked.c.id
    else:
        match = _j.id.in_(pick.scalar_subquery())
    stmt = (
        sa.update(jobs)
        .where(match, _claimable(now))
        .values(status=RUNNING, claimed_until=now + lease, attempts=_j.attempts + 1)
        .returning(*jobs.c)
    )
    rows = (await conn.execute(stmt)).all()
    return sorted((_job(r) for r in rows), key=lambda j: (j.due_at, j.id))


def _ours(job: Job) -> Any:
    """Only the runner whose lease is current may settle a job."""
    return sa.and_(_j.id == job.id, _j.status == RUNNING, _j.claimed_until == job.claimed_until)


async def finish(conn: AsyncConnection, job: Job, now: datetime) -> bool:
    result = await conn.execute(
        sa.update(jobs)
        .where(_ours(job))
        .values(status=DONE, claimed_until=None, finished_at=_utc(now), last_error=None)
    )
    return bool(result.rowcount)


async def reschedule(conn: AsyncConnection, job: Job, due_at: datetime) -> bool:
    """A periodic job: pending again, due at `due_at`."""
    result = await conn.execute(
        sa.update(jobs)
        .where(_ours(job))
        .values(status=PENDING, claimed_until=None, due_at=_utc(due_at), attempts=0)
    )
    return bool(result.rowcount)


async def bring_forward(conn: AsyncConnection, dedupe_key: str, now: datetime) -> bool:
    """A pending job (by its dedupe key) due now rather than later; True when moved."""
    result = await conn.execute(
        sa.update(jobs)
        .where(_j.dedupe_key == dedupe_key, _j.status == PENDING, _j.due_at > _utc(now))
        .values(due_at=_utc(now))
    )
    return bool(result.rowcount)


async def fail(
    conn: AsyncConnection, job: Job, error: str, retry_at: datetime | None, now: datetime
) -> bool:
    """Retry at `retry_at`, or give up (status dead) when it is None."""
    values: dict[str, Any] = {"claimed_until": None, "last_error": error[:500]}
    if retry_at is None:
        values.update(status=DEAD, finished_at=_utc(now))
    else:
        values.update(status=PENDING, due_at=_utc(retry_at))
    result = await conn.execute(sa.update(jobs).where(_ours(job)).values(**values))
    return bool(result.rowcount)


async def list_jobs(
    conn: AsyncConnection, statuses: tuple[str, ...] = (PENDING, RUNNING), limit: int = 1000
) -> list[Job]:
    rows = await conn.execute(
        sa.select(jobs).where(_j.status.in_(statuses)).order_by(_j.due_at, _j.id).limit(limit)
    )
    return [_job(r) for r in rows]


async def get(conn: AsyncConnection, job_id: int) -> Job | None:
    row = (await conn.execute(sa.select(jobs).where(_j.id == job_id))).first()
    return _job(row) if row is not None else None


async def purge_finished(conn: AsyncConnection, before: datetime) -> int:
    """Forget done and dead jobs finished before `before` (payloads hold ids only)."""
    result = await conn.execute(
        sa.delete(jobs).where(_j.status.in_((DONE, DEAD)), _j.finished_at < _utc(before))
    )
    return int(result.rowcount or 0)
