"""A real uvicorn server process on a free loopback port, for tests that need actual HTTP.

The process runs `uvicorn --factory bot.app:factory` with the test settings in its environment,
so it is exactly what `serve` runs (minus the migrations, which the test database already has).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VK_")}
    env.update(
        VK_DATABASE_URL=settings.database_url,
        VK_SECRET_KEY=settings.secret_key,
        VK_MODEL_DIR=str(settings.model_dir),
        VK_MAX_MESSAGE_CHARS=str(settings.max_message_chars),
        VK_MAX_BODY_BYTES=str(settings.max_body_bytes),
        VK_FLOOD_RATE=str(settings.flood_rate),
        VK_FLOOD_BURST=str(settings.flood_burst),
        VK_NEW_CONVERSATIONS_PER_SECOND=str(settings.new_conversations_per_second),
        VK_NEW_CONVERSATION_QUEUE_SECONDS=str(settings.new_conversation_queue_seconds),
    )
    if settings.redis_url:
        env["VK_REDIS_URL"] = settings.redis_url
    if settings.content_dir:
        env["VK_CONTENT_DIR"] = str(settings.content_dir)
    if settings.admin_token:
        env["VK_ADMIN_TOKEN"] = settings.admin_token
    return env


@contextmanager
def run_server(
    settings: Settings,
    workers: int = 1,
    timeout: float = 30.0,
    factory: str = "bot.app:factory",
) -> Iterator[str]:
    """Start a server for `settings`; yields its base URL and stops it afterwards."""
    with start_server(settings, workers, timeout, factory) as (base, _proc):
        yield base


@contextmanager
def start_server(
    settings: Settings,
    workers: int = 1,
    timeout: float = 30.0,
    factory: str = "bot.app:factory",
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Like `run_server`, also yielding the process (its pid, for memory measurements)."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    env = settings_env(settings)
    env.update(extra_env or {})
    # A long run logs more than a pipe holds: then the output goes to a file instead.
    log = log_path.open("wb") if log_path is not None else None
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log or subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                if log_path is not None:
                    out = log_path.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy in time")
            time.sleep(0.05)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        if log is not None:
            log.close()
