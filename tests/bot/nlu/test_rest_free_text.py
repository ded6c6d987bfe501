"""The REST endpoint understands the issue's free text once the NLU model is trained: the
same app the server runs (bot.app.create_app -> bot.runtime.build_runtime), over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import create_app
from bot.config import Settings

WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture
async def client(settings: Settings, nlu_model_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"model_dir": nlu_model_dir}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c


async def say(client: httpx.AsyncClient, text: str) -> list[dict[str, Any]]:
    response = await client.post(WEBHOOK, json={"sender": "radio-listener", "message": text})
    assert response.status_code == 200, response.text
    return response.json()


def asked(messages: list[dict[str, Any]]) -> str | None:
    quiz = [m["custom"]["quiz"] for m in messages if "quiz" in (m.get("custom") or {})]
    return quiz[-1]["question_id"] if quiz else None


async def test_free_text_through_the_rest_channel(client: httpx.AsyncClient) -> None:
    await say(client, "/start")
    assert asked(await say(client, "ja hoor, prima")) == "age"
    assert asked(await say(client, "ik ben 45")) == "motive"
    assert asked(await say(client, "de tweede")) == "activity"
    assert asked(await say(client, "wacht, terug")) == "motive"
    english = await say(client, "in English please")
    assert asked(english) == "motive"
    assert any("English" in (m.get("text") or "") for m in english)
    assert asked(await say(client, "to learn something new")) == "activity"
    for _ in range(5):
        last = await say(client, "skip this one")
    profile = [m for m in last if "result" in (m.get("custom") or {})]
    assert profile and asked(last) is None  # the profile, then the offer of nearby work
    assert asked(await say(client, "yes please")) == "place"
    assert asked(await say(client, "I live in Den Bosch")) == "commitment"
    assert asked(await say(client, "elke week")) == "hours"
    assert asked(await say(client, "een paar uurtjes")) == "days"
    assert asked(await say(client, "op zaterdag")) == "interest"
    done = await say(client, "iets met dieren")
    assert any("recommendations" in (m.get("custom") or {}).get("result", {}) for m in done)
