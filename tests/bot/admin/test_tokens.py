"""Dashboard tokens from the CLI: shown once, stored hashed, revocable."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.admin.auth import Principal, Unauthorized, principal_for
from bot.cli import app
from bot.config import Settings, get_settings
from bot.store.campaigns import tokens_table
from bot.store.db import session_scope


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("VK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


async def test_token_lifecycle(cli: CliRunner, settings: Settings, db_url: str) -> None:
    import asyncio

    created = await asyncio.to_thread(
        cli.invoke, app, ["campaign", "token", "create", "vc-utrecht", "--label", "Anna"]
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    found = re.search(r"Token (\d+) for vc-utrecht", created.stderr)
    assert found is not None, created.stderr
    token_id = found.group(1)
    assert token.startswith("vkd_") and len(token) > 40
    async with session_scope(db_url) as s:
        stored = (await s.execute(select(tokens_table.c.token_hash, tokens_table.c.owner))).all()
    assert [r.owner for r in stored] == ["vc-utrecht"]
    assert token not in stored[0].token_hash  # only a hash is kept
    assert await principal_for(settings, token) == Principal(owner="vc-utrecht")
    assert await principal_for(settings, "test-admin-token") == Principal(owner=None)
    listed = await asyncio.to_thread(cli.invoke, app, ["campaign", "token", "list"])
    assert "vc-utrecht" in listed.stdout and token not in listed.stdout
    revoked = await asyncio.to_thread(cli.invoke, app, ["campaign", "token", "revoke", token_id])
    assert revoked.exit_code == 0
    with pytest.raises(Unauthorized):
        await principal_for(settings, token)
    again = await asyncio.to_thread(cli.invoke, app, ["campaign", "token", "revoke", token_id])
    assert again.exit_code == 1
    for bad in (None, "", "x" * 500, "vkd_guess"):
        with pytest.raises(Unauthorized):
            await principal_for(settings, bad)
