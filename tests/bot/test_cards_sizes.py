"""Result cards in both sizes (1080×1080 and 1200×630) and in an organisation's colours."""

from __future__ import annotations

import io

import httpx
import sqlalchemy as sa
from PIL import Image

from bot.cards import SIZES, Theme, contrast, parse_hex, profile_card_png
from bot.config import Settings
from bot.content import load_quiz
from bot.store.db import get_engine
from tests.bot.leads import seed
from tests.bot.leads.test_handoff import T0


def _image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_both_sizes_for_every_profile() -> None:
    quiz = load_quiz()
    for profile in quiz.profiles:
        for size, dims in SIZES.items():
            assert _image(profile_card_png(quiz, profile.id, "en", size=size)).size == dims
    assert SIZES["square"] == (1080, 1080) and SIZES["wide"] == (1200, 630)


def test_organisation_colours_with_readable_text() -> None:
    quiz = load_quiz()
    profile = quiz.profiles[0].id
    light = Theme.from_hex("#fff3c4", "#fff8dd")  # a pale brand: dark text, accent gives way
    img = _image(profile_card_png(quiz, profile, "nl", size="square", theme=light))
    assert img.getpixel((1070, 1070)) == (255, 243, 196)
    assert light.text != (255, 255, 255) and light.highlight == light.text
    assert contrast(light.text, light.background) >= 4.5
    dark = Theme.from_hex("#0b6e4f", "#f2b705")
    assert dark.text == (255, 255, 255) and dark.highlight == (242, 183, 5)
    assert parse_hex("nonsense") is None and Theme.from_hex("nonsense") == Theme()


async def test_card_route_takes_size_and_organisation(settings: Settings) -> None:
    from bot.app import create_app

    await seed.seed_orgs(settings.database_url, T0)
    async with get_engine(settings.database_url).begin() as conn:
        await conn.execute(
            sa.text("UPDATE organisations SET brand_colour = '#0b6e4f' WHERE id = :id"),
            {"id": seed.ORG},
        )
    profile = load_quiz().profiles[0].id
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        square = await http.get(f"/cards/{profile}.png?size=square&org={seed.ORG}")
        plain = await http.get(f"/cards/{profile}.png?org=unknown")
        bad = await http.get(f"/cards/{profile}.png?size=huge")
    img = _image(square.content)
    assert img.size == (1080, 1080) and img.getpixel((1070, 1070)) == (11, 110, 79)
    assert _image(plain.content).size == (1200, 630)
    assert bad.status_code == 404
