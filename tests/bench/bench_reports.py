"""Reports at scale: `report funnel` and /admin over 1 000 000 journeys, SQLite and Postgres.

Run (never part of the unit run):

    .venv/bin/python -m tests.bench.bench_reports --db sqlite   [--journeys 1000000]
    .venv/bin/python -m tests.bench.bench_reports --db postgres [--pg-url postgresql+asyncpg://...]
    .venv/bin/python -m tests.bench.bench_reports --db sqlite --journeys 20000 --verify

It builds a fresh database with N journeys as the pipeline writes them (event rows with
campaigns, channels, provinces and days; drop-off along the real quiz's questions; profiles and
causes), bulk-inserted (executemany on SQLite, COPY on Postgres). The report counters for that
history are built in the same pass with the refresh's own fold (`bot.analytics.journeys`), and
the high-water mark is set past the last event: the state an incremental refresh reaches once it
has caught up. `--verify` instead wipes the counters, runs the real incremental refresh over all
events and checks it produces exactly the same counters (use it at a small N).

Then it measures, with the refresh running before each report as in production:
- `funnel_report` (everything `report funnel` and /admin show) for common scopes: everything,
  one campaign, one campaign in one week, one channel, one province, channel + province + week;
- /admin/report.json and the /admin page over HTTP (ASGI, admin token), and the
  `vrijwilligerskracht report funnel --format json` command as a subprocess (process start
  included);
- the refresh cost per 10 000 new events (new journeys and journeys going on).
Results are printed and written to var/bench/reports-<db>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGNS = [
    ("radio", 30),
    ("poster-utrecht", 8),
    ("poster-rotterdam", 8),
    ("vriend", 6),
    ("bibliotheek", 5),
    ("acme", 3),
    ("school-nl", 4),
    ("gemeente-zwolle", 3),
    ("festival", 4),
    ("huisarts", 2),
    ("krant", 5),
    (None, 22),
]
CHANNELS = [("web", 45), ("whatsapp", 30), ("telegram", 20), ("rest", 5)]
REGIONS = [
    ("Zuid-Holland", 21),
    ("Noord-Holland", 17),
    ("Noord-Brabant", 15),
    ("Gelderland", 12),
    ("Utrecht", 8),
    ("Overijssel", 7),
    ("Limburg", 6),
    ("Friesland", 4),
    ("Groningen", 3),
    ("Drenthe", 3),
    ("Flevoland", 2),
    ("Zeeland", 2),
]
# How far journeys get: (stage, weight); "started" journeys stop at a random question.
REACH = [
    ("entries", 25),
    ("consent", 10),
    ("started", 20),
    ("completed", 15),
    ("recommendations_shown", 20),
    ("want_to_help", 10),
]
DAY0 = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
COLUMNS = (
    "id",
    "conversation_id",
    "name",
    "data",
    "question",
    "campaign",
    "channel",
    "region",
    "created_at",
)


def weighted(pairs: list[tuple[Any, int]]) -> tuple[list[Any], list[int]]:
    return [p for p, _ in pairs], [w for _, w in pairs]


@dataclass
class Template:
    """The events of one kind of journey (without who, where and when)."""

    events: list[tuple[str, str | None, str]]  # name, question, data (JSON)
    region_from: int  # events from this index on carry the province (the place answer)


def templates(rng: random.Random) -> list[tuple[Template, int]]:
    from bot.content import load_quiz

    quiz = load_quiz()
    questions = list(quiz.questions)
    profiles = [p.id for p in quiz.profiles]
    out: list[tuple[Template, int]] = []
    for stage, weight in REACH:
        variants = 60 if stage != "entries" else 1
        for _ in range(variants):
            ev: list[tuple[str, str | None, str]] = [("started_chat", None, '{"lang":"nl"}')]
            region_from = 10**9
            if stage != "entries":
                ev += [("consent", None, "{}"), ("quiz_started", None, "{}")]
                if stage == "consent":
                    last = 0
                elif stage == "started":
                    last = rng.randrange(1, len(questions))
                else:
                    last = len(questions)
                for i, q in enumerate(questions):
                    ev.append(("question_shown", q.id, json.dumps({"question": q.id})))
                    if i >= last:
                        break
                    data: dict[str, Any] = {"question": q.id}
                    if q.feeds == "causes":
                        picks = rng.sample([o.id for o in q.options], k=rng.randint(1, 2))
                        data["options"] = picks
                    elif q.options:
                        data["option"] = rng.choice(q.options).id
                    if rng.random() < 0.04:
                        ev.append(("skipped", q.id, json.dumps({"question": q.id})))
                    else:
                        ev.append(("answered", q.id, json.dumps(data)))
                    if q.id == "place":
                        region_from = len(ev)
                if last == len(questions):
                    profile = rng.choice(profiles)
                    ev.append(("completed", None, json.dumps({"profile": profile})))
                if stage in ("recommendations_shown", "want_to_help"):
                    ev.append(("recommendations_shown", None, '{"count":3,"offset":0}'))
                if stage == "want_to_help":
                    ev.append(("want_to_help", None, "{}"))
            out.append((Template(ev, region_from), weight * 1000 // variants))
    return out


def ts_sqlite(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Built:
    events: int
    counts: Counter[tuple[Any, ...]]
    journeys: list[tuple[str, int, str]]


class Generator:
    """Journeys, their event rows and (by the refresh's own fold) their report state."""

    def __init__(self, seed: int, days: int, sqlite: bool) -> None:
        self.rng = random.Random(seed)
        self.days = days
        self.sqlite = sqlite
        self.templates, self.weights = zip(*templates(self.rng), strict=True)
        self.campaigns = weighted(CAMPAIGNS)
        self.channels = weighted(CHANNELS)
        self.regions = weighted(REGIONS)
        self.next_id = 1

    def journeys(self, n: int) -> Iterator[tuple[str, Template, str | None, str, str, datetime]]:
        rng = self.rng
        picks = rng.choices(range(len(self.templates)), self.weights, k=n)
        campaigns = rng.choices(*self.campaigns, k=n)
        channels = rng.choices(*self.channels, k=n)
        regions = rng.choices(*self.regions, k=n)
        for i in range(n):
            start = DAY0 + timedelta(seconds=rng.randrange(self.days * 86400))
            yield (
                uuid.uuid4().hex,
                self.templates[picks[i]],
                campaigns[i],
                channels[i],
                regions[i],
                start,
            )

    def rows(
        self, cid: str, t: Template, campaign: str | None, channel: str, region: str, at: datetime
    ) -> list[tuple[Any, ...]]:
        """The journey's event rows (all stamped with its start: only the day counts)."""
        when: Any = ts_sqlite(at) if self.sqlite else at
        first = self.next_id
        self.next_id += len(t.events)
        cut = t.region_from
        return [
            (
                first + i,
                cid,
                name,
                data,
                question,
                campaign,
                channel,
                region if i >= cut else None,
                when,
            )
            for i, (name, question, data) in enumerate(t.events)
        ]


def fold_journey(rows: list[tuple[Any, ...]]) -> Any:
    from bot.analytics.aggregates import cause_mapping
    from bot.analytics.journeys import Journey, fold

    cause_questions, _ = cause_mapping()
    j = Journey()
    for _id, _cid, name, data, question, campaign, channel, region, at in rows:
        fold(j, name, question, campaign, channel, region, at, data, cause_questions)
    return j


# ---------------------------------------------------------------------------- databases


class Db:
    """A fresh database for the run: bulk writes through the raw driver."""

    url: str

    async def insert_events(self, rows: list[tuple[Any, ...]]) -> None: ...
    async def insert_report(self, built: Built, hwm: int) -> None: ...
    async def close(self) -> None: ...


class SqliteDb(Db):
    def __init__(self, folder: Path) -> None:
        import sqlite3

        from bot.store.migrate import upgrade

        path = folder / "bench.db"
        self.url = f"sqlite+aiosqlite:///{path}"
        upgrade(self.url)
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute("PRAGMA synchronous=OFF")
        self.con.execute("PRAGMA cache_size=-400000")
        # Bulk load first, index afterwards (sorted index builds beat random inserts).
        self.indexes = [
            sql
            for (sql,) in self.con.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
                "AND sql IS NOT NULL"
            )
        ]
        for sql in self.indexes:
            name = sql.split()[2]
            self.con.execute(f"DROP INDEX {name}")

    async def insert_events(self, rows: list[tuple[Any, ...]]) -> None:
        self.con.execute("BEGIN")
        self.con.executemany(
            f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            rows,
        )
        self.con.execute("COMMIT")

    async def insert_report(self, built: Built, hwm: int) -> None:
        for sql in self.indexes:
            self.con.execute(sql)
        self.indexes = []
        self.con.execute("BEGIN")
        self.con.executemany(
            "INSERT INTO report_journeys (conversation_id, stage, state) VALUES (?, ?, ?)",
            built.journeys,
        )
        self.con.executemany(
            "INSERT INTO report_counts (g, campaign, day, channel, region, metric, key, n) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(*c, n) for c, n in built.counts.items() if n],
        )
        self.con.execute("DELETE FROM report_state")
        self.con.execute("INSERT INTO report_state (name, value) VALUES ('events', ?)", (hwm,))
        self.con.execute("COMMIT")
        self.con.execute("ANALYZE")

    async def close(self) -> None:
        self.con.close()


