"""After "Ik wil helpen": how to be reached, validation, consent that names what goes to whom,
the confirmation; follow-ups and their answers as effects (quiz.handoff)."""

from __future__ import annotations

import pytest

from bot.content import load_quiz
from quiz.effects import Lead, LeadAnswer, NeedRecommendations, Track
from quiz.engine import Engine, Installation, State
from quiz.handoff import valid_email, valid_name, valid_phone
from quiz.messages import Buttons, Card, reply_to_dict
from quiz.protocol import (
    Command,
    FollowUp,
    FreeText,
    Recommendations,
    Start,
    decode,
    encode,
)
from tests.quiz.test_engine import RECS, full_run

OTHER = {
    "vacancy_id": "v2",
    "organisation": "Voedselbank",
    "title": "Pakketten inpakken",
    "reasons": ["1 km van je"],
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_quiz(), Installation(followup_days=3))


def _texts(step: object) -> str:
    return "\n".join(getattr(r, "text", "") for r in step.replies)  # type: ignore[attr-defined]


def _buttons(step: object) -> list[str]:
    return [b.payload for r in step.replies if isinstance(r, Buttons) for b in r.buttons]  # type: ignore[attr-defined]


def at_result(engine: Engine, chat: bool = False) -> State:
    st = full_run(engine).state
    st.chat = chat
    return st


def test_chat_is_offered_only_where_the_chat_can_be_written_to(engine: Engine) -> None:
    web = engine.step(at_result(engine), decode("/help/v1"))
    assert "/h/how/chat" not in _buttons(web)
    assert _buttons(web) == ["/h/how/email", "/h/how/phone", "/h/how/self"]
    telegram = engine.step(at_result(engine, chat=True), decode("/help/v1"))
    assert _buttons(telegram)[0] == "/h/how/chat"
    assert Track("want_to_help") in telegram.effects


def test_email_route_validates_and_consent_names_exactly_what_is_shared(engine: Engine) -> None:
    st = engine.step(at_result(engine), decode("/help/v1")).state
    st = engine.step(st, decode("/h/how/email")).state
    bad = engine.step(st, FreeText("sanne at gmail"))
    assert "klopt niet" in _texts(bad) and not bad.effects
    st = engine.step(bad.state, FreeText(" Sanne@Gmail.com ")).state
    assert st.handoff is not None and st.handoff["step"] == "name"
    st = engine.step(st, FreeText("Sanne")).state
    st = engine.step(st, FreeText("Ik kan op dinsdag.")).state
    consent = engine.step(st, FreeText("hmm"))  # not a yes or no: asked again
    text = _texts(consent)
    assert "Sanne" in text and "Sanne@gmail.com" in text and "Ik kan op dinsdag." in text
    assert "Gastvrouw" in text and "3 werkdagen" in text
    assert not any(isinstance(e, Lead) for e in consent.effects)
    done = engine.step(consent.state, decode("/h/consent/yes"))
    (lead,) = [e for e in done.effects if isinstance(e, Lead)]
    assert lead == Lead(
        "v1",
        share=True,
        contact={"name": "Sanne", "email": "Sanne@gmail.com", "message": "Ik kan op dinsdag."},
        lang="nl",
    )
    assert "Je hoort binnen 3 werkdagen van ze" in _texts(done)
    assert done.state.handoff is None and done.state.leads == ["v1"]
    # "mijn gegevens" says what went where, without repeating the details.
    shown = _texts(engine.step(done.state, Command.MY_DATA))
    assert (
        "Doorgestuurd naar Buurthuis De Linde (Gastvrouw): je voornaam, je e-mailadres, je bericht"
        in shown
    )
    assert "Sanne@gmail.com" not in shown


def test_phone_route_in_english_and_typed_yes(engine: Engine) -> None:
    st = at_result(engine, chat=True)
    st.lang = "en"
    st = engine.step(st, decode("/help/v1")).state
    st = engine.step(st, decode("/h/how/phone")).state
    assert "not right" in _texts(engine.step(st, FreeText("12345")))
    st = engine.step(st, FreeText("06-12 34 56 78")).state
    st = engine.step(st, FreeText("Sam")).state
    consent = engine.step(st, decode("/h/message/none"))
    assert "+31 6 12345678" in _texts(consent)
    done = engine.step(consent.state, FreeText("yes"))
    (lead,) = [e for e in done.effects if isinstance(e, Lead)]
    assert lead.share is True and lead.contact == {"name": "Sam", "phone": "+31612345678"}
    assert "within 3 working days" in _texts(done)


def test_through_this_chat_shares_a_name_and_no_address(engine: Engine) -> None:
    st = engine.step(at_result(engine, chat=True), decode("/help/v1")).state
    st = engine.step(st, decode("/h/how/chat")).state
    st = engine.step(st, FreeText("Sanne")).state
    consent = engine.step(st, decode("/h/message/none"))
    assert "hier in deze chat" in _texts(consent)
    done = engine.step(consent.state, decode("/h/consent/yes"))
    (lead,) = [e for e in done.effects if isinstance(e, Lead)]
    assert lead.contact == {"name": "Sanne", "chat": "yes"}


