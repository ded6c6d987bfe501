"""What an inbound message means: the one place that turns it into a typed engine event.

Payloads (a tapped button, or a client that sends one as text) are decoded by
`quiz.protocol`; a shared location becomes a place. Free text is tried in this order, and the
first step that understands it wins:

 1. command keywords   the content's `keywords_*` words, the whole text ("terug", "stop",
                       "klaar", "English"); yes/no only while consent or nearby work is asked
 1b. hand-off          while "Ik wil helpen" asks for an address, a name, a message or a
                       choice, the text goes to the engine as it is (quiz.handoff)
 2. place              on a place question, the gazetteer resolves the whole text
                       ("Utrecht", "3511 AB")
 3a. bracket number    on a question of ranges (hours, age), a number alone ("4", "vier uur",
                       "ik ben 45") is a value the engine puts in its range, never an
                       option's position
 3b. a button's label  on a choice question, text that is an option's label, or the label
                       with a typo ("ik heb weeinig tijd"), is that option: the NLU never gets
                       to read a button's own words as a command
 3. NLU interpreter    intents (help, back, delete my data...), entities the question expects
                       (hours, days, causes, age), a switch of language; it reads the option
                       the NLU parse found with the same option matcher as step 4
 4. option matching    the question's options: "2", "b", "de tweede", a label, a label with a
                       typo, "1 en 3" on a multiple-choice question
 5. number             on a number question, the first number ("vier", "4,5")
 6. place in a sentence  on a place question, a place or postcode inside the text
                       ("ik woon in Den Bosch")
 7. FreeText           nothing understood: the engine records it where a question asks for
                       text, and otherwise asks again with the buttons

Every matcher compares text through `quiz.text` (one normaliser, one number-word table).
The collaborators come in through the constructor: the composition root builds this once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.nlu.options import OptionMatcher, OptionSpec
from quiz.engine import State
from quiz.handoff import awaits_text
from quiz.model import Question, Quiz
from quiz.protocol import (
    Answer,
    Command,
    Done,
    Event,
    FreeText,
    Keyword,
    Language,
    Start,
    Value,
    decode,
    decode_payload,
    is_payload,
)
from quiz.text import NUMBER_WORDS, TENS, normalise, parse_number

if TYPE_CHECKING:
    from bot.pipeline import Inbound

log = logging.getLogger(__name__)

Interpreter = Callable[[str, State, "Question | None", str], Awaitable["Event | None"]]

# Commands a brand-new conversation may carry besides its implicit start (a client that
# pre-answers the consent question or picks a language on its first message).
_AFTER_START = frozenset({Command.CONSENT_YES, Command.CONSENT_NO, Command.CONSENT_MORE})
_CHOICE_KINDS = ("choice", "scale", "multi")
# How sure the option matcher must be that the text is a label (exact 1.0; a typo 0.76-0.95,
# less when another label is nearly as close).
LABEL_CONFIDENCE = 0.8
# Questions whose options are ranges of a number: a typed number is a value, not a position.
_RANGE_FEEDS = frozenset({"hours", "age"})
_DECIMAL = re.compile(r"\d[.,]\d")
# Words around such a number that do not change it ("4 uur per week", "ik ben 45 jaar").
_NUMBER_FILLER = frozenset({
    "ik", "ben", "zo", "n", "ongeveer", "rond", "de", "in", "per", "week", "uur", "uurtje",
    "uurtjes", "jaar", "oud", "i", "am", "im", "about", "around", "a", "an", "hour", "hours",
    "year", "years", "old",
})  # fmt: skip


class GeoMatchLike(Protocol):
    def to_value(self) -> Mapping[str, Any]: ...


class Places(Protocol):
    """What understanding needs of the gazetteer (bot.geo.gazetteer.Gazetteer)."""

    def resolve(self, text: str, lang: str = "nl") -> GeoMatchLike | None: ...

    def find_in_text(self, text: str, lang: str = "nl") -> list[tuple[int, int, Any]]: ...

    def reverse(self, lat: float, lon: float, lang: str = "nl") -> GeoMatchLike: ...


@dataclass(frozen=True)
class Keywords:
    """Command words from the content's `keywords_*` UI texts, all languages together."""

    table: Mapping[str, tuple[Keyword, str]]  # normalised phrase -> (keyword, its language)

    @classmethod
    def from_quiz(cls, quiz: Quiz) -> Keywords:
        table: dict[str, tuple[Keyword, str]] = {}
        for lang, texts in quiz.ui.items():
            for keyword in Keyword:
                for phrase in texts.get(keyword.ui_key, "").split(","):
                    if phrase.strip():
                        table.setdefault(normalise(phrase), (keyword, lang))
        return cls(table)

    def find(self, text: str) -> tuple[Keyword, str] | None:
        return self.table.get(normalise(text))

    def event(self, text: str, state: State) -> Event | None:
        """The event a command word means in this conversation, if the text is one."""
        found = self.find(text)
        if found is None:
            return None
        keyword, lang = found
        if keyword in (Keyword.YES, Keyword.NO):
            if state.phase in ("consent", "declined"):
                return Command.CONSENT_YES if keyword is Keyword.YES else Command.CONSENT_NO
            if state.phase == "offer":
                return Command.NEARBY_YES if keyword is Keyword.YES else Command.NEARBY_NO
            return None
        if keyword is Keyword.START:
            return Start() if state.phase in ("new", "declined") else Command.RESTART
        if keyword is Keyword.LANGUAGE:
            return Language(lang)
        if keyword is Keyword.DONE:
            return Done(state.current) if state.current else None
        return Command(keyword.value)


