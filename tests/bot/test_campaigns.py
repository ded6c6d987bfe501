"""Campaign codes, the spoken keyword, entry links and QR codes (decoded with zxing-cpp)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import zxingcpp
from PIL import Image

from bot.campaigns import (
    WHATSAPP_TEXT_MAX,
    CampaignError,
    campaign_links,
    keyword_matches,
    match_campaign_keyword,
    qr_matrix,
    sound_key,
    validate_code,
    validate_keyword,
    whatsapp_text,
    write_qr,
)
from bot.config import Settings
from bot.store.campaigns import Campaign

# What a radio listener types after hearing "KRACHT" ...
MUST_MATCH = [
    "kracht",
    "KRACHT",
    "KRAGHT",
    "kracht!",
    "krachtt",
    "Kracht 💪",
    "Krácht",
    "kragt",
    "cracht",
    "kraxht",
    "krach",
    "  kracht.  ",
    "Hoi, KRACHT",
    "kracht graag",
    "KRACHT! Hoi, ik wil mijn vrijwilligerskracht ontdekken.",
]
# ... and ordinary first messages that must not be taken for it.
MUST_NOT_MATCH = [
    "krachtig",
    "krachten",
    "hoi",
    "Hallo!",
    "vrijwilligerskracht",
    "Ontdek je vrijwilligerskracht",
    "pracht",
    "nacht",
    "macht",
    "ik wil helpen",
    "start",
    "/start",
    "",
    "💪",
    "wat is dit voor een bot eigenlijk, ik heb je nummer van mijn buurvrouw gekregen",
]


@pytest.mark.parametrize("text", MUST_MATCH)
def test_keyword_near_misses_match(text: str) -> None:
    assert keyword_matches(text, "KRACHT"), text


@pytest.mark.parametrize("text", MUST_NOT_MATCH)
def test_ordinary_messages_do_not_match(text: str) -> None:
    assert not keyword_matches(text, "KRACHT"), text


def test_sound_key_folds_dutch_spellings() -> None:
    assert {sound_key(w) for w in ("kracht", "KRAGHT", "krachtt", "Kracht 💪")} == {"kragt"}


def test_multi_word_keyword() -> None:
    assert keyword_matches("goed bezig!", "GOED BEZIG")
    assert keyword_matches("goedbezig", "GOED BEZIG")
    assert keyword_matches("Goed bezzig", "GOED BEZIG")
    assert not keyword_matches("goed", "GOED BEZIG")


def _campaign(code: str, keyword: str, start: int | None, end: int | None) -> Campaign:
    today = date(2026, 11, 25)
    return Campaign(
        code=code,
        name=code,
        keyword=keyword,
        starts_on=today + timedelta(days=start) if start is not None else None,
        ends_on=today + timedelta(days=end) if end is not None else None,
    )


def test_running_campaign_wins_and_future_ones_never_match() -> None:
    today = date(2026, 11, 25)
    old = _campaign("kracht-2025", "KRACHT", -400, -360)
    now = _campaign("kracht-2026", "KRACHT", -3, 10)
    future = _campaign("kracht-2027", "KRACHT", 300, 320)
    assert match_campaign_keyword("Kraght!", [old, now, future], today) == "kracht-2026"
    assert match_campaign_keyword("Kraght!", [old, future], today) == "kracht-2025"
    assert match_campaign_keyword("Kraght!", [future], today) is None
    assert match_campaign_keyword("hoi", [old, now, future], today) is None


def test_hashtag_code_picks_the_campaign_exactly() -> None:
    campaigns = {"radio-538": "KRACHT", "poster-utrecht": "KRACHT"}
    text = whatsapp_text("KRACHT", "poster-utrecht")
    assert match_campaign_keyword(text, campaigns) == "poster-utrecht"
    assert match_campaign_keyword("hoi #RADIO-538", campaigns) == "radio-538"


def test_codes_fit_telegram_start_payloads() -> None:
    assert validate_code("a" * 64) == "a" * 64
    assert validate_code("Radio_538-week48")
    for bad in ("", "a" * 65, "met spatie", "kracht!", "ümlaut"):
        with pytest.raises(CampaignError):
            validate_code(bad)
    assert validate_keyword(" kracht ") == "KRACHT"
    with pytest.raises(CampaignError):
        validate_keyword("!!")
    for ordinary in ("hoi", "Hallo", "START", "helpp"):
        with pytest.raises(CampaignError, match="distinctive"):
            validate_keyword(ordinary)


def links_settings(**kw: str) -> Settings:
    values = {
        "telegram_bot_username": "@VrijwilligersKrachtBot",
        "whatsapp_number": "+31 6 1234 5678",
        "public_url": "https://vrijwilligerskracht.example/",
    }
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


def test_links_for_every_channel() -> None:
    links = campaign_links(links_settings(), "radio-kracht", "KRACHT")
    assert links.telegram == "https://t.me/VrijwilligersKrachtBot?start=radio-kracht"
    assert links.web == "https://vrijwilligerskracht.example/c/radio-kracht"
    assert links.whatsapp is not None
    wa = urlsplit(links.whatsapp)
    assert (wa.scheme, wa.netloc, wa.path) == ("https", "wa.me", "/31612345678")
    text = parse_qs(wa.query)["text"][0]
    assert len(text) <= WHATSAPP_TEXT_MAX
    assert keyword_matches(text, "KRACHT")
    assert not links.missing


def test_whatsapp_text_stays_within_140_characters() -> None:
    code = "c" * 64
    text = whatsapp_text("GOED BEZIG", code)
    assert len(text) <= WHATSAPP_TEXT_MAX
    assert text.startswith("GOED BEZIG")
    assert match_campaign_keyword(text, {code: "GOED BEZIG"}) == code


def test_missing_username_and_number_are_explained() -> None:
    links = campaign_links(
        Settings(telegram_bot_username=None, whatsapp_number=None), "radio", "KRACHT"
    )
    assert links.telegram is None and links.whatsapp is None
    assert links.web.endswith("/c/radio")
    assert any("VK_TELEGRAM_BOT_USERNAME" in m for m in links.missing)
    assert any("VK_WHATSAPP_NUMBER" in m for m in links.missing)
    with pytest.raises(CampaignError, match="VK_TELEGRAM_BOT_USERNAME"):
        links.get("telegram")


def decode_png(path: Path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(path))]


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "web"])
def test_qr_png_decodes_to_the_link(tmp_path: Path, channel: str) -> None:
    link = campaign_links(links_settings(), "radio-kracht", "KRACHT").get(channel)  # type: ignore[arg-type]
    out = write_qr(link, tmp_path / f"{channel}.png", "png")
    assert decode_png(out) == [link]


def svg_to_image(path: Path, scale: int = 8) -> Image.Image:
    """Draw segno's SVG path (absolute M, relative m, horizontal h runs) into a bitmap, so
    the SVG itself is decoded rather than trusted."""
    root = ElementTree.parse(path).getroot()
    d = next(el for el in root.iter() if el.tag.endswith("path")).get("d", "")
    side = int(float(root.get("viewBox", "0 0 0 0").split()[2]) / 10)
    img = Image.new("L", (side * scale, side * scale), 255)
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", d):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            row = int(y)
            for col in range(int(x), int(x + float(a))):
                img.paste(0, (col * scale, row * scale, (col + 1) * scale, (row + 1) * scale))
            x += float(a)
    return img


def test_qr_svg_and_pdf(tmp_path: Path) -> None:
    link = "https://t.me/VrijwilligersKrachtBot?start=radio-kracht"
    svg = write_qr(link, tmp_path / "qr.svg", "svg")
    assert [r.text for r in zxingcpp.read_barcodes(svg_to_image(svg))] == [link]
    assert len(qr_matrix(link)) in (21, 25, 29, 33)  # small enough for a flyer
    pdf = write_qr(link, tmp_path / "qr.pdf", "pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    with pytest.raises(CampaignError):
        write_qr(link, tmp_path / "qr.gif", "gif")
