"""Numbers in Dutch and English text: digits, number words, and hours per week.

"twee", "vijfentwintig", "twenty-one", "anderhalf" are numbers; "een paar", "a couple" and
"a few" are not (they are vague on purpose and the quiz's options handle them). A bare "een"
or "a" only counts as 1 in front of a unit: "een uurtje", "an hour".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlu.tokens import Tok, tokens
from quiz.text import NUMBER_WORDS, TENS

_UNITS = NUMBER_WORDS
_TENS = TENS
_FRACTIONS = {"anderhalf": 1.5, "half": 0.5, "halve": 0.5, "halfuur": 0.5, "kwartier": 0.25}
_ARTICLES = {"een", "a", "an"}
_DUTCH_COMPOUND = re.compile(
    r"^(een|twee|drie|vier|vijf|zes|zeven|acht|negen)(?:en|ën)"
    r"(twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig)$"
)

HOUR_UNITS = {"uur", "uurtje", "uurtjes", "uren", "u", "h", "hr", "hrs", "hour", "hours"}
_DAY_UNITS = {"dag": 8.0, "dagen": 8.0, "day": 8.0, "days": 8.0, "dagdeel": 4.0, "dagdelen": 4.0}
_RANGE_WORDS = {"tot", "a", "à", "of", "to", "or", "en", "and", "til", "till", "until", "-"}
_VAGUE = {"paar", "couple", "few", "aantal", "several", "enkele", "wat", "some"}
_MONTH = {"maand", "month"}


@dataclass(frozen=True)
class NumberSpan:
    value: float
    start: int
    end: int
    tokens: int  # how many tokens the number word(s) used


def word_value(word: str) -> float | None:
    """The value of one normalised word: "twaalf" -> 12, "vijfentwintig" -> 25."""
    w = word.replace("ë", "e")
    if re.fullmatch(r"\d+(?:[.,]\d+)?", w):
        return float(w.replace(",", "."))
    if w in _UNITS:
        return float(_UNITS[w])
    if w in _TENS:
        return float(_TENS[w])
    if w in _FRACTIONS:
        return _FRACTIONS[w]
    m = _DUTCH_COMPOUND.match(w)
    if m:
        return float(_UNITS[m.group(1)] + _TENS[m.group(2)])
    if "-" in w:
        tens, _, unit = w.partition("-")
        if tens in _TENS and unit in _UNITS and _UNITS[unit] < 10:
            return float(_TENS[tens] + _UNITS[unit])
    return None


def _number_at(toks: list[Tok], i: int) -> NumberSpan | None:
    """A number starting at token i ("twenty one" takes two tokens, "één" one)."""
    tok = toks[i]
    value = word_value(tok.norm)
    if tok.norm in ("a", "an") and _unit_follows(toks, i + 1):
        value = 1.0
    if value is None and tok.norm not in ("a", "an"):
        return None
    used = 1
    if value is not None and tok.norm in _TENS and i + 1 < len(toks):
        nxt = _UNITS.get(toks[i + 1].norm)
        if nxt is not None and 0 < nxt < 10:
            value += nxt
            used = 2
    # "een half uur", "a half hour"
    if tok.norm in ("een", "a", "an") and i + 1 < len(toks) and toks[i + 1].norm in _FRACTIONS:
        value = _FRACTIONS[toks[i + 1].norm]
        used = 2
    # "half an hour"
    if tok.norm == "half" and i + 2 < len(toks) and toks[i + 1].norm in ("a", "an"):
        used = 2
    if value is None:
        return None
    return NumberSpan(value, tok.start, toks[i + used - 1].end, used)


def _is_article_one(toks: list[Tok], i: int) -> bool:
    return toks[i].norm in _ARTICLES


def find_numbers(text: str) -> list[NumberSpan]:
    """Every number in the text, leaving out "een"/"a" used as an article."""
    toks = tokens(text)
    out: list[NumberSpan] = []
    i = 0
    while i < len(toks):
        accented = text[toks[i].start : toks[i].end].lower() in ("één", "eén")
        if _is_article_one(toks, i) and not accented and not _unit_follows(toks, i + 1):
            if i + 1 < len(toks) and toks[i + 1].norm in _FRACTIONS:
                pass
            else:
                i += 1
                continue
        span = _number_at(toks, i)
        if span is None:
            i += 1
            continue
        out.append(span)
        i += span.tokens
    return out


def _unit_follows(toks: list[Tok], j: int) -> bool:
    return j < len(toks) and (toks[j].norm in HOUR_UNITS or toks[j].norm in _DAY_UNITS)


def _clean(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 1)


@dataclass(frozen=True)
class HoursSpan:
    value: float | int
    start: int
    end: int


def find_hours(text: str) -> list[HoursSpan]:
    """Hours per week: "2 uur", "twee à drie uurtjes", "een dag per week", "8 hours a month"."""
    toks = tokens(text)
    out: list[HoursSpan] = []
    i = 0
    while i < len(toks):
        if toks[i].norm in _VAGUE:
            # "een paar uur", "a couple of hours": vague on purpose, not a number.
            i += 1
            while i < len(toks) and (toks[i].norm in ("of", "uur") or toks[i].norm in HOUR_UNITS):
                i += 1
            continue
        first = _number_at(toks, i) if toks[i].norm not in ("of", "en", "and", "or") else None
        if first is None:
            i += 1
            continue
        j = i + first.tokens
        value = first.value
        # A range: "2 tot 4 uur", "twee of drie uur", "2-4 hours" (the tokenizer drops "-").
        if j < len(toks) and toks[j].norm in _RANGE_WORDS and j + 1 < len(toks):
            second = _number_at(toks, j + 1)
            if second is not None and _unit_after(toks, j + 1 + second.tokens):
                value = max(value, second.value)
                j = j + 1 + second.tokens
        elif j < len(toks) and _unit_after(toks, j) is None:
            second = _number_at(toks, j)
            if second is not None and _unit_after(toks, j + second.tokens):
                value = max(value, second.value)
                j = j + second.tokens
        unit = _unit_after(toks, j)
        if unit is None:
            i += first.tokens
            continue
        factor, j = unit
        hours = value * factor
        # "per maand" / "a month": spread over the weeks.
        k = j
        while k < len(toks) and toks[k].norm in (
            "per",
            "in",
            "de",
            "a",
            "an",
            "each",
            "every",
            "elke",
            "iedere",
        ):
            k += 1
        if k < len(toks) and toks[k].norm in _MONTH:
            hours = hours / 4.33
            j = k + 1
        out.append(HoursSpan(_clean(hours), toks[i].start, toks[j - 1].end))
        i = j
    return out


def _unit_after(toks: list[Tok], j: int) -> tuple[float, int] | None:
    """(factor to hours, index after the unit) when a time unit starts at token j."""
    if j >= len(toks):
        return None
    word = toks[j].norm
    if word in HOUR_UNITS:
        return 1.0, j + 1
    if word in _DAY_UNITS:
        return _DAY_UNITS[word], j + 1
    if word in ("halve", "hele", "whole", "full") and j + 1 < len(toks):
        nxt = toks[j + 1].norm
        if nxt in ("dag", "day"):
            return (4.0 if word == "halve" else 8.0), j + 2
    return None


def plain_number(value: float) -> float | int:
    return _clean(value)
