"""After "Ik wil helpen": how the organisation may reach the person, consent, the confirmation,
and the timed follow-ups ("Heb je al contact gehad met ...?", "Ben je begonnen bij ...?").

The flow, one question at a time, in the person's language (texts: the `handoff` block of the
quiz's language files):

    how    (this chat | e-mail | phone | I get in touch myself)
    email / phone   typed, validated (`email-validator`, `phonenumbers` with region NL)
    name   a first name
    message         optional, short
    consent         exactly what goes to whom; yes -> Lead(share=True), no -> Lead(share=False)
                    and the contact details to reach out themselves (as before this step)

The engine calls `handle` first for every event; it answers True when the event was the
hand-off's. Pure: no clock, no I/O; the app turns the `Lead` and `LeadAnswer` effects into
rows and jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from quiz.effects import Effect, Lead, LeadAnswer, NeedRecommendations
from quiz.messages import Button, Buttons, Reply, reply_from_dict
from quiz.protocol import (
    Command,
    Event,
    FollowUp,
    FollowUpAnswer,
    FreeText,
    HandOff,
    Info,
    Language,
    OrganisationMessage,
    Recommendations,
    Start,
    WantToHelp,
    encode,
)
from quiz.text import normalise

HOW = ("chat", "email", "phone", "self")
CONTACT_KINDS = ("name", "email", "phone", "chat", "message")
TEXT_STEPS = frozenset({"email", "phone", "name", "message"})
CHOICE_STEPS = frozenset({"how", "consent"})
MAX_NAME = 50
MAX_MESSAGE = 300
PHONE_REGION = "NL"

# Every UI text of this flow (the `handoff` block of a language file) and the fields each
# must carry; the validator checks them like the quiz's own texts.
TEXT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "handoff_how": frozenset({"organisation"}),
    "handoff_how_chat": frozenset(),
    "handoff_how_email": frozenset(),
    "handoff_how_phone": frozenset(),
    "handoff_how_self": frozenset(),
    "handoff_ask_email": frozenset(),
    "handoff_bad_email": frozenset(),
    "handoff_ask_phone": frozenset(),
    "handoff_bad_phone": frozenset(),
    "handoff_ask_name": frozenset(),
    "handoff_bad_name": frozenset(),
    "handoff_ask_message": frozenset({"organisation"}),
    "handoff_no_message": frozenset(),
    "handoff_consent": frozenset({"organisation", "fields", "vacancy", "days"}),
    "handoff_field_name": frozenset({"value"}),
    "handoff_field_email": frozenset({"value"}),
    "handoff_field_phone": frozenset({"value"}),
    "handoff_field_chat": frozenset({"organisation"}),
    "handoff_field_message": frozenset({"value"}),
    "handoff_yes": frozenset(),
    "handoff_no": frozenset(),
    "handoff_cancel": frozenset(),
    "handoff_sent": frozenset({"organisation", "days"}),
    "handoff_declined": frozenset(),
    "handoff_cancelled": frozenset(),
    "handoff_keep_going": frozenset(),
    "handoff_org_message": frozenset({"organisation", "vacancy", "text"}),
    "followup_contact": frozenset({"organisation", "vacancy", "name"}),
    "followup_yes": frozenset(),
    "followup_not_yet": frozenset(),
    "followup_no": frozenset(),
    "followup_other": frozenset(),
    "followup_contact_thanks": frozenset(),
    "followup_sorry": frozenset({"organisation"}),
    "followup_look_further": frozenset(),
    "followup_next": frozenset(),
    "followup_none": frozenset(),
    "followup_started": frozenset({"organisation", "vacancy", "name"}),
    "followup_started_thanks": frozenset(),
    "followup_started_no": frozenset(),
    "followup_started_not_yet": frozenset(),
    "followup_answered": frozenset(),
    "welcome_back": frozenset(),
    "handoff_my_data": frozenset({"organisation", "vacancy", "fields"}),
    "handoff_kind_name": frozenset(),
    "handoff_kind_email": frozenset(),
    "handoff_kind_phone": frozenset(),
    "handoff_kind_chat": frozenset(),
    "handoff_kind_message": frozenset(),
    "share_button": frozenset(),
    "share_text": frozenset({"link"}),
    "share_alt": frozenset({"name"}),
}
BUTTON_KEYS: tuple[str, ...] = (
    "handoff_how_chat",
    "handoff_how_email",
    "handoff_how_phone",
    "handoff_how_self",
    "handoff_no_message",
    "handoff_yes",
    "handoff_no",
    "handoff_cancel",
    "followup_yes",
    "followup_not_yet",
    "followup_no",
    "followup_other",
    "share_button",
)


class Out(Protocol):
    """What the engine collects a step's replies and effects in (quiz.engine._Out)."""

    def say(self, text: str) -> None: ...

    def reply(self, reply: Reply) -> None: ...

    def effect(self, effect: Effect) -> None: ...

    def track(self, name: str, **data: Any) -> None: ...


