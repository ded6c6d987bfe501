"""Every edge answers hostile shapes with one clear 4xx (REST, the widget's CORS check, admin
query strings), and signed but unusable platform updates with 200, counted in /metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Settings
from bot.store.db import session_scope
from tests.fakes.harness import TG_SECRET, telegram_stack, whatsapp_stack

WEBHOOK = "/webhooks/rest/webhook"
DEEP = b"[" * 1000 + b"]" * 1000


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def _rows(settings: Settings) -> tuple[int, int]:
    from bot.store.conversations import conversations, events

    async with session_scope(settings.database_url) as session:
        convs = (await session.execute(select(func.count()).select_from(conversations))).scalar()
        evs = (await session.execute(select(func.count()).select_from(events))).scalar()
    return int(convs or 0), int(evs or 0)


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b'{"sender": "a", "message": ' + DEEP + b"}", 400, "too_deep"),
        (DEEP, 400, "too_deep"),
        (b'{"sender": "a", "metadata": {"x": ' + b'{"y":' * 40 + b"1" + b"}" * 41, 400, "too_deep"),
        (b'{"sender": "\\ud800", "message": "\\udfff"}', 400, "invalid_text"),
        (b'{"sender": "a", "message": "ho\\u0000i"}', 400, "invalid_text"),
        (b'{"sender": "a", "message": "hoi", "metadata": {"org": "\\udc00"}}', 400, "invalid_text"),
        (b'{"sender": "a", "message": "hoi", "metadata": {"\\ud800": 1}}', 400, "invalid_text"),
        (b'{"sender": "a", "message": NaN}', 400, "invalid_json"),
        (b'{"sender": "a", "metadata": {"location": {"lat": 1e999, "lon": 5}}}', 422, None),
        (b"\xff\xfe{}", 400, "invalid_json"),
    ],
)
async def test_rest_refuses_hostile_bodies(
    client: httpx.AsyncClient, settings: Settings, body: bytes, status: int, error: str | None
) -> None:
    for headers in ({}, {"Origin": "https://evil.example"}):
        response = await client.post(WEBHOOK, content=body, headers=headers)
        if headers:  # the CORS check parses first and refuses the unknown origin cleanly
            assert response.status_code in (status, 403)
            continue
        assert response.status_code == status, response.text
        if error is not None:
            assert response.json()["error"] == error
    assert await _rows(settings) == (0, 0)


@pytest.mark.parametrize("key", ["org", "region", "campaign"])
async def test_metadata_is_checked_against_the_column_sizes(
    client: httpx.AsyncClient, settings: Settings, key: str
) -> None:
    too_long = {"sender": "a", "message": "hoi", "metadata": {key: "x" * 65}}
    response = await client.post(WEBHOOK, json=too_long)
    assert (response.status_code, response.json()["error"]) == (422, "invalid_metadata")
    fits = {"sender": "b", "message": "hoi", "metadata": {key: "x" * 64}}
    assert (await client.post(WEBHOOK, json=fits)).status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "/admin/report.json?channel=a%00",
        "/admin/report.json?region=%01x",
        "/embed?org=%00",
        "/c/abc%00def",
        "/healthz?x=" + "a" * 5000,
    ],
)
async def test_control_characters_in_paths_and_queries_are_refused(
    client: httpx.AsyncClient, target: str
) -> None:
    response = await client.get(target, headers={"Authorization": "Bearer test-admin-token"})
    assert response.status_code in (400, 414), response.text
    assert response.json()["error"] in ("invalid_query", "invalid_path", "uri_too_long")


async def test_admin_filters_longer_than_their_columns_are_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/admin/report.json",
        params={"channel": "x" * 65},
        headers={"Authorization": "Bearer test-admin-token"},
    )
    assert response.status_code == 400


def _ignored(metrics_text: str, channel: str) -> float:
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("vk_updates_ignored_total{") and f'channel="{channel}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


TELEGRAM_MALFORMED = [
    {"message": {"contact": {"latitude": "NaN"}}},
    {"poll": {"id": "1", "question": "?", "options": []}},
    {"inline_query": {"id": "1", "from": {"id": 1, "is_bot": False, "first_name": "x"}}},
    {"message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "photo": {}}},
    {
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": 7, "type": "private"},
            "from": {"id": 7, "is_bot": False, "first_name": "x"},
            "location": {"latitude": "NaN", "longitude": "x"},
        }
    },
    {"message": "not an object"},
    {"callback_query": {"id": "1", "data": {"a": 1}}},
    {"message": {"text": "\udfff"}},
]


async def test_telegram_acknowledges_and_counts_unusable_updates(settings: Settings) -> None:
    async with telegram_stack(settings) as st:
        update_id = 9000
        for shape in TELEGRAM_MALFORMED:
            update_id += 1
            response = await st.http.post(
                "/telegram/webhook",
                content=json.dumps({"update_id": update_id, **shape}),  # \u escapes kept
                headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
            )
            assert response.status_code == 200, (shape, response.text)
        for raw in (DEEP, b"{nope", b'{"update_id": "x"}', b"[]"):
            response = await st.http.post(
                "/telegram/webhook",
                content=raw,
                headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
            )
            assert response.status_code == 200
        forged = await st.http.post("/telegram/webhook", content=DEEP)
        assert forged.status_code == 403
        metrics = (await st.http.get("/metrics")).text
        assert _ignored(metrics, "telegram") >= len(TELEGRAM_MALFORMED) + 4
        # The bot still answers a normal message afterwards.
        await st.user.say("/start")
        assert st.fake.sent(st.user.user_id)
        assert (await _rows(st.settings))[0] == 1  # only the normal message made a conversation


WHATSAPP_MALFORMED: list[object] = [
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": -1e308}]}]},
    {"object": "whatsapp_business_account", "entry": "x"},
    {"entry": [{"changes": [{"field": "messages", "value": {"messages": [{"type": 5}]}}]}]},
    {"entry": [{"changes": [{"field": "messages", "value": {"messages": "x"}}]}]},
    [1, 2],
]


async def test_whatsapp_acknowledges_and_counts_unusable_bodies(settings: Settings) -> None:
    async with whatsapp_stack(settings) as st:
        location = st.user.payload(
            {"type": "location", "location": {"latitude": "NaN", "longitude": 1e308}}
        )
        for shape in [*WHATSAPP_MALFORMED, location]:
            body = json.dumps(shape).encode()
            response = await st.post(body, st.user.sign(body))
            assert response.status_code == 200, (shape, response.text)
        for raw in (DEEP, b"{nope"):
            response = await st.post(raw, st.user.sign(raw))
            assert response.status_code == 200
        assert (await st.post(DEEP, {"X-Hub-Signature-256": "sha256=00"})).status_code == 403
        metrics = (await st.http.get("/metrics")).text
        assert _ignored(metrics, "whatsapp") >= 3
        await st.user.say("hoi")
        assert st.fake.sent(st.user.key)
