"""Property test: any sequence of events leaves the engine in a valid, serialisable state."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content import load_quiz
from quiz.effects import NeedRecommendations
from quiz.engine import PHASES, Engine, State
from quiz.messages import Buttons
from quiz.protocol import (
    Answer,
    Command,
    Done,
    Event,
    FreeText,
    Info,
    Language,
    Recommendations,
    Start,
    Value,
    WantToHelp,
    decode,
)

ENGINE = Engine(load_quiz())
QUIZ = ENGINE.quiz
ANSWER_PAYLOADS = [f"/a/{q.id}/{o.id}" for q in QUIZ.questions for o in q.options]
OTHER_PAYLOADS = [
    "/back", "/skip", "/restart", "/help", "/why", "/stop", "/resume", "/my_data",
    "/delete_data", "/more", "/consent/yes", "/consent/no", "/consent/more", "/lang/en",
    "/lang/nl", "/lang/xx", "/info/v1", "/help/v1", "/help/nope", "/start", "/done/days",
    "/a/nope/nope", "/a//", "/",
]  # fmt: skip
TYPED = ["1", "b", "terug", "stop", "ja", "nee", "klaar", "English", "1 en 3", "3511"]
ARGS = ["en", "nl", "v1", "days"]
REC = {"vacancy_id": "v1", "title": "Maatje", "organisation": "Org", "reasons": ["1 km van je"]}

events = st.one_of(
    st.builds(
        Start,
        lang=st.sampled_from([None, "nl", "en", "fr"]),
        campaign=st.none() | st.text(max_size=8),
    ),
    st.sampled_from(ANSWER_PAYLOADS + OTHER_PAYLOADS).map(decode),
    st.builds(FreeText, st.text(max_size=40)),
    st.builds(FreeText, st.sampled_from(TYPED)),
    st.sampled_from(list(Command)),
    st.builds(Language, st.none() | st.sampled_from(ARGS)),
    st.builds(Done, st.sampled_from(ARGS)),
    st.builds(Info, st.sampled_from(ARGS)),
    st.builds(WantToHelp, st.sampled_from(ARGS)),
    st.builds(
        Answer,
        st.sampled_from([q.id for q in QUIZ.questions] + ["nope"]),
        st.lists(st.sampled_from([o.id for q in QUIZ.questions for o in q.options]), max_size=3)
        .map(tuple),
        st.booleans(),
    ),
    st.builds(Value, st.one_of(
        st.just({"place": "Utrecht", "lat": 52.1, "lon": 5.1}),
        st.integers(-5, 100), st.lists(st.sampled_from(["sport", "elderly", "x"]), max_size=3),
        st.none(), st.text(max_size=5),
    )),
    st.builds(Recommendations, st.just((REC,)), st.integers(0, 9), st.booleans()),
)  # fmt: skip


def check_invariants(state: State, replies: tuple[object, ...]) -> None:
    assert state.phase in PHASES
    assert state.lang in QUIZ.languages
    ids = {q.id for q in QUIZ.questions}
    if state.phase == "asking":
        assert state.current in ids
    assert set(state.answers) <= ids
    assert set(state.history) <= ids
    if not state.consent:
        # Without consent the test still runs; its answers last only until the result.
        # (In "result" only while the recommendations are being fetched.)
        assert state.phase in ("asking", "stopped", "result") or state.answers == {}, (
            "without consent no answer outlives the test"
        )
        assert state.phase in ("result", "stopped") or state.result is None
        assert not state.recommendations, "without consent no shown result is kept"
    for q in QUIZ.questions:
        ans = state.answers.get(q.id)
        if isinstance(ans, list) and q.options:
            assert all(q.option(o) for o in ans)
    assert State.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert replies, "every event gets an answer"
    for r in replies:
        if isinstance(r, Buttons):
            assert r.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, min_size=1, max_size=40))
def test_random_event_sequences_never_crash(seq: list[Event]) -> None:
    state = ENGINE.new_state()
    for event in seq:
        step = ENGINE.step(state, event)
        state = step.state
        needs = [e for e in step.effects if isinstance(e, NeedRecommendations)]
        replies = step.replies
        if needs:
            step = ENGINE.step(state, Recommendations((REC,), needs[0].offset, False))
            state = step.state
            replies = replies + step.replies
        check_invariants(state, replies)
