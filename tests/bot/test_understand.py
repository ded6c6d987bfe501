"""bot.understand: what free text means, decided in one documented order, on the shipped quiz.

The engine sees the typed events these tests expect; a few go on through the engine to show
the answer it records.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.content import load_quiz
from bot.geo.gazetteer import get_gazetteer
from bot.pipeline import Inbound
from bot.understand import Understand
from quiz.engine import Engine, State
from quiz.model import Question
from quiz.protocol import (
    Answer,
    Command,
    Done,
    Event,
    FreeText,
    Language,
    Start,
    Value,
)

QUIZ = load_quiz()
ENGINE = Engine(QUIZ)


@pytest.fixture(scope="module")
def understand() -> Understand:
    return Understand(QUIZ, gazetteer=get_gazetteer())


def at(question_id: str, lang: str = "nl", **extra: Any) -> State:
    state = ENGINE.new_state(lang)
    state.phase, state.consent, state.current = "asking", True, question_id
    for key, value in extra.items():
        setattr(state, key, value)
    return state


async def event_for(understand: Understand, state: State, text: str) -> Event:
    inbound = Inbound(channel="test", sender="s", text=text)
    return await understand(inbound, state, ENGINE.current_question(state))


async def answer_to(understand: Understand, question_id: str, text: str) -> Any:
    state = at(question_id)
    step = ENGINE.step(state, await event_for(understand, state, text))
    return step.state.answers.get(question_id)


# ----------------------------------------------------------------------------- the order


async def test_a_place_answer_is_resolved_by_the_gazetteer(understand: Understand) -> None:
    event = await event_for(understand, at("place"), "Utrecht")
    assert isinstance(event, Value) and event.value["place"] == "Utrecht"
    place = await answer_to(understand, "place", "ik woon in Den Bosch")  # step 6: in a sentence
    assert place["place"] == "'s-Hertogenbosch"


async def test_a_command_keyword_wins_over_a_place(understand: Understand) -> None:
    assert await event_for(understand, at("place"), "terug") is Command.BACK
    assert await event_for(understand, at("activity"), "Waarom?") is Command.WHY
    assert await event_for(understand, at("activity"), "in english please") == Language("en")
    assert await event_for(understand, at("interest"), "klaar") == Done("interest")


async def test_yes_and_no_are_commands_only_while_consent_is_asked(
    understand: Understand,
) -> None:
    consent = ENGINE.new_state("nl")
    consent.phase = "consent"
    assert await event_for(understand, consent, "ja hoor") is Command.CONSENT_YES
    assert await event_for(understand, consent, "nee") is Command.CONSENT_NO
    assert not isinstance(await event_for(understand, at("activity"), "ja"), Command)


async def test_yes_and_no_answer_the_offer_of_nearby_work(understand: Understand) -> None:
    offer = ENGINE.new_state("nl")
    offer.phase = "offer"
    assert await event_for(understand, offer, "ja graag") is Command.NEARBY_YES
    assert await event_for(understand, offer, "nee") is Command.NEARBY_NO


async def test_start_keyword_starts_or_restarts(understand: Understand) -> None:
    assert await event_for(understand, ENGINE.new_state("nl"), "hallo") == Start()
    assert await event_for(understand, at("activity"), "hallo") is Command.RESTART


@pytest.mark.parametrize(
    "text", ["2", "b", "B", "Iets nieuws leren", "iets nieuws leren!", "Iets niews leren"]
)
async def test_options_by_number_letter_label_and_typo(understand: Understand, text: str) -> None:
    assert await event_for(understand, at("motive"), text) == Answer("motive", ("learn",), True)
    assert await answer_to(understand, "motive", text) == ["learn"]


async def test_de_tweede_picks_the_second_option(understand: Understand) -> None:
    assert await answer_to(understand, "activity", "de tweede") == ["talk"]
    assert await answer_to(understand, "activity", "Praten met mensne") == ["talk"]  # a typo


async def test_accents_and_case_do_not_matter(understand: Understand) -> None:
    assert await answer_to(understand, "team", "MET EEN PAAR ANDEREN") == ["small"]
    assert await answer_to(understand, "commitment", "een keer") == ["one_off"]


async def test_several_options_of_a_multiple_choice_question() -> None:
    """The shipped quiz asks one choice per question; a quiz may still ask for several."""
    interest = QUIZ.question("interest")
    assert interest is not None
    multi = replace(
        QUIZ,
        questions=tuple(
            replace(q, kind="multi") if q.id == "interest" else q for q in QUIZ.questions
        ),
    )
    engine, understand = Engine(multi), Understand(multi, gazetteer=get_gazetteer())
    state = at("interest")
    state.revealed = True
    question = engine.current_question(state)
    event = await understand(Inbound("test", "s", text="2 en 4"), state, question)
    assert engine.step(state, event).state.answers["interest"] == ["youth", "nature"]
    state.pending = ["elderly"]
    event = await understand(Inbound("test", "s", text="4"), state, question)
    assert engine.step(state, event).state.answers["interest"] == ["elderly", "nature"]


async def test_unknown_text_is_free_text(understand: Understand) -> None:
    assert await event_for(understand, at("motive"), "blablabla") == FreeText("blablabla")
    assert await event_for(understand, at("place"), "Atlantis") == FreeText("Atlantis")


async def test_payloads_and_locations_are_decoded_at_the_edge(understand: Understand) -> None:
    state = at("place")
    question = ENGINE.current_question(state)
    tap = Inbound(channel="test", sender="s", payload="/a/motive/values")
    assert await understand(tap, state, question) == Answer("motive", ("values",))
    typed = Inbound(channel="test", sender="s", text=" /back ")
    assert await understand(typed, state, question) is Command.BACK
    shared = Inbound(channel="test", sender="s", location=(52.0907, 5.1214))
    event = await understand(shared, state, question)
    assert isinstance(event, Value) and event.source == "location"
    assert event.value["municipality"] == "Utrecht"


async def test_the_interpreter_comes_after_keywords_and_places_before_options() -> None:
    calls: list[str] = []

    async def interpreter(
        text: str, state: State, question: Question | None, lang: str
    ) -> Event | None:
        calls.append(text)
        return Command.HELP if text == "hoe zit dat" else None

    understand = Understand(QUIZ, gazetteer=get_gazetteer(), interpreter=interpreter)
    assert await event_for(understand, at("activity"), "stop") is Command.STOP
    assert await event_for(understand, at("place"), "Utrecht") != Command.HELP
    assert calls == []  # a keyword and a place never reach the NLU
    assert await event_for(understand, at("activity"), "hoe zit dat") is Command.HELP
    assert await event_for(understand, at("activity"), "de tweede") == Answer(
        "activity", ("talk",), True
    )
    assert calls == ["hoe zit dat", "de tweede"]


async def test_a_button_label_with_a_typo_is_never_read_as_a_command() -> None:
    """ "Ik heb weinig tijd" is an answer to the hours question; an NLU that hears "ik heb
    geen tijd" (stop) in it must not get the chance, not even with a typo in it."""
    calls: list[str] = []

    async def hears_stop(
        text: str, state: State, question: Question | None, lang: str
    ) -> Event | None:
        calls.append(text)
        return Command.STOP

    understand = Understand(QUIZ, interpreter=hears_stop)
    hours = QUIZ.question("hours")
    little = next(o for o in hours.options if o.title["nl"].lower().startswith("ik heb weinig"))
    for text in ("Ik heb weinig tijd", "ik heb weeinig tijd", "ik heb weinig tjd"):
        assert await event_for(understand, at("hours"), text) == Answer("hours", (little.id,), True)
    assert calls == []
    assert await event_for(understand, at("hours"), "ik moet nu weg") is Command.STOP
    assert calls == ["ik moet nu weg"]


