"""The pipeline against a real database (SQLite, or Postgres with VK_TEST_DATABASE_URL)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.channels.rest import render
from bot.config import Settings
from bot.pipeline import HandleResult, Inbound, Pipeline
from bot.store import conversations as t
from bot.store.db import session_scope
from quiz.engine import State
from quiz.messages import Buttons, Card
from quiz.model import Question
from quiz.protocol import Event, decode
from tests.walk import next_request


def rest_inbound(sender: str, body: dict[str, Any], **kw: Any) -> Inbound:
    message = body.get("message") or ""
    location = (body.get("metadata") or {}).get("location")
    if location:
        return Inbound("rest", sender, location=(location["lat"], location["lon"]), **kw)
    if message.startswith("/"):
        return Inbound("rest", sender, payload=message, **kw)
    return Inbound("rest", sender, text=message, **kw)


async def walk(pipeline: Pipeline, sender: str, limit: int = 80) -> list[HandleResult]:
    """Tap through the whole quiz; returns every turn's result (the last holds the result)."""
    results = [await pipeline.handle(Inbound("rest", sender, payload="/start"))]
    for _ in range(limit):
        body = next_request(render(results[-1].replies, sender))
        if body is None:
            return results
        results.append(await pipeline.handle(rest_inbound(sender, body)))
    raise AssertionError("quiz did not finish")


