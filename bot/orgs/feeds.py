"""`orgs sync`: keep vacancies from a Volunteering Data Standard feed up to date.

`sync_feed(db_url, url, now)` is the whole job (the CLI and a scheduled job both call it):
a conditional GET (If-None-Match / If-Modified-Since; a 304 writes nothing), then per
record validation with the importer's rules (a bad record is reported with its @id and
skipped, the rest goes on), then one transaction that adds new vacancies, updates changed
ones (compared by a hash of the record), closes withdrawn ones (absent from the feed:
hidden, never deleted) and records what the organisation must be told when people are
waiting on a withdrawn vacancy (a row in `vacancy_notices`, returned in the report as well;
sending it is the e-mail job's work). Each vacancy keeps its feed id; the feed keeps its
licence and publisher. Finally duplicates across feeds are hidden (bot/orgs/dedupe.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from bot.config import Settings

Progress = Callable[[str, int, int], None]
MAX_BYTES = 50 * 1024 * 1024
USER_AGENT = "vrijwilligerskracht-feed-sync/1"


@dataclass
class SyncReport:
    """What one sync did, for the CLI, a job's log and the organisation's notifications."""

    url: str
    feed_id: str
    status: str = "failed"  # not_modified | applied | failed
    http_status: int | None = None
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    unchanged: int = 0
    withdrawn: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    unknown_terms: list[str] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    licence: str | None = None
    publisher: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rejected"] = [{"id": rid, "problem": p} for rid, p in self.rejected]
        return out

    def summary(self) -> str:
        if self.status == "not_modified":
            return f"{self.url}: not modified (nothing to do)"
        if self.status == "failed":
            return f"{self.url}: failed: {self.error}"
        return (
            f"{self.url}: {len(self.created)} new, {len(self.updated)} changed, "
            f"{len(self.reopened)} reopened, {self.unchanged} unchanged, "
            f"{len(self.withdrawn)} withdrawn, {len(self.duplicates)} duplicate(s) hidden, "
            f"{len(self.rejected)} rejected; licence {self.licence or 'unknown'}"
        )


def feed_id_for(url: str) -> str:
    return "feed-" + hashlib.sha1(url.encode()).hexdigest()[:12]


def configured_feeds(settings: Settings) -> list[str]:
    """VK_FEEDS: a JSON list or comma-separated URLs."""
    raw = settings.feeds.strip()
    if not raw:
        return []
    if raw.startswith("["):
        data = json.loads(raw)
        return [str(u).strip() for u in data if str(u).strip()]
    return [u.strip() for u in raw.split(",") if u.strip()]


def _fetch(
    url: str, feed: dict[str, Any] | None, client: httpx.Client | None
) -> tuple[int, bytes, dict[str, str]]:
    import httpx

    headers = {"User-Agent": USER_AGENT, "Accept": "application/ld+json, application/json"}
    if feed and feed.get("etag"):
        headers["If-None-Match"] = feed["etag"]
    if feed and feed.get("last_modified"):
        headers["If-Modified-Since"] = feed["last_modified"]
    own = client is None
    http = client or httpx.Client(timeout=30.0, follow_redirects=True)
    try:
        with http.stream("GET", url, headers=headers) as response:
            body = b""
            if response.status_code == 200:
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise ValueError(f"the feed is larger than {MAX_BYTES} bytes")
            return response.status_code, body, dict(response.headers)
    finally:
        if own:
            http.close()


def _record_hash(raw: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def sync_feed(
    db_url: str,
    url: str,
    now: datetime,
    *,
    progress: Progress | None = None,
    client: httpx.Client | None = None,
) -> SyncReport:
    """Fetch `url` conditionally and apply its changes; never raises for a bad feed."""
    import httpx

    from bot.orgs.odi import is_odi, read_document

    feed_id = feed_id_for(url)
    report = SyncReport(url=url, feed_id=feed_id)
    feed = _load_feed(db_url, feed_id)
    if progress is not None:
        progress("fetching", 0, 1)
    try:
        status, body, headers = _fetch(url, feed, client)
    except (httpx.HTTPError, ValueError) as exc:
        report.error = f"cannot fetch: {exc}"
        return report
    if progress is not None:
        progress("fetching", 1, 1)
    report.http_status = status
    if status == 304:
        report.status = "not_modified"
        return report
    if status != 200:
        report.error = f"HTTP {status}"
        return report
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.error = f"not JSON: {exc}"
        return report
    if not is_odi(doc):
        report.error = "not a Volunteering Data Standard document"
        return report
    read = read_document(doc, feed_id=feed_id)
    report.licence, report.publisher = read.licence, read.publisher
    report.unknown_terms = read.unknown_terms()
    report.rejected.extend(read.errors)
    checked = _check(read.rows, report, progress)
    from bot.orgs.apply import apply_feed

    apply_feed(
        db_url,
        feed={
            "id": feed_id,
            "url": url,
            "etag": headers.get("etag"),
            "last_modified": headers.get("last-modified"),
            "licence": read.licence,
            "publisher": read.publisher,
            "modified": read.modified,
        },
        checked=checked,
        listed={str(raw["vacancy_id"]) for _, raw in read.rows},
        report=report,
        now=now,
        progress=progress,
    )
    report.status = "applied"
    return report


def _check(
    rows: list[tuple[str, dict[str, Any]]], report: SyncReport, progress: Progress | None
) -> list[tuple[Any, Any, str]]:
    """(organisation, vacancy, record hash) of every valid record; the rest is rejected."""
    from bot.orgs.importer import _CachedGeo
    from bot.orgs.rows import parse_row

    geo = _CachedGeo()
    out: list[tuple[Any, Any, str]] = []
    seen: set[str] = set()
    for n, (rid, raw) in enumerate(rows, start=1):
        if progress is not None and (n % 200 == 0 or n == len(rows)):
            progress("checking", n, len(rows))
        parsed = parse_row(raw, geo)
        if parsed.errors:
            report.rejected.append((rid, "; ".join(parsed.errors)))
            continue
        assert parsed.org is not None and parsed.vacancy is not None
        if parsed.vacancy.id in seen:
            report.rejected.append((rid, "the same role appears twice in the feed"))
            continue
        seen.add(parsed.vacancy.id)
        out.append((parsed.org, parsed.vacancy, _record_hash(raw)))
    return out


def _load_feed(db_url: str, feed_id: str) -> dict[str, Any] | None:
    from sqlalchemy import select

    from bot.store.db import get_sync_engine
    from bot.store.organisations import FEEDS

    engine = get_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(FEEDS).where(FEEDS.c.id == feed_id)).mappings().first()
    finally:
        engine.dispose()
    return dict(row) if row else None


def list_feeds(db_url: str) -> list[dict[str, Any]]:
    """Every synced feed with its licence, publisher, validators and last counts."""
    from sqlalchemy import select

    from bot.store.db import get_sync_engine
    from bot.store.organisations import FEEDS

    engine = get_sync_engine(db_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(FEEDS).order_by(FEEDS.c.url)).mappings()]
    finally:
        engine.dispose()


def sync_configured(db_url: str, settings: Settings, now: datetime) -> list[SyncReport]:
    """Every feed of VK_FEEDS, one after another (what a scheduled job runs)."""
    return [sync_feed(db_url, url, now) for url in configured_feeds(settings)]
