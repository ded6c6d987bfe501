"""Engine behaviour: consent, answering by typed events, navigation, privacy, results.

What free text means is bot.understand's (tests/bot/test_understand.py)."""

from __future__ import annotations

import json

import pytest

from bot.content import load_quiz
from quiz.effects import ConsentGiven, EraseData, Lead, NeedRecommendations, Track
from quiz.engine import Engine, State, Step
from quiz.messages import Buttons, Card, Text
from quiz.protocol import (
    Answer,
    Command,
    Done,
    Event,
    FreeText,
    Language,
    Recommendations,
    Start,
    Value,
    decode,
)

UTRECHT = {"place": "Utrecht", "lat": 52.09, "lon": 5.12, "postcode": "3511"}
RECS = (
    {
        "vacancy_id": "v1",
        "organisation": "Buurthuis De Linde",
        "title": "Gastvrouw",
        "distance_km": 2.5,
        "reasons": ["2,5 km van je"],
        "contact_email": "info@example.org",
        "description": "Koffie schenken en een praatje maken.",
        "fictional": True,
    },
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_quiz())


def run(engine: Engine, events: list[Event], state: State | None = None) -> Step:
    st = state or engine.new_state()
    step = Step(st, ())
    for ev in events:
        step = engine.step(st, ev)
        st = step.state
        for eff in step.effects:
            if isinstance(eff, NeedRecommendations):
                step = engine.step(st, Recommendations(RECS, 0, False))
                st = step.state
    return step


def questions(step: Step) -> list[Buttons]:
    return [r for r in step.replies if isinstance(r, Buttons) and r.quiz is not None]


def consented(engine: Engine) -> State:
    return run(engine, [Start(), Command("consent_yes")]).state


def test_start_asks_consent_before_anything(engine: Engine) -> None:
    step = engine.step(engine.new_state(), Start(campaign="KRACHT"))
    assert step.state.phase == "consent"
    assert step.state.campaign == "KRACHT"
    consent = step.replies[-1]
    assert isinstance(consent, Buttons)
    assert [b.payload for b in consent.buttons] == ["/consent/yes", "/consent/no", "/consent/more"]
    assert not questions(step)


def test_consent_then_first_question_with_progress(engine: Engine) -> None:
    step = run(engine, [Start(), decode("/consent/yes")])
    assert any(isinstance(e, ConsentGiven) for e in step.effects)
    (q,) = questions(step)
    assert q.quiz is not None
    assert (q.quiz.question_id, q.quiz.step, q.quiz.total) == ("motive", 1, 17)
    assert all(b.payload.startswith("/a/motive/") for b in q.buttons)


def test_no_personal_answer_is_kept_without_consent(engine: Engine) -> None:
    step = run(engine, [Start(), decode("/a/motive/values"), FreeText("2")])
    assert step.state.answers == {}
    assert step.state.phase == "consent"


def test_an_understood_answer_is_recorded(engine: Engine) -> None:
    step = engine.step(consented(engine), Answer("motive", ("learn",), final=True))
    assert step.state.answers["motive"] == ["learn"]
    assert step.state.current == "gain"


def test_unknown_text_is_reasked_with_the_buttons(engine: Engine) -> None:
    step = engine.step(consented(engine), FreeText("blablabla"))
    assert isinstance(step.replies[0], Text)
    assert "begreep" in step.replies[0].text
    (q,) = questions(step)
    assert q.quiz is not None and q.quiz.question_id == "motive"
    assert step.state.answers == {}


def test_back_skip_and_stale_buttons(engine: Engine) -> None:
    st = run(
        engine, [decode("/a/motive/values"), decode("/a/gain/skills")], consented(engine)
    ).state
    assert st.current == "activity"
    st = engine.step(st, Command("back")).state
    assert st.current == "gain" and "gain" not in st.answers
    st = engine.step(st, Command("skip")).state
    assert st.current == "activity" and st.skipped == ["gain"]
    # A tap on an old question's button does not change anything.
    step = engine.step(st, decode("/a/motive/cv"))
    assert step.state.answers["motive"] == ["values"]
    assert step.state.current == "activity"


def test_back_on_first_question_says_so(engine: Engine) -> None:
    step = engine.step(consented(engine), Command("back"))
    assert isinstance(step.replies[0], Text)
    assert step.state.current == "motive"


def test_multi_select_toggles_and_done(engine: Engine) -> None:
    st = consented(engine)
    st.current = "causes_who"
    st = engine.step(st, decode("/a/causes_who/elderly")).state
    st = engine.step(st, decode("/a/causes_who/animals")).state
    step = engine.step(st, decode("/a/causes_who/elderly"))
    (q,) = questions(step)
    assert [b.selected for b in q.buttons if b.selected] == [True]
    assert q.multi and q.done is not None
    step = engine.step(step.state, Done("causes_who"))
    assert step.state.answers["causes_who"] == ["animals"]
    assert step.state.current == "causes_what"


def test_multi_select_by_an_understood_answer(engine: Engine) -> None:
    st = consented(engine)
    st.current = "causes_what"
    step = engine.step(st, Answer("causes_what", ("nature", "sport"), final=True))
    assert step.state.answers["causes_what"] == ["sport", "nature"]


def test_place_needs_a_resolved_value(engine: Engine) -> None:
    st = consented(engine)
    st.current = "place"
    step = engine.step(st, FreeText("Atlantis"))
    assert "Atlantis" in step.replies[0].text  # type: ignore[union-attr]
    assert "place" not in step.state.answers
    step = engine.step(st, Value(UTRECHT))
    assert step.state.answers["place"] == UTRECHT
    assert step.state.current == "hours"