async def count(db_url: str, table: Any, *where: Any) -> int:
    async with session_scope(db_url) as s:
        return int(
            (await s.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def conversation_row(db_url: str) -> dict[str, Any]:
    async with session_scope(db_url) as s:
        rows = (await s.execute(select(t.conversations))).mappings().all()
    assert len(rows) == 1
    return dict(rows[0])


@pytest.fixture
def pipeline(settings: Settings) -> Pipeline:
    return Pipeline(settings)


async def test_first_message_starts_and_asks_consent(pipeline: Pipeline, db_url: str) -> None:
    result = await pipeline.handle(
        Inbound("rest", "alice", text="hallo", meta={"campaign": "radio1"})
    )
    assert not result.duplicate
    last = result.replies[-1]
    assert isinstance(last, Buttons)
    assert next(b.payload for b in last.buttons) == "/consent/yes"
    row = await conversation_row(db_url)
    assert row["id"] == result.conversation_id
    assert row["phase"] == "consent" and row["campaign"] == "radio1" and row["channel"] == "rest"
    assert row["consent_at"] is None
    assert State.from_dict(row["state"]).campaign == "radio1"


async def test_sender_is_stored_only_as_keyed_hash(pipeline: Pipeline, db_url: str) -> None:
    sender = "31612345678"
    await pipeline.handle(Inbound("whatsapp", sender, text="hoi", external_id="wamid.1"))
    row = await conversation_row(db_url)
    expected = hmac.new(b"test-secret", f"whatsapp\x00{sender}".encode(), hashlib.sha256)
    assert row["user_hash"] == expected.hexdigest()
    async with session_scope(db_url) as s:
        for table in ("conversations", "events", "inbound_messages"):
            dump = str((await s.execute(text(f"SELECT * FROM {table}"))).all())
            assert sender not in dump and "wamid.1" not in dump


async def test_walk_to_result_records_consent_events_and_state(
    pipeline: Pipeline, db_url: str
) -> None:
    results = await walk(pipeline, "bob")
    profile = next(
        r.data["result"]["profile"]
        for res in results
        for r in res.replies
        if isinstance(r, Card) and "profile" in r.data.get("result", {})
    )
    assert profile["id"]
    card = next(r for r in results[-1].replies if isinstance(r, Card) and "result" in r.data)
    assert card.data["result"]["recommendations"] == []  # no recommender wired
    row = await conversation_row(db_url)
    assert row["phase"] == "result" and row["consent_at"] is not None
    assert await count(db_url, t.consents) == 1
    names = {
        n
        for (n,) in (
            await _rows(
                db_url, select(t.events.c.name).where(t.events.c.conversation_id == row["id"])
            )
        )
    }
    assert {
        "started_chat",
        "consent",
        "quiz_started",
        "question_shown",
        "answered",
        "completed",
    } <= names
    answered = await count(db_url, t.events, t.events.c.name == "answered")
    assert answered == len(State.from_dict(row["state"]).answers)


async def _rows(db_url: str, stmt: Any) -> list[Any]:
    async with session_scope(db_url) as s:
        return list((await s.execute(stmt)).all())


async def test_recommender_hook_feeds_the_result_and_leads_are_stored(
    settings: Settings, db_url: str
) -> None:
    queries: list[tuple[dict[str, Any], int, int]] = []

    async def recommender(
        query: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        queries.append((query, offset, limit))
        return [
            {
                "vacancy_id": f"v{offset + i}",
                "organisation_id": "o1",
                "organisation": "Buurthuis De Linde",
                "title": f"Klusser {offset + i}",
                "description": "Kleine klussen in de buurt.",
                "distance_km": 1.5,
                "score": 0.9,
                "reasons": ["dichtbij"],
                "contact_email": "info@example.org",
                "url": "https://example.org",
                "vog_required": False,
                "remote": False,
                "fictional": True,
            }
            for i in range(limit)
        ], True

    pipeline = Pipeline(settings, recommender=recommender)
    results = await walk(pipeline, "carol")
    query, offset, limit = queries[0]
    assert offset == 0 and limit == 3
    assert query["lat"] == pytest.approx(52.09, abs=0.05) and "profile" in query
    card = next(r for r in results[-1].replies if isinstance(r, Card) and "result" in r.data)
    assert [r["vacancy_id"] for r in card.data["result"]["recommendations"]] == ["v0", "v1", "v2"]

    more = await pipeline.handle(Inbound("rest", "carol", payload="/more"))
    assert queries[-1][1] == 3 and any(isinstance(r, Card) for r in more.replies)
    await pipeline.handle(Inbound("rest", "carol", payload="/help/v1"))
    await pipeline.handle(Inbound("rest", "carol", payload="/h/how/self"))
    leads = await _rows(db_url, select(t.leads.c.vacancy_id, t.leads.c.conversation_id))
    assert leads == [("v1", results[0].conversation_id)]


async def test_duplicate_delivery_is_answered_identically_and_processed_once(
    pipeline: Pipeline, db_url: str
) -> None:
    first = await pipeline.handle(Inbound("telegram", "42", text="/start", external_id="1001"))
    again = await pipeline.handle(Inbound("telegram", "42", text="/start", external_id="1001"))
    assert again.duplicate and not first.duplicate
    assert again.replies == first.replies
    assert again.conversation_id == first.conversation_id
    events_before = await count(db_url, t.events)
    await pipeline.handle(Inbound("telegram", "42", payload="/consent/yes", external_id="1002"))
    # The yes counts once the age bracket shows the person may give it.
    yes = await pipeline.handle(Inbound("telegram", "42", payload="/a/age/a18", external_id="1003"))
    state_after = (await conversation_row(db_url))["state"]
    events_after = await count(db_url, t.events)
    assert events_after > events_before
    dup = await pipeline.handle(Inbound("telegram", "42", payload="/a/age/a18", external_id="1003"))
    assert dup.duplicate and dup.replies == yes.replies
    assert (await conversation_row(db_url))["state"] == state_after
    assert await count(db_url, t.events) == events_after
    assert await count(db_url, t.consents) == 1
    # The same delivery id from another sender or channel is a different message.
    other = await pipeline.handle(Inbound("rest", "42", text="/start", external_id="1001"))
    assert not other.duplicate


async def test_erasure_removes_personal_rows_and_keeps_anonymous_counts(
    pipeline: Pipeline, db_url: str
) -> None:
    first = await pipeline.handle(Inbound("rest", "dave", text="/start", external_id="m1"))
    await pipeline.handle(Inbound("rest", "dave", payload="/consent/yes", external_id="m2"))
    await pipeline.handle(Inbound("rest", "dave", payload="/a/age/a18", external_id="m2b"))
    await pipeline.handle(Inbound("rest", "dave", payload="/a/motive/values", external_id="m3"))
    events_before = await count(db_url, t.events)
    gone = await pipeline.handle(Inbound("rest", "dave", payload="/delete_data", external_id="m4"))
    assert isinstance(gone.replies[-1], Buttons)
    cid = first.conversation_id
    assert await count(db_url, t.conversations) == 0
    assert await count(db_url, t.consents) == 0
    assert await count(db_url, t.events, t.events.c.conversation_id == cid) == 0
    # The events are gone; the journey still counts, folded into the report counters.
    assert events_before > 0 and await count(db_url, t.events) == 0
    counted = await _rows(
        db_url,
        text("SELECT key, n FROM report_counts WHERE g = 0 AND metric IN ('stage', 'erased')"),
    )
    assert sorted((k, int(n)) for k, n in counted) == [("erasures", 1), ("started", 1)]
    # The erasure request's key is kept (with a random id) so a retry is not re-run.
    [(kept_id,)] = await _rows(db_url, select(t.inbound_messages.c.conversation_id))
    assert kept_id != cid
    # A repeated delivery of the erase request is not processed again ...
    again = await pipeline.handle(Inbound("rest", "dave", payload="/delete_data", external_id="m4"))
    assert again.duplicate and again.replies == gone.replies
    # ... and a new message starts a fresh conversation without the old answers.
    fresh = await pipeline.handle(Inbound("rest", "dave", text="/start", external_id="m5"))
    assert fresh.conversation_id != cid
    assert State.from_dict((await conversation_row(db_url))["state"]).answers == {}


async def test_outbound_rendering_is_part_of_the_turns_transaction(
    pipeline: Pipeline, db_url: str
) -> None:
    from bot.channels.base import Outbound, RenderContext

    seen: list[str] = []

    def render(replies: list[Any], context: RenderContext) -> list[dict[str, Any]]:
        seen.append(context.conversation_id)
        return [{"text": "hi"}]

    ok = await pipeline.handle(
        Inbound("telegram", "7", text="/start", external_id="u1"), Outbound("telegram", "7", render)
    )
    assert seen == [ok.conversation_id]

    def failing(replies: list[Any], context: RenderContext) -> list[dict[str, Any]]:
        raise RuntimeError("outbox down")

    await pipeline.handle(Inbound("telegram", "7", payload="/consent/yes", external_id="u1b"))
    before = await conversation_row(db_url)
    with pytest.raises(RuntimeError):
        await pipeline.handle(
            Inbound("telegram", "7", payload="/a/age/a18", external_id="u2"),
            Outbound("telegram", "7", failing),
        )
    after = await conversation_row(db_url)
    assert after["state"] == before["state"] and after["consent_at"] is None
    assert await count(db_url, t.consents) == 0
    # Nothing was recorded, so the retried delivery is processed normally.
    retry = await pipeline.handle(Inbound("telegram", "7", payload="/a/age/a18", external_id="u2"))
    assert not retry.duplicate
    assert await count(db_url, t.consents) == 1


async def test_interpreter_hook_turns_free_text_into_events(settings: Settings) -> None:
    calls: list[tuple[str, str | None, str]] = []

    async def interpreter(
        text_: str, state: State, question: Question | None, lang: str
    ) -> Event | None:
        calls.append((text_, question.id if question else None, lang))
        if text_ == "iets goeds":
            return decode("/a/motive/values")
        return None

    pipeline = Pipeline(settings, interpreter=interpreter)
    await pipeline.handle(Inbound("rest", "erin", text="/start"))
    await pipeline.handle(Inbound("rest", "erin", payload="/consent/yes"))
    await pipeline.handle(Inbound("rest", "erin", payload="/a/age/a18"))
    result = await pipeline.handle(Inbound("rest", "erin", text="iets goeds"))
    assert calls == [("iets goeds", "motive", "nl")]
    asked = [r for r in result.replies if isinstance(r, Buttons) and r.quiz]
    assert asked[-1].quiz is not None and asked[-1].quiz.question_id == "activity"
    # Payload-shaped text never reaches the interpreter.
    await pipeline.handle(Inbound("rest", "erin", text="/back"))
    assert len(calls) == 1


async def test_start_meta_restarts_and_language_hint(pipeline: Pipeline, db_url: str) -> None:
    await pipeline.handle(Inbound("rest", "fay", text="hello", meta={"lang": "en"}))
    assert (await conversation_row(db_url))["lang"] == "en"
    await pipeline.handle(Inbound("rest", "fay", payload="/consent/yes"))
    await pipeline.handle(Inbound("rest", "fay", payload="/a/age/a18"))
    await pipeline.handle(Inbound("rest", "fay", payload="/a/motive/values"))
    again = await pipeline.handle(Inbound("rest", "fay", text="x", meta={"start": True}))
    row = await conversation_row(db_url)
    assert State.from_dict(row["state"]).answers == {}
    assert any(isinstance(r, Buttons) and r.quiz and r.quiz.step == 1 for r in again.replies)


async def test_first_message_may_preanswer_consent(pipeline: Pipeline, db_url: str) -> None:
    result = await pipeline.handle(Inbound("rest", "gus", payload="/consent/yes"))
    assert any(isinstance(r, Buttons) and r.quiz for r in result.replies)
    assert (await conversation_row(db_url))["consent_at"] is None  # the age comes first
    await pipeline.handle(Inbound("rest", "gus", payload="/a/age/a18"))
    assert (await conversation_row(db_url))["consent_at"] is not None


async def test_location_answers_the_place_question(pipeline: Pipeline, db_url: str) -> None:
    await to_place(pipeline, "hal", db_url)
    await pipeline.handle(Inbound("rest", "hal", location=(52.0907, 5.1214)))
    state = State.from_dict((await conversation_row(db_url))["state"])
    assert state.current == "commitment"
    assert state.answers["place"]["lat"] == pytest.approx(52.09, abs=0.05)


async def to_place(pipeline: Pipeline, sender: str, db_url: str) -> None:
    """Consent, the age, every scored question skipped, yes to nearby work: at the place."""
    for payload in ("/consent/yes", "/a/age/a18"):
        await pipeline.handle(Inbound("rest", sender, payload=payload))
    state = State.from_dict((await conversation_row(db_url))["state"])
    for _ in range(20):
        if state.current == "place":
            return
        payload = "/nearby/yes" if state.phase == "offer" else "/skip"
        await pipeline.handle(Inbound("rest", sender, payload=payload))
        state = State.from_dict((await conversation_row(db_url))["state"])
    raise AssertionError("never reached the place question")


async def test_place_text_is_resolved_by_the_gazetteer(pipeline: Pipeline, db_url: str) -> None:
    pytest.importorskip("bot.geo.gazetteer")
    await to_place(pipeline, "ivy", db_url)
    await pipeline.handle(Inbound("rest", "ivy", text="Utrecht"))
    row = await conversation_row(db_url)
    state = State.from_dict(row["state"])
    assert state.answers["place"]["lat"] == pytest.approx(52.09, abs=0.1)
    assert row["region"] == "Utrecht"


async def test_purge_erases_old_conversations_only(pipeline: Pipeline, db_url: str) -> None:
    from datetime import timedelta

    from bot.commands.privacy import purge

    old = await pipeline.handle(Inbound("rest", "old", text="/start"))
    await pipeline.handle(Inbound("rest", "new", text="/start"))
    async with session_scope(db_url) as s:
        await t.update_conversation(
            s, old.conversation_id, {"updated_at": t.utcnow() - timedelta(days=40)}
        )
    assert await purge(db_url, 30) == 1
    ids = [i for (i,) in await _rows(db_url, select(t.conversations.c.id))]
    assert old.conversation_id not in ids and len(ids) == 1


async def test_a_second_quiz_is_served_and_chosen_per_conversation(
    settings: Settings, db_url: str, tmp_path: Any
) -> None:
    """Every quiz file set in the content folder is served; metadata picks one (a campaign's
    or a widget's `data-quiz`), the first is the default, and a conversation keeps its quiz."""
    from bot.content import CONTENT_DIR, load_quizzes

    for suffix in ("", ".nl", ".en"):
        text = (CONTENT_DIR / f"vrijwilligerskracht{suffix}.yaml").read_text(encoding="utf-8")
        text = text.replace("id: vrijwilligerskracht", "id: kort").replace(
            "quiz: vrijwilligerskracht", "quiz: kort"
        )
        (tmp_path / f"kort{suffix}.yaml").write_text(text, encoding="utf-8")
        (tmp_path / f"vrijwilligerskracht{suffix}.yaml").write_text(
            (CONTENT_DIR / f"vrijwilligerskracht{suffix}.yaml").read_text(encoding="utf-8"),
            encoding="utf-8",
        )
    quizzes = load_quizzes(tmp_path)
    assert list(quizzes) == ["vrijwilligerskracht", "kort"]
    from bot.store.campaigns import Campaign, add_campaign

    async with session_scope(db_url) as session:
        await add_campaign(session, Campaign(code="radio", name="Radio", quiz_id="kort"))
    pipeline = Pipeline(settings, quizzes=quizzes)
    try:
        by_campaign = await pipeline.handle(
            Inbound("rest", "d", text="/start", meta={"campaign": "radio"})
        )
        chosen = await pipeline.handle(Inbound("rest", "a", text="/start", meta={"quiz": "kort"}))
        default = await pipeline.handle(Inbound("rest", "b", text="/start"))
        unknown = await pipeline.handle(Inbound("rest", "c", text="/start", meta={"quiz": "x"}))
        # Later messages stay with the conversation's quiz, whatever the metadata says.
        await pipeline.handle(Inbound("rest", "a", payload="/consent/yes", meta={"quiz": "x"}))
        async with session_scope(db_url) as session:
            rows = await session.execute(select(t.conversations.c.id, t.conversations.c.state))
            quiz_of = {r[0]: State.from_dict(r[1]).quiz_id for r in rows}
        assert quiz_of[chosen.conversation_id] == "kort"
        assert quiz_of[by_campaign.conversation_id] == "kort"  # the campaign's quiz
        assert quiz_of[default.conversation_id] == "vrijwilligerskracht"
        assert quiz_of[unknown.conversation_id] == "vrijwilligerskracht"
    finally:
        await pipeline.close()