class Host(Protocol):
    """What the hand-off needs of the engine (quiz.engine.Engine)."""

    def t(self, st: Any, key: str, **values: Any) -> str: ...

    def recommendation_query(self, st: Any) -> dict[str, Any]: ...

    def followup_days(self) -> int: ...

    def contact_details(self, st: Any, rec: dict[str, Any]) -> Reply: ...

    def recommendation_card(self, st: Any, rec: dict[str, Any]) -> Reply: ...

    def finished_hint(self, st: Any, out: Out) -> None: ...


# ---------------------------------------------------------------------- validation


def valid_email(text: str) -> str | None:
    """The normalised address, or None. No DNS look-up: the engine does no I/O."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(text.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def valid_phone(text: str) -> str | None:
    """The number in E.164 (+31612345678), or None; Dutch numbers may be typed without +31."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text.strip(), PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def shown_phone(e164: str) -> str:
    """How a stored number is shown to people (+31 6 12345678)."""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def valid_name(text: str) -> str | None:
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME or "@" in name or "/" in name:
        return None
    if not any(ch.isalpha() for ch in name) or sum(ch.isdigit() for ch in name) > 0:
        return None
    return name


# ---------------------------------------------------------------------- the flow


def awaits_text(state: Any) -> bool:
    """Is the person asked to type something for the hand-off (an address, a name...)?

    Free text then goes to the engine as it is (bot.understand asks no NLU)."""
    handoff = getattr(state, "handoff", None)
    return handoff is not None and handoff.get("step") in TEXT_STEPS | CHOICE_STEPS


def begin(host: Host, st: Any, rec: dict[str, Any], out: Out) -> None:
    """ "Ik wil helpen" on a recommended vacancy: ask how the organisation may reach them."""
    st.handoff = {
        "vacancy_id": str(rec.get("vacancy_id")),
        "organisation": str(rec.get("organisation") or ""),
        "title": str(rec.get("title") or ""),
        "step": "how",
    }
    out.track("want_to_help")
    _ask(host, st, out)


def handle(host: Host, st: Any, event: Event, out: Out) -> bool:
    """The hand-off's part of a step; False when the event is not for it."""
    if isinstance(event, FollowUp):
        _follow_up(host, st, event, out)
        return True
    if isinstance(event, FollowUpAnswer):
        _answer(host, st, event, out)
        return True
    if isinstance(event, OrganisationMessage):
        out.track("organisation_message")
        out.say(
            host.t(
                st,
                "handoff_org_message",
                organisation=event.organisation,
                vacancy=event.title,
                text=event.text,
            )
        )
        return True
    if isinstance(event, Recommendations) and (st.handoff or {}).get("step") == "next":
        _next_vacancy(host, st, event, out)
        return True
    if isinstance(event, WantToHelp) and st.phase != "result":
        # A vacancy offered by a follow-up while the person is elsewhere in the test.
        rec = _rec(st, event.vacancy_id)
        if rec is not None:
            begin(host, st, rec, out)
            return True
        return False
    hand = st.handoff
    if not hand or hand.get("step") == "next":
        return False
    step = str(hand.get("step"))
    if isinstance(event, HandOff):
        if event.value == "cancel":
            _cancel(host, st, out)
        elif event.step != step:
            _ask(host, st, out)  # a stale tap on an earlier question
        elif step == "how":
            _how(host, st, event.value, out)
        elif step == "message" and event.value == "none":
            hand["step"] = "consent"
            _ask(host, st, out)
        elif step == "consent":
            _consent(host, st, event.value == "yes", out)
        else:
            _ask(host, st, out)
        return True
    if event is Command.BACK:
        _cancel(host, st, out)
        return True
    if event in (Command.HELP, Command.WHY):
        _ask(host, st, out)
        return True
    if isinstance(event, FreeText):
        _typed(host, st, step, event.text, out)
        return True
    if isinstance(event, WantToHelp):
        rec = _rec(st, event.vacancy_id)
        if rec is not None:
            begin(host, st, rec, out)
            return True
    if isinstance(event, Command | Start | Language | Info | Recommendations):
        return False  # stop, restart, more, a language...: the engine's; the hand-off waits
    _ask(host, st, out)  # a stale tap on a quiz question
    return True


