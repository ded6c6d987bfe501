"""The shipped quiz walked start to result in the engine alone: every reply a channel must
be able to render, and a walker other tests use to reach the profile and the vacancies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.content import load_quiz
from quiz.effects import Effect, NeedRecommendations
from quiz.engine import Engine, State
from quiz.messages import Reply
from quiz.model import Question
from quiz.protocol import (
    Command,
    Done,
    Event,
    Recommendations,
    Start,
    Value,
    answer_payload,
    decode,
)

UTRECHT_PLACE = {"place": "Utrecht", "lat": 52.09, "lon": 5.12, "postcode": "3511"}


@dataclass
class Walk:
    """What a walk through the engine produced."""

    state: State
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    last_replies: list[Reply] = field(default_factory=list)
    last_effects: list[Effect] = field(default_factory=list)


def walk_engine(
    engine: Engine,
    consent: str = "consent_yes",
    age: str = "a18",
    pick: Callable[[Question], str] | None = None,
    nearby: bool = True,
    recommendations: tuple[dict[str, Any], ...] = (),
    place: dict[str, Any] | None = None,
    lang: str | None = None,
) -> Walk:
    """Start, consent, the age bracket, an answer to every question (`pick`, by default the
    first option), yes to nearby work, until the result. Recommendations are answered with
    `recommendations`."""
    choose = pick or (lambda q: q.options[0].id)
    st = engine.new_state(lang)
    walk = Walk(st)

    def step(event: Event) -> None:
        nonlocal st
        out = engine.step(st, event)
        st = out.state
        walk.last_replies, walk.last_effects = list(out.replies), list(out.effects)
        if any(isinstance(e, NeedRecommendations) for e in out.effects):
            more = engine.step(st, Recommendations(recommendations, 0, False))
            st = more.state
            walk.last_replies += more.replies
            walk.last_effects += more.effects
        walk.replies += walk.last_replies
        walk.effects += walk.last_effects

    step(Start(lang=lang))
    step(Command(consent))
    for _ in range(100):
        if st.phase == "offer":
            step(Command.NEARBY_YES if nearby else Command.NEARBY_NO)
            continue
        q = engine.current_question(st)
        if q is None:
            break
        if q.feeds == "age":
            step(decode(answer_payload(q.id, age)))
        elif q.kind == "place":
            step(Value(place or UTRECHT_PLACE))
        elif q.kind == "multi":
            step(decode(answer_payload(q.id, choose(q))))
            step(Done(q.id))
        elif q.options:
            step(decode(answer_payload(q.id, choose(q))))
        else:
            step(Value(1))
    walk.state = st
    return walk


def quiz_transcript(lang: str) -> list[Reply]:
    """Every reply of the shipped quiz, start to result: the last option of each question,
    then the first (weekly work, so the hours question too) as a child without consent."""
    engine = Engine(load_quiz())
    last = walk_engine(
        engine, lang=lang, pick=lambda q: q.options[-1].id, recommendations=(RECOMMENDATION,)
    )
    first = walk_engine(
        engine, lang=lang, consent="consent_no", age="under16", recommendations=(RECOMMENDATION,)
    )
    return last.replies + first.replies


RECOMMENDATION = {
    "vacancy_id": "v-123",
    "organisation": "Buurthuis De Linde",
    "title": "Gastvrouw of gastheer bij de inloopochtend voor ouderen in de wijk",
    "distance_km": 1.4,
    "reasons": ["1,4 km bij je vandaan", "past bij jouw kracht: mensen verbinden"],
    "remote": False,
}
