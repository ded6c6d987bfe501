"""Keeps report_counts up to date from the events table, incrementally.

`refresh(url)` folds events above the high-water mark (report_state 'events') into per-journey
states (report_journeys) and adds the difference of each changed journey's contributions to
report_counts, in one transaction per batch. It is idempotent and cheap when nothing is new,
so it runs before each report and periodically. Refreshes and erasures serialise on one lock
(SQLite: the write lock; Postgres: an advisory lock), so nothing is folded twice.
The per-message write path does no report work at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.analytics.journeys import SEEN_EVENTS, Cell, Journey, delta, fold
from bot.analytics.stages import RESPONDED, RESPONDED_LEAD_STATUSES

log = logging.getLogger(__name__)
BATCH = 20_000  # events per transaction: SQLite's write lock is held for one batch
# pg_advisory_xact_lock key shared by refreshes and erasures ("vkreport").
LOCK_KEY = 0x766B7265706F7274
UPSERT_COUNTS = (
    "INSERT INTO report_counts (g, campaign, day, channel, region, metric, key, n) "
    "VALUES (:g, :campaign, :day, :channel, :region, :metric, :key, :n) "
    "ON CONFLICT (g, metric, day, campaign, channel, region, key) "
    "DO UPDATE SET n = report_counts.n + excluded.n"
)
UPSERT_JOURNEY = (
    "INSERT INTO report_journeys (conversation_id, stage, state) VALUES (:c, :s, :j) "
    "ON CONFLICT (conversation_id) DO UPDATE SET stage = excluded.stage, state = excluded.state"
)
EVENTS = (
    "SELECT id, conversation_id, name, question, campaign, channel, region, created_at, "
    "CASE WHEN name IN ('completed', 'answered') THEN data END AS data "
    "FROM events WHERE id > :hwm AND id <= :upper ORDER BY id LIMIT :batch"
)


@lru_cache(maxsize=1)
def cause_mapping() -> tuple[frozenset[str], dict[tuple[str, str], list[str]]]:
    """Which questions feed causes, and the causes of each (question, option)."""
    from bot.content import default_quiz

    quiz = default_quiz()
    mapping: dict[tuple[str, str], list[str]] = {}
    questions = [q for q in quiz.questions if q.feeds == "causes"]
    for q in questions:
        for o in q.options:
            value = o.value
            mapping[(q.id, o.id)] = (
                [value] if isinstance(value, str) else [str(v) for v in (value or [])]
            )
    return frozenset(q.id for q in questions), mapping


def count_rows(changes: Mapping[Cell, int]) -> list[dict[str, Any]]:
    return [
        {
            "g": c[0],
            "campaign": c[1],
            "day": c[2],
            "channel": c[3],
            "region": c[4],
            "metric": c[5],
            "key": c[6],
            "n": n,
        }
        for c, n in changes.items()
        if n
    ]


async def _lock(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    else:
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


async def _load(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, Journey]:
    found: dict[str, Journey] = {}
    for i in range(0, len(ids), 900):
        chunk = list(ids[i : i + 900])
        query = sa.text(
            "SELECT conversation_id, state FROM report_journeys WHERE conversation_id IN :ids"
        ).bindparams(sa.bindparam("ids", expanding=True))
        for cid, state in (await conn.execute(query, {"ids": chunk})).all():
            found[cid] = Journey.loads(state)
    return found


async def _save(
    conn: AsyncConnection, journeys: Mapping[str, Journey], changes: Mapping[Cell, int]
) -> None:
    rows = [{"c": cid, "s": j.effective_stage, "j": j.dumps()} for cid, j in journeys.items()]
    for i in range(0, len(rows), 10_000):
        await conn.execute(sa.text(UPSERT_JOURNEY), rows[i : i + 10_000])
    counts = count_rows(changes)
    for i in range(0, len(counts), 10_000):
        await conn.execute(sa.text(UPSERT_COUNTS), counts[i : i + 10_000])


async def _batch(conn: AsyncConnection, batch: int, upper: int) -> int:
    """Fold the next batch of events (ids up to `upper`); returns how many were folded."""
    hwm = (
        await conn.execute(sa.text("SELECT value FROM report_state WHERE name = 'events'"))
    ).scalar()
    if hwm is None:
        await conn.execute(sa.text("INSERT INTO report_state (name, value) VALUES ('events', 0)"))
        hwm = 0
    params = {"hwm": int(hwm), "upper": upper, "batch": batch}
    rows = (await conn.execute(sa.text(EVENTS), params)).all()
    cause_questions, causes_of = cause_mapping()
    changes: dict[Cell, int] = {}
    if rows:
        ids = list(dict.fromkeys(r[1] for r in rows))
        before = await _load(conn, ids)
        after = {cid: j.copy() for cid, j in before.items()}
        for _id, cid, name, question, campaign, channel, region, at, data in rows:
            j = after.get(cid)
            if j is None:
                j = after[cid] = Journey()
            fold(j, name, question, campaign, channel, region, at, data, cause_questions)
            if name in SEEN_EVENTS:
                key = (0, "", "", "", "", "seen", name)
                changes[key] = changes.get(key, 0) + 1
        for cid, j in after.items():
            delta(before.get(cid), j, causes_of, changes)
        await _save(conn, after, changes)
        await conn.execute(
            sa.text("UPDATE report_state SET value = :v WHERE name = 'events'"),
            {"v": int(rows[-1][0])},
        )
    await _raise_responded(conn, causes_of)
    return len(rows)


async def _raise_responded(
    conn: AsyncConnection, causes_of: Mapping[tuple[str, str], list[str]]
) -> None:
    """Journeys whose lead an organisation answered count as 'organisation responded'."""
    query = sa.text(
        "SELECT DISTINCT j.conversation_id FROM leads l JOIN report_journeys j "
        "ON j.conversation_id = l.conversation_id "
        "WHERE l.status IN :statuses AND j.stage < :stage"
    ).bindparams(sa.bindparam("statuses", expanding=True))
    params = {"statuses": list(RESPONDED_LEAD_STATUSES), "stage": RESPONDED}
    ids = [r[0] for r in (await conn.execute(query, params)).all()]
    if not ids:
        return
    before = await _load(conn, ids)
    after: dict[str, Journey] = {}
    changes: dict[Cell, int] = {}
    for cid, old in before.items():
        new = old.copy()
        new.raised = True
        delta(old, new, causes_of, changes)
        after[cid] = new
    await _save(conn, after, changes)


async def _settled(engine: Any) -> int:
    """The highest event id below which every event is committed.

    Postgres hands out ids before commit, so a later id can commit first. A SHARE lock waits
    for the transactions writing events right now (and holds new ones back for a moment):
    afterwards every id up to the maximum is committed. SQLite has one writer: no gap."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("LOCK TABLE events IN SHARE MODE")
        top = (await conn.execute(sa.text("SELECT MAX(id) FROM events"))).scalar()
        await conn.commit()
    return int(top or 0)


async def refresh(target: str | AsyncEngine, batch: int = BATCH) -> int:
    """Fold every event not yet counted; returns how many events were folded.
    `target`: a database URL (the shared engine) or an engine of the caller's own."""
    from bot.store.db import get_engine

    engine = get_engine(target) if isinstance(target, str) else target
    upper = await _settled(engine)
    total = 0
    while True:
        async with engine.connect() as conn:
            await _lock(conn)
            try:
                done = await _batch(conn, batch, upper)
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()
        total += done
        if done < batch:
            return total


async def refresh_forever(
    target: str | AsyncEngine, every: float = 60.0, first_after: float = 10.0
) -> None:
    """Keep the counters close to the events (a report then only folds the last minute).
    The first round waits `first_after` seconds: start-up has better things to do."""
    await asyncio.sleep(first_after)
    while True:
        try:
            await refresh(target)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("report refresh failed; retrying later")
        await asyncio.sleep(every)