def _rec(st: Any, vacancy_id: str) -> dict[str, Any] | None:
    for rec in st.recommendations:
        if str(rec.get("vacancy_id")) == vacancy_id:
            return dict(rec)
    return None


def _names(st: Any) -> dict[str, str]:
    hand = st.handoff or {}
    return {"organisation": hand.get("organisation") or "", "vacancy": hand.get("title") or ""}


def _cancel_button(host: Host, st: Any, step: str) -> Button:
    return Button(host.t(st, "handoff_cancel"), encode(HandOff(step, "cancel")))


def _ask(host: Host, st: Any, out: Out) -> None:
    hand = st.handoff
    step = hand["step"]
    names = _names(st)
    if step == "how":
        ways = [w for w in HOW if w != "chat" or st.chat]
        out.reply(
            Buttons(
                text=host.t(st, "handoff_how", organisation=names["organisation"]),
                buttons=tuple(
                    Button(host.t(st, f"handoff_how_{w}"), encode(HandOff("how", w))) for w in ways
                ),
            )
        )
    elif step in ("email", "phone", "name"):
        key = f"handoff_bad_{step}" if hand.pop("retry", False) else f"handoff_ask_{step}"
        out.reply(Buttons(text=host.t(st, key), buttons=(_cancel_button(host, st, step),)))
    elif step == "message":
        out.reply(
            Buttons(
                text=host.t(st, "handoff_ask_message", organisation=names["organisation"]),
                buttons=(
                    Button(host.t(st, "handoff_no_message"), encode(HandOff("message", "none"))),
                    _cancel_button(host, st, step),
                ),
            )
        )
    elif step == "consent":
        out.reply(
            Buttons(
                text=host.t(
                    st,
                    "handoff_consent",
                    fields="\n".join(f"• {line}" for line in _shared_lines(host, st)),
                    days=host.followup_days(),
                    **names,
                ),
                buttons=(
                    Button(host.t(st, "handoff_yes"), encode(HandOff("consent", "yes"))),
                    Button(host.t(st, "handoff_no"), encode(HandOff("consent", "no"))),
                ),
            )
        )


def _shared_lines(host: Host, st: Any) -> list[str]:
    """What the organisation will get, line by line, as the consent question states it."""
    hand = st.handoff
    lines = [host.t(st, "handoff_field_name", value=hand.get("name", ""))]
    if hand.get("email"):
        lines.append(host.t(st, "handoff_field_email", value=hand["email"]))
    if hand.get("phone"):
        lines.append(host.t(st, "handoff_field_phone", value=shown_phone(hand["phone"])))
    if hand.get("how") == "chat":
        lines.append(host.t(st, "handoff_field_chat", organisation=_names(st)["organisation"]))
    if hand.get("message"):
        lines.append(host.t(st, "handoff_field_message", value=hand["message"]))
    return lines


def _how(host: Host, st: Any, way: str, out: Out) -> None:
    hand = st.handoff
    if way not in HOW or (way == "chat" and not st.chat):
        _ask(host, st, out)
        return
    if way == "self":
        _consent(host, st, False, out)
        return
    hand["how"] = way
    hand["step"] = "name" if way == "chat" else way
    _ask(host, st, out)


# A typed detail: how it is checked, and the step that follows it.
_TYPED_FIELDS: dict[str, tuple[Callable[[str], str | None], str]] = {
    "email": (valid_email, "name"),
    "phone": (valid_phone, "name"),
    "name": (valid_name, "message"),
}


