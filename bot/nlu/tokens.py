"""Word tokens with character offsets, normalised for matching (lower case, no accents).

The rule-based extractors match on these so that "'s Avonds", "s avonds" and "savonds" meet
the same vocabulary, while entity spans still point into the original text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from quiz.text import fold

# One message is tokenised by several extractors in turn; the last few texts are kept.
CACHE_SIZE = 1024
_WORD = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Tok:
    norm: str
    start: int
    end: int


def tokens(text: str) -> list[Tok]:
    return list(_tokens(text))


@functools.lru_cache(maxsize=CACHE_SIZE)
def _tokens(text: str) -> tuple[Tok, ...]:
    # Fold per match so offsets stay those of the original text.
    return tuple(Tok(fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(text))


@functools.lru_cache(maxsize=CACHE_SIZE)
def norm_phrase(text: str) -> tuple[str, ...]:
    return tuple(t.norm for t in _tokens(text))
