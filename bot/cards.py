"""A shareable result card for a volunteer profile: 1200×630 (`wide`, the size link previews
use) or 1080×1080 (`square`, for Instagram and WhatsApp status), optionally in an
organisation's colours (`Theme`, when the person came through its widget or campaign).

It shows the archetype only — name, tagline, strengths — never anything a person answered, so
it can be shared publicly and cached. Fonts: DejaVu (shipped with matplotlib and Debian).
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont, ImageFont

    from quiz.model import Quiz

WIDTH, HEIGHT = 1200, 630
SIZES: dict[str, tuple[int, int]] = {"wide": (WIDTH, HEIGHT), "square": (1080, 1080)}
BACKGROUND = (31, 95, 168)
ACCENT = (255, 196, 77)
WHITE = (255, 255, 255)
SOFT = (214, 228, 245)
DARK = (24, 28, 33)
DARK_SOFT = (55, 62, 70)
HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
RGB = tuple[int, int, int]


def parse_hex(value: str | None) -> RGB | None:
    """'#1f5fa8' -> (31, 95, 168); None for anything else."""
    match = HEX.match((value or "").strip())
    if match is None:
        return None
    n = int(match.group(1), 16)
    return (n >> 16) & 255, (n >> 8) & 255, n & 255


def _luminance(c: RGB) -> float:
    def channel(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.03928 else float(((x + 0.055) / 1.055) ** 2.4)

    r, g, b = (channel(v) for v in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio (1..21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@dataclass(frozen=True)
class Theme:
    """Card colours. Text is white or near-black, whichever reads better on the background;
    an accent too close to the background gives way to the text colour."""

    background: RGB = BACKGROUND
    accent: RGB = ACCENT

    @classmethod
    def from_hex(cls, background: str | None, accent: str | None = None) -> Theme:
        return cls(parse_hex(background) or BACKGROUND, parse_hex(accent) or ACCENT)

    @property
    def text(self) -> RGB:
        return (
            WHITE if contrast(WHITE, self.background) >= contrast(DARK, self.background) else DARK
        )

    @property
    def soft(self) -> RGB:
        return SOFT if self.text == WHITE else DARK_SOFT

    @property
    def highlight(self) -> RGB:
        return self.accent if contrast(self.accent, self.background) >= 3.0 else self.text


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


def profile_card_png(
    quiz: Quiz,
    profile_id: str,
    lang: str = "nl",
    url: str = "",
    size: str = "wide",
    theme: Theme | None = None,
) -> bytes:
    """The card of one profile; KeyError for an unknown profile id or size."""
    from PIL import Image, ImageDraw

    profile = quiz.profile(profile_id)
    if profile is None:
        raise KeyError(profile_id)
    width, height = SIZES[size]
    theme = theme or Theme()
    lang = lang if lang in TEXTS else "nl"
    square = size == "square"

    def pick(texts: object) -> str:
        table = texts if isinstance(texts, dict) else {}
        return str(table.get(lang) or next(iter(table.values()), ""))

    img = Image.new("RGB", (width, height), theme.background)
    draw = ImageDraw.Draw(img)
    if square:
        draw.rectangle((0, 0, width, 24), fill=theme.accent)
    else:
        draw.rectangle((0, 0, 24, height), fill=theme.accent)
    k = 1.3 if square else 1.0  # the square has room for larger type

    def font(px: int, bold: bool = False) -> FreeTypeFont | ImageFont:
        return _font(round(px * k), bold)

    def step(px: int) -> int:
        return round(px * k)

    x, y = 80, (170 if square else 70)
    draw.text((x, y), TEXTS[lang]["me"].upper(), font=font(30, True), fill=theme.highlight)
    y += step(60)
    for line in textwrap.wrap(pick(profile.name), width=14 if square else 24)[:2]:
        draw.text((x, y), line, font=font(84, True), fill=theme.text)
        y += step(105)
    y += step(10)
    for line in textwrap.wrap(pick(profile.tagline), width=30 if square else 40)[:3]:
        draw.text((x, y), line, font=font(44), fill=theme.text)
        y += step(58)
    y += step(20)
    strengths = profile.strengths.get(lang) or next(iter(profile.strengths.values()), ())
    for strength in list(strengths)[: 4 if square else 3]:
        dot = step(14)
        draw.ellipse((x, y + dot, x + dot, y + 2 * dot), fill=theme.highlight)
        draw.text((x + step(32), y), strength, font=font(34), fill=theme.soft)
        y += step(48)
    footer = TEXTS[lang]["cta"] + (f" · {url}" if url else "")
    draw.text((x, height - step(80)), footer, font=font(30, True), fill=theme.highlight)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


async def org_theme(database_url: str, organisation_id: str | None) -> Theme | None:
    """An organisation's card colours (`brand_colour`, `accent_colour`); None when unset."""
    if not organisation_id:
        return None
    import sqlalchemy as sa

    from bot.store.db import get_engine

    query = sa.text("SELECT brand_colour, accent_colour FROM organisations WHERE id = :id")
    async with get_engine(database_url).connect() as conn:
        row = (await conn.execute(query, {"id": organisation_id[:64]})).first()
    if row is None or parse_hex(row[0]) is None:
        return None
    return Theme.from_hex(row[0], row[1])
