"""Load benchmark of the REST channel: whole conversations against `vrijwilligerskracht serve`.

Starts the real server (`serve`: migrations, demo data, uvicorn) on a loopback port with a fresh
database, warms it up, then lets C concurrent simulated people tap through the whole quiz
(consent, every question, the result) over keep-alive HTTP/1.1 connections, bounded by a number
of conversations and a time limit. Reports messages/s, p50/p90/p99 latency, the server process
tree's own CPU time (user+system, via psutil) per message and its resident memory.

Two modes. `payload` (default): people tap buttons, so only the engine and the store work.
`--typed`: people type, as someone who heard a radio spot would ("de tweede", "b", an option's
label with a small typo, "ik woon in Utrecht" / "3511 AB", "een paar uurtjes", "op zaterdag",
"iets met dieren", now and then "waarom?" or "terug"; "klaar" when the bot shows a selection,
which is rare: the interpreter records a typed multiple-choice answer at once), which puts the
NLU interpreter (bot/nlu) under load. A typed answer the bot did not take (it asks the same
question again) is counted as `misunderstood` and retried in a plainer form (the exact label,
then the number); an answer taken as the wrong option goes unnoticed.
Either way every conversation must end with the result (`custom.result`); one that does not
counts as an error.

Commands (from the repository root):

    .venv/bin/python -m tests.bench.bench_rest_load                      # SQLite (default)
    .venv/bin/python -m tests.bench.bench_rest_load --db postgres         # Postgres on 127.0.0.1
    .venv/bin/python -m tests.bench.bench_rest_load --typed               # typed answers (NLU)
    .venv/bin/python -m tests.bench.bench_rest_load --typed --db postgres
    .venv/bin/python -m tests.bench.bench_rest_load --conversations 400 --concurrency 16 \\
        --seconds 60 --workers 1 --json
    .venv/bin/pytest tests/bench/bench_rest_load.py -m bench -s           # small bounded run

The client is a minimal asyncio HTTP client (not httpx) so that the load generator, which shares
the machine's cores with the server, costs as little CPU as possible.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.live_server import free_port
from tests.walk import has_result, next_request

ROOT = Path(__file__).resolve().parents[2]
# Postgres server to create the benchmark database on (a fresh database per run).
PG_ROOT = os.environ.get(
    "VK_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
WEBHOOK = "/webhooks/rest/webhook"
# Simulated people answer far faster than real ones: the per-sender flood limit and the limit
# on new conversations per second (bot/flood.py) would measure themselves, not the turn.
BENCH_LIMITS = {"VK_FLOOD_RATE": "0", "VK_NEW_CONVERSATIONS_PER_SECOND": "0"}


@dataclass
class Report:
    db: str
    workers: int
    concurrency: int
    mode: str = "payload"
    conversations: int = 0
    messages: int = 0
    errors: int = 0
    misunderstood: int = 0
    detours: int = 0
    seconds: float = 0.0
    msgs_per_s: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    server_cpu_ms_per_msg: float = 0.0
    server_rss_mb: float = 0.0
    server_peak_rss_mb: float = 0.0
    startup_to_first_answer_s: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("latencies")
        return data


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        return await self.request("POST", path, body)

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json"}
        status, data = await self.send(method, path, payload, headers)
        return status, json.loads(data)

    async def post_bytes(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        return await self.send("POST", path, body, headers)

    async def send(
        self, method: str, path: str, payload: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        reused = self.writer is not None
        try:
            return await self._send(method, path, payload, headers)
        except (ConnectionError, asyncio.IncompleteReadError, IndexError):
            if not reused:
                raise
        # The server closed the idle keep-alive connection: open a new one, once.
        await self.close()
        self.reader = self.writer = None
        return await self._send(method, path, payload, headers)

    async def _send(
        self, method: str, path: str, payload: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{extra}"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


# ---------------------------------------------------------------------- typed answers

DUTCH_ORDINALS = ("eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste")
CONSENT = ("ja", "ja hoor", "prima", "oké", "is goed", "ja graag")
PLACES = ("ik woon in Utrecht", "3511 AB", "Amersfoort", "in Zwolle", "ik woon in Den Bosch")
# What people say to the questions that have their own entities (the rest: a position or label).
SAYINGS: dict[str, tuple[str, ...]] = {
    "hours": ("een paar uurtjes", "2 uur", "ongeveer 4 uur per week", "een uurtje"),
    "days": ("op zaterdag", "zondag", "doordeweeks 's avonds", "maakt niet uit"),
    "interest": ("iets met dieren", "ouderen", "kinderen", "iets met sport", "de buurt"),
    "commitment": ("af en toe", "elke week", "allebei goed"),
    "age": ("ik ben 34", "67", "25 jaar", "ik ben 52 jaar"),
}
DETOUR_CHANCE = 0.05
MAX_DETOURS = 2


def typo(label: str, rng: random.Random) -> str:
    """The label in lower case with one small slip in its longest word (swap, drop, double)."""
    words = label.lower().split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[i]
    if len(w) >= 5:
        j = rng.randrange(1, len(w) - 2)
        how = rng.randrange(3)
        if how == 0:
            w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        elif how == 1:
            w = w[:j] + w[j + 1 :]
        else:
            w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


class TypedPerson:
    """Answers by typing; keeps what it needs to notice that the bot did not understand."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.asked: str | None = None  # the question (or "consent") last answered
        self.tries = 0
        self.detoured = False
        self.detours = 0
        self.misunderstood = 0

    def next_request(self, messages: list[dict[str, Any]]) -> dict[str, Any] | None:
        if has_result(messages):
            return None
        asked, quiz, labels, custom = self._asked(messages)
        if asked == self.asked and not self.detoured:
            self.tries += 1
            self.misunderstood += 1
            if self.tries > 4:
                raise RuntimeError(f"typed answers not understood at {asked}: {messages!r}")
        else:
            self.tries = 0
        self.asked, self.detoured = asked, False
        if quiz is None:
            return {"message": self.rng.choice(CONSENT) if self.tries < 2 else "ja"}
        if custom.get("selected"):
            return {"message": "klaar"}
        if self.tries == 0 and self.detours < MAX_DETOURS and self.rng.random() < DETOUR_CHANCE:
            self.detours += 1
            self.detoured = True
            back = quiz["step"] > 1 and self.rng.random() < 0.5
            return {"message": "terug" if back else "waarom?"}
        return {"message": self._answer(quiz, labels)}

    def _asked(
        self, messages: list[dict[str, Any]]
    ) -> tuple[str, dict[str, Any] | None, list[str], dict[str, Any]]:
        for m in reversed(messages):
            custom = m.get("custom") or {}
            buttons = m.get("buttons") or []
            if custom.get("quiz"):
                labels = [
                    b["title"].removeprefix("✓ ") for b in buttons if b["payload"].startswith("/a/")
                ]
                return custom["quiz"]["question_id"], custom["quiz"], labels, custom
            if any(b["payload"] == "/consent/yes" for b in buttons):
                return "consent", None, [], custom
            if any(b["payload"] == "/nearby/yes" for b in buttons):
                return "nearby", None, [], custom  # after the profile: a typed yes
        raise RuntimeError(f"do not know what to answer to {messages!r}")

    def _answer(self, quiz: dict[str, Any], labels: list[str]) -> str:
        rng, qid = self.rng, quiz["question_id"]
        if quiz["kind"] == "place":
            return rng.choice(PLACES) if self.tries == 0 else "Utrecht"
        pick = rng.randrange(len(labels))
        if self.tries == 1:
            return labels[pick]
        if self.tries >= 2:
            return str(pick + 1)
        if qid in SAYINGS and rng.random() < 0.7:
            return rng.choice(SAYINGS[qid])
        how = rng.random()
        if how < 0.3 and pick < len(DUTCH_ORDINALS):
            return f"de {DUTCH_ORDINALS[pick]}"
        if how < 0.45:
            return "abcdefghij"[pick]
        if how < 0.55:
            return str(pick + 1)
        if how < 0.85:
            return typo(labels[pick], rng)
        return labels[pick].lower()


