"""A radio spot on WhatsApp: N listeners arrive within S seconds (keyword -> consent -> first
answer), with the load generator, the fake Graph API and the server each in its own process.

Every listener sends the campaign keyword, taps "yes" one second later, then "18 of ouder",
and picks an answer to the motive question one second after that (real webhook payloads,
signed). Reported: webhook
acknowledgement latency (what Meta waits for), the server process's CPU per inbound message
including the delivery of its replies to the fake Graph API, when the last reply arrived, and
how many listeners got the reply to their answer (the next question).

The fake Graph API runs in a separate process so that neither its work nor the generator's
shows up in the server's CPU or delays the other; it reports its counts on `GET /_stats`.

Commands (from the repository root):

    .venv/bin/python -m tests.bench.bench_whatsapp_burst                     # 3000 in 60 s
    .venv/bin/python -m tests.bench.bench_whatsapp_burst --db postgres
    .venv/bin/python -m tests.bench.bench_whatsapp_burst --people 300 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.bench.bench_rest_load import (
    BENCH_LIMITS,
    ROOT,
    Connection,
    cpu_seconds,
    drop_pg_database,
    fresh_database,
    rss_mb,
    settle,
    stop,
)
from tests.fakes.harness import WA_SECRET, WA_VERIFY
from tests.fakes.server import free_port
from tests.fakes.whatsapp_api import DISPLAY_NUMBER, WABA_ID, FakeGraph

KEYWORD = "KRACHT"
THINK_SECONDS = 1.0


@dataclass
class Report:
    db: str
    people: int
    seconds: float
    inbound: int = 0
    errors: int = 0
    acks_over_250ms: int = 0
    ack_p50_ms: float = 0.0
    ack_p99_ms: float = 0.0
    ack_max_ms: float = 0.0
    replies: int = 0
    answered_people: int = 0
    last_reply_after_s: float = 0.0
    server_cpu_ms_per_inbound: float = 0.0
    server_rss_mb: float = 0.0
    acks: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("acks")
        return data


# ---------------------------------------------------------------------- the fake, in its process


class CountingGraph(FakeGraph):
    """The fake Graph API plus what the benchmark needs to know of it."""

    def __post_init__(self) -> None:
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        super().__post_init__()
        self.last = 0.0
        self.answered: set[str] = set()

        async def stats(_request: Any) -> JSONResponse:
            return JSONResponse(
                {"count": len(self.messages), "last": self.last, "answered": len(self.answered)}
            )

        self.app.routes.append(Route("/_stats", stats))

    async def _messages(self, request: Any) -> Any:
        response = await super()._messages(request)
        self.last = time.time()
        if self.messages:
            body = self.messages[-1]
            rows = (body.get("interactive") or {}).get("action", {}).get("sections") or []
            if any(r["id"].startswith("/a/activity/") for s in rows for r in s["rows"]):
                self.answered.add(str(body.get("to")))
        return response


def serve_fake(port: int) -> None:
    import uvicorn

    uvicorn.run(CountingGraph().app, host="127.0.0.1", port=port, log_level="warning")


# ---------------------------------------------------------------------- the listeners

WAMIDS = itertools.count(1)


def webhook_body(wa_id: str, message: dict[str, Any], phone_id: str) -> bytes:
    msg = {
        "from": wa_id,
        "id": f"wamid.HBgLMzE2{next(WAMIDS):016d}AA==",
        "timestamp": str(int(time.time())),
        **message,
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": phone_id},
        "contacts": [{"profile": {"name": "Luisteraar"}, "wa_id": wa_id}],
        "messages": [msg],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def reply(kind: str, choice_id: str, title: str) -> dict[str, Any]:
    context = {"from": DISPLAY_NUMBER, "id": "wamid.HBgLcontext"}
    return {
        "context": context,
        "type": "interactive",
        "interactive": {"type": kind, kind: {"id": choice_id, "title": title}},
    }


async def listener(n: int, port: int, phone_id: str, report: Report) -> None:
    wa_id = f"3162{n:07d}"
    steps = [
        {"type": "text", "text": {"body": KEYWORD}},
        reply("button_reply", "/consent/yes", "Ja"),
        reply("button_reply", "/a/age/a18", "18 of ouder"),
        reply("list_reply", "/a/motive/values", "Iets voor een ander doen"),
    ]
    conn = Connection("127.0.0.1", port)
    try:
        for i, message in enumerate(steps):
            if i:
                await asyncio.sleep(THINK_SECONDS)
            body = webhook_body(wa_id, message, phone_id)
            started = time.perf_counter()
            status, _ = await conn.post_bytes("/whatsapp/webhook", body, signed(body))
            report.acks.append(time.perf_counter() - started)
            report.inbound += 1
            if status != 200:
                report.errors += 1
    except (OSError, asyncio.IncompleteReadError, IndexError):
        report.errors += 1
    finally:
        await conn.close()


async def stats(port: int) -> dict[str, Any]:
    conn = Connection("127.0.0.1", port)
    try:
        return dict((await conn.request("GET", "/_stats"))[1])
    finally:
        await conn.close()


async def run(db: str = "sqlite", people: int = 3000, seconds: float = 60.0) -> Report:
    from tests.bench.bench_channel_load import _create_campaign, _wait_ready

    report = Report(db=db, people=people, seconds=seconds)
    fake = FakeGraph()  # only for its token and phone id
    tmp = tempfile.TemporaryDirectory(prefix="vk-bench-")
    pg_name, url = fresh_database(db, tmp.name)
    api_port, port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VK_")}
    fake_proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.bench_whatsapp_burst", "--serve-fake", str(api_port)],
        cwd=ROOT,
        env=env,
    )
    env.update(
        VK_DATABASE_URL=url,
        VK_SECRET_KEY="bench",
        **BENCH_LIMITS,
        VK_MODEL_DIR=str(Path(tmp.name) / "nlu"),
        VK_DEMO_COUNT="500",
        VK_WHATSAPP_TOKEN=fake.token,
        VK_WHATSAPP_PHONE_ID=fake.phone_id,
        VK_WHATSAPP_APP_SECRET=WA_SECRET,
        VK_WHATSAPP_VERIFY_TOKEN=WA_VERIFY,
        VK_WHATSAPP_API_URL=f"http://127.0.0.1:{api_port}",
    )
    cmd = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
    if os.environ.get("BENCH_PROFILE"):  # cProfile of the whole server run, to this file
        cmd[1:1] = ["-m", "tests.bench.cpu_profile", os.environ["BENCH_PROFILE"]]
    popen = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    proc = psutil.Process(popen.pid)
    try:
        await _wait_ready(port, popen)
        _create_campaign(env)
        await listener(10_000_000, port, fake.phone_id, Report(db, 1, 0))  # warm-up
        await asyncio.sleep(THINK_SECONDS)
        await settle(proc)
        before = (await stats(api_port))["count"]
        cpu_before = cpu_seconds(proc)
        gap = seconds / max(people, 1)
        start_wall = time.time()
        t0 = time.perf_counter()

        async def arrive(n: int) -> None:
            await asyncio.sleep(max(0.0, t0 + n * gap - time.perf_counter()))
            await listener(n, port, fake.phone_id, report)

        await asyncio.gather(*(arrive(n) for n in range(people)))
        # Wait for the replies still on their way (until nothing new arrives for 2 s).
        seen, quiet_since = -1, time.monotonic()
        while time.monotonic() - quiet_since < 2.0:
            await asyncio.sleep(0.25)
            now = (await stats(api_port))["count"]
            if now != seen:
                seen, quiet_since = now, time.monotonic()
        cpu = cpu_seconds(proc) - cpu_before
        final = await stats(api_port)
        report.replies = int(final["count"]) - before
        report.answered_people = int(final["answered"]) - 1  # minus the warm-up listener
        report.last_reply_after_s = round(float(final["last"]) - start_wall, 2)
        report.server_rss_mb = round(rss_mb(proc), 1)
    finally:
        # With BENCH_PROFILE, SIGINT: SIGTERM would end the server before cProfile's dump.
        stop(popen, signal.SIGINT if os.environ.get("BENCH_PROFILE") else signal.SIGTERM, 60)
        stop(fake_proc)
        if pg_name:
            drop_pg_database(pg_name)
        tmp.cleanup()
    acks = sorted(report.acks)
    if report.inbound:
        report.server_cpu_ms_per_inbound = round(cpu * 1000 / report.inbound, 3)
    if len(acks) >= 2:
        report.ack_p50_ms = round(statistics.median(acks) * 1000, 1)
        report.ack_p99_ms = round(statistics.quantiles(acks, n=100)[98] * 1000, 1)
        report.ack_max_ms = round(acks[-1] * 1000, 1)
        report.acks_over_250ms = sum(1 for a in acks if a > 0.25)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return
    report = asyncio.run(run(args.db, args.people, args.seconds))
    if args.json:
        print(json.dumps(report.summary()))
    else:
        for key, value in report.summary().items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
