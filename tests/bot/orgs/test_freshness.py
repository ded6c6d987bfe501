""" "Nog nodig?": stale vacancies are found, asked, confirmed or hidden after the grace period."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import set_now
from bot.config import Settings
from bot.orgs.freshness import confirm_open, hide_unconfirmed, mark_asked, stale_vacancies
from bot.orgs.importer import import_file
from bot.orgs.queries import Filters, list_vacancies

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def load(settings: Settings, tmp_path: Path) -> None:
    rows = [
        {
            "vacancy_id": f"v{n}",
            "organisation_id": "o1",
            "organisation_name": "Buurthuis",
            "title": f"Vacature {n}",
            "place": "Utrecht",
            "contact_email": "vacatures@buurthuis.example.nl",
        }
        for n in (1, 2)
    ]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    try:
        set_now(T0)
        import_file(settings.database_url, path)
    finally:
        set_now(None)


def open_ids(url: str) -> set[str]:
    return {v["vacancy_id"] for v in list_vacancies(url, Filters(limit=0))}


def test_nog_nodig_flow(settings: Settings, tmp_path: Path) -> None:
    db = settings.database_url
    load(settings, tmp_path)
    assert stale_vacancies(db, T0 + timedelta(weeks=7), weeks=8) == []
    later = T0 + timedelta(weeks=9)
    stale = stale_vacancies(db, later, weeks=8)
    assert [(s["vacancy_id"], s["contact_email"]) for s in stale] == [
        ("v1", "vacatures@buurthuis.example.nl"),
        ("v2", "vacatures@buurthuis.example.nl"),
    ]
    assert mark_asked(db, "v1", later) and mark_asked(db, "v2", later)
    assert stale_vacancies(db, later, weeks=8) == []  # asked once, not again
    # v1's contact taps "still open"; v2 stays silent.
    assert confirm_open(db, "v1", later + timedelta(days=2))
    assert hide_unconfirmed(db, later + timedelta(days=13), grace_days=14) == []
    assert hide_unconfirmed(db, later + timedelta(days=14), grace_days=14) == ["v2"]
    assert open_ids(db) == {"v1"}
    # A late "still open" brings it back; unknown ids are refused.
    assert confirm_open(db, "v2", later + timedelta(days=20))
    assert open_ids(db) == {"v1", "v2"}
    assert not confirm_open(db, "nope", later)
    # Confirmed vacancies are fresh again for another period.
    assert stale_vacancies(db, later + timedelta(weeks=7), weeks=8) == []
