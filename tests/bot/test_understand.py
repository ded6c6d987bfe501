"""bot.understand: what free text means, decided in one documented order, on the shipped quiz.

The engine sees the typed events these tests expect; a few go on through the engine to show
the answer it records.
"""

from __future__ import annotations

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
    assert await event_for(understand, at("causes_who"), "klaar") == Done("causes_who")


async def test_yes_and_no_are_commands_only_while_consent_is_asked(
    understand: Understand,
) -> None:
    consent = ENGINE.new_state("nl")
    consent.phase = "consent"
    assert await event_for(understand, consent, "ja hoor") is Command.CONSENT_YES
    assert await event_for(understand, consent, "nee") is Command.CONSENT_NO
    assert not isinstance(await event_for(understand, at("activity"), "ja"), Command)


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
    assert await answer_to(understand, "place_pref", "MET EEN PERSOON") == ["one_on_one"]


async def test_several_options_of_a_multiple_choice_question(understand: Understand) -> None:
    state = at("causes_what")
    assert await answer_to(understand, "causes_what", "1 en 5") == ["sport", "nature"]
    state.pending = ["culture"]
    event = await event_for(understand, state, "1")
    step = ENGINE.step(state, event)
    assert step.state.answers["causes_what"] == ["sport", "culture"]


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


async def test_a_failing_interpreter_falls_back_to_option_matching() -> None:
    errors: list[str] = []

    async def broken(text: str, state: State, question: Question | None, lang: str) -> Event:
        raise RuntimeError("model gone")

    understand = Understand(QUIZ, interpreter=broken, on_error=errors.append)
    assert await event_for(understand, at("activity"), "2") == Answer("activity", ("talk",), True)
    assert errors == ["test"]
