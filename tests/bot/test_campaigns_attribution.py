"""From a poster to a conversation: `campaign create|links|qr` on the command line, the QR
codes decoded, and each entry point followed into a conversation attributed to the campaign
(Telegram /start payload, WhatsApp prefilled keyword, web landing page + REST)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings, get_settings
from bot.pipeline import Inbound, Pipeline
from bot.store import conversations as t
from bot.store.db import session_scope
from tests.live_server import run_server

CODE = "radio-kracht"
BOT = "VrijwilligersKrachtBot"
NUMBER = "31612345678"
ENV = {
    "VK_TELEGRAM_BOT_USERNAME": BOT,
    "VK_WHATSAPP_NUMBER": "+" + NUMBER,
    "VK_PUBLIC_URL": "http://127.0.0.1:8000",
}


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The real CLI, in-process, on the test database."""
    for key, value in {**ENV, "VK_DATABASE_URL": db_url}.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def campaign_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"telegram_bot_username": BOT, "whatsapp_number": NUMBER})


def invoke(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def create_campaign(cli: CliRunner) -> None:
    """Through the real CLI (async tests call it via `in_thread`: it runs its own loop)."""
    invoke(
        cli,
        "campaign", "create", CODE, "--name", "Radiospot week 48", "--keyword", "Kracht",
        "--start", "2026-11-23", "--end", "2026-12-06",
    )  # fmt: skip


def qr_link(cli: CliRunner, tmp_path: Path, channel: str) -> str:
    out = tmp_path / f"{channel}.png"
    invoke(cli, "campaign", "qr", CODE, "--format", "png", "--out", str(out), "--channel", channel)
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(out))]
    assert len(decoded) == 1
    return decoded[0]


