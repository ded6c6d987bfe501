"""Browser end-to-end fixtures: Debian's Chromium driven by Playwright (never a downloaded
browser), one real uvicorn server per test module, and two small static sites on other
origins (one allowed for an organisation, one not) for the cross-origin checks.

Run: `.venv/bin/pytest tests/e2e -m e2e`. Without /usr/bin/chromium the tests are skipped,
except in CI (CI=true), where a missing browser fails them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.orgs.importer import import_rows
from tests.live_server import run_server

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI") == "true"

# A vacancy near Utrecht whose organisation name is markup: it must show as text.
XSS_NAME = "<img src=x onerror=\"window.__pwned='org'\"><script>window.__pwned='org2'</script>"


@pytest.fixture(autouse=True)
def _dispose_engines() -> None:
    """Replaces the async autouse fixture of tests/conftest.py: Playwright's sync API keeps
    its own event loop running, and these tests use no async database engine."""


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if IN_CI:
        pytest.fail("/usr/bin/chromium is missing in CI (.ci/run installs it with apt)")
    pytest.skip("/usr/bin/chromium not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module, not per session: Playwright's sync API runs an event loop while it is
    started, which async tests elsewhere in the suite cannot share."""
    _need_chromium()
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@dataclass
class StaticSite:
    """A tiny web server on its own port: a page of some other website."""

    origin: str
    pages: dict[str, str] = field(default_factory=dict)


def _serve_site() -> tuple[StaticSite, ThreadingHTTPServer]:
    site = StaticSite(origin="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.origin = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return site, server


@dataclass
class E2E:
    base: str
    db_url: str
    allowed_site: StaticSite
    other_site: StaticSite


def _vacancy(vid: str, org: str, name: str, origins: list[str], **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "vacancy_id": vid,
        "organisation_id": org,
        "organisation_name": name,
        "title": "Maatje in de buurttuin",
        "description": "Samen tuinieren in de buurt.",
        "causes": "neighbourhood;nature",
        "activities": "hands_on;outdoor;social",
        "place": "Utrecht",
        "lat": 52.0907,
        "lon": 5.1214,
        "hours_min": 1,
        "hours_max": 4,
        "contact_email": "tuin@example.org",
        "allowed_origins": ";".join(origins),
        "fictional": "true",
    }
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def e2e(_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    """A server for the whole module, with organisations the tests rely on."""
    _need_chromium()
    allowed, allowed_server = _serve_site()
    other, other_server = _serve_site()
    rows = [
        _vacancy("e2e-xss-1", "e2e-xss", XSS_NAME, []),
        _vacancy("e2e-club-1", "e2e-club", "Buurtclub", [allowed.origin], title="Trainer"),
        _vacancy("e2e-other-1", "e2e-other", "Elders", ["https://other.example"], title="Elders"),
    ]
    import_rows(_database, list(enumerate(rows, start=2)))
    settings = Settings(
        database_url=_database,
        secret_key="e2e-secret",
        model_dir=tmp_path_factory.mktemp("nlu"),
    )
    try:
        with run_server(settings, timeout=60) as base:
            yield E2E(base=base, db_url=_database, allowed_site=allowed, other_site=other)
    finally:
        for server in (allowed_server, other_server):
            server.shutdown()
            server.server_close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        if IN_CI:
            pytest.fail("node_modules/axe-core missing in CI (.ci/run runs npm ci)")
        pytest.skip("axe-core not installed (npm ci)")
    return AXE.read_text(encoding="utf-8")
