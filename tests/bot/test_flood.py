"""Flood control: a bucket per sender (in-process and shared through Redis), one friendly
reply per flood and no work done, and 503 + Retry-After when new conversations pile up."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Settings
from bot.flood import FloodControl, slow_down_text
from bot.store.db import session_scope

WEBHOOK = "/webhooks/rest/webhook"
REDIS_URL = "redis://127.0.0.1:6379/15"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_bucket_allows_a_burst_then_the_rate_and_notifies_once() -> None:
    clock = Clock()
    flood = FloodControl(rate=1.0, burst=3, new_per_second=0, clock=clock)
    decisions = [await flood.admit("rest", "h1", False) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False, False]
    assert [d.notify for d in decisions[3:]] == [True, False, False]
    assert (await flood.admit("rest", "h2", False)).allowed  # other senders are not affected
    clock.now += 1.0
    assert (await flood.admit("rest", "h1", False)).allowed
    again = await flood.admit("rest", "h1", False)
    assert not again.allowed and again.notify  # a new flood gets the reply again


async def test_idle_buckets_are_dropped() -> None:
    clock = Clock()
    flood = FloodControl(rate=1.0, burst=2, new_per_second=0, clock=clock)
    for i in range(100):
        await flood.admit("rest", f"s{i}", False)
        clock.now += 0.5
    assert len(flood._buckets) <= 6


async def test_new_conversations_queue_briefly_then_are_refused() -> None:
    clock = Clock()
    flood = FloodControl(rate=0, new_per_second=2, queue_seconds=0.0, clock=clock)
    first = [await flood.admit("rest", f"n{i}", True) for i in range(2)]
    assert all(d.allowed for d in first)
    busy = await flood.admit("rest", "n3", True)
    assert (busy.allowed, busy.reason) == (False, "busy") and busy.retry_after > 0
    later = await flood.admit("telegram", "n4", True)
    assert (later.allowed, later.reason) == (False, "later")
    assert (await flood.admit("rest", "old", False)).allowed  # existing conversations go on
    clock.now += 5
    assert (await flood.admit("rest", "n5", True)).allowed


async def test_redis_new_conversation_limit_is_shared_between_instances() -> None:
    """Two workers (or replicas) together admit one second's worth, not each."""
    pytest.importorskip("redis")
    from redis import asyncio as aioredis

    from bot.flood import SLOTS_KEY

    client = aioredis.from_url(REDIS_URL)
    await client.delete(SLOTS_KEY)
    await client.aclose()
    one = FloodControl(rate=0, new_per_second=3, queue_seconds=0.0, redis_url=REDIS_URL)
    two = FloodControl(rate=0, new_per_second=3, queue_seconds=0.0, redis_url=REDIS_URL)
    try:
        seen = [
            await (one if i % 2 else two).admit("rest", uuid.uuid4().hex, True) for i in range(6)
        ]
        assert [d.allowed for d in seen] == [True, True, True, False, False, False]
        assert all(d.reason == "busy" and d.retry_after > 0 for d in seen[3:])
        # Refused (503) requests gave their slots back: after a second there is room again.
        await asyncio.sleep(1.1)
        assert (await one.admit("rest", uuid.uuid4().hex, True)).allowed
    finally:
        await one.close()
        await two.close()


async def test_redis_buckets_are_shared_between_instances() -> None:
    pytest.importorskip("redis")
    sender = uuid.uuid4().hex
    one = FloodControl(rate=0.01, burst=3, new_per_second=0, redis_url=REDIS_URL)
    two = FloodControl(rate=0.01, burst=3, new_per_second=0, redis_url=REDIS_URL)
    try:
        seen = [await (one if i % 2 else two).admit("rest", sender, False) for i in range(5)]
    finally:
        await one.close()
        await two.close()
    assert [d.allowed for d in seen] == [True, True, True, False, False]
    assert [d.notify for d in seen[3:]] == [True, False]


