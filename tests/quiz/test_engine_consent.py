"""Consent is optional: "no" goes on with the test and the answers go after the result."""

from __future__ import annotations

from bot.content import load_quiz
from quiz.effects import ConsentGiven, ForgetAfterResult
from quiz.engine import Engine, Installation, Step
from quiz.messages import Buttons, Card, Text
from quiz.protocol import Command, Start
from tests.fakes.quiz_walk import walk_engine

ENGINE = Engine(load_quiz())
RECS = ({"vacancy_id": "v1", "organisation": "Buurthuis", "title": "Gastvrouw"},)


def walk(engine: Engine, consent: str) -> tuple[Step, list[object]]:
    w = walk_engine(engine, consent=consent, pick=lambda q: q.options[1].id, recommendations=RECS)
    return Step(w.state, tuple(w.last_replies), tuple(w.last_effects)), list(w.effects)


def test_no_goes_on_with_the_first_question() -> None:
    step = ENGINE.step(ENGINE.step(ENGINE.new_state(), Start()).state, Command.CONSENT_NO)
    assert step.state.phase == "asking" and not step.state.consent
    assert isinstance(step.replies[0], Text)
    assert step.replies[0].text.startswith("Prima. Dan wis ik je antwoorden na de uitslag.")
    question = step.replies[-1]
    assert isinstance(question, Buttons) and question.quiz is not None
    assert not any(isinstance(e, ConsentGiven) for e in step.effects)


def test_without_consent_the_result_is_shown_then_everything_forgotten() -> None:
    step, _ = walk(ENGINE, "consent_no")
    assert any(
        isinstance(r, Card) and "recommendations" in r.data.get("result", {}) for r in step.replies
    )
    assert isinstance(step.replies[-1], Text) and "gewist" in step.replies[-1].text
    assert any(isinstance(e, ForgetAfterResult) for e in step.effects)
    assert step.state.answers == {} and step.state.phase == "new"
    assert step.state.result is None and step.state.recommendations == []


def test_with_consent_nothing_is_forgotten() -> None:
    step, effects = walk(ENGINE, "consent_yes")
    assert not any(isinstance(e, ForgetAfterResult) for e in effects)
    assert step.state.phase == "result" and step.state.answers


def test_consent_text_is_filled_from_the_installation() -> None:
    engine = Engine(
        load_quiz(),
        Installation(controller="Stichting Help", privacy_url="https://x.nl/p", retention_days=30),
    )
    step = engine.step(engine.new_state(), Start())
    consent = step.replies[-1]
    assert isinstance(consent, Buttons)
    assert "Stichting Help" in consent.text and "30 dagen" in consent.text
    more = engine.step(step.state, Command.CONSENT_MORE)
    assert any("https://x.nl/p" in getattr(r, "text", "") for r in more.replies)


def test_a_child_is_told_to_sign_up_with_a_parent() -> None:
    w = walk_engine(ENGINE, consent="consent_yes", age="under16")
    said = [r.text for r in w.last_replies if isinstance(r, Text)]
    assert any("samen met je ouder of verzorger" in t for t in said)
    assert any(isinstance(e, ForgetAfterResult) for e in w.last_effects)


def test_without_consent_declining_nearby_work_also_forgets() -> None:
    w = walk_engine(ENGINE, consent="consent_no", nearby=False)
    assert any(isinstance(e, ForgetAfterResult) for e in w.last_effects)
    assert w.state.answers == {} and w.state.phase == "new"
