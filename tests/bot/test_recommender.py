"""bot.recommender: the vectorised catalogue agrees with the pure reference, the async hook
reads the real database and notices changes, and a quiz conversation ends in real
recommendations with reasons in the person's language."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.content import load_quiz
from bot.geo.gazetteer import get_gazetteer
from bot.orgs.demo import generate
from bot.orgs.importer import import_rows
from bot.recommender import Catalogue, Recommender, prepare_query
from bot.store.db import get_sync_engine
from quiz.effects import NeedRecommendations
from quiz.engine import Engine, Step
from quiz.messages import Buttons, Card
from quiz.protocol import Recommendations, Start, Value, decode
from quiz.ranking import ListSource, Query, recommend
from tests.quiz.test_ranking import random_candidates, random_query


@pytest.mark.parametrize("seed", range(6))
def test_catalogue_agrees_with_the_pure_reference(seed: int) -> None:
    rnd = random.Random(seed)
    cands = random_candidates(rnd, 600)
    reference, fast = ListSource(cands), Catalogue(cands)
    for _ in range(6):
        qd = random_query(rnd)
        q = Query.from_dict(qd)
        for ring in ((-1.0, q.radius_km), (q.radius_km, q.radius_km * 2), None):
            a = reference.ranked(q, ring, 40)
            b = fast.ranked(q, ring, 40)
            assert [s.candidate.vacancy_id for s in a] == [s.candidate.vacancy_id for s in b]
            for x, y in zip(a, b, strict=True):
                assert math.isclose(x.score, y.score, abs_tol=1e-9)
                assert (x.distance_km is None) == (y.distance_km is None)
        ref_page = recommend(qd, reference, offset=0, limit=12)
        fast_page = recommend(qd, fast, offset=0, limit=12)
        assert [i["vacancy_id"] for i in ref_page.items] == [
            i["vacancy_id"] for i in fast_page.items
        ]
        assert ref_page.more_available == fast_page.more_available


def test_prepare_query_resolves_places_and_municipalities() -> None:
    q = prepare_query({"postcode": "3511 AB"})
    assert q.located and q.municipality == "Utrecht"
    q = prepare_query({"place": "Den Bosch"})
    assert q.located and q.municipality == "'s-Hertogenbosch"
    q = prepare_query({"lat": 52.37, "lon": 4.89})
    assert q.municipality == "Amsterdam"
    assert not prepare_query({"place": "xyzzy"}).located


def _rows(n: int, seed: int = 5) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(generate(n, seed), start=1))


async def test_hook_reads_the_database_and_notices_changes(settings: Settings) -> None:
    import_rows(settings.database_url, _rows(300))
    hook = Recommender(settings, refresh_s=0.0)
    query = {"place": "Utrecht", "lang": "nl", "activities": {"social": 3}}
    items, more = await hook(query, 0, 3)
    assert len(items) == 3 and more
    shape = {
        "vacancy_id",
        "organisation_id",
        "organisation",
        "title",
        "description",
        "distance_km",
        "score",
        "reasons",
        "contact_email",
        "url",
        "vog_required",
        "remote",
        "fictional",
    }
    assert shape <= set(items[0])
    assert all(i["fictional"] for i in items)
    assert all(isinstance(r, str) for i in items for r in i["reasons"])

    # A change made behind the hook's back (another process) is picked up.
    gaz = get_gazetteer()
    here = gaz.resolve("Utrecht")
    assert here is not None
    row = {
        "vacancy_id": "new-1",
        "organisation_id": "new-org",
        "organisation_name": "Nieuwe club",
        "title": "Precies wat je zoekt",
        "causes": "elderly",
        "activities": "social",
        "lat": here.lat,
        "lon": here.lon,
    }
    engine = get_sync_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM vacancies WHERE organisation_id LIKE 'demo-vc-%'"))
    engine.dispose()
    import_rows(settings.database_url, [(2, row)])
    items, _ = await hook({**query, "causes": ["elderly"]}, 0, 3)
    assert items[0]["vacancy_id"] == "new-1"


async def test_hook_on_an_empty_database_answers_empty(settings: Settings) -> None:
    hook = Recommender(settings)
    items, more = await hook({"place": "Utrecht"}, 0, 3)
    assert items == [] and more is False


def walk_to_recommendations(
    engine: Engine, place: dict[str, Any], picks: dict[str, str] | None = None
) -> tuple[Step, NeedRecommendations]:
    """Consent, yes to nearby work, then every question: the option in `picks` or the first
    one, `place` for the place question, 30 for a number. Returns the last step and the
    recommendation request the engine made."""
    picks = picks or {}
    step = engine.step(engine.new_state("nl"), Start(lang="nl"))
    step = engine.step(step.state, decode("/consent/yes"))
    need: NeedRecommendations | None = None
    for _ in range(40):
        if step.state.phase == "offer":
            step = engine.step(step.state, decode("/nearby/yes"))
            continue
        q = engine.current_question(step.state)
        if q is None:
            break
        if q.kind == "place":
            step = engine.step(step.state, Value(place))
        elif q.kind == "number" or not q.options:
            step = engine.step(step.state, Value(30))
        else:
            step = engine.step(step.state, decode(f"/a/{q.id}/{picks.get(q.id, q.options[0].id)}"))
            if q.kind == "multi":
                step = engine.step(step.state, decode(f"/done/{q.id}"))
        need = next((e for e in step.effects if isinstance(e, NeedRecommendations)), need)
    assert need is not None
    return step, need


async def test_conversation_ends_in_real_recommendations(settings: Settings) -> None:
    import_rows(settings.database_url, _rows(400))
    quiz = load_quiz()
    engine = Engine(quiz)
    hook = Recommender(settings, texts=quiz)
    match = get_gazetteer().resolve("Utrecht")
    assert match is not None
    step, need = walk_to_recommendations(engine, dict(match.to_value()))
    items, more = await hook(dict(need.query), need.offset, need.limit)
    assert items
    step = engine.step(step.state, Recommendations(tuple(items), 0, more))
    cards = [r for r in step.replies if isinstance(r, Card) and r.buttons]
    assert len(cards) == len(items) <= 3
    assert any("km bij je vandaan" in c.text or "vanuit huis" in c.text for c in cards)
    assert cards[0].buttons[1].payload.startswith("/help/")
    buttons = [r for r in step.replies if isinstance(r, Buttons)]
    assert any(b.payload == "/more" for r in buttons for b in r.buttons) == more


async def test_reasons_use_the_quiz_texts_in_both_languages(settings: Settings) -> None:
    here = get_gazetteer().resolve("3511")
    assert here is not None
    north = here.lat + 4 / 111.195
    row = {
        "vacancy_id": "r1",
        "organisation_id": "o1",
        "organisation_name": "Buurthuis",
        "title": "Koffie schenken",
        "causes": "neighbourhood",
        "activities": "social",
        "days": "saturday",
        "dayparts": "morning",
        "lat": north,
        "lon": here.lon,
    }
    import_rows(settings.database_url, [(2, row)])
    hook = Recommender(settings, texts=load_quiz())
    query = {"postcode": "3511", "activities": {"social": 3}, "days": ["saturday"]}
    items, _ = await hook({**query, "lang": "nl"}, 0, 3)
    assert items[0]["reasons"][:3] == [
        "4 km bij je vandaan",
        "past bij jouw kracht: mensen verbinden",
        "zaterdagochtend",
    ]
    items, _ = await hook({**query, "lang": "en"}, 0, 3)
    assert items[0]["reasons"][:3] == [
        "4 km from you",
        "fits your strength: bringing people together",
        "Saturday morning",
    ]


async def test_one_off_helper_with_one_hour_gets_a_four_hour_one_off_task(
    settings: Settings,
) -> None:
    """A one-off task is not weekly work: its four hours do not rule it out for someone with
    one hour a week who wants to help once (the quiz's own answers, the real database)."""
    here = get_gazetteer().resolve("Utrecht")
    assert here is not None
    base = {"organisation_id": "o-park", "organisation_name": "Parkvrienden", "lat": here.lat}
    rows = [
        {**base, "vacancy_id": "day", "title": "Natuurwerkdag", "one_off": True},
        {**base, "vacancy_id": "weekly", "title": "Vaste tuinman"},
    ]
    import_rows(
        settings.database_url,
        [
            (i, {**r, "lon": here.lon, "activities": "outdoor", "hours_min": 4, "hours_max": 4})
            for i, r in enumerate(rows, start=2)
        ],
    )
    quiz = load_quiz()
    engine = Engine(quiz)

    def query_for(picks: dict[str, str]) -> dict[str, Any]:
        return dict(walk_to_recommendations(engine, dict(here.to_value()), picks)[1].query)

    hook = Recommender(settings, texts=quiz)
    # "Eén keer": no weekly hours are asked, the day's four hours are fine.
    once = query_for({"commitment": "one_off"})
    assert once["commitment"] == "one_off" and "hours_per_week" not in once
    items, _ = await hook(once, 0, 3)
    assert items[0]["vacancy_id"] == "day"
    assert "eenmalig" in items[0]["reasons"]
    # "Elke week", "Ik heb weinig tijd" (one hour): the weekly four hours are too many, the
    # one-off day is shown first.
    weekly = query_for({"commitment": "regular", "hours": "h1"})
    assert weekly["hours_per_week"] == 1 and weekly["commitment"] == "regular"
    items, _ = await hook(weekly, 0, 3)
    assert [i["vacancy_id"] for i in items] == ["day"]
