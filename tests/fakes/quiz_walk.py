"""The shipped quiz walked start to result in the engine alone: every reply a channel must
be able to render."""

from __future__ import annotations

from bot.content import load_quiz
from quiz.engine import Engine
from quiz.messages import Reply
from quiz.protocol import Command, Done, Recommendations, Start, Value, answer_payload, decode


def quiz_transcript(lang: str) -> list[Reply]:
    """Every reply of the shipped quiz, start to result, with a multi-select toggle each."""
    quiz = load_quiz()
    engine = Engine(quiz)
    step = engine.step(engine.new_state(lang), Start(lang=lang))
    replies = list(step.replies)
    step = engine.step(step.state, Command("consent_yes"))
    replies += step.replies
    for q in quiz.questions:
        if q.kind == "multi":
            step = engine.step(step.state, decode(answer_payload(q.id, q.options[0].id)))
            replies += step.replies
            step = engine.step(step.state, Done(q.id))
        elif q.options:
            step = engine.step(step.state, decode(answer_payload(q.id, q.options[-1].id)))
        else:
            place = {"place": "Utrecht", "lat": 52.09, "lon": 5.12, "postcode": "3511"}
            step = engine.step(step.state, Value(place))
        replies += step.replies
    step = engine.step(step.state, Recommendations(items=(RECOMMENDATION,), offset=0))
    return replies + list(step.replies)


RECOMMENDATION = {
    "vacancy_id": "v-123",
    "organisation": "Buurthuis De Linde",
    "title": "Gastvrouw of gastheer bij de inloopochtend voor ouderen in de wijk",
    "distance_km": 1.4,
    "reasons": ["1,4 km van je", "past bij mensen verbinden"],
    "remote": False,
}
