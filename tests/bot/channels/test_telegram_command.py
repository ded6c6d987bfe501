"""`vrijwilligerskracht telegram set-webhook|info|delete-webhook` against the fake Bot API."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from bot.channels.telegram.inbound import webhook_secret
from bot.cli import app
from bot.config import Settings, get_settings
from tests.fakes.server import LocalServer
from tests.fakes.telegram_api import FakeTelegram


async def run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


async def test_set_webhook_registers_url_secret_and_menu(settings: Settings) -> None:
    fake = FakeTelegram()
    async with LocalServer(fake.app) as api:
        env = {
            "VK_TELEGRAM_TOKEN": fake.token,
            "VK_TELEGRAM_API_URL": api.url,
            "VK_SECRET_KEY": "prod-secret",
            "VK_DATABASE_URL": settings.database_url,
        }
        code, out = await run("telegram", "set-webhook", "https://vk.example.org", env=env)
        assert code == 0, out
        assert "@vrijwilligerskracht_test_bot" in out
        hook = fake.webhook
        assert hook["url"] == "https://vk.example.org/telegram/webhook"
        derived = Settings(secret_key="prod-secret", telegram_token=fake.token)
        assert hook["secret_token"] == webhook_secret(derived)
        assert hook["allowed_updates"] == ["message", "callback_query"]
        menus = fake.calls_of("setMyCommands")
        assert {c.params.get("language_code") for c in menus} == {None, "nl", "en"}
        assert any(cmd["command"] == "opnieuw" for cmd in menus[0].params["commands"])

        code, out = await run("telegram", "info", env=env)
        assert code == 0 and "https://vk.example.org/telegram/webhook" in out

        code, out = await run("telegram", "delete-webhook", env=env)
        assert code == 0 and fake.webhook == {}


async def test_set_webhook_errors_are_clear(settings: Settings) -> None:
    env = {"VK_TELEGRAM_TOKEN": "", "VK_DATABASE_URL": settings.database_url}
    code, out = await run("telegram", "set-webhook", "https://x.example", env=env)
    assert code == 1 and "VK_TELEGRAM_TOKEN" in out
    env["VK_TELEGRAM_TOKEN"] = "1:x"
    code, out = await run("telegram", "set-webhook", "http://insecure.example", env=env)
    assert code == 1 and "HTTPS" in out
