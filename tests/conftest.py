"""Shared fixtures: a real database per test session (SQLite file, or Postgres when
VK_TEST_DATABASE_URL is set), emptied between tests, and settings pointing at it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.store.db import async_url, get_sync_engine, sync_url
from bot.store.migrate import upgrade

POSTGRES_URL = os.environ.get("VK_TEST_DATABASE_URL")
# Flood control is off unless a test turns it on: quiz walks answer faster than people do.
os.environ.setdefault("VK_FLOOD_RATE", "0")
os.environ.setdefault("VK_NEW_CONVERSATIONS_PER_SECOND", "0")


@pytest.fixture(scope="session")
def _database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if POSTGRES_URL:
        base = make_url(sync_url(POSTGRES_URL))
        name = f"vk_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = async_url(make_url(POSTGRES_URL).set(database=name).render_as_string(False))
        upgrade(url)
        yield url
        from bot.store.db import _engines

        _engines.clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = Path(tmp_path_factory.mktemp("db")) / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url


def _empty_all_tables(url: str) -> None:
    engine = get_sync_engine(url)
    with engine.begin() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        if not tables:
            return
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
    engine.dispose()


@pytest.fixture
def db_url(_database: str) -> str:
    """The test database URL (async driver), empty at the start of each test."""
    _empty_all_tables(_database)
    return _database


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key="test-secret",
        admin_token="test-admin-token",
        model_dir=tmp_path / "nlu",
    )


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """Base URL of a real uvicorn server process (bot.app) on a free loopback port."""
    from tests.live_server import run_server

    with run_server(settings) as base:
        yield base


@pytest.fixture(autouse=True)
async def _dispose_engines(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Close pooled async connections inside the test's own event loop (asyncpg connections
    cannot outlive it; the next test runs in a new loop)."""
    yield
    if "db_url" in request.fixturenames:
        from bot.store.db import dispose_all
        from bot.store.turns import close_all

        await close_all()
        await dispose_all()
