"""Signed, expiring, login-free links to one lead: `/l/{token}`.

The token signs the lead id and a short hash of its conversation id (itsdangerous, keyed with
`VK_SECRET_KEY`), so a token never opens a different lead that later got the same id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from bot import clock

if TYPE_CHECKING:
    from bot.config import Settings

SALT = "vk-lead-link"


def tag(conversation_id: str) -> str:
    """A short, non-reversible stand-in for the conversation (tokens, dedupe keys, ids)."""
    return hashlib.sha256(conversation_id.encode()).hexdigest()[:12]


class _Signer(TimestampSigner):
    def get_timestamp(self) -> int:  # the project's one clock
        return int(clock.now().timestamp())


class _Serializer(URLSafeTimedSerializer):
    default_signer = _Signer


def _serializer(settings: Settings) -> _Serializer:
    return _Serializer(settings.secret_key, salt=SALT)


def make_token(settings: Settings, lead_id: int, conversation_id: str) -> str:
    return str(_serializer(settings).dumps([lead_id, tag(conversation_id)]))


def url(settings: Settings, lead_id: int, conversation_id: str) -> str:
    return f"{settings.public_url.rstrip('/')}/l/{make_token(settings, lead_id, conversation_id)}"


@dataclass(frozen=True)
class Opened:
    lead_id: int
    tag: str


class Invalid(Exception):
    """Not a token of ours (or tampered with)."""


class Expired(Exception):
    pass


def read_token(settings: Settings, token: str) -> Opened:
    max_age = settings.lead_link_days * 86_400
    serializer = _serializer(settings)
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise Expired() from exc
    except BadSignature as exc:
        raise Invalid() from exc
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], int)):
        raise Invalid()
    return Opened(int(data[0]), str(data[1]))


ANSWER_SALT = "vk-lead-answer"


def answer_token(
    settings: Settings, lead_id: int, conversation_id: str, question: str, answer: str
) -> str:
    """A signed link for the volunteer's answer to a follow-up e-mail (same expiry)."""
    serializer = _Serializer(settings.secret_key, salt=ANSWER_SALT)
    return str(serializer.dumps([lead_id, tag(conversation_id), question, answer]))


def answer_url(
    settings: Settings, lead_id: int, conversation_id: str, question: str, answer: str
) -> str:
    token = answer_token(settings, lead_id, conversation_id, question, answer)
    return f"{settings.public_url.rstrip('/')}/l/a/{token}"


@dataclass(frozen=True)
class Answered:
    lead_id: int
    tag: str
    question: str
    answer: str


def read_answer_token(settings: Settings, token: str) -> Answered:
    serializer = _Serializer(settings.secret_key, salt=ANSWER_SALT)
    try:
        data = serializer.loads(token, max_age=settings.lead_link_days * 86_400)
    except SignatureExpired as exc:
        raise Expired() from exc
    except BadSignature as exc:
        raise Invalid() from exc
    if not (isinstance(data, list) and len(data) == 4 and isinstance(data[0], int)):
        raise Invalid()
    return Answered(int(data[0]), str(data[1]), str(data[2]), str(data[3]))
