"""Rule-based entities: postcodes, places, hours, numbers, weekdays, dayparts, causes, activities,
languages. Values are normalised as the NLU contract says.

The vocabulary (surface form -> value) comes from nlu_data/ lookups and synonyms, so Rasa and
the embedded pipeline share one word list; this module adds what a word list cannot say:
postcode validation, numbers, Dutch compounds ("zaterdagochtend"), groups ("in het weekend")
and typo tolerance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from stdnum.nl import postcode as nl_postcode

from bot.nlu.numbers import find_hours, find_numbers, plain_number
from bot.nlu.tokens import Tok, norm_phrase, tokens

Entity = dict[str, Any]
PlaceFinder = Callable[[str], list[tuple[int, int, Any]]]

ENTITY_ORDER: tuple[str, ...] = ("language", "weekday", "daypart", "cause", "activity")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_FULL_POSTCODE = re.compile(r"\b([1-9]\d{3})\s?([a-zA-Z]{2})\b")
_PC4 = re.compile(r"(?<![\d.,])\b([1-9]\d{3})\b(?![.,]\d)")
# Two-letter words that follow a number more often than postcode letters do.
_NOT_POSTCODE_LETTERS = {"en", "of", "in", "op", "is", "at", "to", "or", "an", "om", "uu", "km"}
_NOT_PC4_AFTER = {"uur", "euro", "km", "jaar", "keer", "hours", "years", "times", "x"}

# Dutch compounds and group words the lookup tables cannot express.
_DAY_STEMS = {
    "maandag": "monday", "dinsdag": "tuesday", "woensdag": "wednesday",
    "donderdag": "thursday", "vrijdag": "friday", "zaterdag": "saturday", "zondag": "sunday",
}  # fmt: skip
_PART_STEMS = {"ochtend": "morning", "morgen": "morning", "middag": "afternoon", "avond": "evening"}
_COMPOUND = re.compile(
    r"^(" + "|".join(_DAY_STEMS) + r")(?:s|en)?(" + "|".join(_PART_STEMS) + r")(?:en|s)?$"
)
_DAY_GROUPS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("weekend",): ("saturday", "sunday"),
    ("weekends",): ("saturday", "sunday"),
    ("weekenden",): ("saturday", "sunday"),
    ("doordeweeks",): WEEKDAYS[:5],
    ("door", "de", "week"): WEEKDAYS[:5],
    ("werkdagen",): WEEKDAYS[:5],
    ("weekdays",): WEEKDAYS[:5],
    ("during", "the", "week"): WEEKDAYS[:5],
}
_PART_GROUPS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("overdag",): ("morning", "afternoon"),
    ("daytime",): ("morning", "afternoon"),
    ("during", "the", "day"): ("morning", "afternoon"),
    ("s", "nachts"): ("evening",),
    ("at", "night"): ("evening",),
    ("tonight",): ("evening",),
    ("namiddag",): ("afternoon",),
    ("voormiddag",): ("morning",),
}
# Words one typo away from a vocabulary word but meaning something else.
_NOT_FUZZY = {"morgen"}
# Bare language codes count only as a whole message ("EN"), never inside a sentence ("en").
_LANGUAGE_CODES = {"en": "en", "nl": "nl", "eng": "en", "ned": "nl"}
_FUZZY_MIN_LEN = {"language": 5, "weekday": 6, "daypart": 6, "cause": 6, "activity": 6}
_FUZZY_CUTOFF = {
    "language": 80.0,
    "weekday": 85.0,
    "daypart": 87.0,
    "cause": 87.0,
    "activity": 88.0,
}


@dataclass
class Vocabulary:
    """entity -> {normalised surface tokens joined by spaces: value}. Saved with the model."""

    tables: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, tables: dict[str, dict[str, str]]) -> Vocabulary:
        out: dict[str, dict[str, str]] = {}
        for entity, table in tables.items():
            norm = out.setdefault(entity, {})
            for surface, value in table.items():
                key = " ".join(norm_phrase(surface))
                if key:
                    norm.setdefault(key, value)
        return cls(out)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.tables, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        return cls(json.loads(path.read_text(encoding="utf-8")))


def _entity(name: str, value: Any, start: int, end: int) -> Entity:
    return {"entity": name, "value": value, "start": start, "end": end}


def default_place_finder() -> PlaceFinder | None:
    """The gazetteer's find_in_text, when its data is there."""
    from bot.geo.gazetteer import get_gazetteer

    try:
        gazetteer = get_gazetteer()
    except Exception:  # no data shipped: run without places rather than fail every parse
        return None
    finder: PlaceFinder = gazetteer.find_in_text
    return finder


def place_value(match: Any) -> str:
    return str(getattr(match, "place", None) or match)


def normalise_postcode(text: str) -> str | None:
    """'3511 ab' -> '3511AB'; '3511' -> '3511'; None when it is not a Dutch postcode."""
    compact = re.sub(r"\s+", "", text).upper()
    if re.fullmatch(r"[1-9]\d{3}", compact):
        return compact
    if re.fullmatch(r"[1-9]\d{3}[A-Z]{2}", compact) and nl_postcode.is_valid(compact):
        return compact
    return None


