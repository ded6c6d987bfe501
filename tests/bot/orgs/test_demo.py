"""`orgs demo`: realistic, clearly fictional, one volunteer centre per municipality."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.geo.gazetteer import get_gazetteer
from bot.orgs.demo import ensure_demo, ensure_demo_async, generate
from bot.orgs.queries import Filters, list_vacancies
from quiz.model import ACTIVITIES, CAUSES, DAYPARTS, WEEKDAYS


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    return list(generate(3000, seed=11))


def test_demo_is_clearly_fictional(rows: list[dict[str, object]]) -> None:
    assert all(r["fictional"] is True for r in rows)
    assert all(str(r["organisation_name"]).endswith("(fictief)") for r in rows)
    assert all(str(r["contact_email"]).endswith(".example") for r in rows)
    assert all("fictieve" in str(r["description"]) for r in rows)


def test_demo_sits_in_real_places_with_valid_taxonomy(rows: list[dict[str, object]]) -> None:
    gaz = get_gazetteer()
    places = {(p.name, p.municipality) for p in gaz.places}
    for r in rows[:3000]:
        assert set(r["causes"]) <= set(CAUSES)  # type: ignore[arg-type]
        assert set(r["activities"]) <= set(ACTIVITIES)  # type: ignore[arg-type]
        assert set(r.get("days") or []) <= set(WEEKDAYS)  # type: ignore[arg-type]
        assert set(r.get("dayparts") or []) <= set(DAYPARTS)  # type: ignore[arg-type]
        if not r.get("is_volunteer_centre"):
            assert (r["place"], r["municipality"]) in places


def test_causes_follow_the_cbs_order(rows: list[dict[str, object]]) -> None:
    main = Counter(
        r["causes"][0]
        for r in rows
        if not r.get("is_volunteer_centre")  # type: ignore[index]
    )
    top4 = {c for c, _ in main.most_common(4)}
    assert top4 == {"sport", "education", "neighbourhood", "care"}
    assert main["sport"] > main["refugees"] * 5
    vacancies = [r for r in rows if not r.get("is_volunteer_centre")]
    assert 0.1 < sum(1 for r in vacancies if r["one_off"]) / len(vacancies) < 0.5
    assert any(r["remote"] for r in vacancies)
    assert any(r["vog_required"] for r in vacancies)
    assert any(r["min_age"] for r in vacancies)


def test_one_volunteer_centre_per_municipality(rows: list[dict[str, object]]) -> None:
    centres = [r for r in rows if r.get("is_volunteer_centre")]
    munis = {m.name for m in get_gazetteer().municipalities}
    assert len(centres) == len(munis)
    assert {r["municipality"] for r in centres} == munis
    assert all("Vrijwilligerscentrale" in str(r["organisation_name"]) for r in centres)


def test_demo_is_deterministic() -> None:
    assert list(generate(50, seed=3)) == list(generate(50, seed=3))
    assert list(generate(50, seed=3)) != list(generate(50, seed=4))


async def test_ensure_demo_loads_only_into_an_empty_database(settings: Settings) -> None:
    assert ensure_demo(settings.model_copy(update={"demo_count": 0})) == 0  # switched off
    assert ensure_demo(settings, count=40) == 40 + len(get_gazetteer().municipalities)
    assert await ensure_demo_async(settings, count=40) == 0
    found = list_vacancies(settings.database_url, Filters(centres=True, limit=0))
    assert len(found) == len(get_gazetteer().municipalities)


def test_cli_demo_then_recommend(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import get_settings

    monkeypatch.setenv("VK_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["orgs", "demo", "--count", "800", "--quiet"])
        assert result.exit_code == 0, result.output
        query = {
            "place": "Utrecht",
            "radius_km": 10,
            "causes": ["sport"],
            "activities": ["teaching"],
            "hours_per_week": 4,
            "age": 17,
            "limit": 5,
        }
        result = runner.invoke(app, ["recommend", "--json"], input=json.dumps(query))
        assert result.exit_code == 0, result.output
        items = json.loads(result.stdout)
        assert 1 <= len(items) <= 5
        for item in items:
            assert {
                "vacancy_id",
                "organisation_id",
                "title",
                "distance_km",
                "score",
                "reasons",
            } <= set(item)
        near = [i for i in items if i["fallback"] is None]
        assert all(i["distance_km"] <= 10 for i in near)
        listed = {
            v["vacancy_id"]: v for v in list_vacancies(settings.database_url, Filters(limit=0))
        }
        for item in items:
            v = listed[item["vacancy_id"]]
            assert v["min_age"] is None or v["min_age"] <= 17
            assert v["hours_min"] is None or v["hours_min"] <= 4
        bad = runner.invoke(app, ["recommend", "--json"], input='{"place": "xyzzy"}')
        assert bad.exit_code == 1 and "unknown place" in bad.stderr
        none = runner.invoke(app, ["recommend", "--json"], input="{}")
        assert none.exit_code == 1
    finally:
        get_settings.cache_clear()
