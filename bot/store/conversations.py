"""Conversations, analytics events, consent, leads and inbound idempotency keys.

The tables are SQLModel classes (so other features can read them); the pipeline's hot path
uses SQLAlchemy Core statements on their `__table__` because it runs on every message.
Channel user ids never reach the database: `user_hash` is an HMAC of channel + sender.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    Table,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

# BIGINT on Postgres, INTEGER (the rowid alias that autoincrements) on SQLite.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index),
    )


class Conversation(SQLModel, table=True):
    """One person on one channel. `state` is the engine's State as JSON."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_hash", name="uq_conversations_user"),)

    id: str = Field(primary_key=True, max_length=32)
    user_hash: str = Field(max_length=64)
    channel: str = Field(max_length=32)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    lang: str = Field(max_length=8)
    phase: str = Field(max_length=16)
    campaign: str | None = Field(default=None, max_length=64, index=True)
    region: str | None = Field(default=None, max_length=64)
    org: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()
    updated_at: datetime = _ts(index=True)
    consent_at: datetime | None = _ts(nullable=True)


class Event(SQLModel, table=True):
    """One analytics event (a Track effect). `data` never holds personal data.

    After erasure `conversation_id` is replaced by a random id: the journey still counts in
    the funnel but can no longer be tied to a person.
    """

    __tablename__ = "events"

    id: int | None = Field(default=None, sa_column=Column(_BigId, primary_key=True))
    conversation_id: str = Field(max_length=40, index=True)
    name: str = Field(max_length=64, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    question: str | None = Field(default=None, max_length=64)
    campaign: str | None = Field(default=None, max_length=64, index=True)
    channel: str = Field(max_length=32)
    region: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts(index=True)


class Consent(SQLModel, table=True):
    """The moment a conversation agreed to the privacy terms (removed on erasure)."""

    __tablename__ = "consents"

    id: int | None = Field(default=None, sa_column=Column(_BigId, primary_key=True))
    conversation_id: str = Field(max_length=32, index=True)
    quiz_id: str = Field(max_length=64)
    channel: str = Field(max_length=32)
    given_at: datetime = _ts()


class Lead(SQLModel, table=True):
    """ "Ik wil helpen" for a vacancy, waiting to be handed to the organisation."""

    __tablename__ = "leads"

    id: int | None = Field(default=None, sa_column=Column(_BigId, primary_key=True))
    conversation_id: str = Field(max_length=32, index=True)
    vacancy_id: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=32)
    campaign: str | None = Field(default=None, max_length=64)
    status: str = Field(default="new", max_length=16)
    created_at: datetime = _ts()
    delivered_at: datetime | None = _ts(nullable=True)


class InboundMessage(SQLModel, table=True):
    """Idempotency: the keyed hash of a delivery id and the replies it got the first time."""

    __tablename__ = "inbound_messages"

    key: str = Field(primary_key=True, max_length=64)
    conversation_id: str = Field(max_length=40, index=True)
    replies: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = _ts(index=True)


conversations: Table = Conversation.__table__  # type: ignore[attr-defined]
events: Table = Event.__table__  # type: ignore[attr-defined]
consents: Table = Consent.__table__  # type: ignore[attr-defined]
leads: Table = Lead.__table__  # type: ignore[attr-defined]
inbound_messages: Table = InboundMessage.__table__  # type: ignore[attr-defined]

_c = conversations.c


def new_id() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------------- maintenance
# (the per-message reads and writes live in bot.store.turns)


async def update_conversation(
    session: AsyncSession, conversation_id: str, values: dict[str, Any]
) -> None:
    await session.execute(update(conversations).where(_c.id == conversation_id).values(**values))


async def erase_conversation(session: AsyncSession, conversation_id: str) -> str:
    """Remove every row of one conversation; its events are folded into the report counters
    first (bot.store.turns.erase_conversation, in this session's transaction)."""
    from bot.store.turns import _SATx
    from bot.store.turns import erase_conversation as erase

    conn = await session.connection()
    if conn.dialect.name == "sqlite":
        # Take the write lock before reading what to fold (a refresh may not slip in between).
        await conn.exec_driver_sql("UPDATE report_state SET value = value WHERE 1 = 0")
    return await erase(_SATx(conn, conn.dialect.name), conversation_id)


async def purge_older_than(session: AsyncSession, cutoff: datetime) -> int:
    """Erase every conversation not touched since `cutoff`; returns how many."""
    ids = (await session.execute(select(_c.id).where(_c.updated_at < cutoff))).scalars().all()
    for conversation_id in ids:
        await erase_conversation(session, conversation_id)
    await session.execute(delete(inbound_messages).where(inbound_messages.c.created_at < cutoff))
    return len(ids)


async def purge_unconsented(session: AsyncSession, cutoff: datetime) -> int:
    """Erase conversations without consent (declined, or never answered) idle since `cutoff`:
    without consent nothing about a person outlives the conversation."""
    # A lead is only ever made with consent; one without (older data) is left to retention.
    has_lead = select(leads.c.id).where(leads.c.conversation_id == _c.id).exists()
    stmt = select(_c.id).where(_c.consent_at.is_(None), _c.updated_at < cutoff, ~has_lead)
    ids = (await session.execute(stmt)).scalars().all()
    for conversation_id in ids:
        await erase_conversation(session, conversation_id)
    return len(ids)
