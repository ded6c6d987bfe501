"""Loopback HTTP fuzzer: hostile requests against a real server process, then health checks.

    python -m tests.fuzz.http_fuzzer --requests 20000 --seed 1 [--db postgres] [--model-dir DIR]

Starts `uvicorn --factory bot.app:factory` on a fresh database (SQLite file, or a new Postgres
database on VK_FUZZ_POSTGRES_URL / 127.0.0.1) with the REST, widget, Telegram and WhatsApp
edges mounted (platform APIs pointed at a closed local port), warms it up with requests of
another seed, measures the resident memory of the server's process tree, sends the hostile
requests (tests/fuzz/hostile.py), and checks: no answer >= 500, /healthz still 200, a normal
conversation still works, memory growth within `--max-growth` (10 %). Prints a JSON summary;
exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bot.config import Settings
from tests.fuzz import hostile
from tests.live_server import start_server

POSTGRES_URL = os.environ.get(
    "VK_FUZZ_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
CLOSED_PORT = "http://127.0.0.1:9"


@dataclass
class Summary:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    healthy: bool = False
    conversation_ok: bool = False

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s.isdigit() and int(s) >= 500) + sum(
            n for s, n in self.statuses.items() if not s.isdigit()
        )

    @property
    def growth(self) -> float:
        return (self.rss_end_mb - self.rss_start_mb) / self.rss_start_mb if self.rss_start_mb else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 1),
            "requests_per_second": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "statuses": dict(sorted(self.statuses.items())),
            "by_kind": {k: dict(sorted(v.items())) for k, v in sorted(self.by_kind.items())},
            "answers_500_or_more": self.server_errors,
            "failures": self.failures[:20],
            "rss_start_mb": round(self.rss_start_mb, 1),
            "rss_end_mb": round(self.rss_end_mb, 1),
            "rss_growth_percent": round(100 * self.growth, 2),
            "healthy_after": self.healthy,
            "conversation_after": self.conversation_ok,
        }


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children, in MB."""
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        with suppress(psutil.Error):
            total += proc.memory_info().rss
    return total / 1e6


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, migrated database URL; removed afterwards."""
    from bot.store.migrate import upgrade

    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'fuzz.db'}"
            upgrade(url)
            yield url
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.store.db import async_url, sync_url

    name = f"vk_fuzz_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        make_url(sync_url(POSTGRES_URL)).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = async_url(make_url(POSTGRES_URL).set(database=name).render_as_string(False))
    try:
        upgrade(url)
        yield url
    finally:
        from bot.store.db import dispose_all

        asyncio.run(dispose_all())
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def server_env() -> dict[str, str]:
    return {
        "VK_TELEGRAM_TOKEN": "123456:FUZZ",
        "VK_TELEGRAM_WEBHOOK_SECRET": hostile.TG_SECRET,
        "VK_TELEGRAM_API_URL": CLOSED_PORT,
        "VK_WHATSAPP_TOKEN": "fuzz",
        "VK_WHATSAPP_PHONE_ID": "123",
        "VK_WHATSAPP_APP_SECRET": hostile.WA_SECRET,
        "VK_WHATSAPP_VERIFY_TOKEN": "fuzz-verify",
        "VK_WHATSAPP_API_URL": CLOSED_PORT,
        "VK_DEMO_COUNT": "0",
    }


async def send_all(
    base: str, reqs: list[hostile.Req], concurrency: int, summary: Summary | None
) -> None:
    queue: asyncio.Queue[hostile.Req] = asyncio.Queue()
    for req in reqs:
        queue.put_nowait(req)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                req = queue.get_nowait()
                try:
                    response = await client.request(
                        req.method, req.path, headers=req.headers, content=req.body
                    )
                    status: str = str(response.status_code)
                    text = response.text[:300]
                except httpx.HTTPError as exc:
                    status, text = type(exc).__name__, str(exc)[:300]
                if summary is None:
                    continue
                summary.requests += 1
                summary.statuses[status] += 1
                code = int(status) if status.isdigit() else 0
                summary.by_kind.setdefault(req.kind, Counter())[code] += 1
                if code >= 500 or code == 0:
                    summary.failures.append(
                        {
                            "kind": req.kind,
                            "path": req.path[:200],
                            "status": status,
                            "body": (req.body or b"")[:200].decode("latin-1"),
                            "answer": text,
                        }
                    )

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def conversation_works(base: str) -> bool:
    sender = f"after-{uuid.uuid4().hex[:8]}"
    url = "/webhooks/rest/webhook"
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        first = await client.post(url, json={"sender": sender, "message": "/start"})
        second = await client.post(url, json={"sender": sender, "message": "/consent/yes"})
    return (
        first.status_code == 200
        and bool(first.json())
        and second.status_code == 200
        and any("buttons" in m for m in second.json())
    )


def run(
    requests: int,
    seed: int,
    db: str = "sqlite",
    concurrency: int = 8,
    warmup: int | None = None,
    model_dir: Path | None = None,
    log_path: Path | None = None,
) -> Summary:
    summary = Summary()
    warm = warmup if warmup is not None else min(3000, max(200, requests // 5))
    reqs = hostile.generate(seed, requests)
    with database(db) as url, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=url,
            secret_key="fuzz-secret",
            admin_token=hostile.ADMIN_TOKEN,
            model_dir=model_dir or Path(tmp) / "nlu",
            flood_rate=1.0,
            flood_burst=10,
            # Capacity is not under test here: every new sender must get a real turn.
            new_conversations_per_second=10_000.0,
        )
        log = log_path or Path(tmp) / "server.log"
        with start_server(settings, timeout=120.0, extra_env=server_env(), log_path=log) as (
            base,
            proc,
        ):
            asyncio.run(send_all(base, hostile.generate(seed + 7919, warm), concurrency, None))
            time.sleep(1.0)
            summary.rss_start_mb = tree_rss_mb(proc.pid)
            started = time.perf_counter()
            asyncio.run(send_all(base, reqs, concurrency, summary))
            summary.seconds = time.perf_counter() - started
            time.sleep(1.0)
            summary.rss_end_mb = tree_rss_mb(proc.pid)
            summary.healthy = httpx.get(f"{base}/healthz", timeout=10).status_code == 200
            summary.conversation_ok = asyncio.run(conversation_works(base))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--model-dir", type=Path, default=None, help="a trained NLU model")
    parser.add_argument("--max-growth", type=float, default=0.10)
    parser.add_argument("--log", type=Path, default=None, help="keep the server's log here")
    args = parser.parse_args(argv)
    summary = run(
        args.requests,
        args.seed,
        args.db,
        args.concurrency,
        args.warmup,
        args.model_dir,
        args.log,
    )
    out = summary.to_dict()
    out["db"] = args.db
    ok = (
        summary.server_errors == 0
        and summary.healthy
        and summary.conversation_ok
        and summary.growth <= args.max_growth
    )
    out["ok"] = ok
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
