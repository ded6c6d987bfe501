"""The few words the chat channels add around the quiz's texts (channel_texts.yaml)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEXTS_FILE = Path(__file__).resolve().parent / "channel_texts.yaml"
DEFAULT_LANG = "nl"


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return {str(lang): {str(k): str(v) for k, v in texts.items()} for lang, texts in data.items()}


def t(lang: str, key: str, **values: Any) -> str:
    """A channel text in `lang`, falling back to Dutch."""
    table = _table()
    text = (table.get(lang) or {}).get(key) or table[DEFAULT_LANG][key]
    return text.format(**values) if values else text


def languages() -> tuple[str, ...]:
    return tuple(_table())
