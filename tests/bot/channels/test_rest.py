"""The Rasa REST channel: request validation (4xx with a reason) and reply rendering."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.app import create_app
from bot.channels.rest import render
from bot.config import Settings
from quiz.messages import Button, Buttons, Card, Image, QuizMeta, Text

WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    small = settings.model_copy(update={"max_message_chars": 50, "max_body_bytes": 1000})
    transport = httpx.ASGITransport(app=create_app(small))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_body"),
        (b'{"message": "hoi"}', 400, "missing_sender"),
        (b'{"sender": 12, "message": "hoi"}', 422, "invalid_sender"),
        (b'{"sender": "", "message": "hoi"}', 422, "invalid_sender"),
        (b'{"sender": "a"}', 400, "missing_message"),
        (b'{"sender": "a", "message": 5}', 422, "invalid_message"),
        (b'{"sender": "a", "message": "   "}', 422, "empty_message"),
        (b'{"sender": "a", "message": "' + b"x" * 51 + b'"}', 422, "message_too_long"),
        (b'{"sender": "a", "message": "' + b"x" * 1200 + b'"}', 413, "body_too_large"),
        (b'{"sender": "a", "message": "hoi", "metadata": []}', 422, "invalid_metadata"),
        (b'{"sender": "a", "message": "hoi", "metadata": {"lang": 1}}', 422, "invalid_metadata"),
        (b'{"sender": "a", "message": "hoi", "metadata": {"start": "y"}}', 422, "invalid_metadata"),
        (
            b'{"sender": "a", "message": "hoi", "metadata": {"message_id": [1]}}',
            422,
            "invalid_metadata",
        ),
        (
            b'{"sender": "a", "message": "hoi", "metadata": {"channel": "telegram"}}',
            422,
            "invalid_metadata",
        ),
        (
            b'{"sender": "a", "metadata": {"location": {"lat": 300, "lon": 5}}}',
            422,
            "invalid_location",
        ),
    ],
)
async def test_bad_requests_get_a_4xx_with_a_reason(
    client: httpx.AsyncClient, body: bytes, status: int, error: str
) -> None:
    response = await client.post(
        WEBHOOK, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    data = response.json()
    assert data["error"] == error and data["detail"]


async def test_a_chunked_body_over_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"sender": "a", "message": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    response = await client.post(WEBHOOK, content=chunks())
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"


def duplicates_counted(metrics_text: str) -> float:
    line = 'vk_turns_total{channel="rest",outcome="duplicate"} '
    for row in metrics_text.splitlines():
        if row.startswith(line):
            return float(row[len(line) :])
    return 0.0


async def test_rasa_shape_and_message_id_idempotency(client: httpx.AsyncClient) -> None:
    before = duplicates_counted((await client.get("/metrics")).text)
    body = {"sender": "s1", "message": "/start", "metadata": {"message_id": "c-1", "lang": "en"}}
    first = await client.post(WEBHOOK, json=body)
    again = await client.post(WEBHOOK, json=body)
    assert first.status_code == 200 and first.json() == again.json()
    messages = first.json()
    assert all(set(m) <= {"recipient_id", "text", "buttons", "image", "custom"} for m in messages)
    assert messages[-1]["buttons"][0]["payload"] == "/consent/yes"
    assert set(messages[-1]["buttons"][0]) == {"title", "payload"}
    assert duplicates_counted((await client.get("/metrics")).text) == before + 1


async def test_location_metadata_and_widget_channel(client: httpx.AsyncClient) -> None:
    body: dict[str, Any] = {
        "sender": "w",
        "message": "/consent/yes",
        "metadata": {"channel": "widget"},
    }
    assert (await client.post(WEBHOOK, json=body)).status_code == 200
    # A location without a message is accepted (answers a place question when one is asked).
    body = {
        "sender": "w",
        "metadata": {"channel": "widget", "location": {"latitude": 52.1, "longitude": 5.1}},
    }
    response = await client.post(WEBHOOK, json=body)
    assert response.status_code == 200 and response.json()


async def test_healthz_and_metrics(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    assert (await client.get("/metrics")).headers["content-type"].startswith("text/plain")


def test_render_maps_every_reply_type() -> None:
    meta = QuizMeta(question_id="days", kind="multi", step=13, total=17)
    replies = [
        Text("Hoi"),
        Buttons(
            text="Wanneer?",
            buttons=(
                Button("Zaterdag", "/a/days/saturday", selected=True),
                Button("Zondag", "/a/days/sunday", description="rustdag"),
            ),
            quiz=meta,
            multi=True,
            done=Button("Klaar", "/done/days"),
            allow_location=False,
            nav=(Button("Terug", "/back"),),
        ),
        Card(
            title="Jij bent De Verbinder",
            subtitle="Mensen samenbrengen",
            text="Uitleg",
            buttons=(Button("Meer info", "/info/v1"),),
            image_url="https://example.org/card.png",
            data={"result": {"profile": {"id": "connector"}, "recommendations": []}},
        ),
        Image(url="https://example.org/x.png", alt="profielkaart"),
    ]
    text, buttons, card, image = render(replies, "r1")
    assert text == {"recipient_id": "r1", "text": "Hoi"}
    assert [b["payload"] for b in buttons["buttons"]] == [
        "/a/days/saturday",
        "/a/days/sunday",
        "/done/days",
        "/back",
    ]
    assert buttons["buttons"][0]["title"] == "✓ Zaterdag"
    custom = buttons["custom"]
    assert custom["quiz"] == {"question_id": "days", "kind": "multi", "step": 13, "total": 17}
    assert custom["multi"] is True and custom["selected"] == ["/a/days/saturday"]
    assert custom["done"] == {"title": "Klaar", "payload": "/done/days"}
    assert custom["nav"] == [{"title": "Terug", "payload": "/back"}]
    assert custom["options"][1]["description"] == "rustdag"
    assert card["text"].startswith("Jij bent De Verbinder")
    assert card["buttons"] == [{"title": "Meer info", "payload": "/info/v1"}]
    assert card["image"] == "https://example.org/card.png"
    assert card["custom"]["result"]["profile"]["id"] == "connector"
    assert card["custom"]["card"]["title"] == "Jij bent De Verbinder"
    assert image == {
        "recipient_id": "r1",
        "image": "https://example.org/x.png",
        "custom": {"alt": "profielkaart"},
    }
