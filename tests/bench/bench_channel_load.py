"""Load benchmark of the Telegram and WhatsApp channels against local fake platform APIs.

Starts the real server (`serve`, one worker, a fresh SQLite or Postgres database) with the
channel pointed at a fake Bot API / Graph API that runs in this process on 127.0.0.1 (so its
CPU is not counted as the server's). Simulated people post real webhook payloads (signed for
WhatsApp) and wait for the bot's answer to reach the fake before their next message: the
server has to take the update, run the turn, write the outbox and deliver every reply.

Reported: the server process tree's own CPU time (user+system, psutil) per inbound message,
including the delivery of its replies; webhook acknowledgement latency; how long after the
first message the last reply reached the fake; resident memory.

Scenarios:
- `walk` (default): `--people` people, `--concurrency` at a time, each starts (Telegram:
  `/start`; WhatsApp: the radio keyword), taps "yes" to consent and answers the scored
  questions by tapping a random option (11 inbound messages per person).
- `burst` (a radio spot): `--people` arrive spread evenly over `--seconds`, each sends the
  keyword, consents and gives the first answer (3 inbound messages per person).

Commands (from the repository root):

    .venv/bin/python -m tests.bench.bench_channel_load --channel telegram
    .venv/bin/python -m tests.bench.bench_channel_load --channel whatsapp --db postgres
    .venv/bin/python -m tests.bench.bench_channel_load --channel whatsapp --scenario burst \\
        --people 3000 --seconds 60
    .venv/bin/pytest tests/bench/bench_channel_load.py -m bench -s      # small bounded runs
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
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
import pytest

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
from tests.fakes.harness import TG_SECRET, WA_SECRET, WA_VERIFY
from tests.fakes.server import LocalServer, free_port
from tests.fakes.telegram_api import FakeTelegram, TelegramUser
from tests.fakes.whatsapp_api import FakeGraph, WhatsAppUser

KEYWORD = "KRACHT"
# Update ids and wamids are unique per bot, across chats (the server deduplicates on them).
UPDATE_IDS = itertools.count(1_000_000)
SCORED_ANSWERS = 6  # age and the questions before the last scored one (then the profile)


@dataclass
class Report:
    channel: str
    db: str
    scenario: str
    people: int = 0
    finished: int = 0
    inbound: int = 0
    outbound_calls: int = 0
    errors: int = 0
    seconds: float = 0.0
    inbound_per_s: float = 0.0
    ack_p50_ms: float = 0.0
    ack_p99_ms: float = 0.0
    answer_p50_ms: float = 0.0
    answer_p99_ms: float = 0.0
    last_reply_after_s: float = 0.0
    server_cpu_ms_per_inbound: float = 0.0
    server_system_share: float = 0.0
    server_rss_mb: float = 0.0
    acks: list[float] = field(default_factory=list, repr=False)
    answers: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("acks")
        data.pop("answers")
        return data


class Watch:
    """Wakes the person whose chat just got a call from the bot."""

    def __init__(self) -> None:
        self.events: dict[str, asyncio.Event] = {}
        self.calls = 0
        self.last_call = 0.0

    def notify(self, chat: Any) -> None:
        self.calls += 1
        self.last_call = time.perf_counter()
        event = self.events.get(str(chat))
        if event is not None:
            event.set()

    async def until(self, chat: str, ready: Any, timeout: float = 60.0) -> None:
        event = self.events.setdefault(chat, asyncio.Event())
        deadline = time.monotonic() + timeout
        while not ready():
            event.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer for {chat}")
            try:
                await asyncio.wait_for(event.wait(), min(left, 1.0))
            except TimeoutError:
                continue


class WatchedTelegram(FakeTelegram):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.watch = Watch()

    async def _endpoint(self, request: Any) -> Any:
        response = await super()._endpoint(request)
        if self.calls and self.calls[-1].method != "answerCallbackQuery":
            self.watch.notify(self.calls[-1].params.get("chat_id"))
        return response


class WatchedGraph(FakeGraph):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.watch = Watch()

    async def _messages(self, request: Any) -> Any:
        response = await super()._messages(request)
        if self.messages:
            last = self.messages[-1]
            self.watch.notify(last.get("to") or last.get("recipient"))
        return response


def _payloads_telegram(fake: FakeTelegram, chat: int) -> list[str]:
    for msg in reversed(fake.sent(chat)):
        keyboard = msg.get("reply_markup", {}).get("inline_keyboard")
        if keyboard:
            return [b.get("callback_data", "") for row in keyboard for b in row]
    return []


def _payloads_whatsapp(fake: FakeGraph, to: str) -> list[str]:
    for m in reversed(fake.sent(to)):
        inter = m.get("interactive") or {}
        if inter.get("type") == "button":
            return [b["reply"]["id"] for b in inter["action"]["buttons"]]
        if inter.get("type") == "list":
            return [r["id"] for s in inter["action"]["sections"] for r in s["rows"]]
    return []


class Person:
    """One simulated person on one channel."""

    def __init__(self, channel: str, fake: Any, n: int, conn: Connection, report: Report) -> None:
        self.channel, self.fake, self.conn, self.report = channel, fake, conn, report
        self.rng = random.Random(n)
        if channel == "telegram":
            self.user: Any = TelegramUser(
                fake, self._post_telegram, user_id=10_000_000 + n, _update_ids=UPDATE_IDS
            )
            self.chat = str(self.user.user_id)
        else:
            self.user = WhatsAppUser(
                fake,
                self._post_whatsapp,
                WA_SECRET,
                wa_id=f"3161{n:07d}",
                user_id=None,
                _ids=UPDATE_IDS,
            )
            self.chat = self.user.key

    async def _post(self, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        started = time.perf_counter()
        status, answer = await self.conn.post_bytes(path, body, headers)
        self.report.acks.append(time.perf_counter() - started)
        self.report.inbound += 1
        if status != 200:
            raise RuntimeError(f"webhook answered {status}")
        return answer

    async def _post_telegram(self, update: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        answer = await self._post("/telegram/webhook", json.dumps(update).encode(), headers)
        await self.fake.webhook_answer(json.loads(answer))

    async def _post_whatsapp(self, body: bytes, headers: dict[str, str]) -> None:
        await self._post("/whatsapp/webhook", body, headers)

    def payloads(self) -> list[str]:
        if self.channel == "telegram":
            return _payloads_telegram(self.fake, int(self.chat))
        return _payloads_whatsapp(self.fake, self.chat)

    async def _turn(self, act: Any, expect: str) -> None:
        """Send, then wait until the bot shows buttons whose payloads start with `expect`."""
        started = time.perf_counter()
        await act()
        await self.fake.watch.until(
            self.chat, lambda: any(p.startswith(expect) for p in self.payloads())
        )
        self.report.answers.append(time.perf_counter() - started)

    async def tap(self, payload: str) -> None:
        await self.user.tap(payload)

    async def run(self, answers: int, questions: list[str]) -> None:
        first = "/start" if self.channel == "telegram" else KEYWORD
        await self._turn(lambda: self.user.say(first), "/consent/yes")
        await self._turn(lambda: self.tap("/consent/yes"), f"/a/{questions[0]}/")
        for i in range(answers):
            options = [p for p in self.payloads() if p.startswith(f"/a/{questions[i]}/")]
            nxt = questions[i + 1]
            await self._turn(lambda o=options: self.tap(self.rng.choice(o)), f"/a/{nxt}/")


def _scored_questions() -> list[str]:
    from bot.content import load_quiz

    return [q.id for q in load_quiz().questions]


async def run(
    channel: str = "telegram",
    db: str = "sqlite",
    scenario: str = "walk",
    people: int = 60,
    concurrency: int = 30,
    seconds: float = 60.0,
) -> Report:
    report = Report(channel=channel, db=db, scenario=scenario, people=people)
    fake: Any = WatchedTelegram() if channel == "telegram" else WatchedGraph()
    questions = _scored_questions()
    answers = SCORED_ANSWERS if scenario == "walk" else 1
    tmp = tempfile.TemporaryDirectory(prefix="vk-bench-")
    pg_name, url = fresh_database(db, tmp.name)
    async with LocalServer(fake.app) as api:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VK_")}
        env.update(
            VK_DATABASE_URL=url,
            VK_SECRET_KEY="bench",
            **BENCH_LIMITS,
            VK_MODEL_DIR=str(Path(tmp.name) / "nlu"),
            VK_DEMO_COUNT="500",
        )
        if channel == "telegram":
            env.update(
                VK_TELEGRAM_RATE=str(os.environ.get("BENCH_TELEGRAM_RATE", 30)),
                VK_TELEGRAM_TOKEN=fake.token,
                VK_TELEGRAM_API_URL=api.url,
                VK_TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
            )
        else:
            env.update(
                VK_WHATSAPP_TOKEN=fake.token,
                VK_WHATSAPP_PHONE_ID=fake.phone_id,
                VK_WHATSAPP_APP_SECRET=WA_SECRET,
                VK_WHATSAPP_VERIFY_TOKEN=WA_VERIFY,
                VK_WHATSAPP_API_URL=api.url,
            )
        cmd = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
        if os.environ.get("BENCH_PROFILE"):  # cProfile of the whole server run, to this file
            cmd[1:1] = ["-m", "tests.bench.cpu_profile", os.environ["BENCH_PROFILE"]]
        popen = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        proc = psutil.Process(popen.pid)
        print(f"server pid {popen.pid}", file=sys.stderr)
        try:
            await _wait_ready(port, popen)
            print("server ready", file=sys.stderr)
            _create_campaign(env)
            # Warm up with a few people, then measure.
            warm = Connection("127.0.0.1", port)
            for n in range(3):
                await Person(channel, fake, 900_000 + n, warm, Report(channel, db, "warm")).run(
                    1, questions
                )
            await warm.close()
            waited = await settle(proc)
            print(f"measuring (server at rest after {waited:.1f} s)", file=sys.stderr)
            calls_before = fake.watch.calls
            cpu_before = cpu_seconds(proc)
            sys_before = proc.cpu_times().system
            t0 = time.perf_counter()
            if scenario == "walk":
                await _walk(channel, fake, port, report, people, concurrency, answers, questions)
            else:
                await _burst(channel, fake, port, report, people, seconds, questions)
            report.seconds = round(time.perf_counter() - t0, 2)
            # Replies still on their way count too: wait until the server is idle.
            await _quiet(fake.watch)
            report.last_reply_after_s = round(fake.watch.last_call - t0, 2)
            cpu = cpu_seconds(proc) - cpu_before
            system = proc.cpu_times().system - sys_before
            report.server_system_share = round(system / cpu, 2) if cpu else 0.0
            report.outbound_calls = fake.watch.calls - calls_before
            report.server_rss_mb = round(rss_mb(proc), 1)
        finally:
            # With BENCH_PROFILE, SIGINT: SIGTERM would end the server before cProfile's dump.
            stop(popen, signal.SIGINT if os.environ.get("BENCH_PROFILE") else signal.SIGTERM, 60)
            if pg_name:
                drop_pg_database(pg_name)
            tmp.cleanup()
    report.inbound_per_s = round(report.inbound / report.seconds, 1) if report.seconds else 0.0
    if report.inbound:
        report.server_cpu_ms_per_inbound = round(cpu * 1000 / report.inbound, 3)
    for name in ("acks", "answers"):
        values = sorted(getattr(report, name))
        if len(values) >= 2:
            q = statistics.quantiles(values, n=100, method="inclusive")
            prefix = "ack" if name == "acks" else "answer"
            setattr(report, f"{prefix}_p50_ms", round(statistics.median(values) * 1000, 1))
            setattr(report, f"{prefix}_p99_ms", round(q[98] * 1000, 1))
    return report


def _create_campaign(env: dict[str, str]) -> None:
    """The radio campaign whose keyword WhatsApp listeners type."""
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "campaign", "create", "radio-bench", "--name", "Radio",
         "--keyword", KEYWORD],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip


async def _wait_ready(port: int, popen: subprocess.Popen[bytes]) -> None:
    while True:
        conn = Connection("127.0.0.1", port)
        try:
            _, body = await conn.request("GET", "/healthz")
            if "preparing" not in body:
                return
        except (OSError, asyncio.IncompleteReadError):
            if popen.poll() is not None:
                err = popen.stderr.read().decode() if popen.stderr else ""
                raise RuntimeError(f"server exited: {err}") from None
        finally:
            await conn.close()
        await asyncio.sleep(0.1)


async def _quiet(watch: Watch, idle: float = 1.5, limit: float = 120.0) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        await asyncio.sleep(0.25)
        if time.perf_counter() - watch.last_call > idle:
            return


async def _walk(
    channel: str,
    fake: Any,
    port: int,
    report: Report,
    people: int,
    concurrency: int,
    answers: int,
    questions: list[str],
) -> None:
    todo = iter(range(people))

    async def worker() -> None:
        conn = Connection("127.0.0.1", port)
        try:
            for n in todo:
                try:
                    await Person(channel, fake, n, conn, report).run(answers, questions)
                    report.finished += 1
                except (RuntimeError, TimeoutError, OSError, asyncio.IncompleteReadError):
                    report.errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _burst(
    channel: str,
    fake: Any,
    port: int,
    report: Report,
    people: int,
    seconds: float,
    questions: list[str],
) -> None:
    """People arrive evenly over `seconds`; each on its own connection."""
    gap = seconds / max(people, 1)
    start = time.perf_counter()
    ids = itertools.count()

    async def one(at: float) -> None:
        await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
        conn = Connection("127.0.0.1", port)
        try:
            await Person(channel, fake, next(ids), conn, report).run(1, questions)
            report.finished += 1
        except (RuntimeError, TimeoutError, OSError, asyncio.IncompleteReadError):
            report.errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(one(i * gap) for i in range(people)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channel", choices=("telegram", "whatsapp"), default="telegram")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scenario", choices=("walk", "burst"), default="walk")
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0, help="burst: arrival window")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(
        run(args.channel, args.db, args.scenario, args.people, args.concurrency, args.seconds)
    )
    if args.json:
        print(json.dumps(report.summary()))
    else:
        for key, value in report.summary().items():
            print(f"{key:28} {value}")


@pytest.mark.bench
@pytest.mark.parametrize("channel", ["telegram", "whatsapp"])
async def test_channel_load_small(channel: str) -> None:
    report = await run(channel, people=6, concurrency=3)
    print(report.summary())
    assert report.errors == 0 and report.finished == 6


if __name__ == "__main__":
    main()
