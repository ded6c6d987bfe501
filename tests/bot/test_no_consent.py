"""Consent is optional: a person who says no gets the whole test, and afterwards nothing
about them is left in any table (SQLite, or Postgres with VK_TEST_DATABASE_URL). The same holds
for anyone under 16, whose "yes" does not count; they only get work that suits their age."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text

from bot.channels.rest import render
from bot.config import Settings
from bot.pipeline import HandleResult, Inbound, Pipeline
from bot.store.db import get_sync_engine
from quiz.messages import Card, Text
from tests.bot.test_pipeline import rest_inbound
from tests.walk import ADULT, next_request

SENDER = "no-consent-person-4821"
PLACE = "Amersfoort"


async def _recommender(
    query: dict[str, Any], offset: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    return [
        {
            "vacancy_id": "v-klus",
            "organisation": "Buurthuis De Linde",
            "title": "Klusser",
            "description": "Kleine klussen in de buurt.",
            "distance_km": 2.0,
            "reasons": ["dichtbij"],
            "fictional": True,
        }
    ], False


async def _walk_without_consent(
    pipeline: Pipeline, consent: str = "/consent/no", age: str = ADULT, sender: str = SENDER
) -> list[HandleResult]:
    n = 0

    def inbound(**kw: Any) -> Inbound:
        nonlocal n
        n += 1
        return Inbound("rest", sender, external_id=f"msg-{n}", **kw)

    results = [await pipeline.handle(inbound(payload="/start"))]
    results.append(await pipeline.handle(inbound(payload=consent)))
    for _ in range(80):
        messages = render(results[-1].replies, sender)
        body = next_request(messages)
        if body is None:
            return results
        if "location" in (body.get("metadata") or {}):
            results.append(await pipeline.handle(inbound(text=PLACE)))
            continue
        if body.get("message") == ADULT:
            body = {"message": age}
        sent = rest_inbound(sender, body)
        results.append(await pipeline.handle(inbound(text=sent.text, payload=sent.payload)))
    raise AssertionError("quiz did not finish")


def _profile(results: list[HandleResult]) -> dict[str, Any]:
    """The profile revealed on the way (it comes before the practical questions)."""
    for res in results:
        for r in res.replies:
            if isinstance(r, Card) and "profile" in r.data.get("result", {}):
                return dict(r.data["result"]["profile"])
    raise AssertionError("no profile shown")


def _every_row(db_url: str) -> dict[str, list[str]]:
    engine = get_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            return {
                table: [repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{table}"'))]
                for table in tables
            }
    finally:
        engine.dispose()


async def test_no_consent_reaches_the_result_and_leaves_nothing_behind(
    settings: Settings, db_url: str
) -> None:
    pipeline = Pipeline(settings, recommender=_recommender)
    results = await _walk_without_consent(pipeline)
    declined = results[1].replies[0]
    assert isinstance(declined, Text) and "wis ik je antwoorden na de uitslag" in declined.text

    last = results[-1].replies
    assert _profile(results)
    card = next(r for r in last if isinstance(r, Card) and "result" in r.data)
    assert [r["vacancy_id"] for r in card.data["result"]["recommendations"]] == ["v-klus"]
    assert any(isinstance(r, Text) and "gewist" in r.text for r in last)
    # The REST answer tells the client to drop its local transcript as well.
    assert results[-1].erased and not any(r.erased for r in results[:-1])
    assert results[-1].forgotten  # the client may keep its screen, storing nothing
    assert render(last, SENDER, erased=True)[0]["custom"]["erased"] is True

    conversation_id = results[0].conversation_id
    user_hash = pipeline.hash_id("rest", SENDER)
    keys = [pipeline.inbound_key(Inbound("rest", SENDER, external_id=f"msg-{i}")) for i in (1, 2)]
    traces = [conversation_id, user_hash, SENDER, PLACE, *(k for k in keys if k)]
    rows = _every_row(db_url)
    for table, table_rows in rows.items():
        for row in table_rows:
            for trace in traces:
                assert trace not in row, f"{trace!r} left in {table}: {row}"
    # The counts without names stay, folded into the report counters; no event row is left.
    assert rows["events"] == []
    assert any("'stage', 'recommendations_shown', 1" in row for row in rows["report_counts"])

    # A later message starts afresh and asks for consent again.
    again = await pipeline.handle(Inbound("rest", SENDER, text="hallo"))
    assert again.conversation_id != conversation_id
    assert any(
        getattr(r, "buttons", None) and r.buttons[0].payload == "/consent/yes"
        for r in again.replies
    )
    await pipeline.close()


async def test_consent_text_names_controller_and_retention(settings: Settings) -> None:
    custom = settings.model_copy(
        update={"controller_name": "Vrijwilligerscentrale Utrecht", "retention_days": 90}
    )
    pipeline = Pipeline(custom)
    first = await pipeline.handle(Inbound("rest", "dora", payload="/start"))
    consent = first.replies[-1]
    assert "Vrijwilligerscentrale Utrecht" in getattr(consent, "text", "")
    assert "90 dagen" in getattr(consent, "text", "")
    more = await pipeline.handle(Inbound("rest", "dora", payload="/consent/more"))
    assert any("/privacy" in getattr(r, "text", "") for r in more.replies)
    await pipeline.close()


async def test_under_16_stores_nothing_and_gets_only_suitable_work(
    settings: Settings, db_url: str
) -> None:
    """A child says yes to keeping answers: the yes does not count. With the demo set, every
    vacancy shown allows their age (`min_age` known and at most 14) and takes a few hours."""
    from bot.orgs.demo import ensure_demo_async
    from bot.recommender import Recommender
    from bot.store.organisations import VACANCIES
    from quiz.model import MINOR_MAX_HOURS

    await ensure_demo_async(settings, 3000)
    pipeline = Pipeline(settings, recommender=Recommender(settings))
    sender = "child-14-years-old"
    results = await _walk_without_consent(
        pipeline, consent="/consent/yes", age="/a/age/under16", sender=sender
    )
    said = [r.text for res in results for r in res.replies if isinstance(r, Text)]
    assert any(t.startswith("Vraag eerst je ouder of verzorger") for t in said)
    assert _profile(results)
    card = next(r for r in results[-1].replies if isinstance(r, Card) and "result" in r.data)
    shown = [r["vacancy_id"] for r in card.data["result"]["recommendations"]]
    assert shown, "a child gets suitable work too"
    engine = get_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = (
                conn.execute(VACANCIES.select().where(VACANCIES.c.id.in_(shown))).mappings().all()
            )
    finally:
        engine.dispose()
    for row in rows:
        if row["id"].startswith("demo-vc-"):  # the volunteer centre, for advice
            continue
        assert row["min_age"] is not None and row["min_age"] <= 14, dict(row)
        assert row["hours_min"] is not None and row["hours_min"] <= MINOR_MAX_HOURS, dict(row)
    assert results[-1].erased

    conversation_id = results[0].conversation_id
    user_hash = pipeline.hash_id("rest", sender)
    traces = [conversation_id, user_hash, sender, PLACE]
    every = _every_row(db_url)
    assert every["consents"] == [] and every["conversations"] == [] and every["events"] == []
    catalogue = {"organisations", "vacancies"}  # the demo set names real places itself
    for table, table_rows in every.items():
        for row in table_rows:
            for trace in traces:
                if trace == PLACE and table in catalogue:
                    continue
                assert trace not in row, f"{trace!r} left in {table}: {row}"
    await pipeline.close()


async def test_an_organisations_widget_names_its_own_controller(settings: Settings) -> None:
    custom = settings.model_copy(
        update={
            "controller_name": "Stichting Vrijwilligerskracht",
            "controllers": {"vc-utrecht": "Vrijwilligerscentrale Utrecht"},
            "privacy_urls": {"vc-utrecht": "https://vc-utrecht.example/privacy"},
        }
    )
    pipeline = Pipeline(custom)
    own = await pipeline.handle(
        Inbound("rest", "ria", payload="/start", meta={"org": "vc-utrecht"})
    )
    assert "Verantwoordelijk voor je gegevens: Vrijwilligerscentrale Utrecht" in getattr(
        own.replies[-1], "text", ""
    )
    # Later turns of that conversation keep naming the organisation.
    more = await pipeline.handle(Inbound("rest", "ria", payload="/consent/more"))
    explained = " ".join(getattr(r, "text", "") for r in more.replies)
    assert "Vrijwilligerscentrale Utrecht" in explained
    assert "https://vc-utrecht.example/privacy" in explained
    other = await pipeline.handle(Inbound("rest", "sem", payload="/start", meta={"org": "x"}))
    assert "Stichting Vrijwilligerskracht" in getattr(other.replies[-1], "text", "")
    await pipeline.close()