def _typed(host: Host, st: Any, step: str, text: str, out: Out) -> None:
    hand = st.handoff
    if step in ("how", "consent"):
        _typed_choice(host, st, step, text, out)
        return
    if step in _TYPED_FIELDS:
        check, after = _TYPED_FIELDS[step]
        value = check(text)
        if value is None:
            hand["retry"] = True
        else:
            hand[step], hand["step"] = value, after
    elif step == "message":
        message = " ".join(text.split())[:MAX_MESSAGE]
        if message:
            hand["message"] = message
        hand["step"] = "consent"
    _ask(host, st, out)


def _typed_choice(host: Host, st: Any, step: str, text: str, out: Out) -> None:
    said = normalise(text)
    if step == "consent":
        for key, yes in (("keywords_yes", True), ("keywords_no", False)):
            words = {normalise(w) for w in host.t(st, key).split(",")}
            button = normalise(host.t(st, "handoff_yes" if yes else "handoff_no"))
            if said in words or said == button:
                _consent(host, st, yes, out)
                return
    else:
        for option in HOW:
            if said == normalise(host.t(st, f"handoff_how_{option}")):
                _how(host, st, option, out)
                return
        # An address typed straight away is taken as the choice and the answer at once.
        way = "email" if "@" in text and valid_email(text) else ""
        if not way and valid_phone(text):
            way = "phone"
        if way:
            st.handoff["how"], st.handoff["step"] = way, way
            _typed(host, st, way, text, out)
            return
    out.say(host.t(st, "not_understood"))
    _ask(host, st, out)


def _consent(host: Host, st: Any, yes: bool, out: Out) -> None:
    hand = st.handoff
    st.handoff = None
    vacancy_id = str(hand["vacancy_id"])
    if yes:
        contact = {"name": hand.get("name", "")}
        for key in ("email", "phone", "message"):
            if hand.get(key):
                contact[key] = str(hand[key])
        if hand.get("how") == "chat":
            contact["chat"] = "yes"
        out.effect(Lead(vacancy_id=vacancy_id, share=True, contact=contact, lang=st.lang))
        # For "mijn gegevens": to whom, and which kinds of details (not the details again).
        st.shared.append(
            {
                "organisation": hand.get("organisation") or "",
                "vacancy": hand.get("title") or "",
                "fields": [k for k in CONTACT_KINDS if k in contact],
            }
        )
        out.track("lead_shared", how=hand.get("how"))
        out.say(
            host.t(
                st,
                "handoff_sent",
                organisation=hand.get("organisation") or "",
                days=host.followup_days(),
            )
        )
    else:
        out.effect(Lead(vacancy_id=vacancy_id, share=False, lang=st.lang))
        out.track("lead_not_shared")
        out.say(host.t(st, "handoff_declined"))
        rec = _rec(st, vacancy_id)
        if rec is not None:
            out.reply(host.contact_details(st, rec))
    if vacancy_id not in st.leads:
        st.leads.append(vacancy_id)
    host.finished_hint(st, out)


def _cancel(host: Host, st: Any, out: Out) -> None:
    st.handoff = None
    out.track("handoff_cancelled")
    out.say(host.t(st, "handoff_cancelled"))
    host.finished_hint(st, out)


# ---------------------------------------------------------------------- follow-ups


FOLLOW_UP_ANSWERS: dict[str, tuple[str, ...]] = {
    "c": ("yes", "notyet", "other"),
    "s": ("yes", "no", "notyet"),
}
_ANSWER_KEYS = {"yes": "followup_yes", "notyet": "followup_not_yet", "no": "followup_no"}


def follow_up_replies(host: Host, st: Any, event: FollowUp) -> Buttons:
    """The follow-up question with its answer buttons."""
    key = "followup_contact" if event.question == "c" else "followup_started"
    name = f" {event.name}" if event.name else ""
    buttons = []
    for answer in FOLLOW_UP_ANSWERS[event.question]:
        title_key = "followup_other" if answer == "other" else _ANSWER_KEYS[answer]
        payload = encode(FollowUpAnswer(event.lead_id, event.question, answer))
        buttons.append(Button(host.t(st, title_key), payload))
    text = host.t(st, key, organisation=event.organisation, vacancy=event.title, name=name)
    return Buttons(text=text, buttons=tuple(buttons))


