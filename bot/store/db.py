"""Database engines and sessions for SQLite (embedded default) and Postgres (scale-out).

One async engine per URL. SQLite runs in WAL mode with a busy timeout so several processes can
share the file; Postgres uses asyncpg. Sync engines (for Alembic and CLI tools) are derived
from the same URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.store.url import async_url

_engines: dict[str, AsyncEngine] = {}


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sync_url(url: str) -> str:
    """The synchronous driver URL for the same database (Alembic, bulk CLI work)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return u.set(drivername="sqlite").render_as_string(hide_password=False)
    if u.get_backend_name() == "postgresql":
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def _ensure_sqlite_dir(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")  # deleted (erased) rows are zeroed on disk
    cur.close()


def get_engine(url: str) -> AsyncEngine:
    """The shared async engine for `url` (created on first use)."""
    url = async_url(url)
    engine = _engines.get(url)
    if engine is None:
        _ensure_sqlite_dir(url)
        if is_sqlite(url):
            engine = create_async_engine(url, connect_args={"timeout": 30})
        else:
            engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        if is_sqlite(url):
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _engines[url] = engine
    return engine


def get_sync_engine(url: str) -> Engine:
    url = sync_url(url)
    _ensure_sqlite_dir(url)
    engine = create_engine(url)
    if is_sqlite(url):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def sessionmaker(url: str) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(url), expire_on_commit=False)


@asynccontextmanager
async def session_scope(url: str) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed on success, rolled back on error."""
    async with sessionmaker(url)() as session, session.begin():
        yield session


async def dispose_all() -> None:
    for engine in list(_engines.values()):
        await engine.dispose()
    _engines.clear()