def test_hours_value_picks_the_covering_option(engine: Engine) -> None:
    st = consented(engine)
    st.current = "hours"
    assert engine.step(st, Value(3)).state.answers["hours"] == ["h4"]


def full_run(engine: Engine) -> Step:
    events: list[Event] = [Start(), Command("consent_yes")]
    quiz = engine.quiz
    for q in quiz.questions:
        if q.kind == "place":
            events.append(Value(UTRECHT))
        elif q.kind == "multi":
            events += [decode(f"/a/{q.id}/{q.options[0].id}"), Done(q.id)]
        else:
            events.append(decode(f"/a/{q.id}/{q.options[1].id}"))
    return run(engine, events)


def test_a_full_run_ends_in_a_result_with_reasons_and_recommendations(engine: Engine) -> None:
    step = full_run(engine)
    assert step.state.phase == "result"
    cards = [r for r in step.replies if isinstance(r, Card)]
    result = cards[0].data["result"]
    assert result["profile"]["id"] == step.state.result["primary"]  # type: ignore[index]
    assert result["profile"]["reasons"], "a result always says why"
    assert result["recommendations"][0]["vacancy_id"] == "v1"
    assert "Waarom?" in cards[0].text
    rec_card = cards[1]
    assert [b.payload for b in rec_card.buttons] == ["/info/v1", "/help/v1"]


def test_recommendation_query_carries_the_practical_answers(engine: Engine) -> None:
    st = full_run(engine).state
    query = engine.recommendation_query(st)
    assert query["lat"] == UTRECHT["lat"] and query["place"] == "Utrecht"
    assert query["hours_per_week"] == 2
    assert query["days"] and query["dayparts"]
    assert query["age"] == 16
    assert query["profile"] == st.result["primary"]  # type: ignore[index]
    assert query["activities"]


def test_want_to_help_then_reaching_out_oneself_shows_contact(engine: Engine) -> None:
    st = full_run(engine).state
    asked = engine.step(st, decode("/help/v1"))
    assert "Hoe mag Buurthuis De Linde contact met je opnemen?" in asked.replies[0].text  # type: ignore[union-attr]
    step = engine.step(asked.state, decode("/h/how/self"))
    assert Lead("v1", share=False, lang="nl") in step.effects
    assert "info@example.org" in step.replies[1].text  # type: ignore[union-attr]
    info = engine.step(st, decode("/info/v1"))
    assert "Koffie" in info.replies[0].text  # type: ignore[union-attr]


def test_show_more_asks_for_the_next_page(engine: Engine) -> None:
    st = full_run(engine).state
    step = engine.step(st, decode("/more"))
    (need,) = [e for e in step.effects if isinstance(e, NeedRecommendations)]
    assert need.offset == 3


def test_stop_and_resume_keep_the_answers(engine: Engine) -> None:
    st = run(engine, [decode("/a/motive/values"), Command("stop")], consented(engine)).state
    assert st.phase == "stopped"
    step = engine.step(st, FreeText("hallo daar"))
    assert step.state.phase == "asking"
    assert step.state.answers == {"motive": ["values"]}
    assert questions(step)[0].quiz.question_id == "gain"  # type: ignore[union-attr]


def test_language_switch_keeps_progress(engine: Engine) -> None:
    st = run(engine, [decode("/a/motive/values")], consented(engine)).state
    step = engine.step(st, Language("en"))
    assert step.state.lang == "en"
    assert step.state.answers == {"motive": ["values"]}
    q = questions(step)[0]
    assert q.text == engine.quiz.question("gain").text["en"]  # type: ignore[union-attr]


def test_my_data_and_delete(engine: Engine) -> None:
    st = run(engine, [decode("/a/motive/values")], consented(engine)).state
    shown = engine.step(st, Command.MY_DATA)
    assert "Iets goeds doen" in shown.replies[0].text  # type: ignore[union-attr]
    gone = engine.step(st, Command.DELETE_DATA)
    assert any(isinstance(e, EraseData) for e in gone.effects)
    assert gone.state.answers == {} and not gone.state.consent


def test_restart_keeps_consent_and_clears_answers(engine: Engine) -> None:
    st = run(engine, [decode("/a/motive/values"), decode("/restart")], consented(engine)).state
    assert st.consent and st.answers == {} and st.current == "motive"


def test_state_round_trips_through_json(engine: Engine) -> None:
    st = full_run(engine).state
    again = State.from_dict(json.loads(json.dumps(st.to_dict())))
    assert again == st


def test_step_never_mutates_the_callers_state(engine: Engine) -> None:
    st = consented(engine)
    before = st.to_dict()
    engine.step(st, decode("/a/motive/values"))
    assert st.to_dict() == before


def test_analytics_never_carry_personal_answers(engine: Engine) -> None:
    st = consented(engine)
    st.current = "place"
    step = engine.step(st, Value(UTRECHT))
    for eff in step.effects:
        if isinstance(eff, Track):
            assert "Utrecht" not in json.dumps(eff.data)


@pytest.mark.parametrize(
    ("age", "option"), [(45, "a30"), (16, "a16"), (80, "a67"), (10, "under16")]
)
def test_age_value_picks_the_bracket_it_falls_in(engine: Engine, age: int, option: str) -> None:
    st = consented(engine)
    st.current = "age"
    assert engine.step(st, Value(age)).state.answers["age"] == [option]