def _follow_up(host: Host, st: Any, event: FollowUp, out: Out) -> None:
    st.followups[str(event.lead_id)] = {
        "vacancy_id": event.vacancy_id,
        "organisation": event.organisation,
        "title": event.title,
        "question": event.question,
    }
    out.track("followup_asked", question=event.question)
    out.reply(follow_up_replies(host, st, event))


def _answer(host: Host, st: Any, event: FollowUpAnswer, out: Out) -> None:
    info = st.followups.get(str(event.lead_id))
    answers = FOLLOW_UP_ANSWERS.get(event.question, ())
    if info is None or info.get("question") != event.question or event.answer not in answers:
        out.say(host.t(st, "followup_answered"))
        return
    del st.followups[str(event.lead_id)]
    # Answered elsewhere (the e-mail's link): the question waiting for the next visit goes.
    mine = f"/f/{event.lead_id}/"
    st.inbox = [r for r in st.inbox if not any(mine in str(b) for b in r.get("buttons", ()))]
    organisation = str(info.get("organisation") or "")
    vacancy_id = str(info.get("vacancy_id") or "")
    out.effect(LeadAnswer(event.lead_id, event.question, event.answer))
    out.track("followup_answered", question=event.question, answer=event.answer)
    look_further = False
    if event.question == "c":
        if event.answer == "yes":
            out.say(host.t(st, "followup_contact_thanks"))
        elif event.answer == "notyet":
            out.say(host.t(st, "followup_sorry", organisation=organisation))
            look_further = True
        else:
            out.say(host.t(st, "followup_look_further"))
            look_further = True
    else:
        if event.answer == "yes":
            out.track("volunteer_started", vacancy_id=vacancy_id)
            out.say(host.t(st, "followup_started_thanks"))
        elif event.answer == "no":
            out.say(host.t(st, "followup_started_no"))
            look_further = True
        else:
            out.say(host.t(st, "followup_started_not_yet"))
    if look_further:
        exclude = sorted({vacancy_id, *st.leads} - {""})
        st.handoff = {"step": "next", "exclude": exclude}
        query = host.recommendation_query(st)
        out.effect(NeedRecommendations(query=query, offset=0, limit=3 + len(exclude)))


def _next_vacancy(host: Host, st: Any, event: Recommendations, out: Out) -> None:
    """The next fitting vacancy after "Nog niet" or "Ik zoek iets anders"."""
    exclude = set((st.handoff or {}).get("exclude") or ())
    st.handoff = None
    fresh = [dict(i) for i in event.items if str(i.get("vacancy_id")) not in exclude]
    if not fresh:
        out.say(host.t(st, "followup_none"))
        return
    rec = fresh[0]
    known = {str(r.get("vacancy_id")) for r in st.recommendations}
    if str(rec.get("vacancy_id")) not in known:
        st.recommendations.append(rec)
    out.track("recommendations_shown", count=1, offset=0, first=False)
    out.say(host.t(st, "followup_next"))
    out.reply(host.recommendation_card(st, rec))


def my_data(host: Host, st: Any) -> list[str]:
    """Lines for "mijn gegevens": what went to which organisation."""
    lines = []
    for item in st.shared:
        kinds = ", ".join(host.t(st, f"handoff_kind_{k}") for k in item.get("fields", ()))
        lines.append(
            host.t(
                st,
                "handoff_my_data",
                organisation=item.get("organisation", ""),
                vacancy=item.get("vacancy", ""),
                fields=kinds,
            )
        )
    return lines


# ---------------------------------------------------------------------- next visit


def deliver_inbox(host: Host, st: Any, event: Event, out: Out) -> bool:
    """Follow-ups kept for a channel that cannot be written to first (REST, the widget) are
    shown on the person's next message, instead of whatever that message would have done."""
    if not st.inbox or isinstance(event, FollowUpAnswer | FollowUp | HandOff | OrganisationMessage):
        return False
    if event in (Command.DELETE_DATA, Command.MY_DATA):
        return False
    waiting, st.inbox = list(st.inbox), []
    out.say(host.t(st, "welcome_back"))
    for data in waiting:
        out.reply(reply_from_dict(data))
    return True


__all__ = [
    "BUTTON_KEYS",
    "TEXT_PLACEHOLDERS",
    "awaits_text",
    "begin",
    "deliver_inbox",
    "follow_up_replies",
    "handle",
    "valid_email",
    "valid_phone",
]
