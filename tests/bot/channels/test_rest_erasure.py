"""Erasure over the REST channel: the answer says so (`custom.erased`, so a client can drop
what it keeps locally) and nothing of the conversation stays in the database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from bot.app import create_app
from bot.channels.rest import render
from bot.config import Settings
from bot.store.db import get_sync_engine
from quiz.messages import Text

WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def say(client: httpx.AsyncClient, sender: str, message: str, mid: str) -> Any:
    body = {"sender": sender, "message": message, "metadata": {"message_id": mid, "lang": "nl"}}
    response = await client.post(WEBHOOK, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def all_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as plain dicts."""
    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(conn)
            return {
                name: [dict(r._mapping) for r in conn.execute(select(table))]
                for name, table in meta.tables.items()
                if name != "alembic_version"
            }
    finally:
        engine.dispose()


def cells_with(rows: dict[str, list[dict[str, Any]]], needle: str) -> list[tuple[str, str]]:
    return [
        (table, column)
        for table, found in rows.items()
        for row in found
        for column, value in row.items()
        if value is not None and needle in str(value)
    ]


@pytest.mark.parametrize("erase", ["wis mijn gegevens", "/delete_data"])
async def test_erasure_is_flagged_and_leaves_nothing(
    client: httpx.AsyncClient, settings: Settings, erase: str
) -> None:
    sender = "web-erase-me"
    await say(client, sender, "/start", "m1")
    question = (await say(client, sender, "/consent/yes", "m2"))[-1]
    assert "erased" not in question.get("custom", {})
    answer = await say(client, sender, question["buttons"][0]["payload"], "m3")
    assert all("erased" not in m.get("custom", {}) for m in answer)

    before = all_rows(settings.database_url)
    [conv] = before["conversations"]
    assert before["consents"] and before["events"] and len(before["inbound_messages"]) == 3

    erased = await say(client, sender, erase, "m4")
    assert erased[0]["custom"]["erased"] is True
    assert all("erased" not in m.get("custom", {}) for m in erased[1:])
    assert set(erased[0]) <= {"recipient_id", "text", "buttons", "image", "custom"}
    assert erased[0]["recipient_id"] == sender
    assert erased[-1]["buttons"][0]["payload"] == "/start"  # the confirmation is still shown

    after = all_rows(settings.database_url)
    assert after["conversations"] == [] and after["consents"] == [] and after["leads"] == []
    assert after["events"] == [] and after["report_journeys"] == []
    assert cells_with(after, conv["user_hash"]) == []
    assert cells_with(after, conv["id"]) == []
    # Only the erasure's own idempotency record stays (under a random id): it holds the
    # confirmation and nothing else.
    [kept] = after["inbound_messages"]
    kept_replies = kept["replies"]
    if isinstance(kept_replies, str):
        kept_replies = json.loads(kept_replies)
    assert [r["text"] for r in kept_replies] == [m["text"] for m in erased]

    # A retried erasure (same message id) is answered the same way, flag included.
    assert await say(client, sender, erase, "m4") == erased
    # The sender starts afresh afterwards.
    again = await say(client, sender, "/start", "m5")
    assert all("erased" not in m.get("custom", {}) for m in again)
    assert len(all_rows(settings.database_url)["conversations"]) == 1


def test_an_empty_erasure_answer_still_carries_the_flag() -> None:
    assert render([], "r1", erased=True) == [{"recipient_id": "r1", "custom": {"erased": True}}]
    [first, second] = render([Text("Gewist."), Text("Tot ziens.")], "r1", erased=True)
    assert first["custom"] == {"erased": True} and "custom" not in second