# Per question object (the quiz is loaded once): id -> (the question, its specs).
_SPECS: dict[int, tuple[Question, list[OptionSpec]]] = {}
_SPECS_SIZE = 256


def option_specs(question: Question) -> list[OptionSpec]:
    """The option matcher's view of a question: every language's title and synonyms."""
    cached = _SPECS.get(id(question))
    if cached is not None and cached[0] is question:
        return cached[1]
    specs = _option_specs(question)
    if len(_SPECS) >= _SPECS_SIZE:
        _SPECS.pop(next(iter(_SPECS)))
    _SPECS[id(question)] = (question, specs)
    return specs


def _option_specs(question: Question) -> list[OptionSpec]:
    out = []
    for opt in question.options:
        names = list(opt.title.values())
        for syns in opt.synonyms.values():
            names.extend(syns)
        out.append(
            OptionSpec(
                id=opt.id,
                names=tuple(dict.fromkeys(n for n in names if n)),
                descriptions=tuple(d for d in opt.description.values() if d),
            )
        )
    return out


class Understand:
    """Turns an inbound message into the engine event it means (see the module docstring)."""

    def __init__(
        self,
        quiz: Quiz,
        gazetteer: Places | None = None,
        interpreter: Interpreter | None = None,
        keywords: Keywords | None = None,
        matcher: OptionMatcher | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.quiz = quiz
        self.gazetteer = gazetteer
        self.interpreter = interpreter
        self.keywords = keywords or Keywords.from_quiz(quiz)
        self.matcher = matcher or OptionMatcher()
        self._on_error = on_error

    # ------------------------------------------------------------------ starting

    def is_start(self, inbound: Inbound) -> bool:
        """An explicit /start (payload or typed)."""
        raw = _raw(inbound)
        return raw is not None and isinstance(decode_payload(raw), Start)

    def after_start(self, inbound: Inbound) -> Event | None:
        """What a first message carries besides its start (consent, a language)."""
        raw = _raw(inbound)
        event = decode_payload(raw) if raw is not None else None
        if isinstance(event, Language) or event in _AFTER_START:
            return event
        return None

    # ------------------------------------------------------------------ one message

    async def __call__(self, inbound: Inbound, state: State, question: Question | None) -> Event:
        if inbound.payload is not None:
            return decode(inbound.payload)
        if inbound.location is not None:
            return Value(self.location(*inbound.location), source="location")
        text = (inbound.text or "").strip()
        if is_payload(text):
            return decode(text)
        return await self.text(text, state, question, inbound.channel)

    async def text(
        self, text: str, state: State, question: Question | None, channel: str = "-"
    ) -> Event:
        """Free text, in the documented order."""
        if not text:
            return FreeText(text)
        lang = state.lang
        keyword = self.keywords.event(text, state)  # 1
        if keyword is not None:
            return keyword
        if awaits_text(state):  # the hand-off asks for an address, a name, a yes or no
            return FreeText(text)
        is_place = question is not None and question.kind == "place"
        if is_place and self.keywords.find(text) is None:  # 2
            place = self.place(text, lang)
            if place is not None:
                return Value(place, source="text")
        if question is not None:  # 3a
            number = range_number(question, text)
            if number is not None:
                return Value(number, source="text")
        if question is not None and question.kind in _CHOICE_KINDS:  # 3b
            label = self.label(question, text, lang)
            if label is not None:
                return label
        nlu = await self._interpret(text, state, question, lang, channel)  # 3
        if nlu is not None:
            return nlu
        if question is not None and question.kind in _CHOICE_KINDS:  # 4
            answer = self.options(question, text, lang)
            if answer is not None:
                return answer
        if question is not None and question.kind == "number":  # 5
            number = parse_number(text)
            if number is not None:
                return Value(number, source="text")
        if is_place:  # 6
            place = self.place_in_text(text, lang)
            if place is not None:
                return Value(place, source="text")
        return FreeText(text)  # 7

    # ------------------------------------------------------------------ the steps

    async def _interpret(
        self, text: str, state: State, question: Question | None, lang: str, channel: str
    ) -> Event | None:
        if self.interpreter is None:
            return None
        try:
            return await self.interpreter(text, state, question, lang)
        except Exception:
            log.exception("interpreter failed; falling back to built-in matching")
            if self._on_error is not None:
                self._on_error(channel)
            return None

    def label(self, question: Question, text: str, lang: str) -> Answer | None:
        """The option whose label the whole text is (exactly or with a small typo)."""
        best = self.matcher.match(text, option_specs(question), lang)
        if best is None or best.how not in ("exact", "typo") or best.confidence < LABEL_CONFIDENCE:
            return None
        return Answer(question.id, (best.id,), final=True)

    def options(self, question: Question, text: str, lang: str) -> Answer | None:
        """The one option matcher: the options the text picks, as a recorded answer."""
        specs = option_specs(question)
        if question.kind == "multi":
            ids = [m.id for m in self.matcher.match_many(text, specs, lang)]
        else:
            best = self.matcher.match(text, specs, lang)
            ids = [best.id] if best is not None else []
        return Answer(question.id, tuple(ids), final=True) if ids else None

    def place(self, text: str, lang: str = "nl") -> dict[str, Any] | None:
        """The whole text as a place or postcode."""
        if self.gazetteer is None:
            return None
        match = self.gazetteer.resolve(text, lang)
        return dict(match.to_value()) if match is not None else None

    def place_in_text(self, text: str, lang: str = "nl") -> dict[str, Any] | None:
        """The first place or postcode inside a sentence."""
        if self.gazetteer is None:
            return None
        found = self.gazetteer.find_in_text(text, lang)
        return dict(found[0][2].to_value()) if found else None

    def location(self, lat: float, lon: float) -> dict[str, Any]:
        """A shared location as a place answer."""
        if self.gazetteer is not None:
            value = dict(self.gazetteer.reverse(lat, lon).to_value())
            # The PC4 centroid is kept rather than the exact position (less personal).
            if value.get("lat") is not None and value.get("lon") is not None:
                return value
        return {"place": f"{lat:.3f}, {lon:.3f}", "lat": lat, "lon": lon}


def range_number(question: Question, text: str) -> float | None:
    """The number a text names on a question of ranges (hours, age), if it names only that."""
    if question.kind != "choice" or question.feeds not in _RANGE_FEEDS:
        return None
    rest = [w for w in normalise(text).split() if w not in _NUMBER_FILLER]
    if not rest or not all(w.isdigit() or w in NUMBER_WORDS or w in TENS for w in rest):
        return None
    if len(rest) > 1 and not (len(rest) == 2 and _DECIMAL.search(text)):
        return None  # "2 3", "twee drie": not one number ("4,5" is)
    return parse_number(text)


def _raw(inbound: Inbound) -> str | None:
    return inbound.payload if inbound.payload is not None else inbound.text


__all__ = ["Interpreter", "Keywords", "Places", "Understand", "option_specs"]
