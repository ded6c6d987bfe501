"""Texts and the template environment of the organisation's pages (texts.yaml)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.clock import LOCAL

if TYPE_CHECKING:
    from jinja2 import Environment

HERE = Path(__file__).resolve().parent
LANGS = ("nl", "en")
MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
}


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str]]:
    data = yaml.safe_load((HERE / "texts.yaml").read_text(encoding="utf-8"))
    return {str(lang): {str(k): str(v) for k, v in t.items()} for lang, t in data.items()}


def texts(lang: str) -> dict[str, str]:
    return {**_table()["nl"], **_table().get(lang, {})}


def lang_of(value: str | None) -> str:
    return value if value in LANGS else "nl"


def long_date(value: datetime, lang: str) -> str:
    local = value.astimezone(LOCAL)
    return f"{local.day} {MONTHS[lang][local.month - 1]} {local.year}"


@lru_cache(maxsize=1)
def templates() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    return templates().get_template(name).render(**context)