async def in_thread(fn: Any, *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


async def campaign_of(db_url: str, conversation_id: str) -> tuple[str | None, str]:
    async with session_scope(db_url) as s:
        row = (
            await s.execute(
                select(t.conversations.c.campaign, t.conversations.c.channel).where(
                    t.conversations.c.id == conversation_id
                )
            )
        ).one()
    return row[0], row[1]


def test_cli_create_links_and_qr(cli: CliRunner, tmp_path: Path) -> None:
    create_campaign(cli)
    links = json.loads(invoke(cli, "campaign", "links", CODE, "--json"))
    assert set(links) == {"telegram", "whatsapp", "web"}
    assert links["telegram"] == f"https://t.me/{BOT}?start={CODE}"
    assert links["web"] == f"http://127.0.0.1:8000/c/{CODE}"
    assert links["whatsapp"].startswith(f"https://wa.me/{NUMBER}?text=")
    for channel in ("telegram", "whatsapp", "web"):
        assert qr_link(cli, tmp_path, channel) == links[channel]
    for fmt in ("svg", "pdf"):
        out = tmp_path / f"poster.{fmt}"
        invoke(cli, "campaign", "qr", CODE, "--format", fmt, "--out", str(out))
        assert out.stat().st_size > 500
    listed = json.loads(invoke(cli, "campaign", "list", "--json"))
    assert listed[0]["code"] == CODE and listed[0]["keyword"] == "KRACHT"


def test_cli_errors_are_clear(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    create_campaign(cli)
    again = cli.invoke(app, ["campaign", "create", CODE, "--name", "x", "--keyword", "x"])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = cli.invoke(app, ["campaign", "create", "met spatie", "--name", "x", "--keyword", "y"])
    assert bad.exit_code == 1 and "1-64 characters" in bad.output
    unknown = cli.invoke(app, ["campaign", "links", "nope"])
    assert unknown.exit_code == 1 and "no campaign" in unknown.output
    monkeypatch.delenv("VK_TELEGRAM_BOT_USERNAME")
    get_settings.cache_clear()
    links = cli.invoke(app, ["campaign", "links", CODE, "--json"])
    assert links.exit_code == 0
    assert json.loads(links.stdout)["telegram"] is None
    assert "VK_TELEGRAM_BOT_USERNAME" in links.output
    qr = cli.invoke(app, ["campaign", "qr", CODE, "--channel", "telegram", "--format", "png"])
    assert qr.exit_code == 1 and "VK_TELEGRAM_BOT_USERNAME" in qr.output


async def test_telegram_start_payload_attributes(
    cli: CliRunner, tmp_path: Path, campaign_settings: Settings, db_url: str
) -> None:
    from telegram import Update

    from bot.channels.telegram.inbound import to_inbound

    await in_thread(create_campaign, cli)
    start = parse_qs(urlsplit(await in_thread(qr_link, cli, tmp_path, "telegram")).query)["start"][
        0
    ]
    update = Update.de_json(
        {
            "update_id": 1001,
            "message": {
                "message_id": 1,
                "date": 1764400000,
                "chat": {"id": 424242, "type": "private"},
                "from": {"id": 424242, "is_bot": False, "first_name": "A", "language_code": "nl"},
                "text": f"/start {start}",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        },
        None,
    )
    found = to_inbound(update)
    assert found is not None
    result = await Pipeline(campaign_settings).handle(found[0])
    assert await campaign_of(db_url, result.conversation_id) == (CODE, "telegram")


async def test_telegram_start_text_without_adapter_meta(
    cli: CliRunner, campaign_settings: Settings, db_url: str
) -> None:
    """A client that passes '/start <code>' through as text is attributed as well."""
    await in_thread(create_campaign, cli)
    pipeline = Pipeline(campaign_settings)
    result = await pipeline.handle(Inbound("telegram", "77", text=f"/start {CODE.upper()}"))
    assert await campaign_of(db_url, result.conversation_id) == (CODE, "telegram")


def whatsapp_body(sender: str, text: str, phone_id: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": NUMBER, "phone_number_id": phone_id},
        "contacts": [{"profile": {"name": "Listener"}, "wa_id": sender}],
        "messages": [
            {
                "from": sender,
                "id": f"wamid.{sender}",
                "timestamp": "1764400000",
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    entry = {"id": "1", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


async def test_whatsapp_prefilled_keyword_attributes(
    cli: CliRunner, tmp_path: Path, campaign_settings: Settings, db_url: str
) -> None:
    from bot.channels.whatsapp.channel import WhatsAppChannel

    await in_thread(create_campaign, cli)
    text = parse_qs(urlsplit(await in_thread(qr_link, cli, tmp_path, "whatsapp")).query)["text"][0]
    settings = campaign_settings.model_copy(
        update={
            "whatsapp_token": "t",
            "whatsapp_phone_id": "1234",
            "whatsapp_app_secret": "s",
            "whatsapp_api_url": "http://127.0.0.1:9",
        }
    )
    pipeline = Pipeline(settings)
    channel = WhatsAppChannel(settings, pipeline)  # its outbox sender is not started
    try:
        assert await channel.handle_body(whatsapp_body("31600000001", text, "1234")) == 1
        # A listener who typed what they heard on the radio, with a typo.
        assert await channel.handle_body(whatsapp_body("31600000002", "Kraght 💪", "1234")) == 1
        assert await channel.handle_body(whatsapp_body("31600000003", "hoi", "1234")) == 1
    finally:
        await channel.stop()
    async with session_scope(db_url) as s:
        rows = (
            await s.execute(select(t.conversations.c.campaign, t.conversations.c.channel))
        ).all()
    assert sorted((r[0] or "", r[1]) for r in rows) == [
        ("", "whatsapp"),
        (CODE, "whatsapp"),
        (CODE, "whatsapp"),
    ]


async def test_rest_first_message_with_keyword_attributes(
    cli: CliRunner, campaign_settings: Settings, db_url: str
) -> None:
    await in_thread(create_campaign, cli)
    pipeline = Pipeline(campaign_settings)
    hit = await pipeline.handle(Inbound("rest", "radio-listener", text="KRACHTT!"))
    miss = await pipeline.handle(Inbound("rest", "someone", text="krachtig"))
    assert (await campaign_of(db_url, hit.conversation_id))[0] == CODE
    assert (await campaign_of(db_url, miss.conversation_id))[0] is None
    # Only the first message counts: a later keyword does not re-attribute.
    later = await pipeline.handle(Inbound("rest", "someone", text="kracht"))
    assert (await campaign_of(db_url, later.conversation_id))[0] is None


async def test_web_link_landing_page_and_rest(
    cli: CliRunner, tmp_path: Path, campaign_settings: Settings, db_url: str
) -> None:
    await in_thread(create_campaign, cli)
    web = await in_thread(qr_link, cli, tmp_path, "web")
    path = urlsplit(web).path
    with run_server(campaign_settings) as base:
        page = httpx.get(base + path)
        assert page.status_code == 200
        assert "Radiospot week 48" in page.text
        found = re.search(r'<script src="/widget.js"([^>]*)>', page.text)
        assert found is not None, page.text
        attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', found.group(1)))
        assert attrs["mode"] == "inline" and attrs["campaign"] == CODE
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        # What the widget sends: its first message with the page's data-campaign.
        body: dict[str, Any] = {
            "sender": "web-visitor",
            "message": "/start",
            "metadata": {"campaign": attrs["campaign"], "channel": "widget", "start": True},
        }
        reply = httpx.post(base + "/webhooks/rest/webhook", json=body)
        assert reply.status_code == 200
        missing = httpx.get(base + "/c/no-such-campaign")
        assert missing.status_code == 404 and "/widget.js" in missing.text
        assert "data-campaign" not in missing.text
    async with session_scope(db_url) as s:
        rows = (
            await s.execute(select(t.conversations.c.campaign, t.conversations.c.channel))
        ).all()
    assert [(r[0], r[1]) for r in rows] == [(CODE, "widget")]
