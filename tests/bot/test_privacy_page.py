"""GET /privacy over HTTP: the statement names what the consent text names."""

from __future__ import annotations

import httpx

from bot.config import Settings
from bot.privacy_page import privacy_statement


async def test_privacy_statement_is_served(live_server: str, settings: Settings) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        page = await client.get(live_server + "/privacy")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert settings.controller_name in page.text
    assert f"Hoogstens {settings.retention_days} dagen" in page.text


def test_statement_is_filled_from_the_settings(settings: Settings) -> None:
    custom = settings.model_copy(
        update={"controller_name": "Gemeente <Utrecht>", "retention_days": 60}
    )
    page = privacy_statement(custom)
    assert "Gemeente &lt;Utrecht&gt;" in page and "Hoogstens 60 dagen" in page