async def test_unreachable_redis_falls_back_to_local_buckets() -> None:
    flood = FloodControl(rate=1.0, burst=2, new_per_second=0, redis_url="redis://127.0.0.1:1/0")
    try:
        seen = [(await flood.admit("rest", "x", False)).allowed for _ in range(3)]
    finally:
        await flood.close()
    assert seen == [True, True, False]


# ---------------------------------------------------------------------- over HTTP


async def _counts(settings: Settings) -> tuple[int, int]:
    from bot.store.conversations import conversations, events

    async with session_scope(settings.database_url) as session:
        convs = (await session.execute(select(func.count()).select_from(conversations))).scalar()
        evs = (await session.execute(select(func.count()).select_from(events))).scalar()
    return int(convs or 0), int(evs or 0)


@pytest.fixture
async def flooded(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    s = settings.model_copy(update={"flood_rate": 0.01, "flood_burst": 4})
    transport = httpx.ASGITransport(app=create_app(s))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, s


async def test_rest_flood_gets_one_friendly_reply_and_no_work(
    flooded: tuple[httpx.AsyncClient, Settings],
) -> None:
    client, settings = flooded
    for text in ("/start", "/consent/yes", "hoi", "hoi"):
        assert (
            await client.post(WEBHOOK, json={"sender": "f", "message": text})
        ).status_code == 200
    before = await _counts(settings)
    answers = [
        (await client.post(WEBHOOK, json={"sender": "f", "message": "nog eens"})).json()
        for _ in range(5)
    ]
    assert answers[0] == [{"recipient_id": "f", "text": slow_down_text("nl")}]
    assert answers[0][0]["text"].startswith("Rustig aan")
    assert answers[1:] == [[], [], [], []]
    assert await _counts(settings) == before  # no conversation, no event rows
    english = await client.post(
        WEBHOOK, json={"sender": "g", "message": "/start", "metadata": {"lang": "en"}}
    )
    assert english.status_code == 200 and english.json()  # another sender is served
    metrics = (await client.get("/metrics")).text
    key = 'vk_flood_refused_total{channel="rest",reason="sender"} '
    assert any(
        line.startswith(key) and float(line[len(key) :]) >= 5 for line in metrics.split("\n")
    )


async def test_rest_new_conversation_limit_answers_503_with_retry_after(
    settings: Settings,
) -> None:
    s = settings.model_copy(
        update={"new_conversations_per_second": 1.0, "new_conversation_queue_seconds": 0.2}
    )
    transport = httpx.ASGITransport(app=create_app(s))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answers = await asyncio.gather(
            *(client.post(WEBHOOK, json={"sender": f"n{i}", "message": "/start"}) for i in range(4))
        )
        statuses = sorted(r.status_code for r in answers)
        assert statuses[0] == 200 and statuses[-1] == 503
        busy = next(r for r in answers if r.status_code == 503)
        assert int(busy.headers["Retry-After"]) >= 1
        assert busy.json()["error"] == "busy"
        # An existing conversation is never held back by the new-conversation limit.
        served = next(r for r in answers if r.status_code == 200)
        sender = served.json()[0]["recipient_id"]
        again = await client.post(WEBHOOK, json={"sender": sender, "message": "/consent/yes"})
        assert again.status_code == 200
    assert (await _counts(s))[0] == sum(r.status_code == 200 for r in answers)


async def test_two_app_instances_share_the_bucket_through_redis(settings: Settings) -> None:
    pytest.importorskip("redis")
    s = settings.model_copy(update={"flood_rate": 0.01, "flood_burst": 3, "redis_url": REDIS_URL})
    sender = f"shared-{uuid.uuid4().hex[:8]}"
    apps = [create_app(s), create_app(s)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://test")
        for a in apps
    ]
    try:
        answers = []
        for i in range(5):
            response = await clients[i % 2].post(WEBHOOK, json={"sender": sender, "message": "hoi"})
            answers.append(response.json())
    finally:
        for c in clients:
            await c.aclose()
        for a in apps:
            await a.state.pipeline.close()
    assert all(a and "Rustig" not in str(a) for a in answers[:3])
    assert answers[3][0]["text"].startswith("Rustig aan") and answers[4] == []
