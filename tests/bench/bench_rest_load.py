"""Load benchmark of the REST channel: whole conversations against `vrijwilligerskracht serve`.

Starts the real server (`serve`: migrations, demo data, uvicorn) on a loopback port with a fresh
database, warms it up, then lets C concurrent simulated people tap through the whole quiz
(consent, every question, the result) over keep-alive HTTP/1.1 connections, bounded by a number
of conversations and a time limit. Reports messages/s, p50/p90/p99 latency, the server process
tree's own CPU time (user+system, via psutil) per message and its resident memory.

Commands (from the repository root):

    .venv/bin/python -m tests.bench.bench_rest_load                      # SQLite (default)
    .venv/bin/python -m tests.bench.bench_rest_load --db postgres         # Postgres on 127.0.0.1
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
from tests.walk import next_request

ROOT = Path(__file__).resolve().parents[2]
# Postgres server to create the benchmark database on (a fresh database per run).
PG_ROOT = os.environ.get(
    "VK_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
WEBHOOK = "/webhooks/rest/webhook"


@dataclass
class Report:
    db: str
    workers: int
    concurrency: int
    conversations: int = 0
    messages: int = 0
    errors: int = 0
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
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
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
        data = await self.reader.readexactly(length)
        return status, json.loads(data)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def converse(
    conn: Connection, sender: str, rng: random.Random, latencies: list[float]
) -> int:
    """One whole conversation by buttons; returns the number of messages sent."""
    body: dict[str, Any] | None = {"message": "/start"}
    sent = 0
    while body is not None:
        started = time.perf_counter()
        status, messages = await conn.post_json(WEBHOOK, {"sender": sender, **body})
        latencies.append(time.perf_counter() - started)
        sent += 1
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {messages}")
        body = next_request(messages, rng)
        if sent > 100:
            raise RuntimeError("conversation did not finish")
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
) -> Report:
    report = Report(db=db, workers=workers, concurrency=concurrency)
    tmp = tempfile.TemporaryDirectory(prefix="vk-bench-")
    pg_name = None
    if db == "postgres":
        pg_name, url = create_pg_database()
    else:
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VK_")}
    env.update(VK_DATABASE_URL=url, VK_SECRET_KEY="bench", VK_MODEL_DIR=str(Path(tmp.name) / "nlu"))
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
            await converse(conn, f"warm-{i}", rng, [])
        await conn.close()

        cpu_before = cpu_seconds(proc)
        peak = rss_mb(proc)
        latencies: list[float] = []
        todo = iter(range(conversations))
        deadline = time.monotonic() + seconds
        done = 0
        messages = 0
        errors = 0

        async def user(n: int) -> None:
            nonlocal done, messages, errors
            c = Connection("127.0.0.1", port)
            r = random.Random(seed * 1000 + n)
            try:
                for i in todo:
                    if time.monotonic() > deadline:
                        break
                    try:
                        sender = f"user-{i}-{uuid.uuid4().hex[:6]}"
                        sent = await converse(c, sender, r, latencies)
                        messages += sent
                        done += 1
                    except (RuntimeError, OSError, asyncio.IncompleteReadError):
                        errors += 1
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
        popen.terminate()
        try:
            popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
        if popen.stderr:
            popen.stderr.close()
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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(
        run(args.db, args.conversations, args.concurrency, args.seconds, args.workers)
    )
    if args.json:
        print(json.dumps(report.summary()))
    else:
        for key, value in report.summary().items():
            print(f"{key:28} {value}")


@pytest.mark.bench
@pytest.mark.parametrize("db", ["sqlite", "postgres"])
async def test_rest_load(db: str) -> None:
    if db == "postgres" and not os.environ.get("VK_TEST_DATABASE_URL"):
        pytest.skip("set VK_TEST_DATABASE_URL to benchmark Postgres")
    report = await run(db, conversations=60, concurrency=8, seconds=30)
    print(json.dumps(report.summary()))
    assert report.errors == 0 and report.conversations > 0


if __name__ == "__main__":
    main()
