"""`orgs export`: our open vacancies as a Volunteering Data Standard document (or as rows)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.orgs.odi import build_document
from bot.orgs.queries import Filters, list_vacancies
from bot.orgs.rows import VACANCY_FIELDS


def _organisations(url: str, ids: set[str]) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from bot.store.db import get_sync_engine
    from bot.store.organisations import ORGANISATIONS as O

    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(O)).mappings().all()
    finally:
        engine.dispose()
    return [dict(r) for r in rows if r["id"] in ids]


def export_odi(url: str, *, licence: str, publisher: str, today: date) -> dict[str, Any]:
    """Every open vacancy, grouped per organisation, with dataset metadata.

    A vacancy that came from a feed keeps that feed's licence and source on its activity
    (`license`, `isBasedOn`): the dataset's own licence does not cover it."""
    from bot.orgs.feeds import list_feeds

    vacancies = list_vacancies(url, Filters(limit=0))
    orgs = _organisations(url, {v["organisation_id"] for v in vacancies})
    feeds = {f["id"]: f for f in list_feeds(url)}
    doc = build_document(orgs, vacancies, licence=licence, publisher=publisher, modified=today)
    origin = {v["vacancy_id"]: feeds.get(v["feed_id"] or "") for v in vacancies}
    for org in doc["graph"]:
        for activity in org["activity"]:
            feed = origin.get(activity["id"].rsplit(":", 1)[-1])
            if feed is not None:
                activity["isBasedOn"] = feed["url"]
                if feed.get("licence"):
                    activity["license"] = feed["licence"]
    return doc


def export_rows(url: str) -> list[dict[str, Any]]:
    """Every open vacancy in the import format (CSV/JSON columns), ready to import again."""
    out: list[dict[str, Any]] = []
    for v in list_vacancies(url, Filters(limit=0)):
        out.append(
            {
                "vacancy_id": v["vacancy_id"],
                "organisation_id": v["organisation_id"],
                "organisation_name": v["organisation"],
                **{k: v[k] for k in (*VACANCY_FIELDS, "municipality")},
            }
        )
    return out
