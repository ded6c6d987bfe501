"""Fitting texts into a platform's limits: unique short titles and sensibly split bodies.

Chat platforms cap button titles (WhatsApp: 20 characters, list rows: 24) and message bodies.
Cutting blindly makes "Mensen met een beperking" and "Mensen met een uitkering" both read
"Mensen met een…"; these helpers shorten at word boundaries and keep titles apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _cut_words(text: str, limit: int) -> str:
    """The longest prefix of whole words that fits `limit` including the ellipsis."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    head = text[: room + 1]
    cut = head.rfind(" ")
    # Keep at least half the room: a very early space would throw away too much.
    if cut < room // 2:
        cut = room
    return text[:cut].rstrip(" ,;:-–") + ELLIPSIS


def _first_distinct_word(words: Sequence[str], others: Sequence[str]) -> int:
    """Index of the first word from which this title's prefix is shared by no other title."""
    for i in range(len(words)):
        prefix = " ".join(words[: i + 1]).lower()
        if not any(o.lower().startswith(prefix) for o in others):
            return i
    return len(words) - 1


def _with_distinct_word(words: Sequence[str], d: int, limit: int) -> str | None:
    """'first words…distinct words': keeps the word that tells this title apart."""
    if d <= 0:
        return None
    tail = " ".join(words[d:])
    for keep in range(d - 1, 0, -1):
        candidate = f"{' '.join(words[:keep])}{ELLIPSIS}{tail}"
        if len(candidate) <= limit:
            return candidate
    head = f"{words[0]}{ELLIPSIS}"
    if len(head) + len(words[d]) + len(ELLIPSIS) <= limit:
        return head + _cut_words(tail, limit - len(head))
    candidate = _cut_words(f"{ELLIPSIS}{tail}", limit)
    return candidate if len(candidate) > len(ELLIPSIS) * 2 else None


def shorten_unique(titles: Sequence[str], limit: int) -> list[str]:
    """Titles that fit `limit`, shortened at word boundaries and unique (case-insensitive).

    A title that already fits is never changed. A shortened title keeps the word that tells
    it apart from the others ("Mensen…lichamelijke…" / "Mensen…verstandelijke…" rather than
    twice "Mensen met een…"); as a last resort a number is appended.
    """
    return list(_shorten_unique(tuple(titles), limit))


# The same question's options are fitted for every person who sees it: once is enough.
@lru_cache(maxsize=2048)
def _shorten_unique(titles: tuple[str, ...], limit: int) -> tuple[str, ...]:
    cleaned = [" ".join(t.split()) for t in titles]
    out: list[str] = []
    used: set[str] = set()
    for i, title in enumerate(cleaned):
        words = title.split() or [title]
        others = [t for j, t in enumerate(cleaned) if j != i]
        d = _first_distinct_word(words, others)
        candidates: list[str] = []
        if len(title) <= limit:
            candidates.append(title)
        cut = _cut_words(title, limit)
        if cut.removesuffix(ELLIPSIS).split()[: d + 1] == words[: d + 1]:
            candidates.append(cut)
        distinct = _with_distinct_word(words, d, limit)
        if distinct:
            candidates.append(distinct)
        candidates.append(cut)
        pick = next((c for c in candidates if c.lower() not in used), None)
        n = 2
        while pick is None:
            suffix = f" {n}"
            pick = _cut_words(title, limit - len(suffix)) + suffix
            if pick.lower() in used:
                pick = None
                n += 1
        used.add(pick.lower())
        out.append(pick)
    return tuple(out)


def truncate(text: str, limit: int) -> str:
    return _cut_words(" ".join(text.split()), limit)


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most `limit` characters, split at paragraphs, lines, sentences, words."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n"):
            cut = window.rfind(sep)
            if cut >= limit // 3:
                break
        else:
            ends = [m.start() for m in _SENTENCE_END.finditer(window)]
            ends = [e for e in ends if e >= limit // 3]
            cut = ends[-1] if ends else window.rfind(" ")
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def split_for_body(text: str, limit: int, lead_limit: int) -> tuple[list[str], str]:
    """(leading messages, last part) where the last part fits an interactive body of `limit`.

    Long results keep their closing paragraph with the buttons; what comes before it goes
    out as plain messages of at most `lead_limit` characters.
    """
    text = text.strip()
    if len(text) <= limit:
        return [], text
    parts = split_text(text, limit)
    tail = parts[-1]
    head_text = text[: len(text) - len(tail)].rstrip()
    # Use the space before the tail as well as the tail allows (fewer, fuller messages).
    return split_text(head_text, lead_limit), tail
