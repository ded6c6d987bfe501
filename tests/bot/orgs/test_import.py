"""`orgs import`: CSV and JSON, all or nothing, bad rows named by line, update by id."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.orgs.importer import ImportFailed, import_file, read_json
from bot.orgs.rows import COLUMNS
from bot.store.db import get_sync_engine

runner = CliRunner()


def row(n: int, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "vacancy_id": f"v{n}",
        "organisation_id": f"o{n % 3}",
        "organisation_name": f"Organisatie {n % 3}",
        "title": f"Vacature {n}",
        "description": "Iets leuks doen",
        "causes": "sport;youth",
        "activities": "teaching;social",
        "postcode": "3511 AB",
        "place": "Utrecht",
        "lat": "",
        "lon": "",
        "hours_min": "2",
        "hours_max": "4",
        "days": "saturday",
        "dayparts": "morning;afternoon",
        "one_off": "false",
        "remote": "false",
        "min_age": "16",
        "vog_required": "true",
        "contact_email": "info@example.org",
        "url": "https://example.org",
    }
    base.update(kw)
    return base


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*COLUMNS, "ignored_extra"])
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, "ignored_extra": "whatever"})
    return path


def write_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return path


def counts(url: str) -> tuple[int, int]:
    engine = get_sync_engine(url)
    with engine.connect() as conn:
        orgs = conn.execute(text("SELECT count(*) FROM organisations")).scalar_one()
        vacs = conn.execute(text("SELECT count(*) FROM vacancies")).scalar_one()
    engine.dispose()
    return int(orgs), int(vacs)


def vacancy(url: str, vid: str) -> dict[str, Any]:
    engine = get_sync_engine(url)
    with engine.connect() as conn:
        r = conn.execute(text("SELECT * FROM vacancies WHERE id = :id"), {"id": vid}).one()
    engine.dispose()
    return dict(r._mapping)


def test_csv_imports_and_geocodes(settings: Settings, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "v.csv", [row(i) for i in range(6)] + [row(9, postcode="", place="Den Bosch")]
    )
    result = import_file(settings.database_url, path)
    assert (result.vacancies, result.created, result.updated) == (7, 7, 0)
    assert counts(settings.database_url) == (3, 7)
    v = vacancy(settings.database_url, "v1")
    assert v["postcode"] == "3511AB" and v["municipality"] == "Utrecht"
    assert abs(v["lat"] - 52.09) < 0.05 and abs(v["lon"] - 5.12) < 0.05
    assert v["min_age"] == 16 and v["vog_required"] in (True, 1)
    bosch = vacancy(settings.database_url, "v9")
    assert bosch["municipality"] == "'s-Hertogenbosch"


def test_json_imports_with_native_types(settings: Settings, tmp_path: Path) -> None:
    rows = [
        row(
            1,
            causes=["care"],
            activities=["caring"],
            lat=52.37,
            lon=4.89,
            postcode="",
            one_off=True,
            remote=False,
            min_age=None,
            hours_min=1,
            hours_max=None,
        ),
        row(2, remote=True, postcode="", place="", lat=None, lon=None),
    ]
    result = import_file(settings.database_url, write_json(tmp_path / "v.json", rows))
    assert result.vacancies == 2
    v = vacancy(settings.database_url, "v1")
    assert v["municipality"] == "Amsterdam" and v["one_off"] in (True, 1)
    assert json.loads(v["causes"]) if isinstance(v["causes"], str) else v["causes"] == ["care"]
    assert vacancy(settings.database_url, "v2")["lat"] is None  # remote work needs no place


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_one_bad_row_imports_nothing_and_names_the_line(
    settings: Settings, tmp_path: Path, fmt: str
) -> None:
    rows = [row(i) for i in range(5)]
    rows[3] = row(3, causes="sport;knitting")
    path = (write_csv if fmt == "csv" else write_json)(tmp_path / f"v.{fmt}", rows)
    with pytest.raises(ImportFailed) as info:
        import_file(settings.database_url, path)
    assert counts(settings.database_url) == (0, 0)
    [error] = info.value.errors
    assert "knitting" in error.message
    expected_line = (
        5
        if fmt == "csv"
        else next(n for n, line in enumerate(path.read_text().splitlines(), 1) if '"v3"' in line)
        - 1
    )  # the object starts on the line of its "{"
    assert error.line == expected_line


def test_every_bad_row_is_reported(settings: Settings, tmp_path: Path) -> None:
    rows = [
        row(1, postcode="", place="Nergenshuizen"),
        row(2, lat="52.1", lon=""),
        row(3, hours_min="5", hours_max="2"),
        row(4, contact_email="not-an-email", url="ftp://x"),
        row(5, postcode="0000 AA", place=""),
        row(6, one_off="misschien"),
        row(7, lat="48.85", lon="2.35", postcode=""),
        row(8, title=""),
        row(1),  # duplicate id
        row(10, organisation_id="o1", organisation_name="Een andere naam"),
        row(11, days="zaterdag", min_age="abc"),
        row(12, postcode="", place="", remote="false"),
    ]
    with pytest.raises(ImportFailed) as info:
        import_file(settings.database_url, write_csv(tmp_path / "bad.csv", rows))
    by_line: dict[int, list[str]] = {}
    for e in info.value.errors:
        by_line.setdefault(e.line, []).append(e.message)
    assert "Nergenshuizen" in by_line[2][0]
    assert "lat and lon go together" in by_line[3][0]
    assert "hours_min" in by_line[4][0]
    assert len(by_line[5]) == 2
    assert "postcode" in by_line[6][0]
    assert "true or false" in by_line[7][0]
    assert "outside the Netherlands" in by_line[8][0]
    assert "title is missing" in by_line[9][0]
    assert "already used on line 2" in by_line[10][0]
    assert "named" in by_line[11][0]
    assert len(by_line[12]) == 2
    assert "no location" in by_line[13][0]
    assert counts(settings.database_url) == (0, 0)


def test_reimport_updates_by_id(settings: Settings, tmp_path: Path) -> None:
    import_file(settings.database_url, write_csv(tmp_path / "a.csv", [row(1), row(2)]))
    again = [row(1, title="Nieuwe titel"), row(3)]
    result = import_file(settings.database_url, write_csv(tmp_path / "b.csv", again))
    assert (result.created, result.updated) == (1, 1)
    assert counts(settings.database_url)[1] == 3
    assert vacancy(settings.database_url, "v1")["title"] == "Nieuwe titel"


def test_semicolon_csv_and_missing_columns(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(
        "vacancy_id;organisation_id;organisation_name;title;place;causes\n"
        'x1;o1;Club;Trainer;Utrecht;"sport|youth"\n',
        encoding="utf-8-sig",
    )
    assert import_file(settings.database_url, path).vacancies == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("vacancy_id,title\nx,y\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(settings.database_url, bad)
    assert info.value.errors[0].line == 1
    assert "organisation_id" in info.value.errors[0].message


def test_json_line_numbers_and_shapes() -> None:
    text_ = '[\n {"a": 1},\n\n {"b": 2}\n]'
    assert [n for n, _ in read_json(text_)] == [2, 4]
    wrapped = '{"vacancies": [\n{"a": 1},\n{"b": 2}]}'
    assert [n for n, _ in read_json(wrapped)] == [2, 3]
    lines = '{"a": 1}\n{"b": 2}\n'
    assert [n for n, _ in read_json(lines)] == [1, 2]
    with pytest.raises(ImportFailed) as info:
        list(read_json('[\n{"a": 1},\n{"b": }\n]'))
    assert info.value.errors[0].line == 3


def test_cli_import_and_list(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import get_settings

    monkeypatch.setenv("VK_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        bad = write_csv(tmp_path / "bad.csv", [row(1), row(2, min_age="-4")])
        result = runner.invoke(app, ["orgs", "import", str(bad), "--quiet"])
        assert result.exit_code == 1
        assert "line 3" in result.stderr and "min_age" in result.stderr
        good = write_csv(tmp_path / "good.csv", [row(i) for i in range(4)])
        result = runner.invoke(app, ["orgs", "import", str(good)])
        assert result.exit_code == 0, result.output
        assert "imported 4 vacancies" in result.stdout
        result = runner.invoke(app, ["orgs", "list", "--json"])
        orgs = json.loads(result.stdout)
        assert {o["id"] for o in orgs} == {"o0", "o1", "o2"}
        assert sum(o["vacancy_count"] for o in orgs) == 4
        result = runner.invoke(
            app, ["orgs", "list", "--json", "--vacancies", "--cause", "sport", "--near", "3511"]
        )
        vacancies = json.loads(result.stdout)
        assert len(vacancies) == 4 and all(v["distance_km"] < 1 for v in vacancies)
        result = runner.invoke(app, ["orgs", "list", "--json", "--cause", "animals"])
        assert json.loads(result.stdout) == []
    finally:
        get_settings.cache_clear()