class PostgresDb(Db):
    def __init__(self, base_url: str) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from bot.store.db import async_url, sync_url
        from bot.store.migrate import upgrade

        self.name = f"vk_bench_{uuid.uuid4().hex[:8]}"
        base = make_url(sync_url(base_url))
        self.admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = async_url(make_url(base_url).set(database=self.name).render_as_string(False))
        upgrade(self.url)
        self.con: Any = None

    async def connect(self) -> Any:
        import asyncpg
        from sqlalchemy.engine import make_url

        if self.con is None:
            u = make_url(self.url)
            self.con = await asyncpg.connect(
                host=u.host,
                port=u.port or 5432,
                user=u.username,
                password=u.password,
                database=u.database,
            )
        return self.con

    async def insert_events(self, rows: list[tuple[Any, ...]]) -> None:
        con = await self.connect()
        await con.copy_records_to_table("events", records=rows, columns=list(COLUMNS))

    async def insert_report(self, built: Built, hwm: int) -> None:
        con = await self.connect()
        await con.copy_records_to_table(
            "report_journeys", records=built.journeys, columns=["conversation_id", "stage", "state"]
        )
        await con.copy_records_to_table(
            "report_counts",
            records=[(*c, n) for c, n in built.counts.items() if n],
            columns=["g", "campaign", "day", "channel", "region", "metric", "key", "n"],
        )
        await con.execute("DELETE FROM report_state")
        await con.execute("INSERT INTO report_state (name, value) VALUES ('events', $1)", hwm)
        await con.execute(f"SELECT setval('events_id_seq', {hwm})")
        for table in ("events", "report_journeys", "report_counts"):
            await con.execute(f"ANALYZE {table}")

    async def close(self) -> None:
        from sqlalchemy import text

        if self.con is not None:
            await self.con.close()
        from bot.store.db import dispose_all

        await dispose_all()
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


