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
    """Consent given by an adult: the next question is the motive."""
    return run(engine, [Start(), Command("consent_yes"), decode("/a/age/a18")]).state


def test_start_asks_consent_before_anything(engine: Engine) -> None:
    step = engine.step(engine.new_state(), Start(campaign="KRACHT"))
    assert step.state.phase == "consent"
    assert step.state.campaign == "KRACHT"
    consent = step.replies[-1]
    assert isinstance(consent, Buttons)
    assert [b.payload for b in consent.buttons] == ["/consent/yes", "/consent/no", "/consent/more"]
    assert not questions(step)


def test_consent_then_age_then_first_question_with_progress(engine: Engine) -> None:
    step = run(engine, [Start(), decode("/consent/yes")])
    # The yes counts only once the age shows the person may give it.
    assert not any(isinstance(e, ConsentGiven) for e in step.effects)
    (q,) = questions(step)
    assert q.quiz is not None
    assert (q.quiz.question_id, q.quiz.step, q.quiz.total) == ("age", 1, 12)
    assert [b.payload for b in q.buttons] == ["/a/age/a18", "/a/age/a16", "/a/age/under16"]
    step = engine.step(step.state, decode("/a/age/a18"))
    assert any(isinstance(e, ConsentGiven) for e in step.effects)
    assert step.state.consent
    (q,) = questions(step)
    assert q.quiz is not None
    assert (q.quiz.question_id, q.quiz.step) == ("motive", 2)
    assert all(b.payload.startswith("/a/motive/") for b in q.buttons)


def test_under_16_keeps_nothing_and_gets_a_note_for_a_parent(engine: Engine) -> None:
    step = run(engine, [Start(), decode("/consent/yes"), decode("/a/age/under16")])
    assert not any(isinstance(e, ConsentGiven) for e in step.effects)
    assert not step.state.consent and step.state.minor
    texts = [r.text for r in step.replies if isinstance(r, Text)]
    assert any("Vraag eerst je ouder of verzorger" in t for t in texts)
    assert questions(step)[0].quiz.question_id == "motive"  # type: ignore[union-attr]


def test_no_personal_answer_is_kept_without_consent(engine: Engine) -> None:
    step = run(engine, [Start(), decode("/a/motive/values"), FreeText("2")])
    assert step.state.answers == {}
    assert step.state.phase == "consent"


def test_an_understood_answer_is_recorded(engine: Engine) -> None:
    step = engine.step(consented(engine), Answer("motive", ("learn",), final=True))
    assert step.state.answers["motive"] == ["learn"]
    assert step.state.current == "activity"


def test_unknown_text_is_reasked_with_the_buttons(engine: Engine) -> None:
    step = engine.step(consented(engine), FreeText("blablabla"))
    assert isinstance(step.replies[0], Text)
    assert "begreep" in step.replies[0].text
    (q,) = questions(step)
    assert q.quiz is not None and q.quiz.question_id == "motive"
    assert step.state.answers == {"age": ["a18"]}


def test_back_skip_and_stale_buttons(engine: Engine) -> None:
    st = run(
        engine, [decode("/a/motive/values"), decode("/a/activity/talk")], consented(engine)
    ).state
    assert st.current == "work_with"
    st = engine.step(st, Command("back")).state
    assert st.current == "activity" and "activity" not in st.answers
    st = engine.step(st, Command("skip")).state
    assert st.current == "work_with" and st.skipped == ["activity"]
    # A tap on an old question's button does not change anything.
    step = engine.step(st, decode("/a/motive/cv"))
    assert step.state.answers["motive"] == ["values"]
    assert step.state.current == "work_with"


def test_back_on_first_question_says_so(engine: Engine) -> None:
    st = run(engine, [Start(), Command("consent_yes")]).state
    step = engine.step(st, Command("back"))
    assert isinstance(step.replies[0], Text)
    assert step.state.current == "age"


