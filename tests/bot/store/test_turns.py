"""The pipeline's raw-SQL store against the SQLModel schema (SQLite and Postgres)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.store import conversations as t
from bot.store import turns
from bot.store.db import is_sqlite, session_scope


def a_write(conversation_id: str, is_new: bool, **kw: object) -> turns.Write:
    values: dict[str, object] = {
        "conversation_id": conversation_id,
        "is_new": is_new,
        "user_hash": "ab" * 32,
        "channel": "rest",
        "state_json": '{"phase": "asking", "answers": {"motive": ["values"]}}',
        "lang": "nl",
        "phase": "asking",
        "campaign": "radio1",
        "region": "Utrecht",
        "org": None,
        "now": turns.utcnow(),
        "consent_at": turns.utcnow(),
        "event_campaign": "radio1",
        "events": [("answered", {"question": "motive", "options": ["values"]}, "motive")],
        "consent_quiz": "vrijwilligerskracht",
        "leads": [turns.LeadInsert("v1"), turns.LeadInsert("v2", "no", lang="nl")],
        "key": "k" * 64,
        "replies_json": '[{"kind": "text", "text": "hoi"}]',
    }
    values.update(kw)
    return turns.Write(**values)  # type: ignore[arg-type]


async def test_rows_written_raw_read_back_through_the_tables(db_url: str) -> None:
    db = turns.TurnDatabase(db_url)
    try:
        async with db.transaction("ab" * 32) as tx:
            await turns.write(tx, a_write("c1", is_new=True))
        async with db.transaction("ab" * 32) as tx:
            found = await turns.read(tx, "rest", "ab" * 32, "k" * 64)
            assert found.conversation is not None and found.conversation["id"] == "c1"
            assert found.conversation["state"]["answers"] == {"motive": ["values"]}
            assert found.duplicate_of == "c1"
            assert found.duplicate_replies == [{"kind": "text", "text": "hoi"}]
            await turns.write(tx, a_write("c1", is_new=False, phase="result", key=None, leads=[]))
    finally:
        await db.close()
    async with session_scope(db_url) as s:
        conv = (await s.execute(select(t.conversations))).mappings().one()
        assert conv["phase"] == "result" and conv["state"]["phase"] == "asking"
        assert isinstance(conv["created_at"], datetime) and isinstance(conv["consent_at"], datetime)
        assert conv["updated_at"] >= conv["created_at"]
        events = (await s.execute(select(t.events))).mappings().all()
        assert len(events) == 2 and events[0]["data"] == {
            "question": "motive",
            "options": ["values"],
        }
        assert events[0]["campaign"] == "radio1" and events[0]["region"] == "Utrecht"
        assert isinstance(events[0]["created_at"], datetime)
        leads = (await s.execute(select(t.leads.c.vacancy_id, t.leads.c.status))).all()
        assert sorted(leads) == [("v1", "new"), ("v2", "new")]
        assert len((await s.execute(select(t.consents))).all()) == 2


async def test_a_failed_turn_leaves_nothing_behind(db_url: str) -> None:
    db = turns.TurnDatabase(db_url)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction("cd" * 32) as tx:
                await turns.write(tx, a_write("c2", is_new=True, user_hash="cd" * 32))
                raise RuntimeError("engine failed")
        async with db.transaction("cd" * 32) as tx:
            assert (await turns.read(tx, "rest", "cd" * 32, "k" * 64)).conversation is None
    finally:
        await db.close()


async def test_sqlite_waits_for_another_processes_write_lock(db_url: str) -> None:
    if not is_sqlite(db_url):
        pytest.skip("SQLite locking")
    other = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    db = turns.TurnDatabase(db_url)
    entered = asyncio.Event()

    async def turn() -> None:
        async with db.transaction("ef" * 32) as tx:
            entered.set()
            await turns.write(tx, a_write("c3", is_new=True, user_hash="ef" * 32, key=None))

    task = asyncio.create_task(turn())
    await asyncio.sleep(0.2)
    assert not entered.is_set()  # waiting, and the event loop is not blocked meanwhile
    other.execute("COMMIT")
    await asyncio.wait_for(task, 5)
    assert entered.is_set()
    other.close()
    await db.close()


async def test_erasure_deletes_personal_rows(db_url: str) -> None:
    db = turns.TurnDatabase(db_url)
    try:
        async with db.transaction("ab" * 32) as tx:
            await turns.write(tx, a_write("c4", is_new=True))
        async with db.transaction("ab" * 32) as tx:
            anon = await turns.erase_conversation(tx, "c4")
    finally:
        await db.close()
    assert anon.startswith("anon-") and anon != "c4"
    async with session_scope(db_url) as s:
        for table in (t.conversations, t.consents, t.leads, t.inbound_messages, t.events):
            assert (await s.execute(select(table))).all() == []
        # The journey is folded into the report counters before its events go.
        stages = await s.execute(
            text("SELECT key, n FROM report_counts WHERE g = 0 AND metric = 'stage'")
        )
        assert [(k, int(n)) for k, n in stages.all()] == [("started", 1)]


async def test_close_all_closes_an_sqlite_connection_nobody_closed(tmp_path: Path) -> None:
    """A pipeline that is never closed must not leave its sqlite3 connection to the garbage
    collector: Python 3.13 warns about it, and filterwarnings=error fails a later test."""
    db = turns.TurnDatabase(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    async with db.transaction("ab" * 32):
        pass
    con = db._sqlite_con()
    await turns.close_all()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        con.execute("SELECT 1")
    async with db.transaction("ab" * 32):  # opens a new connection when used again
        pass
    await db.close()


async def test_a_pooled_connection_the_server_killed_costs_no_turn(db_url: str) -> None:
    """A failover or restart ends the backends of idle pooled connections: the next turn gets
    a working connection instead of an error."""
    if is_sqlite(db_url):
        pytest.skip("only Postgres pools connections")
    import asyncpg

    from bot.store.url import parse_db_url

    pid_sql = turns.Sql.same("SELECT pg_backend_pid()")
    db = turns.TurnDatabase(db_url)
    u = parse_db_url(db_url)
    killer = await asyncpg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, database=u.database
    )
    try:
        for _ in range(3):
            async with db.transaction() as tx:
                row = await tx.one(pid_sql, ())
            assert row is not None
            await killer.execute("SELECT pg_terminate_backend($1)", row[0])
            async with db.transaction("ab" * 32) as tx:
                again = await tx.one(pid_sql, ())
            assert again is not None and again[0] != row[0]
    finally:
        await killer.close()
        await db.close()