# ---------------------------------------------------------------------------- building


async def build(db: Db, gen: Generator, n: int, fast_counters: bool) -> int:
    """Insert n journeys; with fast_counters also their report state. Returns event count."""
    from bot.analytics.aggregates import cause_mapping
    from bot.analytics.journeys import TZ, cells, contributions

    _, causes_of = cause_mapping()
    counts: Counter[tuple[Any, ...]] = Counter()
    journeys: list[tuple[str, int, str]] = []
    per_kind: dict[tuple[int, str | None, str, str | None, str], int] = {}
    state_of: dict[tuple[int, str | None, str, str | None, str], Any] = {}
    index = {id(t): i for i, t in enumerate(gen.templates)}
    batch: list[tuple[Any, ...]] = []
    total = 0
    started = time.perf_counter()
    for done, (cid, t, campaign, channel, region, at) in enumerate(gen.journeys(n), start=1):
        rows = gen.rows(cid, t, campaign, channel, region, at)
        batch += rows
        if fast_counters:
            # Journeys of one template, campaign, channel, province and (Amsterdam) day fold
            # into the same state but for the first event's time.
            day = at.astimezone(TZ).date().isoformat()
            has_region = t.region_from < len(t.events)
            key = (index[id(t)], campaign, channel, region if has_region else None, day)
            state = state_of.get(key)
            if state is None:
                state = state_of[key] = fold_journey(rows)
            per_kind[key] = per_kind.get(key, 0) + 1
            state.first_at = ts_sqlite(at)
            journeys.append((cid, state.effective_stage, state.dumps()))
        if len(batch) >= 200_000:
            await db.insert_events(batch)
            total += len(batch)
            batch = []
        if done % 100_000 == 0:
            rate = done / (time.perf_counter() - started)
            print(
                f"  {done:>9,} journeys, {total:>11,} events ({rate:,.0f} journeys/s)", flush=True
            )
    if batch:
        await db.insert_events(batch)
        total += len(batch)
    if fast_counters:
        for key, count in per_kind.items():
            state = state_of[key]
            for c in cells(state, contributions(state, causes_of)):
                counts[c] += count
        await db.insert_report(Built(total, counts, journeys), gen.next_id - 1)
    return total


