"""Test stacks: a fake platform API on 127.0.0.1, our app served over real HTTP beside it,
and a simulated user posting webhooks to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bot.config import Settings
from tests.fakes.server import LocalServer
from tests.fakes.telegram_api import FakeTelegram, TelegramUser
from tests.fakes.whatsapp_api import FakeGraph, WhatsAppUser

TG_SECRET = "tg-webhook-secret_123"
WA_SECRET = "wa-app-secret"
WA_VERIFY = "wa-verify-token"
FAST = {"poll_seconds": 0.05, "backoff_base": 0.05, "backoff_cap": 0.5}


def telegram_settings(settings: Settings, api_url: str, token: str) -> Settings:
    return settings.model_copy(
        update={
            "telegram_token": token,
            "telegram_api_url": api_url,
            "telegram_webhook_secret": TG_SECRET,
            "public_url": "https://vk.example.org",
        }
    )


def whatsapp_settings(settings: Settings, api_url: str, fake: FakeGraph) -> Settings:
    return settings.model_copy(
        update={
            "whatsapp_token": fake.token,
            "whatsapp_phone_id": fake.phone_id,
            "whatsapp_app_secret": WA_SECRET,
            "whatsapp_verify_token": WA_VERIFY,
            "whatsapp_api_url": api_url,
            "public_url": "https://vk.example.org",
        }
    )


def tune(app: Any) -> None:
    """Fast retries and no per-chat throttling, so tests do not wait on real-world pacing."""
    for name in ("telegram", "whatsapp"):
        channel = getattr(app.state, name, None)
        if channel is None:
            continue
        for key, value in FAST.items():
            setattr(channel.sender, key, value)
        if name == "telegram":
            channel.delivery.pacing.per_chat_burst = 1000
            channel.delivery.pacing.per_chat_period = 1.0


async def outbox_counts(database_url: str, channel: str) -> dict[str, int]:
    """The channel's outbox rows per status."""
    from bot.store import outbox
    from bot.store.turns import TurnDatabase

    db = TurnDatabase(database_url)
    try:
        async with db.transaction() as tx:
            return await outbox.counts(tx, channel)
    finally:
        await db.close()


async def pending(database_url: str, channel: str) -> int:
    from bot.store import outbox

    return (await outbox_counts(database_url, channel)).get(outbox.PENDING, 0)


async def settle(database_url: str, channel: str, timeout: float = 10.0) -> None:
    """Wait until the channel's outbox has nothing left to send."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while await pending(database_url, channel):
        if loop.time() > end:
            raise AssertionError(f"{channel} outbox still has unsent rows")
        await asyncio.sleep(0.02)


@dataclass
class Stack:
    settings: Settings
    app: Any
    server: LocalServer
    api: LocalServer
    http: httpx.AsyncClient


@dataclass
class TelegramStack(Stack):
    fake: FakeTelegram
    user: TelegramUser

    async def post(self, update: dict[str, Any], secret: str | None = TG_SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.http.post("/telegram/webhook", json=update, headers=headers)
        if response.status_code == 200:
            await self.fake.webhook_answer(response.json())
        return response

    async def settle(self) -> None:
        await settle(self.settings.database_url, "telegram")


@dataclass
class WhatsAppStack(Stack):
    fake: FakeGraph
    user: WhatsAppUser

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post("/whatsapp/webhook", content=body, headers=headers)

    async def settle(self) -> None:
        await settle(self.settings.database_url, "whatsapp")


def _app(settings: Settings) -> Any:
    from bot.app import create_app

    app = create_app(settings)
    tune(app)
    return app


@asynccontextmanager
async def telegram_stack(settings: Settings, **user: Any) -> AsyncIterator[TelegramStack]:
    fake = FakeTelegram()
    async with LocalServer(fake.app) as api:
        s = telegram_settings(settings, api.url, fake.token)
        app = _app(s)
        async with (
            LocalServer(app, lifespan="on") as server,
            httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        ):
            stack = TelegramStack(s, app, server, api, http, fake, None)  # type: ignore[arg-type]

            async def deliver(update: dict[str, Any]) -> httpx.Response:
                response = await stack.post(update)
                assert response.status_code == 200, response.text
                await stack.settle()
                return response

            stack.user = TelegramUser(fake, deliver, **user)
            yield stack


@asynccontextmanager
async def whatsapp_stack(settings: Settings, **user: Any) -> AsyncIterator[WhatsAppStack]:
    fake = FakeGraph()
    async with LocalServer(fake.app) as api:
        s = whatsapp_settings(settings, api.url, fake)
        app = _app(s)
        async with (
            LocalServer(app, lifespan="on") as server,
            httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        ):
            stack = WhatsAppStack(s, app, server, api, http, fake, None)  # type: ignore[arg-type]

            async def deliver(body: bytes, headers: dict[str, str]) -> httpx.Response:
                response = await stack.post(body, headers)
                assert response.status_code == 200, response.text
                await stack.settle()
                return response

            stack.user = WhatsAppUser(fake, deliver, WA_SECRET, **user)
            yield stack


async def with_vacancies(stack: Stack, count: int = 80) -> None:
    """Demo vacancies in the database and the real recommender on the pipeline."""
    from bot.orgs.demo import ensure_demo_async

    pipeline = stack.app.state.pipeline
    if pipeline.recommender is None:
        from bot.recommender import build

        pipeline.recommender = build(stack.settings)
    await ensure_demo_async(stack.settings, count)


@dataclass
class RestStack:
    settings: Settings
    app: Any
    server: LocalServer
    http: httpx.AsyncClient

    async def post(self, sender: str, message: str = "", **metadata: Any) -> list[dict[str, Any]]:
        """One REST webhook call (Rasa's protocol); the bot's messages."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        response = await self.http.post("/webhooks/rest/webhook", json=body)
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()
        return messages


@asynccontextmanager
async def rest_stack(settings: Settings) -> AsyncIterator[RestStack]:
    """Our app over real HTTP, spoken to with the REST channel (the widget's protocol)."""
    app = _app(settings)
    async with (
        LocalServer(app, lifespan="on") as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
    ):
        yield RestStack(settings, app, server, http)
