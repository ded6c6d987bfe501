"""The gazetteer: what people type or share -> a point in the Netherlands.

Built from the shipped compact PC4 table (bot/geo/data/pc4.csv.gz, derived from GeoNames,
CC BY 4.0 — see NOTICE and scripts/build_gazetteer.py) plus hand-made aliases in
bot/geo/data/names.json. Nothing is downloaded at run time.

Resolution order for a typed answer: postcode (PC6 validated with python-stdnum and reduced
to its PC4 centroid, or PC4), exact place / alias / municipality name, the same after
dropping filler ("ik woon in ..."), a place or postcode inside a longer sentence, and last a
fuzzy match for typos. When a name is ambiguous the most populous match wins (population
proxy: the number of PC4 areas) and GeoMatch.note says so.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler
from stdnum.nl import postcode as nl_postcode

from bot.geo.normalize import normalize, words
from bot.geo.spatial import GridIndex

FUZZY_ACCEPT = 86.0  # combined similarity (0-100) a typo must reach to be accepted
FUZZY_SUGGEST = 60.0
FAR_AWAY_KM = 25.0  # a shared location this far from every PC4 centroid is abroad
MAX_NGRAM = 6

_PC6 = re.compile(r"^([1-9][0-9]{3})\s*-?\s*([A-Za-z]{2})$")
_PC4 = re.compile(r"^([1-9][0-9]{3})$")
_PC_IN_TEXT = re.compile(r"(?<![\w.,])([1-9][0-9]{3})(?:(\s?)([A-Za-z]{2}))?(?![\w]|[.,][0-9])")
_UNIT_AFTER = re.compile(
    r"\s*(uur|u|euro|eur|€|km|kilometer|keer|jaar|jaren|minuten|min|hours?|hrs?|h|years?|"
    r"times|minutes|mensen|people|personen|kinderen|leden)\b",
    re.IGNORECASE,
)
# Two-letter words that may follow a number in a sentence; after a space they are not a PC6.
_NOT_PC6_LETTERS = frozenset(
    re.findall(
        r"\w+",
        "en in of op is na te al nu ik je we ze om ja at to on or an as am it be by do go he if "
        "me my no so up us",
    )
)
_FILLER = re.compile(
    r"^(?:(?:ik\s+)?(?:woon|wonen|zit|kom)\s+(?:in|te|uit|bij|vlakbij)\s+|"
    r"(?:i\s+)?(?:live|am|m)\s+(?:in|near|at|from)\s+|"
    r"in\s+|te\s+|bij\s+|vlakbij\s+|near\s+|(?:de\s+)?(?:gemeente|omgeving|regio|buurt\s+van)\s+|"
    r"(?:the\s+)?(?:city|town|village|municipality)\s+of\s+|(?:de\s+)?stad\s+)+",
)


@dataclass(frozen=True)
class GeoMatch:
    """A resolved location. `kind`: pc6, pc4, place, municipality or location."""

    lat: float
    lon: float
    place: str
    municipality: str
    province: str
    postcode: str | None
    kind: str
    note: str | None = None

    def to_value(self) -> dict[str, Any]:
        """The engine Value for a place question."""
        return {
            "place": self.place,
            "lat": self.lat,
            "lon": self.lon,
            "postcode": self.postcode,
            "municipality": self.municipality,
            "province": self.province,
        }


@dataclass(frozen=True)
class Area:
    """One row of the PC4 table (a PC4 area, or one village of a shared PC4)."""

    pc4: str
    place: str
    municipality: str
    province: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Named:
    """A place or municipality with its centroid and size (number of PC4 areas)."""

    name: str
    kind: str  # place | municipality
    municipality: str
    province: str
    lat: float
    lon: float
    areas: int


def _centroid(areas: Iterable[Area]) -> tuple[float, float]:
    items = list(areas)
    return (
        round(sum(a.lat for a in items) / len(items), 5),
        round(sum(a.lon for a in items) / len(items), 5),
    )


def _name_keys(name: str) -> set[str]:
    """Keys for a name: its normal form, plus the form without a "(NH.)"-style suffix."""
    keys = {normalize(name)}
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", name).strip()
    if bare and bare != name:
        keys.add(normalize(bare))
    # "Hengelo Gld" style suffixes without parentheses.
    short = re.sub(r"\s+(?:NH|L|Gld|Gn|Fr|Ov|Dr|Zh|ZH|NB|Nb|U|Z|Lb)\.?$", "", bare)
    if short and short != bare:
        keys.add(normalize(short))
    return {k for k in keys if k}


class Gazetteer:
    """Lookup tables over the PC4 areas; build once (see get_gazetteer)."""

    def __init__(self, areas: list[Area], extras: dict[str, Any]) -> None:
        if not areas:
            raise ValueError("the gazetteer needs at least one PC4 area")
        self.areas = areas
        self._notes: dict[str, dict[str, str]] = extras.get("notes", {})
        self._common: frozenset[str] = frozenset(extras.get("common_words", []))
        self._answer_only: frozenset[str] = frozenset(
            normalize(a) for a in extras.get("answer_only", [])
        )

        by_place: dict[tuple[str, str], list[Area]] = defaultdict(list)
        by_muni: dict[str, list[Area]] = defaultdict(list)
        self._by_pc4: dict[str, list[Area]] = defaultdict(list)
        for a in areas:
            by_place[(a.place, a.municipality)].append(a)
            by_muni[a.municipality].append(a)
            self._by_pc4[a.pc4].append(a)
        place_size = {key: len(v) for key, v in by_place.items()}
        # The main area of a shared PC4 is the one of the biggest place.
        for pc4, rows in self._by_pc4.items():
            self._by_pc4[pc4] = sorted(rows, key=lambda a: -place_size[(a.place, a.municipality)])
        self._pc4_sorted = sorted(self._by_pc4)

        self._names: dict[str, list[Named]] = defaultdict(list)
        for (place, muni), rows in by_place.items():
            lat, lon = _centroid(rows)
            named = Named(place, "place", muni, rows[0].province, lat, lon, len(rows))
            for key in _name_keys(place):
                self._names[key].append(named)
        self._muni: dict[str, Named] = {}
        self._aliases: dict[str, Named] = {}
        for muni, rows in by_muni.items():
            lat, lon = _centroid(rows)
            named = Named(muni, "municipality", muni, rows[0].province, lat, lon, len(rows))
            self._muni[muni] = named
            for key in _name_keys(muni):
                self._names[key].append(named)
        for canonical, spellings in extras.get("aliases", {}).items():
            targets = [n for n in self._names.get(normalize(canonical), []) if n.kind == "place"]
            if not targets:
                raise ValueError(f"alias target {canonical!r} is not a place in the table")
            target = max(targets, key=lambda n: n.areas)
            for spelling in spellings:
                key = normalize(spelling)
                self._aliases[key] = target
                if target not in self._names[key]:
                    self._names[key].insert(0, target)
        self._choices = sorted(self._names)
        self._index = GridIndex([a.lat for a in areas], [a.lon for a in areas], cell_km=5.0)

    # ------------------------------------------------------------------ public API

    def resolve(self, text: str, lang: str = "nl") -> GeoMatch | None:
        """The best location for a typed answer, or None when nothing fits."""
        raw = (text or "").strip()
        if not raw or len(raw) > 200:
            return None
        by_code = self._postcode(raw, lang)
        if by_code is not None:
            return by_code
        key = normalize(raw)
        exact = self._by_key(key, raw, lang)
        if exact is not None:
            return exact
        bare = _FILLER.sub("", key).strip()
        if bare and bare != key:
            exact = self._by_key(bare, bare, lang)
            if exact is not None:
                return exact
            by_code = self._postcode(bare, lang)
            if by_code is not None:
                return by_code
        found = self.find_in_text(raw, lang=lang)
        if found:
            # Prefer a postcode, then the longest name.
            found.sort(key=lambda f: (f[2].kind not in ("pc6", "pc4"), -(f[1] - f[0])))
            return found[0][2]
        return self._fuzzy(bare or key, lang)

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """Names close to `text` (for "did you mean ...?"), most likely first."""
        key = _FILLER.sub("", normalize(text or "")).strip()
        if not key:
            return []
        out: list[str] = []
        for choice, _score in self._fuzzy_candidates(key, FUZZY_SUGGEST):
            match = self._by_key(choice, choice, "nl")
            if match is not None and match.place not in out:
                out.append(match.place)
            if len(out) >= limit:
                break
        return out

    def reverse(self, lat: float, lon: float, lang: str = "nl") -> GeoMatch:
        """A shared location: keeps the exact point, named after the nearest PC4 area."""
        idx, dist = self._index.nearest(lat, lon, 1)
        area = self.areas[int(idx[0])]
        note = None
        if float(dist[0]) > FAR_AWAY_KM:
            note = self._note(lang, "far_away", place=area.place)
            lat, lon = area.lat, area.lon
        return GeoMatch(
            lat=round(lat, 6),
            lon=round(lon, 6),
            place=area.place,
            municipality=area.municipality,
            province=area.province,
            postcode=area.pc4,
            kind="location",
            note=note,
        )

    def find_in_text(self, text: str, lang: str = "nl") -> list[tuple[int, int, GeoMatch]]:
        """Postcodes and place names inside free text as (start, end, match), in order."""
        if not text:
            return []
        hits: list[tuple[int, int, GeoMatch]] = []
        taken: list[tuple[int, int]] = []
        for m in _PC_IN_TEXT.finditer(text):
            digits, space, letters = m.group(1), m.group(2), m.group(3)
            end = m.end()
            if letters and (
                nl_postcode.compact(digits + letters)[4:] in ("SA", "SD", "SS")
                or (space and not letters.isupper() and letters.lower() in _NOT_PC6_LETTERS)
            ):
                letters = None
                end = m.start(1) + 4
            if letters is None and _UNIT_AFTER.match(text, end):
                continue
            if digits not in self._by_pc4:
                continue
            code = digits + letters.upper() if letters else digits
            match = self._postcode(code, lang)
            if match is not None:
                hits.append((m.start(1), end, match))
                taken.append((m.start(1), end))
        tokens = [t for t in words(text) if not any(t[0] < e and s < t[1] for s, e in taken)]
        i = 0
        while i < len(tokens):
            matched = False
            for n in range(min(MAX_NGRAM, len(tokens) - i), 0, -1):
                span = tokens[i : i + n]
                # Only contiguous words (nothing but spaces/hyphens between them).
                if any(text[span[j][1] : span[j + 1][0]].strip(" -") for j in range(n - 1)):
                    continue
                key = " ".join(t[2] for t in span)
                if key not in self._names:
                    continue
                start, end = span[0][0], span[-1][1]
                if not self._plausible_in_text(text, start, end, key, n):
                    continue
                match = self._by_key(key, text[start:end], lang)
                if match is not None:
                    hits.append((start, end, match))
                    i += n
                    matched = True
                    break
            if not matched:
                i += 1
        hits.sort(key=lambda h: h[0])
        return hits

    def postcode_area(self, pc4: str) -> Area | None:
        rows = self._by_pc4.get(pc4)
        return rows[0] if rows else None

    def municipality(self, name: str) -> Named | None:
        return self._muni.get(name)

    @property
    def municipalities(self) -> list[Named]:
        return sorted(self._muni.values(), key=lambda n: n.name)

    @property
    def places(self) -> list[Named]:
        seen: dict[tuple[str, str], Named] = {}
        for entries in self._names.values():
            for n in entries:
                if n.kind == "place":
                    seen[(n.name, n.municipality)] = n
        return sorted(seen.values(), key=lambda n: (n.name, n.municipality))

    # ------------------------------------------------------------------ internals

    def _note(self, lang: str, key: str, **values: Any) -> str:
        table = self._notes.get(lang) or self._notes.get("nl") or {}
        template = table.get(key)
        return template.format(**values) if template else ""

    def _postcode(self, text: str, lang: str) -> GeoMatch | None:
        compact = text.strip().upper().replace(" ", "").replace("-", "")
        if compact.startswith("NL") and len(compact) > 4:
            compact = compact[2:]
        kind = None
        if _PC6.match(compact):
            if not nl_postcode.is_valid(compact):
                return None
            code, kind = nl_postcode.compact(compact), "pc6"
        elif _PC4.match(compact):
            code, kind = compact, "pc4"
        else:
            return None
        pc4 = code[:4]
        note = None
        rows = self._by_pc4.get(pc4)
        if rows is None:
            nearby = self._nearest_pc4(pc4)
            if nearby is None:
                return None
            rows = self._by_pc4[nearby]
            note = self._note(lang, "pc4_guess", postcode=code, nearby=nearby, place=rows[0].place)
        area = rows[0]
        return GeoMatch(
            lat=area.lat,
            lon=area.lon,
            place=area.place,
            municipality=area.municipality,
            province=area.province,
            postcode=code,
            kind=kind,
            note=note,
        )

    def _nearest_pc4(self, pc4: str) -> str | None:
        """The numerically closest known PC4 of the same region (same first two digits)."""
        target = int(pc4)
        same_region = [p for p in self._pc4_sorted if p[:2] == pc4[:2]]
        if not same_region:
            return None
        return min(same_region, key=lambda p: (abs(int(p) - target), p))

    def _by_key(self, key: str, typed: str, lang: str) -> GeoMatch | None:
        entries = self._names.get(key)
        if not entries:
            return None
        if key in self._aliases:  # an alias names exactly one place
            return self._match(self._aliases[key], None)
        # One candidate per municipality: the place itself when there is one.
        groups: dict[str, list[Named]] = defaultdict(list)
        for n in entries:
            groups[n.municipality].append(n)
        best_per_muni: list[tuple[int, Named]] = []
        for muni, items in groups.items():
            place = max(
                (n for n in items if n.kind == "place"), key=lambda n: n.areas, default=None
            )
            size = max(n.areas for n in items)
            if any(n.kind == "municipality" for n in items) and muni in self._muni:
                size = max(size, self._muni[muni].areas)
            best_per_muni.append((size, place or items[0]))
        best_per_muni.sort(key=lambda sn: (-sn[0], sn[1].name, sn[1].municipality))
        chosen = best_per_muni[0][1]
        note = None
        if len(best_per_muni) > 1:
            note = self._note(
                lang,
                "ambiguous",
                name=typed.strip(),
                place=chosen.name,
                municipality=chosen.municipality,
            )
        return self._match(chosen, note)

    def _match(self, named: Named, note: str | None) -> GeoMatch:
        return GeoMatch(
            lat=named.lat,
            lon=named.lon,
            place=named.name,
            municipality=named.municipality,
            province=named.province,
            postcode=None,
            kind=named.kind,
            note=note,
        )

    def _plausible_in_text(self, text: str, start: int, end: int, key: str, n: int) -> bool:
        """Guards against place names that are also ordinary words ("best", "een", "heel")."""
        original = text[start:end]
        if key in self._answer_only:
            return any(a in original for a in "'’‘`")
        if n == 1 and (key in self._common or len(key) <= 2):
            if not original[:1].isupper():
                return False
            before = text[:start].rstrip()
            if not before or before[-1] in '.!?:;"“(':
                return False  # capitalised only because a sentence starts here
        return True

    def _fuzzy_candidates(self, key: str, cutoff: float) -> list[tuple[str, float]]:
        """Known keys similar to `key`, best first: (key, similarity 0-100)."""
        if len(key) < 3:
            return []
        pool: dict[str, float] = {}
        for choice, score, _ in process.extract(
            key, self._choices, scorer=fuzz.ratio, limit=12, score_cutoff=cutoff
        ):
            pool[choice] = max(pool.get(choice, 0.0), float(score))
        if len(key) >= 4:
            # Jaro-Winkler rewards a shared beginning ("utreg" ~ "utrecht"); only trusted
            # when the first letter agrees.
            for choice, score, _ in process.extract(
                key,
                self._choices,
                scorer=JaroWinkler.normalized_similarity,
                limit=12,
                score_cutoff=cutoff / 100,
            ):
                if choice[:1] == key[:1]:
                    pool[choice] = max(pool.get(choice, 0.0), float(score) * 100)
        ranked: list[tuple[str, float, float]] = []
        for choice, score in pool.items():
            size = max(n.areas for n in self._names[choice])
            # Similar spellings: the bigger place is the likelier meant.
            ranked.append((choice, score, score + 1.5 * math.log2(1 + size)))
        ranked.sort(key=lambda r: (-r[2], r[0]))
        return [(c, s) for c, s, _ in ranked]

    def _fuzzy(self, key: str, lang: str) -> GeoMatch | None:
        if len(key.split()) > 4:
            return None
        for choice, score in self._fuzzy_candidates(key, FUZZY_SUGGEST):
            if score < FUZZY_ACCEPT:
                continue
            match = self._by_key(choice, choice, lang)
            if match is not None:
                note = self._note(lang, "fuzzy", place=match.place)
                return GeoMatch(**{**match.__dict__, "note": note})
        return None


def read_table(data: bytes) -> list[Area]:
    """Parse the shipped gzip CSV (pc4, place, municipality, province, lat, lon)."""
    text = gzip.decompress(data).decode("utf-8")
    return [
        Area(
            pc4=row["pc4"],
            place=row["place"],
            municipality=row["municipality"],
            province=row["province"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
        )
        for row in csv.DictReader(io.StringIO(text))
    ]


@lru_cache(maxsize=1)
def get_gazetteer() -> Gazetteer:
    """The shipped gazetteer, built once per process (about 0.1 s)."""
    data = resources.files("bot.geo").joinpath("data")
    areas = read_table(data.joinpath("pc4.csv.gz").read_bytes())
    extras = json.loads(data.joinpath("names.json").read_text(encoding="utf-8"))
    return Gazetteer(areas, extras)