# ---------------------------------------------------------------------------- measuring


def timed(samples: list[float]) -> str:
    ms = [x * 1000 for x in samples]
    return f"first {ms[0]:6.0f} ms, then median {statistics.median(ms[1:] or ms):6.0f} ms"


async def measure_reports(url: str) -> dict[str, list[float]]:
    from bot.analytics import Filters, funnel_report
    from bot.store.db import session_scope

    week = Filters.for_week("2026-W40")
    scopes = {
        "everything": Filters(),
        "one campaign": Filters(campaigns=("radio",)),
        "campaign + week": Filters(campaigns=("radio",), since=week.since, until=week.until),
        "one channel": Filters(channel="whatsapp"),
        "one province": Filters(region="Utrecht"),
        "channel + province + week": Filters(
            channel="web", region="Zuid-Holland", since=week.since, until=week.until
        ),
    }
    out: dict[str, list[float]] = {}
    for name, filters in scopes.items():
        samples = []
        for _ in range(3):
            started = time.perf_counter()
            async with session_scope(url) as s:
                report = await funnel_report(s, filters)
            samples.append(time.perf_counter() - started)
        out[name] = samples
        print(f"  funnel_report {name:<28} {timed(samples)}  entries={report.entries}", flush=True)
    return out


async def measure_admin(url: str) -> dict[str, list[float]]:
    import httpx

    from bot.app import create_app
    from bot.config import Settings

    settings = Settings(database_url=url, admin_token="bench-admin", secret_key="bench")
    app = create_app(settings)
    headers = {"Authorization": "Bearer bench-admin"}
    out: dict[str, list[float]] = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
    ) as http:
        for name, path in (
            ("/admin/report.json", "/admin/report.json"),
            ("/admin (page)", "/admin?week=2026-W40"),
            ("/admin/report.json?channel=web", "/admin/report.json?channel=web&region=Utrecht"),
        ):
            samples = []
            for lang in ("nl", "en"):
                # The dashboard caches a report for 30 s: each language is computed afresh.
                sep = "&" if "?" in path else "?"
                started = time.perf_counter()
                r = await http.get(f"{path}{sep}lang={lang}", headers=headers)
                samples.append(time.perf_counter() - started)
                assert r.status_code == 200, (path, r.status_code, r.text[:300])
            out[name] = samples
            print(f"  GET {name:<34} {timed(samples)}", flush=True)
    await app.state.pipeline.close()
    return out


