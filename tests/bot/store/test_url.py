"""Database URLs read without SQLAlchemy split the same way SQLAlchemy's `make_url` does."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from bot.store.db import sync_url
from bot.store.url import DbUrl, async_url, parse_db_url

URLS = [
    "sqlite+aiosqlite:////tmp/x.db",
    "sqlite:///relative/x.db",
    "sqlite://",
    "sqlite+aiosqlite:///:memory:",
    "postgresql+asyncpg://postgres@127.0.0.1:5432/vk",
    "postgresql://user:p%40ss%3Aword@db.example.org:6543/vk_test",
    "postgresql+asyncpg://user@/vk?host=/run/postgresql",
]


@pytest.mark.parametrize("url", URLS)
def test_parts_match_sqlalchemy(url: str) -> None:
    theirs = make_url(url)
    ours = parse_db_url(url)
    assert ours.backend == theirs.get_backend_name()
    assert ours.database == (theirs.database or "")
    assert (ours.host, ours.port) == (theirs.host, theirs.port)
    assert (ours.username, ours.password) == (theirs.username, theirs.password)
    assert ours.query == dict(theirs.query)


def test_postgres_alias_and_async_drivers() -> None:
    assert parse_db_url("postgres://u@h/db").backend == "postgresql"
    assert async_url("sqlite:///a.db") == "sqlite+aiosqlite:///a.db"
    assert async_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert async_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"
    # The sync driver's URL (Alembic, CLI tools) names the same database.
    url = "postgresql+asyncpg://user:p%40ss@h:5433/db"
    ours, synced = parse_db_url(url), parse_db_url(sync_url(url))
    assert synced.driver == "psycopg" and synced == DbUrl(**{**vars(ours), "driver": "psycopg"})


def test_not_a_url() -> None:
    with pytest.raises(ValueError):
        parse_db_url("just-a-file.db")
