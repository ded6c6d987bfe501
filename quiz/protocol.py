"""The one codec between payload strings and typed events.

Buttons carry short payload strings ("/a/<question>/<option>", "/restart", "/lang/en", ...)
that REST clients, the widget and Telegram messages already sent keep sending back, so the
strings on the wire never change. Everything inside speaks typed events: a channel (or the
pipeline, for text that looks like a payload) calls `decode` once, and the engine only ever
sees the dataclasses and the `Command` enum below. `encode` is what buttons are made of.

The command vocabulary lives here and nowhere else: `Command` (actions without an argument),
`Language`, `Done`, `Info`, `WantToHelp` (actions with one) and `Keyword` (the command words
content writers list in the `keywords_*` UI texts).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Command(StrEnum):
    """A global action without an argument; each member is itself an event."""

    BACK = "back"
    SKIP = "skip"
    RESTART = "restart"
    HELP = "help"
    WHY = "why"
    STOP = "stop"
    RESUME = "resume"
    MY_DATA = "my_data"
    DELETE_DATA = "delete_data"
    MORE = "more"
    CONSENT_YES = "consent_yes"
    CONSENT_NO = "consent_no"
    CONSENT_MORE = "consent_more"
    # After the profile: "Wil je werk bij jou in de buurt zien?"
    NEARBY_YES = "nearby_yes"
    NEARBY_NO = "nearby_no"


class Keyword(StrEnum):
    """Command words the content lists as `keywords_<name>` (comma-separated, per language).

    What a keyword means can depend on the conversation (yes/no only while consent is asked):
    `bot.understand` decides that, this only names them.
    """

    YES = "yes"
    NO = "no"
    BACK = "back"
    SKIP = "skip"
    RESTART = "restart"
    HELP = "help"
    WHY = "why"
    STOP = "stop"
    RESUME = "resume"
    MY_DATA = "my_data"
    DELETE_DATA = "delete_data"
    DONE = "done"
    START = "start"
    LANGUAGE = "language"

    @property
    def ui_key(self) -> str:
        return f"keywords_{self.value}"


@dataclass(frozen=True)
class Start:
    """A new conversation, or `/start` again. Campaign and language are optional hints."""

    lang: str | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class Answer:
    """Options picked for a question.

    A tapped button is one option with `final=False`: on a multiple-choice question it
    toggles that option. Understood text is `final=True`: the options are recorded (with the
    ones already toggled on a multiple-choice question).
    """

    question_id: str
    option_ids: tuple[str, ...]
    final: bool = False


@dataclass(frozen=True)
class Language:
    """Change language; None toggles to the other language."""

    lang: str | None = None


@dataclass(frozen=True)
class Done:
    """Finish a multiple-choice question with the options toggled so far."""

    question_id: str


@dataclass(frozen=True)
class Info:
    """Show more about a recommended vacancy."""

    vacancy_id: str


@dataclass(frozen=True)
class WantToHelp:
    """The person wants to help at a recommended vacancy."""

    vacancy_id: str


@dataclass(frozen=True)
class HandOff:
    """A step of the hand-off after "Ik wil helpen": how to be reached, consent, cancel.

    `step` names the choice (how, consent), `value` the option picked (chat, email, phone,
    self; yes, no; cancel). Payload `/h/<step>/<value>`.
    """

    step: str
    value: str


@dataclass(frozen=True)
class FollowUpAnswer:
    """The person's answer to a follow-up about one lead. Payload `/f/<lead>/<question>/<answer>`
    (question: `c` contact yet?, `s` started?; answer: yes, notyet, other, no)."""

    lead_id: int
    question: str
    answer: str


@dataclass(frozen=True)
class FollowUp:
    """A timed follow-up is due for one of the person's leads (from a job, never on the wire).

    `question`: `c` ("Heb je al contact gehad met ...?") or `s` ("Ben je begonnen bij ...?").
    """

    lead_id: int
    question: str
    vacancy_id: str
    organisation: str
    title: str = ""
    name: str = ""


@dataclass(frozen=True)
class Share:
    """ "Deel je kracht": share the result card of a profile with a link that invites others.
    Payload `/share/<profile>` (no state needed: it works after a no-consent result too)."""

    profile_id: str


@dataclass(frozen=True)
class OrganisationMessage:
    """The organisation wrote to a person who chose "through this chat" (from its lead page,
    never on the wire)."""

    organisation: str
    title: str
    text: str


@dataclass(frozen=True)
class FreeText:
    """Text nothing understood; the engine records it only where a question asks for text."""

    text: str


@dataclass(frozen=True)
class Value:
    """A value resolved outside the engine for the current question.

    Place: {"place", "lat", "lon", "postcode"?, "municipality"?}; hours: a number;
    causes: a list of cause ids; days: {"days": [...], "dayparts": [...]}; age: a number.
    """

    value: Any
    source: str = "text"


@dataclass(frozen=True)
class Recommendations:
    """The answer to a NeedRecommendations effect (never on the wire)."""

    items: tuple[dict[str, Any], ...]
    offset: int = 0
    more_available: bool = False


Event = (
    Start
    | Answer
    | Command
    | Language
    | Done
    | Info
    | WantToHelp
    | HandOff
    | FollowUpAnswer
    | FollowUp
    | OrganisationMessage
    | Share
    | FreeText
    | Value
    | Recommendations
)

START = "/start"
_START_ALIASES = frozenset({START, "/begin"})
_COMMAND_PAYLOADS: dict[Command, str] = {
    **{c: f"/{c.value}" for c in Command},
    Command.CONSENT_YES: "/consent/yes",
    Command.CONSENT_NO: "/consent/no",
    Command.CONSENT_MORE: "/consent/more",
    Command.NEARBY_YES: "/nearby/yes",
    Command.NEARBY_NO: "/nearby/no",
}
_PAYLOAD_COMMANDS: dict[str, Command] = {p: c for c, p in _COMMAND_PAYLOADS.items()}


def answer_payload(question_id: str, option_id: str) -> str:
    """A button's payload. Short enough for Telegram's 64-byte callback_data with 24-char ids."""
    return f"/a/{question_id}/{option_id}"


def encode(event: Event) -> str:
    """The payload string of a button that sends this event back."""
    if isinstance(event, Command):
        return _COMMAND_PAYLOADS[event]
    if isinstance(event, Start):
        return START
    if isinstance(event, Answer):
        if len(event.option_ids) != 1 or event.final:
            raise ValueError("only a single tapped option has a payload")
        return answer_payload(event.question_id, event.option_ids[0])
    if isinstance(event, Language):
        return f"/lang/{event.lang or ''}"
    if isinstance(event, Done):
        return f"/done/{event.question_id}"
    if isinstance(event, Info):
        return f"/info/{event.vacancy_id}"
    if isinstance(event, WantToHelp):
        return f"/help/{event.vacancy_id}"
    if isinstance(event, HandOff):
        return f"/h/{event.step}/{event.value}"
    if isinstance(event, FollowUpAnswer):
        return f"/f/{event.lead_id}/{event.question}/{event.answer}"
    if isinstance(event, Share):
        return f"/share/{event.profile_id}"
    if isinstance(event, FreeText):
        return event.text
    raise ValueError(f"{type(event).__name__} has no payload")


def is_payload(raw: str) -> bool:
    """Does this string look like a payload (as opposed to something a person typed)?"""
    return raw.strip().startswith("/")


def decode_payload(raw: str) -> Event | None:
    """The event of a payload string; None when it is not one of ours."""
    p = raw.strip()
    if p in _START_ALIASES:
        return Start()
    command = _PAYLOAD_COMMANDS.get(p)
    if command is not None:
        return command
    parts = p.split("/")
    if len(parts) == 3 and parts[0] == "":
        kind, arg = parts[1], parts[2]
        if kind == "lang":
            return Language(arg or None)
        if arg and kind == "done":
            return Done(arg)
        if arg and kind == "info":
            return Info(arg)
        if arg and kind == "help":
            return WantToHelp(arg)
        if arg and kind == "share":
            return Share(arg)
    if len(parts) == 4 and parts[0] == "" and parts[1] == "a" and parts[2] and parts[3]:
        return Answer(parts[2], (parts[3],))
    if len(parts) == 4 and parts[0] == "" and parts[1] == "h" and parts[2] and parts[3]:
        return HandOff(parts[2], parts[3])
    if len(parts) == 5 and parts[0] == "" and parts[1] == "f" and parts[2].isdigit() and parts[4]:
        return FollowUpAnswer(int(parts[2]), parts[3], parts[4])
    return None


def decode(raw: str) -> Event:
    """Any string from the outside: a payload's event, else the (stripped) text as FreeText."""
    event = decode_payload(raw)
    return event if event is not None else FreeText(raw.strip())


__all__ = [
    "Answer",
    "Command",
    "Done",
    "Event",
    "FollowUp",
    "FollowUpAnswer",
    "FreeText",
    "HandOff",
    "Info",
    "Keyword",
    "Language",
    "OrganisationMessage",
    "Recommendations",
    "Share",
    "Start",
    "Value",
    "WantToHelp",
    "answer_payload",
    "decode",
    "decode_payload",
    "encode",
    "is_payload",
]