def measure_cli(url: str) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VK_")}
    env.update(VK_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    samples = []
    for _ in range(2):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "bot.cli", "report", "funnel", "--format", "json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        samples.append(time.perf_counter() - started)
        assert json.loads(out.stdout)["stages"][0]["name"] == "entries"
    print(
        f"  CLI report funnel --format json     {timed(samples)} (process start included)",
        flush=True,
    )
    return samples


async def measure_refresh(db: Db, gen: Generator, url: str) -> list[float]:
    """Seconds to fold 10 000 new events (new journeys, plus existing ones going on)."""
    from bot.analytics.aggregates import refresh

    samples = []
    for _ in range(3):
        rows: list[tuple[Any, ...]] = []
        while len(rows) < 10_000:
            cid, t, campaign, channel, region, at = next(gen.journeys(1))
            rows += gen.rows(cid, t, campaign, channel, region, at + timedelta(days=1))
        rows = rows[:10_000]
        await db.insert_events(rows)
        started = time.perf_counter()
        folded = await refresh(url)
        samples.append(time.perf_counter() - started)
        assert folded == len(rows), (folded, len(rows))
    print(f"  refresh per 10 000 new events       {timed(samples)}", flush=True)
    return samples


async def verify(db: Db, url: str) -> None:
    """The fast-built counters equal what the incremental refresh makes of the events."""
    from sqlalchemy import text

    from bot.analytics.aggregates import refresh
    from bot.store.db import session_scope

    query = text("SELECT g, campaign, day, channel, region, metric, key, n FROM report_counts")

    async def snapshot() -> Counter[tuple[Any, ...]]:
        async with session_scope(url) as s:
            found = Counter({tuple(r[:7]): int(r[7]) for r in (await s.execute(query)).all()})
        return Counter({k: v for k, v in found.items() if v})

    fast = await snapshot()
    async with session_scope(url) as s:
        for table in ("report_counts", "report_journeys", "report_state"):
            await s.execute(text(f"DELETE FROM {table}"))
    started = time.perf_counter()
    folded = await refresh(url)
    took = time.perf_counter() - started
    slow = await snapshot()
    assert fast == slow, (len(fast), len(slow), list((fast - slow).items())[:5])
    print(
        f"  verified: the incremental refresh over {folded:,} events gives the same "
        f"{len(slow):,} counters ({folded / took:,.0f} events/s from scratch)",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--verify", action="store_true")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "VK_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    from bot.store.db import dispose_all

    with tempfile.TemporaryDirectory(prefix="vk-bench-", dir=ROOT / "var") as tmp:
        db: Db = SqliteDb(Path(tmp)) if args.db == "sqlite" else PostgresDb(args.pg_url)
        try:
            gen = Generator(args.seed, args.days, sqlite=args.db == "sqlite")
            print(
                f"{args.db}: building {args.journeys:,} journeys over {args.days} days", flush=True
            )
            started = time.perf_counter()
            events = await build(db, gen, args.journeys, fast_counters=True)
            print(
                f"  built {args.journeys:,} journeys, {events:,} events in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
            if args.verify:
                await verify(db, db.url)
            results: dict[str, Any] = {
                "db": args.db,
                "journeys": args.journeys,
                "events": events,
                "reports": await measure_reports(db.url),
                "admin": await measure_admin(db.url),
                "refresh_10k_events": await measure_refresh(db, gen, db.url),
            }
            await dispose_all()
            results["cli"] = measure_cli(db.url)
            out = ROOT / "var" / "bench" / f"reports-{args.db}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, indent=2), encoding="utf-8")
            print(f"  results in {out}")
        finally:
            await dispose_all()
            await db.close()


if __name__ == "__main__":
    asyncio.run(main())
