"""What the engine asks the app to do (effects out); events in are in quiz.protocol.

Plain frozen dataclasses so the engine stays pure and easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
class ForgetAfterResult:
    """The person said no to saving: the result is shown, now remove every row about them.

    Unlike EraseData the replies of this turn still go out; the state starts afresh.
    """


@dataclass(frozen=True)
class Lead:
    """The person wants to help at this vacancy: hand the lead to the organisation.

    `share`: True when the person agreed to pass on `contact` (keys name, email, phone, chat,
    message), False when they said no (nothing goes out), None for a lead without that step.
    `chat`: the organisation may reach them through this chat, and follow-ups may come here.
    """

    vacancy_id: str
    share: bool | None = None
    contact: dict[str, str] = field(default_factory=dict)
    lang: str | None = None


@dataclass(frozen=True)
class LeadAnswer:
    """The person answered a follow-up about a lead (question `c` or `s`, see FollowUpAnswer)."""

    lead_id: int
    question: str
    answer: str


@dataclass(frozen=True)
class ShareCard:
    """ "Deel je kracht": the app adds the profile's result card and the invitation link (it
    knows the channel, the server's address and the organisation's colours)."""

    profile_id: str
    lang: str


Effect = (
    Track
    | NeedRecommendations
    | ConsentGiven
    | EraseData
    | ForgetAfterResult
    | Lead
    | LeadAnswer
    | ShareCard
)
