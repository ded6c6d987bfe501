"""A server killed after processing a message but before sending the reply sends it after a
restart: the reply waited in the database, not in the dead process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.config import Settings
from bot.store import outbox
from bot.store.db import session_scope
from tests.fakes.harness import (
    TG_SECRET,
    settle,
    telegram_settings,
    tune,
    whatsapp_settings,
)
from tests.fakes.server import LocalServer, free_port
from tests.fakes.telegram_api import FakeTelegram, TelegramUser
from tests.fakes.whatsapp_api import FakeGraph, WhatsAppUser

ROOT = Path(__file__).resolve().parents[3]


async def rows(url: str) -> list[dict[str, object]]:
    async with session_scope(url) as session:
        result = await session.execute(select(outbox.outbox).order_by(outbox.outbox.c.id))
        return [dict(r) for r in result.mappings().all()]


async def wait_until_failed_once(url: str, count: int) -> None:
    """Until `count` rows exist, each tried (and failed: the API is down) and not claimed."""
    for _ in range(500):
        current = await rows(url)
        if len(current) == count and all(
            r["attempts"] >= 1 and r["claimed_until"] is None for r in current[:1]
        ):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"outbox never reached {count} failed rows: {await rows(url)}")


async def test_killed_server_sends_the_reply_after_restart(
    settings: Settings, tmp_path: Path
) -> None:
    fake = FakeTelegram()
    api_port = free_port()  # nothing listens here yet: the Bot API is "down"
    s = telegram_settings(settings, f"http://127.0.0.1:{api_port}", fake.token)
    port = free_port()
    env = {
        **os.environ,
        "VK_DATABASE_URL": s.database_url,
        "VK_SECRET_KEY": s.secret_key,
        "VK_MODEL_DIR": str(s.model_dir),
        "VK_TELEGRAM_TOKEN": fake.token,
        "VK_TELEGRAM_API_URL": s.telegram_api_url,
        "VK_TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bot.app:factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "error"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(600):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, (tmp_path / "server.log").read_text()
                await asyncio.sleep(0.05)
            user = TelegramUser(fake, deliver=None)  # type: ignore[arg-type]
            response = await http.post(
                "/telegram/webhook",
                json=user.text_update("/start"),
                headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
            )
            assert response.status_code == 200
        # Processed and committed (welcome + consent question), not sent: kill -9.
        await wait_until_failed_once(s.database_url, 2)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
    assert [r["status"] for r in await rows(s.database_url)] == [outbox.PENDING] * 2
    assert fake.sent() == []

    # The Bot API is back and a fresh server starts: the reply goes out, in order.
    from bot.app import create_app

    async with LocalServer(fake.app, port=api_port):
        app = create_app(s)
        tune(app)
        async with LocalServer(app, lifespan="on"):
            await settle(s.database_url, "telegram", timeout=20)
    assert [m["text"][:4] for m in fake.sent(user.user_id)] == ["Hoi!", "Mag "]
    assert await rows(s.database_url) == []


async def test_whatsapp_reply_survives_a_restart_while_the_api_is_down(
    settings: Settings,
) -> None:
    from bot.app import create_app

    fake = FakeGraph()
    api_port = free_port()
    s = whatsapp_settings(settings, f"http://127.0.0.1:{api_port}", fake)
    first = create_app(s)
    tune(first)
    async with (
        LocalServer(first, lifespan="on") as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        user = WhatsAppUser(fake, deliver=None, app_secret=s.whatsapp_app_secret or "")  # type: ignore[arg-type]
        body = httpx.Request("POST", "/", json=user.text_payload("hoi")).content
        response = await http.post("/whatsapp/webhook", content=body, headers=user.sign(body))
        assert response.status_code == 200
        await wait_until_failed_once(s.database_url, 2)
    assert fake.sent() == []

    async with LocalServer(fake.app, port=api_port):
        second = create_app(s)
        tune(second)
        async with LocalServer(second, lifespan="on"):
            await settle(s.database_url, "whatsapp", timeout=20)
    assert [m["type"] for m in fake.sent(user.key)] == ["text", "interactive"]