def test_place_needs_a_resolved_value(engine: Engine) -> None:
    st = consented(engine)
    st.current, st.revealed = "place", True
    step = engine.step(st, FreeText("Atlantis"))
    assert "Atlantis" in step.replies[0].text  # type: ignore[union-attr]
    assert "place" not in step.state.answers
    step = engine.step(st, Value(UTRECHT))
    assert step.state.answers["place"] == UTRECHT
    assert step.state.current == "commitment"


def test_hours_value_picks_the_covering_option(engine: Engine) -> None:
    st = consented(engine)
    st.current = "hours"
    assert engine.step(st, Value(3)).state.answers["hours"] == ["h4"]


SCORED = [
    ("motive", "people"),
    ("activity", "talk"),
    ("work_with", "people"),
    ("saturday", "meet"),
    ("problem", "connect"),
    ("team", "big"),
]
PRACTICAL = [
    ("commitment", "regular"),
    ("hours", "h2"),
    ("days", "weekend"),
    ("interest", "elderly"),
]


def to_profile(engine: Engine) -> Step:
    events: list[Event] = [Start(), Command("consent_yes"), decode("/a/age/a16")]
    events += [decode(f"/a/{q}/{o}") for q, o in SCORED]
    return run(engine, events)


def full_run(engine: Engine) -> Step:
    events: list[Event] = [Command.NEARBY_YES, Value(UTRECHT)]
    events += [decode(f"/a/{q}/{o}") for q, o in PRACTICAL]
    return run(engine, events, to_profile(engine).state)


def test_the_profile_comes_before_the_practical_questions(engine: Engine) -> None:
    step = to_profile(engine)
    assert step.state.phase == "offer"
    (card,) = [r for r in step.replies if isinstance(r, Card)]
    profile = card.data["result"]["profile"]
    assert "recommendations" not in card.data["result"]
    assert profile["id"] == "verbinder" == step.state.result["primary"]  # type: ignore[index]
    assert "Je doet het vooral om nieuwe mensen te leren kennen." in card.text
    assert "Waarom?" in card.text and len(profile["reasons"]) == 2
    offer = step.replies[-1]
    assert isinstance(offer, Buttons) and offer.text.startswith("Wil je werk bij jou in de buurt")
    assert [b.payload for b in offer.buttons] == ["/nearby/yes", "/nearby/no"]
    assert not any(isinstance(e, NeedRecommendations) for e in step.effects)


def test_no_thanks_to_nearby_work_ends_without_asking_more(engine: Engine) -> None:
    step = engine.step(to_profile(engine).state, Command.NEARBY_NO)
    assert step.state.phase == "result" and not questions(step)
    assert not any(isinstance(e, NeedRecommendations) for e in step.effects)


def test_weekly_hours_are_asked_only_for_weekly_work(engine: Engine) -> None:
    st = run(engine, [Command.NEARBY_YES, Value(UTRECHT)], to_profile(engine).state).state
    assert engine.step(st, decode("/a/commitment/regular")).state.current == "hours"
    for other in ("now_and_then", "one_off"):
        assert engine.step(st, decode(f"/a/commitment/{other}")).state.current == "days"


def test_a_full_run_ends_in_recommendations_in_a_later_result(engine: Engine) -> None:
    step = full_run(engine)
    assert step.state.phase == "result"
    cards = [r for r in step.replies if isinstance(r, Card)]
    result = cards[0].data["result"]
    assert "profile" not in result
    assert result["recommendations"][0]["vacancy_id"] == "v1"
    rec_card = cards[1]
    assert [b.payload for b in rec_card.buttons] == ["/info/v1", "/help/v1"]


def test_recommendation_query_carries_the_practical_answers(engine: Engine) -> None:
    st = full_run(engine).state
    query = engine.recommendation_query(st)
    assert query["lat"] == UTRECHT["lat"] and query["place"] == "Utrecht"
    assert query["hours_per_week"] == 2
    assert query["days"] == ["saturday", "sunday"] and query["dayparts"]
    assert query["causes"] == ["elderly", "care"]
    assert query["age"] == 16 and "max_hours" not in query
    assert query["offers"] == ["social"]
    assert query["profile"] == st.result["primary"]  # type: ignore[index]
    assert query["activities"]


