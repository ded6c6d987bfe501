"""`serve --workers 2` restarts fast: the schema check, then the workers start at once while
demo data and the language model are prepared once, beside them. Measured from process start
to the first answer of a REST conversation, after a kill -9 of a running service (a crash),
with a trained model and the demo data already in place."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from tests.live_server import ROOT, free_port, settings_env

pytestmark = pytest.mark.slow
# A regression guard with room for a busy CI machine (preparing before the workers took 12.5 s
# here). The figure itself (about 1.4-2.2 s on a quiet machine, target 3 s) comes from
# `python -m tests.bench.bench_restart`, which runs this same procedure.
BUDGET_S = 8.0


def start(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = settings_env(settings)
    env.update(VK_DEMO_COUNT="200", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "bot.cli", "serve", "--workers", "2", "--port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def first_answer(port: int, started: float, proc: subprocess.Popen[bytes], limit: float) -> float:
    """Seconds from `started` until a conversation gets its first answer."""
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    while time.monotonic() - started < limit:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}")
        try:
            r = httpx.post(url, json={"sender": "restart", "message": "/start"}, timeout=2)
            if r.status_code == 200 and r.json():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"no answer within {limit} s")


def crash(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def ready(port: int, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def restart_timings(settings: Settings, tmp_path: Path, restarts: int = 2) -> list[float]:
    """Seconds from start to the first answer, for `restarts` starts after a kill -9."""
    log = tmp_path / "serve.log"
    # First start: migrates, loads the demo data and trains the model (may take a while).
    port = free_port()
    proc = start(settings, port, log)
    try:
        first_answer(port, time.monotonic(), proc, 600)
        assert ready(port, 600), log.read_text()  # the model is trained and loaded
    finally:
        crash(proc)
    timings = []
    for _ in range(restarts):
        port = free_port()
        started = time.monotonic()
        proc = start(settings, port, log)
        try:
            timings.append(first_answer(port, started, proc, 60))
            assert ready(port, 60), log.read_text()
        finally:
            crash(proc)
    return timings


def test_two_workers_answer_soon_after_a_crash(settings: Settings, tmp_path: Path) -> None:
    timings = restart_timings(settings, tmp_path)
    print(f"serve --workers 2, start to first answer: {', '.join(f'{t:.2f} s' for t in timings)}")
    assert min(timings) <= BUDGET_S, timings
