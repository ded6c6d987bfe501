"""What can happen to a conversation (events in) and what the app must do (effects out).

Both are plain frozen dataclasses so the engine stays pure and easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CommandName = Literal[
    "back",
    "skip",
    "restart",
    "help",
    "why",
    "stop",
    "resume",
    "my_data",
    "delete_data",
    "language",
    "consent_yes",
    "consent_no",
    "consent_more",
    "done",
    "more",
    "info",
    "want_to_help",
]
COMMANDS: tuple[str, ...] = CommandName.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Start:
    """A new conversation, or `/start` again. Campaign and language are optional hints."""

    lang: str | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class Payload:
    """A tapped button (or a client that sends a button payload as text)."""

    payload: str


@dataclass(frozen=True)
class FreeText:
    text: str


@dataclass(frozen=True)
class Command:
    """A global action, already understood (from a payload, a slash command or the NLU)."""

    name: CommandName
    arg: str | None = None


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
    """The answer to a NeedRecommendations effect."""

    items: tuple[dict[str, Any], ...]
    offset: int = 0
    more_available: bool = False


Event = Start | Payload | FreeText | Command | Value | Recommendations


@dataclass(frozen=True)
class Track:
    """An analytics event to store (no personal data in `data`)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NeedRecommendations:
    """Ask the app for ranked vacancies; it answers with a Recommendations event."""

    query: dict[str, Any]
    offset: int = 0
    limit: int = 3


@dataclass(frozen=True)
class ConsentGiven:
    pass


@dataclass(frozen=True)
class EraseData:
    """Remove every personal row of this conversation."""


@dataclass(frozen=True)
class Lead:
    """The person wants to help at this vacancy: hand the lead to the organisation."""

    vacancy_id: str


Effect = Track | NeedRecommendations | ConsentGiven | EraseData | Lead
