"""A database outage under load: Postgres stops for ten seconds while REST clients keep
talking. Requests fail fast with 503 + Retry-After (never 500, never hanging), /healthz stays
alive, /readyz says not ready, and the service answers again by itself once Postgres is back.

The shared Postgres of the machine is not touched: the test starts a private cluster on a free
port in a temporary folder (skipped when the PostgreSQL server binaries are not installed)."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.store.migrate import upgrade
from tests.live_server import free_port, start_server

pytestmark = pytest.mark.slow
OUTAGE_S = 10.0


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class Cluster:
    """A throw-away Postgres cluster (run as the `postgres` user when we are root)."""

    def __init__(self, bindir: Path, folder: Path) -> None:
        self.bindir, self.folder, self.port = bindir, folder, free_port()
        self.data = folder / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no postgres user for initdb")
            self.user = "postgres"
            shutil.chown(folder, "postgres")

    def run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bindir = pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed")
    # Not under pytest's tmp folder: that one is private to us, and initdb may run as postgres.
    folder = Path(tempfile.mkdtemp(prefix="vk-pg-"))
    try:
        c = Cluster(bindir, folder)
        c.init()
        c.start()
        try:
            yield c
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                c.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_postgres_outage_under_load(
    cluster: Cluster, settings: Settings, tmp_path: Path
) -> None:
    upgrade(cluster.url)
    app_settings = settings.model_copy(update={"database_url": cluster.url})
    log: list[tuple[float, int, float, str | None]] = []  # sent at, status, seconds, Retry-After
    stop = asyncio.Event()
    odd: list[str] = []

    async def client(base: str, n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            i = 0
            while not stop.is_set():
                i += 1
                body = {"sender": f"load-{n}", "message": "/start" if i == 1 else "hoi"}
                sent = time.monotonic()
                try:
                    r = await http.post("/webhooks/rest/webhook", json=body)
                    log.append(
                        (sent, r.status_code, time.monotonic() - sent, r.headers.get("retry-after"))
                    )
                    if r.status_code not in (200, 503):
                        odd.append(r.text[:300])
                except httpx.HTTPError as exc:
                    log.append((sent, -1, time.monotonic() - sent, None))
                    odd.append(repr(exc))
                await asyncio.sleep(0.05)

    server_log = tmp_path / "server.log"
    with start_server(app_settings, workers=1, log_path=server_log) as (base, _proc):
        async with httpx.AsyncClient(base_url=base, timeout=10) as probe:
            tasks = [asyncio.create_task(client(base, n)) for n in range(8)]
            await asyncio.sleep(2.0)
            down_at = time.monotonic()
            await asyncio.to_thread(cluster.stop)
            await asyncio.sleep(1.0)
            health = await probe.get("/healthz")
            ready = await probe.get("/readyz")
            await asyncio.sleep(OUTAGE_S - 1.0)
            up_at = time.monotonic()
            await asyncio.to_thread(cluster.start)
            recovered_at = None
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and recovered_at is None:
                await asyncio.sleep(0.2)
                recent = [s for t, s, _, _ in log if t > time.monotonic() - 0.5]
                if recent and all(s == 200 for s in recent):
                    recovered_at = time.monotonic()
            ready_after = await probe.get("/readyz")
            stop.set()
            await asyncio.gather(*tasks)

    during = [(s, took, ra) for t, s, took, ra in log if down_at + 0.5 < t < up_at]
    statuses = {s for s, _, _ in during}
    assert during, "no requests during the outage"
    assert statuses == {503}, statuses  # no 500, no dropped connection
    assert all(ra == "5" for _, _, ra in during)
    assert max(took for _, took, _ in during) < 1.0  # fail fast, no hanging
    others = Counter(s for _, s, _, _ in log if s not in (200, 503))
    errors = [
        line for line in server_log.read_text(errors="replace").splitlines() if "Error" in line
    ]
    assert not others, (others, odd[:5], errors[-10:])  # the server log names the error class
    assert health.status_code == 200 and health.json()["database"] == "unavailable"
    assert ready.status_code == 503
    assert recovered_at is not None, "the service did not recover by itself"
    assert ready_after.status_code == 200
    print(
        f"outage: {len(during)} requests answered 503 in at most "
        f"{max(took for _, took, _ in during) * 1000:.0f} ms; answering again "
        f"{recovered_at - up_at:.1f} s after Postgres was started"
    )