async def test_a_failing_interpreter_falls_back_to_option_matching() -> None:
    errors: list[str] = []

    async def broken(text: str, state: State, question: Question | None, lang: str) -> Event:
        raise RuntimeError("model gone")

    understand = Understand(QUIZ, interpreter=broken, on_error=errors.append)
    assert await event_for(understand, at("activity"), "2") == Answer("activity", ("talk",), True)
    assert errors == ["test"]


# ----------------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("1", "h1"),
        ("2", "h2"),
        ("3", "h4"),
        ("4", "h4"),  # a number of hours, never "the fourth option"
        ("4 uur", "h4"),
        ("vier uur per week", "h4"),
        ("5", "h8"),
        ("8", "h8"),
        ("12", "h16"),
        ("een uurtje", "h1"),
        ("Meer dan 8 uur", "h16"),  # a label still wins
    ],
)
async def test_typed_hours_land_in_their_range(
    understand: Understand, text: str, option: str
) -> None:
    assert await answer_to(understand, "hours", text) == [option]


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("12", "under16"),
        ("15", "under16"),
        ("16", "a16"),
        ("17", "a16"),
        ("18", "a18"),
        ("29", "a18"),
        ("ik ben 49 jaar", "a18"),
        ("67", "a18"),
        ("4", "under16"),  # a number of years, never "the fourth option"
    ],
)
async def test_typed_age_lands_in_its_range(understand: Understand, text: str, option: str) -> None:
    assert await answer_to(understand, "age", text) == [option]


def test_range_labels_do_not_overlap() -> None:
    """Each range's label names numbers no other range's label names."""
    import re

    for qid in ("hours", "age"):
        q = QUIZ.question(qid)
        assert q is not None
        bounds: list[set[int]] = []
        for o in q.options:
            title = o.title["nl"]
            numbers = [int(n) for n in re.findall(r"\d+", title)]
            assert " tot " not in title.replace("tot en met", ""), f"{title!r}: say 'tot en met'"
            if "tot en met" in title:
                span = set(range(numbers[0], numbers[1] + 1))
            elif "meer dan" in title.lower():
                span = {numbers[0] + 1}
            elif "jonger dan" in title.lower():
                span = {numbers[0] - 1}
            else:
                span = set(numbers)
            bounds.append(span)
        for i, a in enumerate(bounds):
            for b in bounds[i + 1 :]:
                assert not a & b, f"{qid}: {a} and {b} overlap"
