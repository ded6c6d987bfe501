"""The NLU step of understanding on the shipped quiz: the free-text examples of the issue
become the events the engine needs, and the engine records the right answers."""

from __future__ import annotations

from typing import Any

import pytest

from bot.content import load_quiz
from bot.geo.gazetteer import get_gazetteer
from bot.nlu.backends import SpacyBackend
from bot.nlu.interpreter import NluInterpreter
from bot.nlu.model import NluModel
from bot.understand import Understand
from quiz.engine import Engine, State
from quiz.model import Option, Question
from quiz.protocol import Command, Event, Language, decode


@pytest.fixture(scope="module")
def interpreter(nlu_model: NluModel) -> NluInterpreter:
    return NluInterpreter(SpacyBackend(nlu_model))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_quiz())


def at(engine: Engine, question_id: str, lang: str = "nl", **extra: Any) -> State:
    state = engine.new_state(lang)
    state.phase, state.consent, state.current = "asking", True, question_id
    for key, value in extra.items():
        setattr(state, key, value)
    return state


async def understand(
    interpreter: NluInterpreter, engine: Engine, state: State, text: str
) -> Event | None:
    return await interpreter(text, state, engine.current_question(state), state.lang)


async def answer(interpreter: NluInterpreter, engine: Engine, qid: str, text: str) -> Any:
    """The whole understanding (bot.understand, with this interpreter as its NLU step)."""
    state = at(engine, qid)
    whole = Understand(engine.quiz, gazetteer=get_gazetteer(), interpreter=interpreter)
    event = await whole.text(text, state, engine.current_question(state))
    step = engine.step(state, event)
    return step.state.answers.get(qid)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("wacht, terug", Command("back")),
        ("in English please", Language("en")),
        ("hoe werkt dit eigenlijk?", Command("help")),
        ("waarom wil je dat weten", Command("why")),
        ("sla deze maar over", Command("skip")),
        ("ik wil stoppen", Command("stop")),
        ("wat weet je allemaal van mij", Command("my_data")),
        ("ik wil met een mens praten", Command("help")),
    ],
)
async def test_global_intents_become_commands(
    interpreter: NluInterpreter, engine: Engine, text: str, command: Command
) -> None:
    assert await understand(interpreter, engine, at(engine, "activity"), text) == command


async def test_issue_examples_answer_their_questions(
    interpreter: NluInterpreter, engine: Engine
) -> None:
    place = await answer(interpreter, engine, "place", "ik woon in Den Bosch")
    assert place["place"] == "'s-Hertogenbosch" and place["lat"] > 51
    assert await answer(interpreter, engine, "hours", "een paar uurtjes") == ["h2"]
    assert await answer(interpreter, engine, "interest", "iets met dieren") == ["nature"]
    assert await answer(interpreter, engine, "activity", "de tweede") == ["talk"]
    assert await answer(interpreter, engine, "activity", "iets met mensen") == ["talk"]


async def test_entities_answer_practical_questions(
    interpreter: NluInterpreter, engine: Engine
) -> None:
    assert await answer(interpreter, engine, "hours", "zo'n 3 uurtjes per week") == ["h4"]
    assert await answer(interpreter, engine, "days", "in het weekend") == ["weekend"]
    assert await answer(interpreter, engine, "days", "maandagavond") == ["weekday_evening"]
    # One interest question: the first cause named picks its option.
    assert await answer(interpreter, engine, "interest", "ouderen en vluchtelingen") == ["elderly"]
    assert await answer(interpreter, engine, "interest", "iets met voetbal") == ["sport_culture"]
    assert await answer(interpreter, engine, "age", "ik ben 45") == ["a18"]
    assert (await answer(interpreter, engine, "place", "3511 AB"))["postcode"] == "3511AB"


async def test_consent_is_understood(interpreter: NluInterpreter, engine: Engine) -> None:
    state = engine.new_state("nl")
    state.phase = "consent"
    assert await interpreter("ja hoor, prima", state, None, "nl") == Command("consent_yes")
    assert await interpreter("nee liever niet", state, None, "nl") == Command("consent_no")


async def test_english_text_switches_the_language(
    interpreter: NluInterpreter, engine: Engine
) -> None:
    state = at(engine, "motive")
    event = await understand(interpreter, engine, state, "what is this about, I don't get it")
    assert event == Command("help")  # an intent wins over a switch
    event = await understand(interpreter, engine, state, "I would rather answer in my own tongue")
    assert event == Language("en")


async def test_unclear_text_is_left_to_the_engine(
    interpreter: NluInterpreter, engine: Engine
) -> None:
    state = at(engine, "motive")
    assert await understand(interpreter, engine, state, "blabla") is None
    assert await understand(interpreter, engine, state, "/back") is None


async def test_delete_needs_certainty(interpreter: NluInterpreter, engine: Engine) -> None:
    state = at(engine, "activity")
    assert await understand(interpreter, engine, state, "wis al mijn gegevens") == Command(
        "delete_data"
    )
    assert await understand(interpreter, engine, state, "gegevens") != Command("delete_data")


async def test_a_made_up_question_is_answered_by_payload(interpreter: NluInterpreter) -> None:
    q = Question(
        id="snack",
        kind="choice",
        text={"nl": "Wat eet je?"},
        why={"nl": "Zomaar."},
        options=(
            Option("soup", {"nl": "Soep", "en": "Soup"}),
            Option("fries", {"nl": "Patat", "en": "Fries"}, synonyms={"nl": ("friet",)}),
        ),
    )
    state = State(phase="asking", current="snack", consent=True)
    assert await interpreter("friet graag", state, q, "nl") == decode("/a/snack/fries")
    assert await interpreter("de eerste", state, q, "nl") == decode("/a/snack/soup")
    assert await interpreter("soup", state, q, "nl") == decode("/a/snack/soup")