class EntityExtractor:
    def __init__(self, vocabulary: Vocabulary, place_finder: PlaceFinder | None = None) -> None:
        self.vocabulary = vocabulary
        self.place_finder = place_finder
        self._phrases: dict[str, dict[tuple[str, ...], str]] = {
            entity: {tuple(k.split()): v for k, v in table.items()}
            for entity, table in vocabulary.tables.items()
        }
        self._max_len = {
            entity: max((len(k) for k in table), default=1)
            for entity, table in self._phrases.items()
        }
        self._single: dict[str, list[str]] = {
            entity: [" ".join(k) for k in table if len(k) == 1]
            for entity, table in self._phrases.items()
        }

    # ------------------------------------------------------------------ public

    def extract(self, text: str, lang: str | None = None) -> list[Entity]:
        found: list[Entity] = []
        taken: list[tuple[int, int]] = []

        def free(start: int, end: int) -> bool:
            return all(end <= s or start >= e for s, e in taken)

        def add(name: str, value: Any, start: int, end: int, claim: bool = True) -> None:
            found.append(_entity(name, value, start, end))
            if claim:
                taken.append((start, end))

        for name, value, start, end in self._postcodes(text):
            add(name, value, start, end)
        for h in find_hours(text):
            if free(h.start, h.end):
                add("hours", h.value, h.start, h.end)
        toks = tokens(text)
        self._whole_message_language(text, toks, add)
        self._time_words(toks, free, add)
        for entity in ENTITY_ORDER:
            for value, start, end in self._phrase_matches(entity, toks, free):
                add(entity, value, start, end)
        for n in find_numbers(text):
            if free(n.start, n.end):
                add("number", plain_number(n.value), n.start, n.end)
        for value, start, end in self._places(text):
            if free(start, end):
                add("place", value, start, end)
        found.sort(key=lambda e: (e["start"], e["end"]))
        return _dedupe(found)

    # ------------------------------------------------------------------ parts

    def _postcodes(self, text: str) -> Iterable[tuple[str, str, int, int]]:
        spans: list[tuple[int, int]] = []
        for m in _FULL_POSTCODE.finditer(text):
            letters = m.group(2)
            if letters.islower() and letters in _NOT_POSTCODE_LETTERS:
                continue
            value = normalise_postcode(m.group())
            if value and len(value) == 6:
                spans.append((m.start(), m.end()))
                yield "postcode", value, m.start(), m.end()
        for m in _PC4.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            after = text[m.end() :].split()
            if after and after[0].lower().strip(".,!?") in _NOT_PC4_AFTER:
                continue
            yield "postcode", m.group(1), m.start(), m.end()

    def _whole_message_language(self, text: str, toks: list[Tok], add: Callable[..., None]) -> None:
        if len(toks) == 1 and toks[0].norm in _LANGUAGE_CODES:
            add("language", _LANGUAGE_CODES[toks[0].norm], toks[0].start, toks[0].end)

    def _time_words(
        self,
        toks: list[Tok],
        free: Callable[[int, int], bool],
        add: Callable[..., None],
    ) -> None:
        for tok in toks:
            m = _COMPOUND.match(tok.norm)
            if m and free(tok.start, tok.end):
                add("weekday", _DAY_STEMS[m.group(1)], tok.start, tok.end, claim=False)
                add("daypart", _PART_STEMS[m.group(2)], tok.start, tok.end)
        for groups, entity in ((_DAY_GROUPS, "weekday"), (_PART_GROUPS, "daypart")):
            for phrase, values in groups.items():
                n = len(phrase)
                for i in range(len(toks) - n + 1):
                    if tuple(t.norm for t in toks[i : i + n]) != phrase:
                        continue
                    start, end = toks[i].start, toks[i + n - 1].end
                    if not free(start, end):
                        continue
                    for k, value in enumerate(values):
                        add(entity, value, start, end, claim=k == len(values) - 1)

    def _phrase_matches(
        self, entity: str, toks: list[Tok], free: Callable[[int, int], bool]
    ) -> Iterable[tuple[str, int, int]]:
        table = self._phrases.get(entity)
        if not table:
            return []
        out: list[tuple[str, int, int]] = []
        used: set[int] = set()
        max_len = self._max_len[entity]
        i = 0
        while i < len(toks):
            hit = None
            for n in range(min(max_len, len(toks) - i), 0, -1):
                key = tuple(t.norm for t in toks[i : i + n])
                if key in table and free(toks[i].start, toks[i + n - 1].end):
                    hit = (table[key], n)
                    break
            if hit is None:
                i += 1
                continue
            value, n = hit
            out.append((value, toks[i].start, toks[i + n - 1].end))
            used.update(range(i, i + n))
            i += n
        # Typos: single words close to a known single-word form ("dierenaziel").
        choices = self._single.get(entity, [])
        min_len = _FUZZY_MIN_LEN.get(entity, 6)
        cutoff = _FUZZY_CUTOFF.get(entity, 88.0)
        for i, tok in enumerate(toks):
            if i in used or len(tok.norm) < min_len or not tok.norm.isalpha():
                continue
            if tok.norm in _NOT_FUZZY:
                continue
            if not free(tok.start, tok.end):
                continue
            best = process.extractOne(tok.norm, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
            if best is not None:
                out.append((table[(best[0],)], tok.start, tok.end))
        return out

    def _places(self, text: str) -> Iterable[tuple[str, int, int]]:
        if self.place_finder is None:
            return []
        out = []
        for start, end, match in self.place_finder(text):
            if getattr(match, "kind", None) in ("postcode", "pc4", "pc6"):
                continue
            surface = text[start:end]
            if len(surface) <= 4 and surface.islower():
                continue  # "hee", "best", "ede": in a sentence more often a word than a village
            out.append((place_value(match), start, end))
        return out


def _dedupe(entities: list[Entity]) -> list[Entity]:
    seen: set[tuple[str, str, int, int]] = set()
    out = []
    for e in entities:
        key = (e["entity"], str(e["value"]), e["start"], e["end"])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