def test_no_means_nothing_shared_and_the_details_to_reach_out_oneself(engine: Engine) -> None:
    st = engine.step(at_result(engine), decode("/help/v1")).state
    st = engine.step(st, decode("/h/how/email")).state
    st = engine.step(st, FreeText("sanne@gmail.com")).state
    st = engine.step(st, FreeText("Sanne")).state
    st = engine.step(st, decode("/h/message/none")).state
    done = engine.step(st, FreeText("nee"))
    assert Lead("v1", share=False, lang="nl") in done.effects
    assert "info@example.org" in _texts(done) and "sanne@gmail.com" not in _texts(done)


def test_cancel_and_back_leave_without_a_lead(engine: Engine) -> None:
    st = engine.step(at_result(engine), decode("/help/v1")).state
    st = engine.step(st, decode("/h/how/email")).state
    cancelled = engine.step(st, decode("/h/email/cancel"))
    assert not any(isinstance(e, Lead) for e in cancelled.effects)
    assert cancelled.state.handoff is None
    st = engine.step(at_result(engine), decode("/help/v1")).state
    back = engine.step(st, Command.BACK)
    assert back.state.handoff is None and back.state.phase == "result"


def test_validators() -> None:
    assert valid_email("a@b") is None and valid_email("naam@gmail.com") == "naam@gmail.com"
    assert valid_phone("0612345678") == "+31612345678"
    assert valid_phone("+32 470 12 34 56") == "+32470123456"
    assert valid_phone("0612") is None
    assert valid_name("  Sanne  ") == "Sanne" and valid_name("s@x") is None
    assert valid_name("1234") is None


def _follow_up(engine: Engine, st: State, question: str = "c") -> State:
    event = FollowUp(7, question, "v1", "Buurthuis De Linde", "Gastvrouw", "Sanne")
    step = engine.step(st, event)
    assert "Buurthuis De Linde" in _texts(step)
    return step.state


def test_follow_up_not_yet_apologises_escalates_and_offers_the_next_vacancy(
    engine: Engine,
) -> None:
    st = at_result(engine)
    st.leads = ["v1"]
    asked = engine.step(st, FollowUp(7, "c", "v1", "Buurthuis De Linde", "Gastvrouw", "Sanne"))
    assert "Hoi Sanne!" in _texts(asked)
    assert _buttons(asked) == ["/f/7/c/yes", "/f/7/c/notyet", "/f/7/c/other"]
    answered = engine.step(asked.state, decode("/f/7/c/notyet"))
    assert LeadAnswer(7, "c", "notyet") in answered.effects
    assert "Sorry" in _texts(answered)
    (need,) = [e for e in answered.effects if isinstance(e, NeedRecommendations)]
    shown = engine.step(answered.state, Recommendations((RECS[0], OTHER), 0, False))
    cards = [r for r in shown.replies if isinstance(r, Card)]
    assert [c.title for c in cards] == ["Pakketten inpakken"]
    assert need.limit >= 4
    # The offered vacancy's "Ik wil helpen" starts a new hand-off.
    again = engine.step(shown.state, decode("/help/v2"))
    assert again.state.handoff is not None and again.state.handoff["vacancy_id"] == "v2"
    # A second tap on the same answer does nothing twice.
    twice = engine.step(shown.state, decode("/f/7/c/notyet"))
    assert not [e for e in twice.effects if isinstance(e, LeadAnswer)]


def test_started_yes_is_the_volunteer_started_stage(engine: Engine) -> None:
    st = _follow_up(engine, at_result(engine), "s")
    done = engine.step(st, decode("/f/7/s/yes"))
    assert LeadAnswer(7, "s", "yes") in done.effects
    assert Track("volunteer_started", {"vacancy_id": "v1"}) in done.effects


def test_follow_ups_survive_a_restart_and_wait_in_the_inbox(engine: Engine) -> None:
    st = at_result(engine)
    asked = engine.step(st, FollowUp(7, "c", "v1", "Buurthuis De Linde", "Gastvrouw"))
    st = asked.state
    st.inbox = [reply_to_dict(r) for r in asked.replies]
    visit = engine.step(st, FreeText("hallo"))
    assert "Welkom terug" in _texts(visit) and "/f/7/c/yes" in _buttons(visit)
    assert visit.state.inbox == []
    restarted = engine.step(visit.state, Start())
    assert "7" in restarted.state.followups
    assert engine.step(restarted.state, decode("/f/7/c/yes")).effects[0] == LeadAnswer(
        7, "c", "yes"
    )
    assert encode(decode("/f/7/c/yes")) == "/f/7/c/yes"
