"""A shareable result card (1200×630 PNG, the size link previews use) for a volunteer profile.

It shows the archetype only — name, tagline, strengths — never anything a person answered, so
it can be shared publicly and cached. Fonts: DejaVu (shipped with matplotlib and Debian).
"""

from __future__ import annotations

import io
import textwrap
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont, ImageFont

    from quiz.model import Quiz

WIDTH, HEIGHT = 1200, 630
BACKGROUND = (31, 95, 168)
ACCENT = (255, 196, 77)
WHITE = (255, 255, 255)
SOFT = (214, 228, 245)
TEXTS = {
    "nl": {"me": "Mijn vrijwilligerskracht", "cta": "Ontdek de jouwe"},
    "en": {"me": "My volunteer strength", "cta": "Discover yours"},
}


def _font_file(bold: bool) -> Path | None:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    candidates = [Path("/usr/share/fonts/truetype/dejavu") / name]
    spec = find_spec("matplotlib")
    if spec and spec.origin:
        candidates.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name)
    return next((p for p in candidates if p.exists()), None)


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> FreeTypeFont | ImageFont:
    from PIL import ImageFont

    path = _font_file(bold)
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size)


def profile_card_png(quiz: Quiz, profile_id: str, lang: str = "nl", url: str = "") -> bytes:
    """The card of one profile; KeyError for an unknown profile id."""
    from PIL import Image, ImageDraw

    profile = quiz.profile(profile_id)
    if profile is None:
        raise KeyError(profile_id)
    lang = lang if lang in TEXTS else "nl"

    def pick(texts: object) -> str:
        table = texts if isinstance(texts, dict) else {}
        return str(table.get(lang) or next(iter(table.values()), ""))

    img = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 24, HEIGHT), fill=ACCENT)
    x, y = 80, 70
    draw.text((x, y), TEXTS[lang]["me"].upper(), font=_font(30, bold=True), fill=ACCENT)
    y += 60
    draw.text((x, y), pick(profile.name), font=_font(84, bold=True), fill=WHITE)
    y += 115
    for line in textwrap.wrap(pick(profile.tagline), width=40)[:2]:
        draw.text((x, y), line, font=_font(44), fill=WHITE)
        y += 58
    y += 20
    strengths = profile.strengths.get(lang) or next(iter(profile.strengths.values()), ())
    for strength in list(strengths)[:3]:
        draw.ellipse((x, y + 14, x + 14, y + 28), fill=ACCENT)
        draw.text((x + 32, y), strength, font=_font(34), fill=SOFT)
        y += 48
    footer = TEXTS[lang]["cta"] + (f" · {url}" if url else "")
    draw.text((x, HEIGHT - 80), footer, font=_font(30, bold=True), fill=ACCENT)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
