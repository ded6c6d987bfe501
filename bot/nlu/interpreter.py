"""The NLU step of understanding (bot.understand, step 3): free text -> an event, or None.

Order of decisions inside this step (first that applies wins):
 1. the NLU parse names an option exactly ("de tweede", the label)      -> the answer
 2. a confident global intent (help, back, skip, stop, restart, why, my data, delete my data,
    change language, a human please)                                     -> Command / Language
    affirm/deny while consent is asked                                    -> consent_yes/no
 3. the parse's option clears the matcher's threshold                    -> the answer
 4. the entity the question expects: hours, days and dayparts, causes, an activity, an age,
    a number                                                              -> the answer
 5. the text is clearly in the other language                            -> Language
 6. nothing                                                              -> None
Options come from the NLU parse result (`option`, produced by bot.nlu.options.OptionMatcher,
the same matcher bot.understand uses without NLU). Places are not decided here: the gazetteer
step of bot.understand runs before and after this one.
Answers are Answer(q, (o,)) for one option; for a multiple-choice question a Value with
the chosen options' values, which the engine records as those options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.nlu.backends import NluBackend
from bot.understand import option_specs
from quiz.engine import State
from quiz.model import DAYPARTS, WEEKDAYS, Option, Question
from quiz.protocol import Answer, Command, Done, Event, Language, Value

# Which intents act globally, and as which engine command.
GLOBAL_COMMANDS: dict[str, Command] = {
    "help": Command.HELP,
    "contact_human": Command.HELP,
    "why": Command.WHY,
    "back": Command.BACK,
    "skip": Command.SKIP,
    "stop": Command.STOP,
    "restart": Command.RESTART,
    "my_data": Command.MY_DATA,
    "delete_data": Command.DELETE_DATA,
}
CHANGE_LANGUAGE = "change_language"
INTENT_THRESHOLD = 0.6
# Acting on these wrongly costs the person their answers: ask for more certainty.
STRICT_THRESHOLDS = {"delete_data": 0.85, "restart": 0.75}
EXACT_OPTION = 0.97  # a position or an exact label beats any intent
SWITCH_CONFIDENCE = 0.95
SWITCH_MIN_WORDS = 3


class NluInterpreter:
    def __init__(
        self,
        backend: NluBackend,
        languages: Sequence[str] = ("nl", "en"),
        intent_threshold: float = INTENT_THRESHOLD,
    ) -> None:
        self.backend = backend
        self.languages = tuple(languages)
        self.intent_threshold = intent_threshold

    async def __call__(
        self, text: str, state: State, question: Question | None, lang: str
    ) -> Event | None:
        text = (text or "").strip()
        if not text or text.startswith("/"):
            return None
        choice = question is not None and question.kind in ("choice", "scale", "multi")
        specs = option_specs(question) if question is not None and choice else None
        result = await self.backend.parse(text, lang, specs)
        option = result.get("option")

        if question is not None and option and option["confidence"] >= EXACT_OPTION:
            return self._answer(question, state, [option["id"]], text, lang)
        command = self._command(result, state, question)
        if command is not None:
            return command
        if question is not None and option:
            return self._answer(question, state, [option["id"]], text, lang)
        if question is not None:
            event = self._from_entities(question, state, result, text, lang)
            if event is not None:
                return event
        return self._language_switch(result, text, lang)

    # ------------------------------------------------------------------ intents

    def _command(
        self, result: dict[str, Any], state: State, question: Question | None
    ) -> Event | None:
        intent = result.get("intent") or {}
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
        if not name:
            return None
        needed = STRICT_THRESHOLDS.get(name, self.intent_threshold)
        if confidence < needed:
            return None
        if name in ("affirm", "deny") and state.phase in ("consent", "declined"):
            return Command.CONSENT_YES if name == "affirm" else Command.CONSENT_NO
        if name == "affirm" and question is not None and question.kind == "multi" and state.pending:
            return Done(question.id)
        if name == CHANGE_LANGUAGE:
            wanted = [
                e["value"] for e in result.get("entities") or [] if e.get("entity") == "language"
            ]
            return Language(next((v for v in wanted if v in self.languages), None))
        return GLOBAL_COMMANDS.get(name)

    # ------------------------------------------------------------------ answers

    def _answer(
        self, q: Question, state: State, ids: list[str], text: str, lang: str
    ) -> Event | None:
        if q.kind != "multi":
            return Answer(q.id, (ids[0],))
        if len(ids) == 1:
            many = self.backend.matcher.match_many(text, option_specs(q), lang)
            ids = [m.id for m in many] or ids
        return self._multi(q, state, ids)

    @staticmethod
    def _multi(q: Question, state: State, ids: list[str]) -> Event | None:
        chosen = [o for o in q.options if o.id in set(ids) | set(state.pending)]
        if chosen and all(o.value is not None for o in chosen):
            return Value([o.value for o in chosen])
        if len(ids) == 1:
            return Answer(q.id, (ids[0],))  # toggles; "klaar" records
        return None

    def _pick(self, q: Question, state: State, options: list[Option]) -> Event | None:
        if not options:
            return None
        if q.kind == "multi":
            return self._multi(q, state, [o.id for o in options])
        return Answer(q.id, (options[0].id,))

    def _from_entities(
        self, q: Question, state: State, result: dict[str, Any], text: str, lang: str
    ) -> Event | None:
        entities = list(result.get("entities") or [])
        extractor = self.backend.extractor
        if extractor is not None and self.backend.name != "spacy":
            # Rasa may miss what our rules see (typos, Dutch compounds): add those.
            known = {(e["entity"], str(e["value"])) for e in entities}
            entities += [
                e
                for e in extractor.extract(text, lang)
                if (e["entity"], str(e["value"])) not in known
            ]
        by_type: dict[str, list[Any]] = {}
        for e in entities:
            by_type.setdefault(e["entity"], []).append(e["value"])

        if q.kind == "place":
            return None  # places are bot.understand's (the gazetteer, before and after NLU)
        if q.feeds == "hours" and by_type.get("hours"):
            return Value(by_type["hours"][0])
        if q.kind == "number":
            numbers = by_type.get("number") or by_type.get("hours")
            return Value(numbers[0]) if numbers else None
        if q.feeds == "age" and by_type.get("number"):
            return self._pick(q, state, _age_option(q, float(by_type["number"][0])))
        if by_type.get("weekday") or by_type.get("daypart"):
            picked = _day_options(q, by_type.get("weekday", []), by_type.get("daypart", []))
            if picked:
                return self._pick(q, state, picked)
        for entity in ("cause", "activity"):
            values = by_type.get(entity)
            if not values:
                continue
            picked = [o for o in q.options if _value_matches(o.value, values)]
            if not picked and entity == "activity":
                picked = _by_activity_weight(q, values)
            if picked:
                return self._pick(q, state, picked)
        return None

    # ------------------------------------------------------------------ language

    def _language_switch(self, result: dict[str, Any], text: str, lang: str) -> Event | None:
        detected = result.get("language") or {}
        name, confidence = detected.get("name"), float(detected.get("confidence") or 0.0)
        if name is None:
            name, confidence = self.backend.detect_language(text)
        if (
            name
            and name != lang
            and name in self.languages
            and confidence >= SWITCH_CONFIDENCE
            and len(text.split()) >= SWITCH_MIN_WORDS
        ):
            return Language(name)
        return None


# ---------------------------------------------------------------------- option helpers


def _value_matches(value: Any, wanted: list[Any]) -> bool:
    if isinstance(value, list):
        return any(w in value for w in wanted)
    return value in wanted


def _by_activity_weight(q: Question, activities: list[Any]) -> list[Option]:
    """A scored question: the option that weighs the named activity most, if it is unique."""
    best: list[tuple[float, Option]] = []
    for opt in q.options:
        weight = max((float(opt.activities.get(str(a), 0.0)) for a in activities), default=0.0)
        if weight > 0:
            best.append((weight, opt))
    best.sort(key=lambda x: -x[0])
    if not best or (len(best) > 1 and best[0][0] == best[1][0]):
        return []
    return [best[0][1]]


def _age_option(q: Question, age: float) -> list[Option]:
    """Age options carry the lower bound of their band: the largest bound at or below the age."""
    numeric = [o for o in q.options if isinstance(o.value, int | float)]
    if not numeric:
        return []
    below = [o for o in numeric if o.value <= age]
    return [max(below, key=lambda o: o.value)] if below else [min(numeric, key=lambda o: o.value)]


def _day_options(q: Question, days: list[Any], parts: list[Any]) -> list[Option]:
    """Options whose {days, dayparts} cover what was said best (greedy, by Jaccard overlap)."""
    options = [o for o in q.options if isinstance(o.value, dict)]
    if not options:
        return []
    said_days = [d for d in days if d in WEEKDAYS] or list(WEEKDAYS)
    said_parts = [p for p in parts if p in DAYPARTS] or list(DAYPARTS)
    said = {(d, p) for d in said_days for p in said_parts}

    def cells(o: Option) -> set[tuple[str, str]]:
        return {(d, p) for d in o.value.get("days", []) for p in o.value.get("dayparts", [])}

    chosen: list[Option] = []
    union: set[tuple[str, str]] = set()
    best = 0.0
    while True:
        candidate, score = None, best
        for o in options:
            if o in chosen:
                continue
            merged = union | cells(o)
            jaccard = len(merged & said) / len(merged | said) if merged | said else 0.0
            if jaccard > score + 1e-9:
                candidate, score = o, jaccard
        if candidate is None:
            break
        chosen.append(candidate)
        union |= cells(candidate)
        best = score
        if q.kind != "multi":
            break
    return chosen
