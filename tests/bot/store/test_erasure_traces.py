"""Erasure keeps its promise: after "wis mijn gegevens" (and for someone who declined consent,
once the conversation is over) no table and, on SQLite, no database file (db, -wal, -shm)
holds the person's identifiers or answers; the reports still count the journey."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.engine import make_url

from bot.analytics import Filters, funnel_report
from bot.config import Settings
from bot.pipeline import Inbound, Pipeline
from bot.store.db import dispose_all, get_sync_engine, session_scope
from tests.bot.test_analytics_pipeline import walk


def table_text(url: str) -> str:
    """Every column of every row of every table, as text."""
    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(conn)
            return "\n".join(
                " ".join(str(v) for v in row)
                for table in meta.tables.values()
                for row in conn.execute(select(table))
            )
    finally:
        engine.dispose()


def file_bytes(url: str) -> dict[str, bytes]:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database:
        return {}
    base = Path(u.database)
    paths = [base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")]
    return {p.name: p.read_bytes() for p in paths if p.exists()}


def standalone(needle: str) -> re.Pattern[bytes]:
    """The needle as a value of its own: a postcode like 9712 must not match inside a uuid,
    a hash or the microseconds of a timestamp."""
    edge = rb"[0-9A-Za-z._-]"
    return re.compile(rb"(?<!" + edge + rb")" + re.escape(needle.encode()) + rb"(?!" + edge + rb")")


def traces(url: str, needles: list[str]) -> list[str]:
    """Where any needle still shows: 'tables' or a file name."""
    found: list[str] = []
    text = table_text(url).encode()
    files = file_bytes(url)
    for needle in needles:
        pattern = standalone(needle)
        if pattern.search(text):
            found.append(f"tables: {needle}")
        for name, data in files.items():
            if pattern.search(data):
                found.append(f"{name}: {needle}")
    return found


async def conversation_of(url: str, pipeline: Pipeline, sender: str) -> dict[str, Any]:
    from bot.store.conversations import conversations as c

    user_hash = pipeline.hash_id("rest", sender)
    async with session_scope(url) as s:
        row = (await s.execute(select(c).where(c.c.user_hash == user_hash))).one()
    state = row.state if isinstance(row.state, dict) else json.loads(row.state)
    return {"id": row.id, "user_hash": user_hash, "state": state}


def distinctive(state: dict[str, Any]) -> list[str]:
    """Answer values that would single the person out (the place: postcode, coordinates)."""
    out: list[str] = []
    for answer in state.get("answers", {}).values():
        if isinstance(answer, dict):
            out += [str(answer[k]) for k in ("postcode", "lat", "lon") if answer.get(k)]
    return out


async def settle(url: str) -> None:
    """Let the post-commit WAL checkpoint run, then close the pooled connections."""
    await asyncio.sleep(0.3)
    await dispose_all()


async def test_erased_person_leaves_no_trace(
    settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = Pipeline(settings)
    try:
        for i in range(5):  # others, so the reports have something to show
            await walk(pipeline, f"other-{i}", "radio")
        sender = "erase-me-7f3a91"
        monkeypatch.setattr("tests.walk.UTRECHT", {"lat": 53.2194, "lon": 6.5665})  # Groningen
        await walk(pipeline, sender, "radio")
        conv = await conversation_of(db_url, pipeline, sender)
        needles = [conv["id"], conv["user_hash"], sender, *distinctive(conv["state"])]
        assert len(needles) >= 5, needles
        async with session_scope(db_url) as s:
            before = await funnel_report(s, Filters(campaigns=("radio",)))
        assert traces(db_url, needles)  # the scan sees them while they exist
        await pipeline.handle(Inbound("rest", sender, text="wis mijn gegevens", external_id="e1"))
        again = await pipeline.handle(
            Inbound("rest", sender, text="wis mijn gegevens", external_id="e1")
        )
        assert again.duplicate  # the request's key is kept, so a retry is not re-run
        await settle(db_url)
        assert traces(db_url, needles) == []
        async with session_scope(db_url) as s:
            after = await funnel_report(s, Filters(campaigns=("radio",)))
        assert after.stages == before.stages and after.profiles == before.profiles
        assert after.drop_off == before.drop_off
    finally:
        await pipeline.close()


async def test_declined_person_leaves_no_trace(settings: Settings, db_url: str) -> None:
    from bot.commands.privacy import purge
    from bot.store import conversations as t

    pipeline = Pipeline(settings)
    try:
        sender = "declines-4c2e88"
        await pipeline.handle(Inbound("rest", sender, text="/start", external_id="d1"))
        await pipeline.handle(Inbound("rest", sender, payload="/consent/no", external_id="d2"))
        conv = await conversation_of(db_url, pipeline, sender)
        # The test goes on without saving; this person leaves half way.
        assert conv["state"]["phase"] == "asking" and not conv["state"]["consent"]
        needles = [conv["id"], conv["user_hash"], sender]
        assert traces(db_url, needles)
        # Still talking: nothing is erased yet.
        assert await purge(db_url, 180) == 0
        async with session_scope(db_url) as s:
            await t.update_conversation(
                s, conv["id"], {"updated_at": t.utcnow() - timedelta(minutes=61)}
            )
        assert await purge(db_url, 180) == 1
        await settle(db_url)
        assert traces(db_url, needles) == []
        async with session_scope(db_url) as s:
            report = await funnel_report(s, Filters())
        assert report.entries is None  # one entry, counted but hidden (k ≥ 5)
    finally:
        await pipeline.close()


@pytest.mark.parametrize("n", [6])
async def test_erased_journeys_still_count(settings: Settings, db_url: str, n: int) -> None:
    pipeline = Pipeline(settings)
    try:
        for i in range(n):
            await walk(pipeline, f"gone-{i}", "radio")
            await pipeline.handle(Inbound("rest", f"gone-{i}", payload="/delete_data"))
        async with session_scope(db_url) as s:
            report = await funnel_report(s, Filters(campaigns=("radio",)))
        assert dict(report.stages)["completed"] == n
        assert sum(c or 0 for _, _, c in report.profiles) in (0, n)
    finally:
        await pipeline.close()