def test_a_childs_query_is_limited_to_a_few_hours(engine: Engine) -> None:
    st = run(engine, [Start(), Command("consent_no"), decode("/a/age/under16")]).state
    query = engine.recommendation_query(st)
    assert query["age"] == 14 and query["max_hours"] == 4


def test_an_adult_bracket_rules_out_no_work_by_age(engine: Engine) -> None:
    assert "age" not in engine.recommendation_query(consented(engine))


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
    assert step.state.answers == {"age": ["a18"], "motive": ["values"]}
    assert questions(step)[0].quiz.question_id == "activity"  # type: ignore[union-attr]


def test_language_switch_keeps_progress(engine: Engine) -> None:
    st = run(engine, [decode("/a/motive/values")], consented(engine)).state
    step = engine.step(st, Language("en"))
    assert step.state.lang == "en"
    assert step.state.answers == {"age": ["a18"], "motive": ["values"]}
    q = questions(step)[0]
    assert q.text == engine.quiz.question("activity").text["en"]  # type: ignore[union-attr]


def test_my_data_and_delete(engine: Engine) -> None:
    st = run(engine, [decode("/a/motive/values")], consented(engine)).state
    shown = engine.step(st, Command.MY_DATA)
    assert "Iets voor een ander doen" in shown.replies[0].text  # type: ignore[union-attr]
    gone = engine.step(st, Command.DELETE_DATA)
    assert any(isinstance(e, EraseData) for e in gone.effects)
    assert gone.state.answers == {} and not gone.state.consent


def test_restart_keeps_consent_and_clears_answers(engine: Engine) -> None:
    st = run(engine, [decode("/a/motive/values"), decode("/restart")], consented(engine)).state
    assert st.consent and st.answers == {} and st.current == "age"


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
    ("age", "option"), [(45, "a18"), (16, "a16"), (17, "a16"), (80, "a18"), (10, "under16")]
)
def test_age_value_picks_the_bracket_it_falls_in(engine: Engine, age: int, option: str) -> None:
    st = consented(engine)
    st.current = "age"
    assert engine.step(st, Value(age)).state.answers["age"] == [option]


def test_work_experience_with_caring_answers_is_a_carer_with_the_motive_on_its_own_line(
    engine: Engine,
) -> None:
    """The career motive no longer pushes towards De Specialist: what people like to do
    decides the profile, the motive is said on a line of its own."""
    caring = [
        ("motive", "cv"),
        ("activity", "care"),
        ("work_with", "people"),
        ("saturday", "visit"),
        ("problem", "listen"),
        ("team", "small"),
    ]
    events: list[Event] = [Start(), Command("consent_yes"), decode("/a/age/a16")]
    step = run(engine, events + [decode(f"/a/{q}/{o}") for q, o in caring])
    (card,) = [r for r in step.replies if isinstance(r, Card)]
    profile = card.data["result"]["profile"]
    assert profile["id"] == "zorgzame"
    assert profile["motive"] == "werkervaring op te doen"
    lines = card.text.split("\n\n")
    assert "Je doet het vooral om werkervaring op te doen." in lines
    # Reasons: at most two, from what the person likes to do, never the motive.
    assert profile["reasons"] == ["Voor iemand zorgen", "Op bezoek bij iemand"]
    assert engine.recommendation_query(step.state)["offers"] == [
        "work_experience",
        "certificate",
    ]


def test_a_clear_fit_needs_enough_answers(engine: Engine) -> None:
    events: list[Event] = [Start(), Command("consent_yes"), decode("/a/age/a18")]
    events += [decode("/a/motive/cv"), decode("/a/activity/computer")]
    events += [Command("skip")] * 4
    step = run(engine, events)
    (card,) = [r for r in step.replies if isinstance(r, Card)]
    assert card.data["result"]["profile"]["id"] == "specialist"
    assert card.data["result"]["profile"]["confidence_level"] != "high"
    assert "heel duidelijk" not in card.text