async def converse(
    conn: Connection,
    sender: str,
    rng: random.Random,
    latencies: list[float],
    person: TypedPerson | None = None,
) -> int:
    """One whole conversation, by buttons or (given a person) typed; returns messages sent."""
    body: dict[str, Any] | None = {"message": "/start"}
    messages: Any = []
    sent = 0
    while body is not None:
        started = time.perf_counter()
        status, messages = await conn.post_json(WEBHOOK, {"sender": sender, **body})
        latencies.append(time.perf_counter() - started)
        sent += 1
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {messages}")
        try:
            body = person.next_request(messages) if person else next_request(messages, rng)
        except RuntimeError as exc:
            raise RuntimeError(f"{sender} after {body!r}: {exc}") from None
        if sent > 100:
            raise RuntimeError("conversation did not finish")
    if not has_result(messages):
        raise RuntimeError(f"conversation ended without a result: {messages!r}")
    return sent


def server_tree(proc: psutil.Process) -> list[psutil.Process]:
    return [proc, *proc.children(recursive=True)]


def cpu_seconds(proc: psutil.Process) -> float:
    total = 0.0
    for p in server_tree(proc):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


async def settle(proc: psutil.Process, busy: float = 0.03, limit: float = 30.0) -> float:
    """Wait until the server has done its start-up work (the periodic jobs' first round,
    the background preparation): until it used less than `busy` of a core for one second.
    Returns the seconds waited. What it does at rest afterwards (polls) is measured."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while loop.time() - start < limit:
        before = cpu_seconds(proc)
        await asyncio.sleep(1.0)
        if cpu_seconds(proc) - before < busy:
            break
    return loop.time() - start


def rss_mb(proc: psutil.Process) -> float:
    total = 0
    for p in server_tree(proc):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2**20


def create_pg_database() -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.store.db import sync_url

    name = f"vk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sync_url(PG_ROOT), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(PG_ROOT).set(database=name).render_as_string(hide_password=False)


def fresh_database(db: str, folder: str) -> tuple[str | None, str]:
    """(Postgres database name or None, URL) of an empty database for one run."""
    if db == "postgres":
        return create_pg_database()
    return None, f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"


def stop(popen: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """End a server process (killed when it does not stop in time) and close its pipe."""
    popen.send_signal(sig)
    try:
        popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait()
    if popen.stderr:
        popen.stderr.close()


def drop_pg_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    from bot.store.db import sync_url

    admin = create_engine(sync_url(PG_ROOT), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


async def run(
    db: str = "sqlite",
    conversations: int = 200,
    concurrency: int = 16,
    seconds: float = 60.0,
    workers: int = 1,
    warmup: int = 10,
    seed: int = 7,
    typed: bool = False,
) -> Report:
    mode = "typed" if typed else "payload"
    report = Report(db=db, workers=workers, concurrency=concurrency, mode=mode)
    tmp = tempfile.TemporaryDirectory(prefix="vk-bench-")
    pg_name, url = fresh_database(db, tmp.name)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VK_")}
    env.update(
        VK_DATABASE_URL=url,
        VK_SECRET_KEY="bench",
        VK_MODEL_DIR=str(Path(tmp.name) / "nlu"),
        **BENCH_LIMITS,
    )
    cmd = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--workers", str(workers)]
    started = time.perf_counter()
    popen = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    proc = psutil.Process(popen.pid)
    try:
        conn = Connection("127.0.0.1", port)
        while True:
            try:
                await conn.post_json(WEBHOOK, {"sender": "probe", "message": "/start"})
                break
            except (OSError, asyncio.IncompleteReadError):
                if popen.poll() is not None:
                    err = popen.stderr.read().decode() if popen.stderr else ""
                    raise RuntimeError(f"server exited: {err}") from None
                await asyncio.sleep(0.02)
                conn = Connection("127.0.0.1", port)
        report.startup_to_first_answer_s = round(time.perf_counter() - started, 2)
        # Measure the steady state: wait for the one-time background preparation (demo data,
        # language model) that `serve` runs after it starts answering.
        while "preparing" in (await conn.request("GET", "/healthz"))[1]:
            await asyncio.sleep(0.25)
        rng = random.Random(seed)
        for i in range(warmup):
            await converse(conn, f"warm-{i}", rng, [], TypedPerson(rng) if typed else None)
        await conn.close()

        await settle(proc)
        cpu_before = cpu_seconds(proc)
        peak = rss_mb(proc)
        latencies: list[float] = []
        todo = iter(range(conversations))
        deadline = time.monotonic() + seconds
        done = 0
        messages = 0
        errors = 0
        misunderstood = detours = 0

        async def user(n: int) -> None:
            nonlocal done, messages, errors, misunderstood, detours
            c = Connection("127.0.0.1", port)
            r = random.Random(seed * 1000 + n)
            try:
                for i in todo:
                    if time.monotonic() > deadline:
                        break
                    person = TypedPerson(r) if typed else None
                    try:
                        sender = f"user-{i}-{uuid.uuid4().hex[:6]}"
                        sent = await converse(c, sender, r, latencies, person)
                        messages += sent
                        done += 1
                    except (RuntimeError, OSError, asyncio.IncompleteReadError):
                        errors += 1
                    if person is not None:
                        misunderstood += person.misunderstood
                        detours += person.detours
                        await c.close()
                        c = Connection("127.0.0.1", port)
            finally:
                await c.close()

        async def sample_memory() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_mb(proc))
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample_memory())
        t0 = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - t0
        sampler.cancel()
        cpu = cpu_seconds(proc) - cpu_before
        report.conversations, report.messages, report.errors = done, messages, errors
        report.misunderstood, report.detours = misunderstood, detours
        report.seconds = round(elapsed, 2)
        report.msgs_per_s = round(messages / elapsed, 1) if elapsed else 0.0
        lat = sorted(latencies)
        if lat:
            q = statistics.quantiles(lat, n=100, method="inclusive")
            report.p50_ms = round(statistics.median(lat) * 1000, 2)
            report.p90_ms = round(q[89] * 1000, 2)
            report.p99_ms = round(q[98] * 1000, 2)
        report.server_cpu_ms_per_msg = round(cpu * 1000 / messages, 3) if messages else 0.0
        report.server_rss_mb = round(rss_mb(proc), 1)
        report.server_peak_rss_mb = round(max(peak, report.server_rss_mb), 1)
        report.latencies = latencies
        return report
    finally:
        stop(popen)
        if pg_name:
            drop_pg_database(pg_name)
        tmp.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit of the run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--typed", action="store_true", help="people type instead of tapping")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(
        run(
            args.db,
            args.conversations,
            args.concurrency,
            args.seconds,
            args.workers,
            typed=args.typed,
        )
    )
    if args.json:
        print(json.dumps(report.summary()))
    else:
        for key, value in report.summary().items():
            print(f"{key:28} {value}")


@pytest.mark.bench
@pytest.mark.parametrize("typed", [False, True], ids=["payload", "typed"])
@pytest.mark.parametrize("db", ["sqlite", "postgres"])
async def test_rest_load(db: str, typed: bool) -> None:
    if db == "postgres" and not os.environ.get("VK_TEST_DATABASE_URL"):
        pytest.skip("set VK_TEST_DATABASE_URL to benchmark Postgres")
    report = await run(db, conversations=60, concurrency=8, seconds=30, typed=typed)
    print(json.dumps(report.summary()))
    assert report.errors == 0 and report.conversations > 0


if __name__ == "__main__":
    main()
