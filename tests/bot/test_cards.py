"""The shareable result card: a 1200×630 PNG per profile, nothing personal on it."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from bot.cards import HEIGHT, WIDTH, profile_card_png
from bot.config import Settings
from bot.content import load_quiz


def test_every_profile_has_a_card_in_both_languages() -> None:
    quiz = load_quiz()
    for profile in quiz.profiles:
        for lang in ("nl", "en"):
            with Image.open(io.BytesIO(profile_card_png(quiz, profile.id, lang))) as img:
                assert img.format == "PNG" and img.size == (WIDTH, HEIGHT)
    with pytest.raises(KeyError):
        profile_card_png(quiz, "nobody")


async def test_card_route(settings: Settings, db_url: str) -> None:
    from bot.app import create_app

    profile = load_quiz().profiles[0].id
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        ok = await http.get(f"/cards/{profile}.png?lang=en")
        missing = await http.get("/cards/nobody.png")
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
    assert "public" in ok.headers["cache-control"]
    assert missing.status_code == 404
