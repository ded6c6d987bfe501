"""Text normalisation shared by the gazetteer's exact, free-text and fuzzy matching.

Everything is compared in one canonical form: lower case, accents removed, apostrophes
dropped, hyphens and dots turned into spaces, "st" spelled "sint", parentheses flattened —
so "'s-Hertogenbosch", "s hertogenbosch" and "’s-Hertogenbosch" meet in one key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from quiz.text import strip_accents

_APOSTROPHES = "'’‘`´"
_SEPARATORS = re.compile(r"[\s\-./,;:()\[\]]+")
_WORD = re.compile(r"[^\W_]+(?:['’‘`´][^\W_]+)*(?:-[^\W_'’‘`´]+)*", re.UNICODE)
_LEADING_APOSTROPHE = re.compile(r"['’‘`´](?=s\b|t\b)", re.IGNORECASE)


def _token(word: str) -> str:
    word = word.lower()
    for a in _APOSTROPHES:
        word = word.replace(a, "")
    return "sint" if word == "st" else word


def normalize(text: str) -> str:
    """The comparison key of a name or phrase."""
    plain = strip_accents(text)
    parts = [_token(p) for p in _SEPARATORS.split(plain)]
    return " ".join(p for p in parts if p)


def words(text: str) -> Iterator[tuple[int, int, str]]:
    """Word tokens of `text` as (start, end, normalised) with offsets into the original.

    A leading "'s" / "'t" stays attached to its word ("'s-Hertogenbosch", "'t Harde").
    """
    for m in _WORD.finditer(text):
        start = m.start()
        if start > 0 and _LEADING_APOSTROPHE.match(text, start - 1):
            start -= 1
        key = normalize(text[start : m.end()])
        if key:
            yield start, m.end(), key
