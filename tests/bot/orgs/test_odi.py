"""Volunteering Data Standard documents: import maps the vocabulary onto our model, keeps
and reports unknown terms, export writes a document that imports as the same vacancies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.orgs import odi_vocab as vocab
from bot.orgs.importer import ImportFailed, import_file
from bot.orgs.odi import commitment_text, parse_commitment, read_document
from bot.store.db import get_sync_engine

FIXTURE = Path(__file__).parent / "fixtures" / "vacaturebank.jsonld"
runner = CliRunner()


def cli(settings: Settings, *args: str) -> Any:
    env = {"VK_DATABASE_URL": settings.database_url, "VK_PUBLIC_URL": "https://bot.example.nl"}
    from bot.config import get_settings

    get_settings.cache_clear()
    result = runner.invoke(app, list(args), env=env)
    get_settings.cache_clear()
    return result


def vacancies(settings: Settings) -> dict[str, dict[str, Any]]:
    result = cli(settings, "orgs", "list", "--vacancies", "--json", "--limit", "0")
    assert result.exit_code == 0, result.output
    return {v["title"]: v for v in json.loads(result.stdout)}


def wipe(url: str) -> None:
    engine = get_sync_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM vacancies"))
        conn.execute(text("DELETE FROM organisations"))
    engine.dispose()


def test_import_maps_the_vocabulary(settings: Settings) -> None:
    result = cli(settings, "orgs", "import", str(FIXTURE), "-q")
    assert result.exit_code == 0, result.output
    assert "imported 9 vacancies (9 new, 0 updated) of 3 organisations" in result.stdout
    # Unknown terms are reported, each once.
    for term in ("Unemployment", "FreeMeal", "PilotLicense", "WeekendAnytime"):
        assert result.stderr.count(vocab.NS + term) == 1, result.stderr
    found = vacancies(settings)
    assert len(found) == 9
    taal = found["Taalmaatje"]
    assert taal["causes"] == ["refugees", "education"]  # the activity's own causes win
    assert taal["activities"] == ["teaching", "caring"]
    assert taal["days"] == ["thursday"] and taal["dayparts"] == ["morning"]
    assert taal["min_age"] == 18 and taal["vog_required"] is True
    assert taal["remote"] is True
    assert taal["url"] == "https://buurthuisdelinde.example.nl/taalmaatje"
    assert taal["offers"] == ["learn"]
    assert taal["publish_end"] == "2027-06-30"
    assert taal["place"] == "Utrecht" and taal["postcode"] == "3514AB"
    kok = found["Kok voor de buurteettafel"]
    assert kok["causes"] == ["neighbourhood"]  # from the organisation
    assert kok["days"] == ["wednesday"] and kok["dayparts"] == ["afternoon", "evening"]
    assert (kok["hours_min"], kok["hours_max"]) == (3.0, 3.0)
    assert kok["contact_email"] == "info@buurthuisdelinde.example.nl"
    bezoek = found["Bezoekvrijwilliger voor ouderen"]
    assert bezoek["offers"] == ["learn", "expenses"] and bezoek["vog_required"] is True
    assert bezoek["municipality"] == "Zwolle" and bezoek["days"] == ["monday", "friday"]
    uitje = found["Begeleider dagje uit"]
    assert uitje["one_off"] is True
    assert uitje["unmapped"] == {"time": [vocab.NS + "WeekendAnytime"]}
    assert found["Chauffeur boodschappenbus"]["unmapped"] == {"skill": [vocab.NS + "PilotLicense"]}
    assert found["Vogelteller"]["min_age"] is None and found["Vogelteller"]["hours_max"] == 2.0
    assert found["Websitebeheerder"]["activities"] == ["digital", "creative"]
    assert found["Gastvrouw of gastheer"]["unmapped"] == {"reward": [vocab.NS + "FreeMeal"]}


def test_round_trip_is_stable(settings: Settings, tmp_path: Path) -> None:
    assert cli(settings, "orgs", "import", str(FIXTURE), "-q").exit_code == 0
    first = vacancies(settings)
    out = tmp_path / "export.jsonld"
    result = cli(settings, "orgs", "export", "--format", "odi", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["@context"] == vocab.CONTEXT and doc["license"] == "CC-BY-4.0"
    assert doc["publisher"] == "https://bot.example.nl"
    assert len(doc["graph"]) == 3
    assert sum(len(o["activity"]) for o in doc["graph"]) == 9
    role = next(
        a["role"][0] for o in doc["graph"] for a in o["activity"] if a["title"] == "Taalmaatje"
    )
    assert vocab.NS + "DBSCheck" in role["requirement"]
    assert role["applyLink"] == "https://buurthuisdelinde.example.nl/taalmaatje"
    assert role["minimumAge"] == "18"

    wipe(settings.database_url)
    result = cli(settings, "orgs", "import", str(out), "-q")
    assert result.exit_code == 0, result.output
    second = vacancies(settings)
    skip = {"last_confirmed_at"}
    assert {t: {k: v for k, v in r.items() if k not in skip} for t, r in second.items()} == {
        t: {k: v for k, v in r.items() if k not in skip} for t, r in first.items()
    }
    # And the document itself is a fixed point.
    again = tmp_path / "again.jsonld"
    assert cli(settings, "orgs", "export", "--out", str(again)).exit_code == 0
    assert json.loads(again.read_text()) == doc


def test_our_ids_without_a_standard_term_round_trip(settings: Settings, tmp_path: Path) -> None:
    rows = [
        {
            "vacancy_id": "v1",
            "organisation_id": "o1",
            "organisation_name": "Festival Zomerpark",
            "title": "Opbouwploeg festival",
            "causes": "events;other",
            "activities": "outdoor;expert",
            "offers": "social;meaningful;practise_dutch",
            "place": "Amersfoort",
            "days": "",
            "dayparts": "evening",
            "publish_end": "2027-01-31",
            "max_open_leads": "5",
        }
    ]
    src = tmp_path / "rows.json"
    src.write_text(json.dumps(rows))
    assert cli(settings, "orgs", "import", str(src), "-q").exit_code == 0
    before = vacancies(settings)
    out = tmp_path / "odi.jsonld"
    assert cli(settings, "orgs", "export", "--out", str(out)).exit_code == 0
    assert vocab.OUR_NS + "cause/events" in out.read_text()
    wipe(settings.database_url)
    assert cli(settings, "orgs", "import", str(out), "-q").exit_code == 0
    after = vacancies(settings)
    v = after["Opbouwploeg festival"]
    assert v["vacancy_id"] == "v1" and v["organisation_id"] == "o1"
    assert v["causes"] == ["events", "other"] and v["activities"] == ["outdoor", "expert"]
    assert v["offers"] == ["social", "meaningful", "practise_dutch"]
    assert v["days"] == [] and v["dayparts"] == ["evening"]
    assert v["publish_end"] == "2027-01-31" and v["max_open_leads"] == 5
    for key in ("causes", "activities", "offers", "lat", "lon", "place", "municipality"):
        assert v[key] == before["Opbouwploeg festival"][key]
    # Our own row format exports too, and imports again.
    rows_out = tmp_path / "rows-out.json"
    exported = cli(settings, "orgs", "export", "--format", "json", "--out", str(rows_out))
    assert exported.exit_code == 0
    (row,) = json.loads(rows_out.read_text())
    assert row["offers"] == ["social", "meaningful", "practise_dutch"]
    assert row["max_open_leads"] == 5 and row["publish_end"] == "2027-01-31"
    assert cli(settings, "orgs", "import", str(rows_out), "-q").exit_code == 0


def test_bad_record_fails_the_file_naming_its_id(settings: Settings, tmp_path: Path) -> None:
    doc = json.loads(FIXTURE.read_text())
    role = doc["graph"][0]["activity"][0]["role"][0]
    role["minimumAge"] = "achttien"
    bad = tmp_path / "bad.jsonld"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ImportFailed) as exc:
        import_file(settings.database_url, bad)
    assert any(
        "https://vacaturebank.example.nl/role/kok" in e.message and "min_age" in e.message
        for e in exc.value.errors
    )
    assert vacancies(settings) == {}


def test_single_organisation_document_and_compact_terms() -> None:
    doc = {
        "@context": vocab.CONTEXT,
        "type": "Organisation",
        "name": "Voedselbank Zwolle",
        "cause": ["volunteering:AntiPoverty"],
        "activity": [
            {
                "title": "Uitgifte",
                "role": [{"title": "Uitgiftevrijwilliger", "minimumAge": 16}],
                "session": {
                    "location": {"address": "Zwolle"},
                    "time": "volunteering:FridayEvening",
                },
            }
        ],
    }
    read = read_document(doc)
    assert not read.errors and not read.unknown
    ((_, row),) = read.rows
    assert row["causes"] == ["poverty"] and row["days"] == ["friday"]
    assert row["dayparts"] == ["evening"] and row["place"] == "Zwolle"
    assert row["title"] == "Uitgiftevrijwilliger"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2-4 hours per week", (2.0, 4.0, False, True)),
        ("One evening per week, 3-hour shift", (3.0, 3.0, False, True)),
        ("One-off, 6 hours", (6.0, 6.0, True, True)),
        ("up to 2 hours", (None, 2.0, False, True)),
        ("Whenever you like", (None, None, False, False)),
    ],
)
def test_commitment(text: str, expected: tuple[Any, ...]) -> None:
    assert parse_commitment(text) == expected
    lo, hi, one_off, understood = expected
    if understood:
        assert parse_commitment(commitment_text(lo, hi, one_off))[:3] == (lo, hi, one_off)


async def test_expired_and_closed_vacancies_are_never_recommended(settings: Settings) -> None:
    from bot.clock import set_now
    from bot.recommender import Recommender

    assert cli(settings, "orgs", "import", str(FIXTURE), "-q").exit_code == 0
    taal = vacancies(settings)["Taalmaatje"]["vacancy_id"]  # publishEnd 2027-06-30
    query = {"place": "Utrecht", "radius_km": 5, "causes": ["refugees"], "lang": "nl"}
    rec = Recommender(settings)

    async def ids() -> list[str]:
        items, _ = await rec(dict(query), 0, 20)
        return [i["vacancy_id"] for i in items]

    try:
        set_now(datetime(2027, 6, 30, 12, tzinfo=UTC))
        assert taal in await ids()
        # The next day the cached catalogue is rebuilt without it.
        set_now(datetime(2027, 7, 1, 0, 1, tzinfo=UTC))
        assert taal not in await ids()
        out = cli(settings, "orgs", "list", "--vacancies", "--json", "--limit", "0")
        assert taal not in out.stdout
        out = cli(settings, "orgs", "list", "--vacancies", "--json", "--limit", "0", "--all")
        assert taal in out.stdout
        # A closed vacancy is left out at once.
        set_now(datetime(2027, 6, 1, tzinfo=UTC))
        assert taal in await ids()
        from bot.orgs.manage import set_closed

        org = vacancies(settings)["Taalmaatje"]["organisation_id"]
        set_closed(settings.database_url, org, taal, datetime(2027, 6, 1, tzinfo=UTC))
        assert taal not in await ids()
    finally:
        set_now(None)


def test_a_full_vacancy_is_not_a_candidate(settings: Settings, tmp_path: Path) -> None:
    from bot.orgs.queries import load_candidates

    rows = [
        {
            "vacancy_id": f"v{n}",
            "organisation_id": "o1",
            "organisation_name": "Buurthuis",
            "title": f"Vacature {n}",
            "place": "Utrecht",
            "max_open_leads": 2 if n == 1 else None,
        }
        for n in (1, 2)
    ]
    src = tmp_path / "rows.json"
    src.write_text(json.dumps(rows))
    import_file(settings.database_url, src)
    from bot.store.conversations import leads

    engine = get_sync_engine(settings.database_url)
    try:
        for status in ("new", "delivered", "new"):
            ids = [c.vacancy_id for c in load_candidates(settings.database_url)]
            assert "v1" in ids and "v2" in ids  # room for 2: one waiting, one answered
            with engine.begin() as conn:
                conn.execute(
                    leads.insert().values(
                        conversation_id="c",
                        vacancy_id="v1",
                        channel="rest",
                        status=status,
                        created_at=datetime(2026, 12, 1, tzinfo=UTC),
                    )
                )
    finally:
        engine.dispose()
    assert [c.vacancy_id for c in load_candidates(settings.database_url)] == ["v2"]
