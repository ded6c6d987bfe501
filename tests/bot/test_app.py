"""The HTTP service over real HTTP: uvicorn server processes on free loopback ports.

Covers the whole quiz by button payloads, concurrent messages of one conversation (one server,
and two server processes sharing the database) and duplicate deliveries.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bot.config import Settings
from bot.store import conversations as t
from bot.store.db import session_scope
from quiz.engine import State
from tests.live_server import run_server
from tests.walk import has_result, next_request, result_of

WEBHOOK = "/webhooks/rest/webhook"
SLOW = "tests.slow_app:factory"  # every turn holds its transaction open a little longer


async def post(
    client: httpx.AsyncClient, base: str, sender: str, message: str, **metadata: Any
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"sender": sender, "message": message}
    if metadata:
        body["metadata"] = metadata
    response = await client.post(base + WEBHOOK, json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert isinstance(data, list)
    return data


async def walk_until(
    client: httpx.AsyncClient, base: str, sender: str, question_id: str | None
) -> list[dict[str, Any]]:
    """Tap through the quiz until `question_id` is asked (None: until the result)."""
    messages = await post(client, base, sender, "/start")
    seen = list(messages)
    for _ in range(80):
        quiz = next(
            (
                (m.get("custom") or {}).get("quiz")
                for m in messages[::-1]
                if m.get("custom", {}).get("quiz")
            ),
            None,
        )
        if question_id is not None and quiz and quiz["question_id"] == question_id:
            return messages
        body = next_request(messages)
        if body is None:
            return seen  # the profile and, later, the recommendations
        response = await client.post(base + WEBHOOK, json={"sender": sender, **body})
        assert response.status_code == 200, response.text
        messages = response.json()
        seen += messages
    raise AssertionError("quiz did not finish")


async def state_of(db_url: str) -> State:
    async with session_scope(db_url) as s:
        rows = (await s.execute(select(t.conversations.c.state))).scalars().all()
    assert len(rows) == 1
    return State.from_dict(rows[0])


async def answered_events(db_url: str) -> int:
    async with session_scope(db_url) as s:
        stmt = select(func.count()).select_from(t.events).where(t.events.c.name == "answered")
        return int((await s.execute(stmt)).scalar_one())


async def test_whole_quiz_over_http_by_button_payloads(live_server: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        messages = await walk_until(client, live_server, "walker", None)
        assert has_result(messages)
        result = result_of(messages)
        assert result["profile"]["id"] and result["profile"]["name"]
        assert isinstance(result["recommendations"], list)
        assert all(m["recipient_id"] == "walker" for m in messages)
        health = await client.get(live_server + "/healthz")
        assert health.json() == {"status": "ok", "database": "ok"}
        metrics = (await client.get(live_server + "/metrics")).text
        assert 'vk_turns_total{channel="rest",outcome="processed"}' in metrics
        assert "vk_turn_seconds_bucket" in metrics


async def test_question_messages_carry_custom_quiz(live_server: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        await post(client, live_server, "q", "/start")
        messages = await post(client, live_server, "q", "/consent/yes")
        assert messages[-1]["custom"]["quiz"]["question_id"] == "age"
        messages = await post(client, live_server, "q", "/a/age/a18")
        question = messages[-1]
        assert question["custom"]["quiz"] == {
            "question_id": "motive",
            "kind": "choice",
            "step": 2,
            "total": question["custom"]["quiz"]["total"],
        }
        assert {"title", "payload"} == set(question["buttons"][0])


def multi_choice_settings(settings: Settings, folder: Path) -> Settings:
    """The shipped quiz with its interest question made multiple-choice (the shipped quiz asks
    one choice per question; the race needs answers that add up)."""
    import shutil

    src = Path(__file__).resolve().parents[2] / "quiz" / "content"
    for f in src.glob("vrijwilligerskracht*.yaml"):
        shutil.copy(f, folder / f.name)
    structure = folder / "vrijwilligerskracht.yaml"
    text_ = structure.read_text(encoding="utf-8")
    old = "  - id: interest\n    kind: choice\n"
    assert old in text_
    structure.write_text(text_.replace(old, "  - id: interest\n    kind: multi\n"), "utf-8")
    return settings.model_copy(update={"content_dir": folder})


async def _toggle_race(bases: list[str], db_url: str, sender: str) -> None:
    """Toggle every option of a multi question at once, spread over `bases`.

    Processed one after the other, every toggle survives (no lost update) and each answer saw
    exactly one more selected option than the one before it.
    """
    async with httpx.AsyncClient(timeout=60) as client:
        messages = await walk_until(client, bases[0], sender, "interest")
        question = messages[-1]
        options = [b["payload"] for b in question["buttons"] if b["payload"].startswith("/a/")]
        assert len(options) >= 6
        answers = await asyncio.gather(
            *(
                post(client, bases[i % len(bases)], sender, payload)
                for i, payload in enumerate(options)
            )
        )
    seen = sorted(len(a[-1]["custom"]["selected"]) for a in answers)
    assert seen == list(range(1, len(options) + 1))
    state = await state_of(db_url)
    assert sorted(state.pending) == sorted(p.rsplit("/", 1)[1] for p in options)
    assert state.current == "interest"


async def test_concurrent_messages_of_one_conversation_are_serialised(
    settings: Settings, db_url: str, tmp_path: Path
) -> None:
    with run_server(multi_choice_settings(settings, tmp_path), factory=SLOW) as base:
        await _toggle_race([base], db_url, "racer")


async def test_two_server_processes_serialise_one_conversation(
    settings: Settings, db_url: str, tmp_path: Path
) -> None:
    settings = multi_choice_settings(settings, tmp_path)
    with run_server(settings, factory=SLOW) as a, run_server(settings, factory=SLOW) as b:
        await _toggle_race([a, b], db_url, "racer2")


async def test_duplicate_delivery_to_two_processes_is_processed_once(
    settings: Settings, db_url: str
) -> None:
    with run_server(settings, factory=SLOW) as a, run_server(settings, factory=SLOW) as b:
        async with httpx.AsyncClient(timeout=60) as client:
            await walk_until(client, a, "dup", "motive")
            before = await answered_events(db_url)
            replies = await asyncio.gather(
                *(
                    post(client, base, "dup", "/a/motive/values", message_id="m-42")
                    for base in (a, b, a, b)
                )
            )
            assert all(r == replies[0] for r in replies)
            assert replies[0][-1]["custom"]["quiz"]["question_id"] == "activity"
            assert await answered_events(db_url) == before + 1
            state = await state_of(db_url)
            assert state.answers["motive"] == ["values"] and state.current == "activity"
