"""`orgs sync` against a real HTTP server on 127.0.0.1 serving fixture feeds with an ETag."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.orgs.feeds import configured_feeds, feed_id_for, list_feeds, sync_feed
from bot.orgs.freshness import mark_notice_sent, pending_notices
from bot.orgs.odi import vacancy_id_for
from bot.orgs.queries import Filters, list_vacancies
from bot.store.db import get_sync_engine

FIXTURE = Path(__file__).parent / "fixtures" / "vacaturebank.jsonld"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ROLE = "https://vacaturebank.example.nl/role/"


class Feeds:
    """Documents served by path; answers If-None-Match with 304; counts what it answered."""

    def __init__(self) -> None:
        self.docs: dict[str, Any] = {}
        self.log: list[tuple[str, int]] = []

    def body(self, path: str) -> tuple[bytes, str]:
        raw = json.dumps(self.docs[path]).encode()
        return raw, '"' + hashlib.sha1(raw).hexdigest()[:16] + '"'


@pytest.fixture
def feeds() -> Iterator[tuple[Feeds, str]]:
    state = Feeds()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path not in state.docs:
                state.log.append((self.path, 404))  # logged before answering: no race
                self.send_response(404)
                self.end_headers()
                return
            raw, etag = state.body(self.path)
            if self.headers.get("If-None-Match") == etag:
                state.log.append((self.path, 304))
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            state.log.append((self.path, 200))
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", "Tue, 01 Dec 2026 08:00:00 GMT")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fixture_doc() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def roles(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for org in doc["graph"]:
        for act in org["activity"]:
            yield from act["role"]


def snapshot(url: str) -> list[tuple[Any, ...]]:
    engine = get_sync_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM vacancies ORDER BY id")).all()
        rows += conn.execute(text("SELECT * FROM vacancy_feeds")).all()
        rows += conn.execute(text("SELECT * FROM organisations ORDER BY id")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def add_lead(url: str, vacancy_id: str, status: str = "new") -> None:
    from bot.store.conversations import leads

    engine = get_sync_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                leads.insert().values(
                    conversation_id="c1",
                    vacancy_id=vacancy_id,
                    channel="rest",
                    status=status,
                    created_at=NOW,
                )
            )
    finally:
        engine.dispose()


def by_id(url: str) -> dict[str, dict[str, Any]]:
    return {v["vacancy_id"]: v for v in list_vacancies(url, Filters(limit=0, open_only=False))}


def test_sync_applies_changes_incrementally(settings: Settings, feeds: tuple[Feeds, str]) -> None:
    server, base = feeds
    db = settings.database_url
    doc = fixture_doc()
    server.docs["/feed.jsonld"] = doc
    url = base + "/feed.jsonld"

    first = sync_feed(db, url, NOW)
    assert first.status == "applied", first.error
    assert len(first.created) == 9 and not first.rejected
    assert first.licence == "CC-BY-4.0"
    assert {t.split(": ")[1].rsplit("/", 1)[1] for t in first.unknown_terms} == {
        "Unemployment",
        "FreeMeal",
        "PilotLicense",
        "WeekendAnytime",
    }
    feed = list_feeds(db)[0]
    assert feed["url"] == url and feed["licence"] == "CC-BY-4.0"
    assert feed["publisher"] == "https://vrijwilligerswerk-voorbeeld.nl/"
    assert feed["etag"] and feed["counts"]["created"] == 9
    assert {v["feed_id"] for v in by_id(db).values()} == {feed_id_for(url)}
    # Re-published, each vacancy keeps its feed's licence and source.
    from datetime import date

    from bot.orgs.export import export_odi

    doc_out = export_odi(
        db, licence="CC0-1.0", publisher="https://bot.example.nl", today=date(2026, 12, 1)
    )
    activities = [a for o in doc_out["graph"] for a in o["activity"]]
    assert len(activities) == 9
    assert {(a["license"], a["isBasedOn"]) for a in activities} == {("CC-BY-4.0", url)}

    # Unchanged feed: the server answers 304 and nothing in the database changes.
    before = snapshot(db)
    second = sync_feed(db, url, NOW + timedelta(hours=1))
    assert second.status == "not_modified" and server.log[-1] == ("/feed.jsonld", 304)
    assert snapshot(db) == before

    # Changed feed: one role edited, one added, two gone (one with someone waiting),
    # one record broken.
    kok = vacancy_id_for(ROLE + "kok")
    bezoeker = vacancy_id_for(ROLE + "bezoeker")
    vogel = vacancy_id_for(ROLE + "vogeltellers")
    add_lead(db, kok)
    add_lead(db, vogel, status="delivered")
    changed = copy.deepcopy(doc)
    linde = changed["graph"][0]["activity"][0]
    linde["role"] = [r for r in linde["role"] if r["id"] != ROLE + "kok"]
    natuur = changed["graph"][2]["activity"][0]
    natuur["role"] = [r for r in natuur["role"] if r["id"] != ROLE + "vogeltellers"]
    for r in roles(changed):
        if r["id"] == ROLE + "bezoeker":
            r["minimumAge"] = "16"
        if r["id"] == ROLE + "websitebeheer":
            r["minimumAge"] = "zestien"
    natuur["role"].append(
        {
            "id": ROLE + "slootjesdag",
            "title": "Slootjesdag begeleider",
            "commitment": "One-off, 4 hours",
            "applyLink": "https://stadsnatuur.example.nl/slootjes",
            "allowsRemoteParticipation": False,
            "minimumAge": "18",
        }
    )
    server.docs["/feed.jsonld"] = changed
    third = sync_feed(db, url, NOW + timedelta(days=1))
    assert third.status == "applied", third.error
    assert third.created == [vacancy_id_for(ROLE + "slootjesdag")]
    assert third.updated == [bezoeker]
    assert third.withdrawn == sorted([kok, vogel])
    assert third.unchanged == 5
    assert [(rid, "min_age" in p) for rid, p in third.rejected] == [(ROLE + "websitebeheer", True)]
    # The organisation must hear about the withdrawn vacancy somebody is waiting on.
    assert [(n["vacancy_id"], n["kind"], n["data"]["open_leads"]) for n in third.notices] == [
        (kok, "withdrawn", 1)
    ]
    notices = pending_notices(db)
    assert [(n["vacancy_id"], n["organisation_id"]) for n in notices] == [
        (kok, third.notices[0]["organisation_id"])
    ]
    mark_notice_sent(db, notices[0]["id"], NOW)
    assert pending_notices(db) == []

    rows = by_id(db)
    assert rows[bezoeker]["min_age"] == 16
    assert rows[kok]["closed"] is True and rows[kok]["closed_reason"] == "withdrawn"
    assert rows[vogel]["closed"] is True  # hidden, not deleted
    open_ids = {v["vacancy_id"] for v in list_vacancies(db, Filters(limit=0))}
    assert kok not in open_ids and vogel not in open_ids and bezoeker in open_ids
    # A record that failed validation keeps its last good version.
    assert rows[vacancy_id_for(ROLE + "websitebeheer")]["min_age"] == 16

    # The kok comes back: reopened.
    server.docs["/feed.jsonld"] = doc
    fourth = sync_feed(db, url, NOW + timedelta(days=2))
    assert kok in fourth.reopened and vogel in fourth.reopened
    assert by_id(db)[kok]["closed"] is False


def test_duplicates_across_feeds_keep_the_most_recent(
    settings: Settings, feeds: tuple[Feeds, str]
) -> None:
    server, base = feeds
    db = settings.database_url
    older = fixture_doc()
    newer = copy.deepcopy(older)
    newer["modified"] = "2026-11-28"
    for org in newer["graph"]:
        org["id"] = org["id"].replace("vacaturebank", "andere-bank")
        org["name"] = (
            "Stichting " + org["name"] if org["name"] == "Buurthuis De Linde" else org["name"]
        )
        for act in org["activity"]:
            act.pop("id", None)
            for r in act["role"]:
                r["id"] = r["id"].replace("vacaturebank", "andere-bank")
                r["title"] = r["title"].replace("buurteettafel", "buurt-eettafel")
    # Only one organisation in the other bank; a different place for one of its roles.
    newer["graph"] = [newer["graph"][0]]
    newer["graph"][0]["activity"][1]["session"][0]["location"].update(
        latitude="52.0907", longitude="5.0700"
    )
    server.docs["/a.jsonld"] = older
    server.docs["/b.jsonld"] = newer
    sync_feed(db, base + "/a.jsonld", NOW)
    report = sync_feed(db, base + "/b.jsonld", NOW)
    old_ids = {vacancy_id_for(ROLE + n) for n in ("kok", "gastvrouw")}
    assert set(report.duplicates) == old_ids
    rows = by_id(db)
    for vid in old_ids:
        assert rows[vid]["closed_reason"] == "duplicate"
        assert rows[rows[vid]["duplicate_of"]]["feed_id"] == feed_id_for(base + "/b.jsonld")
    # The Taalmaatje is 4 km away in the other feed: not a duplicate.
    taal = vacancy_id_for(ROLE + "taalmaatje")
    assert rows[taal]["closed"] is False
    # The newer copy leaves feed b: the older one is shown again.
    newer["graph"][0]["activity"] = []
    server.docs["/b.jsonld"] = newer
    sync_feed(db, base + "/b.jsonld", NOW + timedelta(days=1))
    rows = by_id(db)
    assert all(rows[vid]["closed"] is False for vid in old_ids)


def test_bad_feeds_are_reported_not_raised(settings: Settings, feeds: tuple[Feeds, str]) -> None:
    server, base = feeds
    missing = sync_feed(settings.database_url, base + "/nope.jsonld", NOW)
    assert missing.status == "failed" and missing.error == "HTTP 404"
    server.docs["/rows.json"] = [{"vacancy_id": "v1"}]
    wrong = sync_feed(settings.database_url, base + "/rows.json", NOW)
    assert wrong.status == "failed" and "Volunteering Data Standard" in (wrong.error or "")
    closed = sync_feed(settings.database_url, "http://127.0.0.1:9/feed", NOW)
    assert closed.status == "failed" and "cannot fetch" in (closed.error or "")
    assert list_feeds(settings.database_url) == []


def test_cli_sync_uses_configured_feeds(settings: Settings, feeds: tuple[Feeds, str]) -> None:
    server, base = feeds
    server.docs["/feed.jsonld"] = fixture_doc()
    from bot.config import get_settings

    env = {
        "VK_DATABASE_URL": settings.database_url,
        "VK_FEEDS": json.dumps([base + "/feed.jsonld"]),
    }
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["orgs", "sync", "--json", "-q"], env=env)
        assert result.exit_code == 0, result.output
        (report,) = json.loads(result.stdout)
        assert len(report["created"]) == 9 and report["status"] == "applied"
        result = CliRunner().invoke(app, ["orgs", "sync", base + "/feed.jsonld", "-q"], env=env)
        assert "not modified" in result.stdout
    finally:
        get_settings.cache_clear()


def test_configured_feeds_accepts_json_or_commas() -> None:
    assert configured_feeds(Settings(feeds="https://a.nl/f, https://b.nl/g")) == [
        "https://a.nl/f",
        "https://b.nl/g",
    ]
    assert configured_feeds(Settings(feeds='["https://a.nl/f"]')) == ["https://a.nl/f"]
    assert configured_feeds(Settings(feeds="")) == []
