"""The one normaliser every matcher uses: case, accents, punctuation and number words.

Keywords, options, places, campaigns and the NLU's rules all compare text in these forms, so
"Één", "een" and "EEN" meet, and "twee", "two" and "2" are the same number everywhere.
"""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[^\w\s']+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

# Cardinal number words, Dutch and English (compounds such as "vijfentwintig" are built from
# these and TENS by bot.nlu.numbers).
NUMBER_WORDS: dict[str, int] = {
    "nul": 0, "zero": 0,
    "een": 1, "one": 1, "twee": 2, "two": 2, "drie": 3, "three": 3, "vier": 4, "four": 4,
    "vijf": 5, "five": 5, "zes": 6, "six": 6, "zeven": 7, "seven": 7, "acht": 8, "eight": 8,
    "negen": 9, "nine": 9, "tien": 10, "ten": 10, "elf": 11, "eleven": 11,
    "twaalf": 12, "twelve": 12, "dertien": 13, "thirteen": 13, "veertien": 14,
    "fourteen": 14, "vijftien": 15, "fifteen": 15, "zestien": 16, "sixteen": 16,
    "zeventien": 17, "seventeen": 17, "achttien": 18, "eighteen": 18,
    "negentien": 19, "nineteen": 19,
}  # fmt: skip
TENS: dict[str, int] = {
    "twintig": 20, "twenty": 20, "dertig": 30, "thirty": 30, "veertig": 40, "forty": 40,
    "vijftig": 50, "fifty": 50, "zestig": 60, "sixty": 60, "zeventig": 70, "seventy": 70,
    "tachtig": 80, "eighty": 80, "negentig": 90, "ninety": 90,
}  # fmt: skip
# Ordinals and positions in a list of options ("de tweede", "the last one"); negative counts
# from the end.
ORDINALS: dict[str, int] = {
    "eerste": 1, "first": 1, "1e": 1, "1ste": 1, "1st": 1,
    "tweede": 2, "second": 2, "2e": 2, "2de": 2, "2nd": 2,
    "derde": 3, "third": 3, "3e": 3, "3de": 3, "3rd": 3,
    "vierde": 4, "fourth": 4, "4e": 4, "4de": 4, "4th": 4,
    "vijfde": 5, "fifth": 5, "5e": 5, "5de": 5, "5th": 5,
    "zesde": 6, "sixth": 6, "6e": 6, "6de": 6, "6th": 6,
    "zevende": 7, "seventh": 7, "7e": 7, "7de": 7, "7th": 7,
    "achtste": 8, "eighth": 8, "8e": 8, "8ste": 8, "8th": 8,
    "negende": 9, "ninth": 9, "9e": 9, "9de": 9, "9th": 9,
    "tiende": 10, "tenth": 10, "10e": 10, "10de": 10, "10th": 10,
    "laatste": -1, "last": -1, "onderste": -1, "bottom": -1,
    "voorlaatste": -2, "penultimate": -2,
    "bovenste": 1, "top": 1,
}  # fmt: skip


def strip_accents(text: str) -> str:
    """Accents removed, case kept ("Coördineren" -> "Coordineren")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case without accents ("één" -> "een", "Coördineren" -> "coordineren")."""
    return strip_accents(text.lower())


def normalise(text: str) -> str:
    """Folded, no punctuation (emoji included), no underscores, single spaces."""
    cleaned = _PUNCT.sub(" ", fold(text)).replace("'", " ").replace("_", " ")
    return _SPACES.sub(" ", cleaned).strip()


def parse_number(text: str) -> float | None:
    """The first number in the text ("4", "4,5", "vier"); None if there is none."""
    m = _NUMBER.search(text.lower().replace(",", "."))
    if m:
        return float(m.group())
    for word in normalise(text).split():
        if word in NUMBER_WORDS:
            return float(NUMBER_WORDS[word])
    return None


__all__ = [
    "NUMBER_WORDS",
    "ORDINALS",
    "TENS",
    "fold",
    "normalise",
    "parse_number",
    "strip_accents",
]
