"""/healthz (alive, no database), /readyz (ready), /metrics behind VK_METRICS_TOKEN, and the
503 + Retry-After answer when the database cannot be reached."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from bot.app import create_app
from bot.config import Settings
from bot.http_errors import health, is_database_unavailable


async def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vk.test")


@pytest.fixture
async def locked(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"metrics_token": "s3cret"}))
    async with await client_for(app) as c:
        yield c


async def test_metrics_need_the_token_when_set(locked: httpx.AsyncClient) -> None:
    assert (await locked.get("/metrics")).status_code == 401
    assert (await locked.get("/metrics?token=wrong")).status_code == 401
    bad = await locked.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Bearer")
    ok = await locked.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and "vk_" in ok.text
    assert (await locked.get("/metrics?token=s3cret")).status_code == 200
    assert (await locked.get("/healthz")).status_code == 200  # health stays open


async def test_ready_only_when_migrated_and_prepared(settings: Settings) -> None:
    app = create_app(settings)
    async with await client_for(app) as c:
        ready = await c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "database": "ok",
            "migrations": "ok",
            "model": "ok",
        }
        app.state.preparing = True
        loading = await c.get("/readyz")
        assert loading.status_code == 503 and loading.json()["model"] == "loading"
        assert (await c.get("/healthz")).status_code == 200  # alive all the same


async def test_ready_waits_for_migrations(settings: Settings, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    empty = tmp_path / "empty.db"
    con = sqlite3.connect(empty)
    try:
        con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        con.commit()
    finally:
        con.close()
    app = create_app(settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{empty}"}))
    async with await client_for(app) as c:
        pending = await c.get("/readyz")
    assert pending.status_code == 503 and pending.json()["migrations"] == "pending"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_database_answers_503_fast(settings: Settings) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/vk"
    app = create_app(settings.model_copy(update={"database_url": url}))
    try:
        async with await client_for(app) as c:
            started = time.monotonic()
            r = await c.post("/webhooks/rest/webhook", json={"sender": "a", "message": "hoi"})
            took = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] == "5" and r.json()["error"] == "unavailable"
            assert took < 2.0
            alive = await c.get("/healthz")  # no query: alive, with the last known state
            assert alive.status_code == 200 and alive.json()["database"] == "unavailable"
            assert (await c.get("/readyz")).status_code == 503
    finally:
        await app.state.pipeline.close()
        health.ok()


def test_what_counts_as_unavailable() -> None:
    assert is_database_unavailable(ConnectionRefusedError(111, "refused"))
    assert is_database_unavailable(OSError("Multiple exceptions: [Errno 111] Connect call failed"))
    assert is_database_unavailable(sqlite3.OperationalError("unable to open database file"))
    assert not is_database_unavailable(sqlite3.OperationalError("no such table: x"))
    assert not is_database_unavailable(ValueError("bad"))
    assert not is_database_unavailable(FileNotFoundError(2, "missing"))
