"""Which of the current question's options does free text pick? Works for any quiz content.

Tried in order, each with its own confidence:
  position  "2", "b", "de tweede", "the last one", "optie c"         -> 1.0
  name      the label or a synonym, exactly or inside the sentence    -> 0.8 .. 1.0
  typo      the label or a synonym with a typo ("Samen met andre")   -> ~ similarity
  lemmas    content-word overlap, weighted by how specific a word is
            to one option ("iets met mensen" -> the option about people)
The best option's score is damped when the runner-up is close: a near tie means "ask again".
Nothing here knows our quiz: options arrive as (id, names, descriptions).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from bot.nlu.tokens import norm_phrase
from quiz.text import NUMBER_WORDS, ORDINALS

DEFAULT_THRESHOLD = 0.6
LEMMA_CACHE_SIZE = 4096  # token sequences whose lemmas are kept (oldest dropped first)
PREPARED_CACHE_SIZE = 256  # option sets kept prepared (a quiz has a few dozen, per language)

Lemmatize = Callable[[str, tuple[str, ...]], tuple[str, ...]]  # (lang, tokens) -> lemmas

_ORDINALS = ORDINALS
_NUMBER_WORDS = NUMBER_WORDS
_MIDDLE = {"middelste", "middle"}


# Words around a choice that carry no content: "ik kies de tweede", "option b please".
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FILLERS = _words(
    """
    de het een die dat deze dit optie opties nummer nr no nummertje antwoord keuze knop ik
    kies kiezen neem nemen doe doen maar graag denk wil wel dan toch mijn gok je zou aub
    alsjeblieft svp hmm uh eh ehm oke ok ja the a an one option number answer choice button i
    choose pick take ll go with please pls think guess would like it is s that this my then
    yes
    """
)
_STOPWORDS = _words(
    """
    de het een en of in op met voor van te is ik je jij u wij we mij me mijn iets wat die dat
    dit deze heel erg graag wel niet geen maar ook nog al dan zo als om aan bij naar uit over
    door heb hebt heeft hebben ben bent zijn wil wilt willen doe doet doen liefst eigenlijk
    gewoon meest vind vinden leuk lijkt zou kan kun kunnen er hier daar alles iemand the a an
    and or in on at with for of to is are i you me my some something what that this these very
    really like love would want do does just most it be am its any all someone
    """
)
_CLAUSE_BREAKS = {"maar", "but", "wel", "liever", "rather", "instead", "juist"}
_NEGATIONS = {"niet", "geen", "not", "no", "never", "nooit", "dont", "don"}
_SPLIT = re.compile(r"\s*(?:,|;|/|&|\+|\ben\b|\band\b|\bof\b|\bor\b)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class OptionSpec:
    """One option as the matcher sees it: an id, names (labels, synonyms), descriptions."""

    id: str
    names: tuple[str, ...]
    descriptions: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> OptionSpec:
        """{"id", "label"|"title" (str or {lang: str}), "synonyms"?, "description"?}."""

        def texts(value: Any) -> list[str]:
            if value is None:
                return []
            if isinstance(value, str):
                return [value]
            if isinstance(value, Mapping):
                return [t for v in value.values() for t in texts(v)]
            if isinstance(value, Iterable):
                return [t for v in value for t in texts(v)]
            return [str(value)]

        names = texts(raw.get("label")) + texts(raw.get("title")) + texts(raw.get("synonyms"))
        return cls(
            id=str(raw["id"]),
            names=tuple(dict.fromkeys(n for n in names if n.strip())),
            descriptions=tuple(texts(raw.get("description"))),
        )


@dataclass(frozen=True)
class OptionMatch:
    id: str
    confidence: float
    how: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "confidence": round(self.confidence, 4)}


@dataclass
class _Prepared:
    spec: OptionSpec
    names: list[tuple[str, ...]]
    lemmas: set[str] = field(default_factory=set)
    desc_lemmas: set[str] = field(default_factory=set)


class OptionMatcher:
    def __init__(
        self, lemmatize: Lemmatize | None = None, threshold: float = DEFAULT_THRESHOLD
    ) -> None:
        self.lemmatize = lemmatize
        self.threshold = threshold
        self._lemma_cache: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
        # A question's options are prepared (names normalised, lemmatised) once, not per message.
        self._prepared_cache: dict[
            tuple[str, tuple[OptionSpec, ...]], tuple[list[_Prepared], dict[str, float]]
        ] = {}

    # ------------------------------------------------------------------ public

    def match(
        self, text: str, options: Sequence[OptionSpec], lang: str = "nl"
    ) -> OptionMatch | None:
        """The option the text picks, or None when no option clears the threshold."""
        ranked = self.rank(text, options, lang)
        if ranked and ranked[0].confidence >= self.threshold:
            return ranked[0]
        return None

    def match_many(
        self, text: str, options: Sequence[OptionSpec], lang: str = "nl"
    ) -> list[OptionMatch]:
        """For multiple-choice questions: "1 en 3", "ouderen, dieren", "sport and nature"."""
        single = self.match(text, options, lang)
        parts = [p for p in _SPLIT.split(text) if p and p.strip()]
        if len(parts) <= 1:
            return [single] if single else []
        found: list[OptionMatch] = []
        for part in parts:
            hit = self.match(part, options, lang)
            if hit and all(hit.id != f.id for f in found):
                found.append(hit)
        if not found and single:
            return [single]
        # The whole text may name one option whose name contains "en" ("school en leren").
        if (
            single
            and single.how in ("exact", "position")
            and single.id not in {f.id for f in found}
        ):
            return [single]
        return found

    def rank(self, text: str, options: Sequence[OptionSpec], lang: str = "nl") -> list[OptionMatch]:
        """Every option with a score above zero, best first; confidence includes the margin."""
        toks = norm_phrase(text)
        if not toks or not options:
            return []
        position = self._by_position(toks, len(options))
        if position is not None:
            return [OptionMatch(options[position].id, 1.0, "position")]
        prepared, idf = self._prepared(tuple(options), lang)
        scored: list[tuple[float, str, str]] = []
        content = self._content(toks)
        text_lemmas = self._lemmas(lang, content)
        for p in prepared:
            score, how = self._score(toks, content, text_lemmas, p, idf)
            if score > 0:
                scored.append((score, how, p.spec.id))
        scored.sort(key=lambda s: -s[0])
        out = []
        for i, (score, how, oid) in enumerate(scored):
            runner_up = scored[1][0] if i == 0 and len(scored) > 1 else 0.0
            conf = score * min(1.0, 0.4 + 4.0 * (score - runner_up)) if i == 0 else score * 0.4
            out.append(OptionMatch(oid, round(conf, 4), how))
        return out

    # ------------------------------------------------------------------ position

    def _by_position(self, toks: tuple[str, ...], n: int) -> int | None:
        core = [t for t in toks if t not in _FILLERS]
        if len(core) > 2:
            return None
        if not core:
            letters = [t for t in toks if len(t) == 1 and t.isalpha()]
            if len(letters) == 1 and len(toks) <= 3:
                letter = ord(letters[0]) - ord("a")
                return letter if 0 <= letter < n else None
            return None
        if len(core) == 2:
            # "de op een na laatste" is rare; accept "1 e" style splits and "nummer twee"
            joined = "".join(core)
            core = [joined] if joined in _ORDINALS else core
            if len(core) == 2:
                return None
        word = core[0]
        idx: int | None = None
        if word.isdigit():
            idx = int(word)
        elif word in _ORDINALS:
            idx = _ORDINALS[word]
        elif word in _NUMBER_WORDS and len(toks) <= 3:
            idx = _NUMBER_WORDS[word]
        elif word in _MIDDLE and n % 2 == 1:
            idx = n // 2 + 1
        elif len(word) == 1 and word.isalpha():
            idx = ord(word) - ord("a") + 1
        if idx is None:
            return None
        if idx < 0:
            idx = n + idx + 1
        return idx - 1 if 1 <= idx <= n else None

    # ------------------------------------------------------------------ names and lemmas

    def _prepared(
        self, options: tuple[OptionSpec, ...], lang: str
    ) -> tuple[list[_Prepared], dict[str, float]]:
        key = (lang, options)
        cached = self._prepared_cache.get(key)
        if cached is None:
            prepared = [self._prepare(o, lang) for o in options]
            cached = (prepared, self._idf(prepared))
            if len(self._prepared_cache) >= PREPARED_CACHE_SIZE:
                self._prepared_cache.pop(next(iter(self._prepared_cache)))
            self._prepared_cache[key] = cached
        return cached

    def _prepare(self, spec: OptionSpec, lang: str) -> _Prepared:
        names = [norm_phrase(n) for n in spec.names]
        names = [n for n in names if n]
        lemmas: set[str] = set()
        for n in names:
            lemmas.update(self._lemmas(lang, self._content(n)))
        desc: set[str] = set()
        for d in spec.descriptions:
            desc.update(self._lemmas(lang, self._content(norm_phrase(d))))
        return _Prepared(spec, names, lemmas, desc - lemmas)

    def _lemmas(self, lang: str, toks: tuple[str, ...]) -> tuple[str, ...]:
        if not toks:
            return ()
        key = (lang, toks)
        cached = self._lemma_cache.get(key)
        if cached is not None:
            return cached
        lemmas = self.lemmatize(lang, toks) if self.lemmatize else toks
        # Bounded: every free text anyone types is a key (up to a whole message of tokens).
        if len(self._lemma_cache) >= LEMMA_CACHE_SIZE:
            self._lemma_cache.pop(next(iter(self._lemma_cache)))
        self._lemma_cache[key] = lemmas
        return lemmas

    @staticmethod
    def _content(toks: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        negated = False
        for t in toks:
            if t in _NEGATIONS:
                negated = True  # "niet achter de bar": the rest of the clause does not count
                continue
            if t in _CLAUSE_BREAKS:
                negated = False  # "niet buiten maar binnen"
                continue
            if t in _STOPWORDS or negated:
                continue
            out.append(t)
        return tuple(out)

    @staticmethod
    def _idf(prepared: list[_Prepared]) -> dict[str, float]:
        n = len(prepared)
        df: dict[str, int] = {}
        for p in prepared:
            for lemma in p.lemmas | p.desc_lemmas:
                df[lemma] = df.get(lemma, 0) + 1
        return {lemma: math.log(1 + n / d) for lemma, d in df.items()}

    def _score(
        self,
        toks: tuple[str, ...],
        content: tuple[str, ...],
        text_lemmas: tuple[str, ...],
        p: _Prepared,
        idf: dict[str, float],
    ) -> tuple[float, str]:
        text = " ".join(toks)
        core = " ".join(t for t in toks if t not in _FILLERS)
        best, how = 0.0, ""
        negation = any(t in _NEGATIONS for t in toks)
        for name in p.names:
            joined = " ".join(name)
            if joined in (text, core):
                return 1.0, "exact"
            if _contains(toks, name) and not _negated(toks, name) and _content_words(name):
                share = len(joined) / max(len(text), 1)
                score = min(0.95, 0.8 + 0.15 * share)
                if score > best:
                    best, how = score, "name"
            ratio = max(fuzz.ratio(text, joined), fuzz.ratio(core, joined) if core else 0.0)
            if len(joined) >= 4 and ratio >= 80 and not negation:
                score = ratio / 100 * 0.95
                if score > best:
                    best, how = score, "typo"
        lemma_score = self._lemma_overlap(text_lemmas, p, idf)
        if lemma_score > best:
            best, how = lemma_score, "lemmas"
        return best, how

    @staticmethod
    def _lemma_overlap(text_lemmas: tuple[str, ...], p: _Prepared, idf: dict[str, float]) -> float:
        if not text_lemmas or not (p.lemmas or p.desc_lemmas):
            return 0.0
        top = max(idf.values(), default=1.0)
        got = 0.0
        total = 0.0
        matched_weight = 0.0
        for t in text_lemmas:
            m, weight = _best_lemma(t, p.lemmas, idf)
            dm, dweight = _best_lemma(t, p.desc_lemmas, idf)
            if dm * 0.7 > m:
                m, weight = dm * 0.7, dweight
            if m > 0:
                got += m * weight
                total += weight
                matched_weight += weight
            else:
                total += 0.5 * top  # an unmatched content word weakens the match a little
        if got == 0:
            return 0.0
        # A word shared by every option ("werken") says little about which one is meant.
        specificity = max(0.3, min(1.0, matched_weight / max(top, 1e-9)))
        return round(0.9 * (got / total) * specificity, 4)


def _best_lemma(t: str, lemmas: set[str], idf: dict[str, float]) -> tuple[float, float]:
    best, weight = 0.0, 0.0
    for o in lemmas:
        if t == o:
            m = 1.0
        elif (
            len(t) >= 4
            and len(o) >= 4
            and (t.startswith(o) or o.startswith(t) or t.endswith(o) or o.endswith(t))
        ):
            m = 0.8  # compounds and inflections: "dierenasiel" ~ "dier", "sporten" ~ "sport"
        elif len(t) >= 5 and len(o) >= 5:
            r = fuzz.ratio(t, o)
            m = r / 100 if r >= 85 else 0.0
        else:
            m = 0.0
        if m > best:
            best, weight = m, idf.get(o, 1.0)
    return best, weight


def _contains(toks: tuple[str, ...], name: tuple[str, ...]) -> bool:
    n = len(name)
    return any(toks[i : i + n] == name for i in range(len(toks) - n + 1))


def _negated(toks: tuple[str, ...], name: tuple[str, ...]) -> bool:
    """A negation earlier in the same clause: "niet achter de bar", not "niet x maar de bar"."""
    n = len(name)
    for i in range(len(toks) - n + 1):
        if toks[i : i + n] != name:
            continue
        for t in reversed(toks[:i]):
            if t in _CLAUSE_BREAKS:
                break
            if t in _NEGATIONS:
                return True
    return False


def _content_words(name: tuple[str, ...]) -> bool:
    return any(t not in _STOPWORDS for t in name)


def specs_from_dicts(raw: Iterable[Mapping[str, Any]]) -> list[OptionSpec]:
    return [OptionSpec.from_dict(r) for r in raw]
