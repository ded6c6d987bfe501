"""The organisation's lead page in Chromium with JavaScript switched off: it shows the lead,
one tap on "Contact opgenomen" records it, and the page fits a phone screen."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from tests.bot.leads import seed
from tests.bot.leads.test_handoff import T0
from tests.e2e.conftest import _need_chromium
from tests.live_server import run_server

pytestmark = pytest.mark.e2e


def _in_thread(coro_fn: Any) -> Any:
    """Run async set-up on its own loop (Playwright's sync API owns this thread's loop)."""
    out: dict[str, Any] = {}

    def target() -> None:
        async def main() -> None:
            from bot.store.db import dispose_all

            try:
                out["value"] = await coro_fn()
            finally:
                await dispose_all()

        asyncio.run(main())

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return out.get("value")


@pytest.fixture(scope="module")
def lead_site(_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _need_chromium()
    from bot.leads import links
    from bot.leads.tables import leads
    from tests.conftest import _empty_all_tables

    _empty_all_tables(_database)
    settings = Settings(
        database_url=_database, secret_key="e2e-secret", model_dir=tmp_path_factory.mktemp("n")
    )

    async def prepare() -> tuple[int, str]:
        import sqlalchemy as sa

        from bot.store.db import get_engine

        await seed.seed_orgs(_database, T0)
        lead_id, conversation_id = await seed.add_lead(
            _database, T0, name="Sanne", email="sanne@example.org"
        )
        async with get_engine(_database).begin() as conn:  # already delivered: no mail here
            await conn.execute(
                sa.update(leads)
                .where(leads.c.id == lead_id)
                .values(
                    status="delivered",
                    delivered_at=T0,
                    scheduled_at=T0,
                    contact_phone="06 12345678",
                    contact_message="Ik kook graag voor grote groepen!",
                )
            )
        return lead_id, conversation_id

    lead_id, conversation_id = _in_thread(prepare)
    token = links.make_token(settings, lead_id, conversation_id)
    with run_server(settings, timeout=60) as base:
        yield {"url": f"{base}/l/{token}", "lead_id": lead_id, "db": _database}


def test_one_tap_without_javascript_records_contact(
    browser: Any, lead_site: dict[str, Any], artifacts: Path
) -> None:
    context = browser.new_context(
        java_script_enabled=False,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
    )
    page = context.new_page()
    page.goto(lead_site["url"])
    assert page.locator("script").count() == 0
    assert page.get_by_text("Koken voor de buurt").first.is_visible()
    assert page.get_by_text("sanne@example.org").is_visible()
    button = page.get_by_role("button", name="Contact opgenomen")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] <= 390  # easy to tap
    page.screenshot(path=str(artifacts / "lead-page.png"), full_page=True)

    button.click()
    page.wait_for_load_state()
    assert page.get_by_role("status").is_visible()
    assert "Dank u" in page.get_by_role("status").inner_text()
    page.screenshot(path=str(artifacts / "lead-page-answered.png"), full_page=True)
    context.close()

    async def status() -> str:
        row = await seed.lead_row(lead_site["db"], lead_site["lead_id"])
        return str(row.status)

    assert _in_thread(status) == "contacted"


def test_a_message_through_the_chat_without_javascript(
    browser: Any, lead_site: dict[str, Any], artifacts: Path
) -> None:
    """A person who chose "via deze chat": the page has a message box; what the organisation
    writes goes to the person's Telegram chat (the outbox), and counts as contact."""
    from bot.leads import links

    async def prepare() -> tuple[int, str]:
        import sqlalchemy as sa

        from bot.leads.tables import conversations, leads
        from bot.store.db import get_engine

        lead_id, conversation_id = await seed.add_lead(lead_site["db"], T0, name="Sam", email="")
        async with get_engine(lead_site["db"]).begin() as conn:
            await conn.execute(
                sa.update(leads)
                .where(leads.c.id == lead_id)
                .values(
                    status="delivered",
                    delivered_at=T0,
                    scheduled_at=T0,
                    contact_email=None,
                    contact_chat="Telegram",
                    chat_id="424242",
                    lang="nl",
                )
            )
            await conn.execute(
                sa.update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(channel="telegram")
            )
        return lead_id, conversation_id

    lead_id, conversation_id = _in_thread(prepare)
    settings = Settings(database_url=lead_site["db"], secret_key="e2e-secret")
    token = links.make_token(settings, lead_id, conversation_id)
    url = lead_site["url"].rsplit("/l/", 1)[0] + f"/l/{token}"
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    page.goto(url)
    assert page.get_by_text("Stuur een bericht via de chat").is_visible()
    page.get_by_label("Uw bericht").fill("Hoi Sam! Bel ons gerust: 030 123 4567.")
    page.screenshot(path=str(artifacts / "lead-page-chat.png"), full_page=True)
    page.get_by_role("button", name="Verstuur bericht").click()
    page.wait_for_load_state()
    assert "Uw bericht is verstuurd" in page.get_by_role("status").inner_text()
    context.close()

    async def sent() -> tuple[str, list[Any]]:
        import sqlalchemy as sa

        from bot.store.db import get_engine

        row = await seed.lead_row(lead_site["db"], lead_id)
        async with get_engine(lead_site["db"]).connect() as conn:
            ops = (
                await conn.execute(
                    sa.text("SELECT chat_id, op FROM outbox WHERE channel = 'telegram'")
                )
            ).all()
        return str(row.status), list(ops)

    status, ops = _in_thread(sent)
    assert status == "contacted"
    assert [str(chat) for chat, _ in ops] == ["424242"]
    assert "Bel ons gerust" in str(ops[0][1]) and "Bericht van Buurthuis De Linde" in str(ops[0][1])
