"""A `serve --workers N` worker answers before it has loaded what no first message needs:
SQLAlchemy, numpy, spaCy, Jinja and the pages are loaded just after it starts serving."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot import app as app_module
from bot.config import Settings
from bot.startup import PREPARED_ENV
from tests.live_server import ROOT, settings_env

HEAVY = ["sqlalchemy", "sqlmodel", "alembic", "numpy", "spacy", "jinja2"]


def test_worker_app_is_built_without_heavy_imports(settings: Settings, tmp_path: Path) -> None:
    env = settings_env(settings) | {PREPARED_ENV: str(tmp_path / "prepared")}
    code = (
        "import json, sys\n"
        "from bot.startup import worker_app\n"
        "worker_app()\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


async def test_pages_answer_503_until_mounted_then_serve(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = tmp_path / "prepared"
    flag.write_text("1")  # the serving process has prepared everything
    monkeypatch.setenv(PREPARED_ENV, str(flag))
    monkeypatch.setattr(app_module, "WORKER_PAGES_DELAY_S", 0.3)
    app = app_module.create_app(settings, prepare_in_background=True)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://worker") as http,
    ):
        early = await http.get("/privacy")
        assert early.status_code == 503 and early.headers["retry-after"] == "1"
        start = {"sender": "w", "message": "/start"}
        answer = await http.post("/webhooks/rest/webhook", json=start)
        assert answer.status_code == 200 and answer.json()  # chats are answered meanwhile
        for _ in range(100):
            if not app.state.pages_pending:
                break
            await asyncio.sleep(0.1)
        page = await http.get("/privacy")
        assert page.status_code == 200 and "privacy" in page.text.lower()
        assert (await http.get("/no-such-page")).status_code == 404
        api = (await http.get("/openapi.json")).json()  # the pages' API is documented too
        assert "/api/org/vacancies" in api["paths"]
