"""Built-in understanding of free text: option numbers, letters, labels and command words.

This is the floor the engine stands on without any NLU: "2", "b", "Samen met anderen",
"samen met andere" (accent-, case- and punctuation-insensitive, with a small typo allowance).
The NLU backends add intents and entities on top, in the app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from quiz.model import Question
from quiz.text import normalise

COMMAND_KEYS: tuple[str, ...] = (
    "yes",
    "no",
    "back",
    "skip",
    "restart",
    "help",
    "why",
    "stop",
    "resume",
    "my_data",
    "delete_data",
    "done",
    "start",
)


@dataclass(frozen=True)
class Keywords:
    """Command words from the content's `keywords_*` UI texts, all languages together."""

    table: Mapping[str, str]  # normalised phrase -> command (or "language:xx")

    @classmethod
    def from_ui(cls, ui: Mapping[str, Mapping[str, str]]) -> Keywords:
        table: dict[str, str] = {}
        for lang, texts in ui.items():
            for key in COMMAND_KEYS:
                for phrase in texts.get(f"keywords_{key}", "").split(","):
                    if phrase.strip():
                        table.setdefault(normalise(phrase), key)
            for phrase in texts.get("keywords_language", "").split(","):
                if phrase.strip():
                    table.setdefault(normalise(phrase), f"language:{lang}")
        return cls(table)

    def command(self, text: str) -> str | None:
        return self.table.get(normalise(text))


def _index_tokens(text: str, n_options: int) -> list[int] | None:
    """'2', 'b', '1 en 3', 'a, c' -> zero-based indexes; None if the text is not only that."""
    tokens = [t for t in re.split(r"[\s,;/+&]+|\ben\b|\band\b", normalise(text)) if t]
    if not tokens:
        return None
    out: list[int] = []
    for tok in tokens:
        if tok.isdigit():
            idx = int(tok) - 1
        elif len(tok) == 1 and "a" <= tok <= "z":
            idx = ord(tok) - ord("a")
        else:
            return None
        if not 0 <= idx < n_options:
            return None
        out.append(idx)
    return out


def _similar(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def match_options(q: Question, text: str, lang: str, multi: bool = False) -> list[str]:
    """Option ids the text picks, best first; [] when nothing matches well enough."""
    idx = _index_tokens(text, len(q.options))
    if idx is not None:
        ids = [q.options[i].id for i in idx]
        return list(dict.fromkeys(ids)) if multi else ids[:1]
    norm = normalise(text)
    if not norm:
        return []
    exact: list[str] = []
    fuzzy: list[tuple[float, str]] = []
    for opt in q.options:
        names = {normalise(opt.title.get(lang, ""))}
        for other_lang, title in opt.title.items():
            if other_lang != lang:
                names.add(normalise(title))
        for syns in opt.synonyms.values():
            names.update(normalise(s) for s in syns)
        names.discard("")
        if norm in names:
            exact.append(opt.id)
            continue
        best = max((_similar(norm, n) for n in names), default=0.0)
        if best >= 0.84:
            fuzzy.append((best, opt.id))
    if exact:
        return exact if multi else exact[:1]
    if multi:
        parts = [p for p in re.split(r",|\ben\b|\band\b|;", norm) if p.strip()]
        if len(parts) > 1:
            found: list[str] = []
            for part in parts:
                found += [o for o in match_options(q, part, lang) if o not in found]
            if found:
                return found
    fuzzy.sort(key=lambda x: -x[0])
    if len(fuzzy) > 1 and fuzzy[0][0] - fuzzy[1][0] < 0.03:
        return []  # too close to call: ask again rather than guess
    return [oid for _, oid in fuzzy[:1]]


def options_for_value(q: Question, value: Any) -> list[str]:
    """Options whose content `value` matches a value resolved elsewhere (an NLU entity)."""
    values = value if isinstance(value, list) else [value]
    picked: list[str] = []
    numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numeric and all(isinstance(o.value, int | float) for o in q.options if o.value is not None):
        candidates = [o for o in q.options if isinstance(o.value, int | float)]
        if candidates:
            target = numeric[0]
            if q.feeds == "age":
                # Age options hold the lower bound of their bracket: the highest one reached.
                reached = [o for o in candidates if o.value <= target]
                chosen = (
                    max(reached, key=lambda o: o.value)
                    if reached
                    else min(candidates, key=lambda o: o.value)
                )
            else:
                # Hours options hold an upper bound: the smallest that covers the number.
                covering = sorted(
                    (o for o in candidates if o.value >= target), key=lambda o: o.value
                )
                chosen = covering[0] if covering else max(candidates, key=lambda o: o.value)
            return [chosen.id]
    for v in values:
        for opt in q.options:
            ov = opt.value
            hit = ov == v or (isinstance(ov, list) and v in ov)
            if isinstance(ov, dict) and isinstance(v, str):
                hit = v in ov.get("days", []) or v in ov.get("dayparts", [])
            if hit and opt.id not in picked:
                picked.append(opt.id)
    return picked
