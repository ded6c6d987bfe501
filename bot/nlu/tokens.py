"""Word tokens with character offsets, normalised for matching (lower case, no accents).

The rule-based extractors match on these so that "'s Avonds", "s avonds" and "savonds" meet
the same vocabulary, while entity spans still point into the original text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Tok:
    norm: str
    start: int
    end: int


def fold(text: str) -> str:
    """Lower case without accents ("één" -> "een", "Coördineren" -> "coordineren")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[Tok]:
    # Fold per match so offsets stay those of the original text.
    return [Tok(fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def norm_phrase(text: str) -> tuple[str, ...]:
    return tuple(t.norm for t in tokens(text))
