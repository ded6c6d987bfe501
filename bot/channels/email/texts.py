"""The e-mail texts (texts.yaml) and a tiny renderer: paragraphs -> plain text and HTML."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

import yaml

TEXTS_FILE = Path(__file__).resolve().parent / "texts.yaml"


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return {str(lang): {str(k): str(v) for k, v in t.items()} for lang, t in data.items()}


def t(lang: str, key: str, **values: Any) -> str:
    table = _table()
    text = (table.get(lang) or {}).get(key) or table["nl"][key]
    return text.format(**values) if values else text


Block = str | tuple[str, str] | list[tuple[str, str]]
"""A paragraph, a link (label, url) or a list of (label, value) fields."""


def render(blocks: Sequence[Block], footer: str) -> tuple[str, str]:
    """Plain text and simple, inline-styled HTML for the same blocks."""
    text_parts: list[str] = []
    html_parts: list[str] = []
    for block in blocks:
        if isinstance(block, str):
            text_parts.append(block)
            html_parts.append(f"<p>{escape(block)}</p>")
        elif isinstance(block, tuple):
            label, url = block
            text_parts.append(f"{label}: {url}")
            html_parts.append(
                f'<p><a href="{escape(url)}" style="display:inline-block;padding:12px 18px;'
                f"background:#0b6e4f;color:#fff;text-decoration:none;border-radius:6px"
                f'">{escape(label)}</a></p>'
            )
        else:
            text_parts.append("\n".join(f"- {k}: {v}" for k, v in block))
            rows = "".join(
                f"<tr><th align='left' style='padding-right:12px'>{escape(k)}</th>"
                f"<td>{escape(v)}</td></tr>"
                for k, v in block
            )
            html_parts.append(f"<table>{rows}</table>")
    text_parts.append("--\n" + footer)
    html = (
        '<!doctype html><html><body style="font-family:sans-serif;font-size:16px;'
        'line-height:1.5;max-width:560px">'
        + "".join(html_parts)
        + f'<hr><p style="color:#555;font-size:13px">{escape(footer)}</p></body></html>'
    )
    return "\n\n".join(text_parts) + "\n", html
