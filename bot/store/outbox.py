"""The outbox: platform calls waiting to be sent, written in the same transaction as the turn.

A row is one API call for one chat (`op`, as the channel's renderer produced it). Rows of one
chat are delivered strictly in id order: only a chat's oldest pending row (its head) may be
claimed, and a claim is a conditional UPDATE, so one sender at a time owns a chat even with
several processes or replicas. Sent rows are deleted (the chat id is personal data); rows that
can never be sent stay with status `dead` or `template_needed` for the operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

PENDING = "pending"
DEAD = "dead"
TEMPLATE_NEEDED = "template_needed"

_BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone; they are stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class OutboxRow(SQLModel, table=True):
    """One platform call waiting for delivery."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_chat", "status", "channel", "chat_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(_BigId, primary_key=True))
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    chat_id: str = Field(sa_column=Column(String(128), nullable=False))
    conversation_id: str | None = Field(
        default=None, sa_column=Column(String(40), nullable=True, index=True)
    )
    op: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=PENDING, sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    claimed_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    window_ends_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    last_error: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


outbox: Table = OutboxRow.__table__  # type: ignore[attr-defined]
_o = outbox.c


@dataclass(frozen=True)
class Item:
    """A claimed outbox row."""

    id: int
    channel: str
    chat_id: str
    op: dict[str, Any]
    attempts: int
    window_ends_at: datetime | None


def _item(row: Any) -> Item:
    return Item(
        id=int(row.id),
        channel=str(row.channel),
        chat_id=str(row.chat_id),
        op=dict(row.op),
        attempts=int(row.attempts),
        window_ends_at=as_utc(row.window_ends_at),
    )


async def enqueue(
    session: AsyncSession,
    channel: str,
    chat_id: str,
    ops: Sequence[dict[str, Any]],
    conversation_id: str | None = None,
    window_ends_at: datetime | None = None,
) -> int:
    """Add calls for one chat, in order; returns how many."""
    if not ops:
        return 0
    now = utcnow()
    await session.execute(
        insert(outbox),
        [
            {
                "channel": channel,
                "chat_id": chat_id,
                "conversation_id": conversation_id,
                "op": dict(op),
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "window_ends_at": window_ends_at,
                "created_at": now,
            }
            for op in ops
        ],
    )
    return len(ops)


def _heads(channel: str) -> Any:
    """Each chat's oldest pending row id."""
    return (
        select(func.min(_o.id))
        .where(_o.status == PENDING, _o.channel == channel)
        .group_by(_o.chat_id)
        .scalar_subquery()
    )


def _free(now: datetime) -> Any:
    return or_(_o.claimed_until.is_(None), _o.claimed_until < now)


async def due_heads(session: AsyncSession, channel: str, now: datetime, limit: int) -> list[int]:
    """Ids of chat heads that are due and not claimed by anyone."""
    rows = await session.execute(
        select(_o.id)
        .where(_o.id.in_(_heads(channel)), _o.next_attempt_at <= now, _free(now))
        .order_by(_o.id)
        .limit(limit)
    )
    return [int(r[0]) for r in rows]


async def claim(session: AsyncSession, row_id: int, now: datetime, until: datetime) -> Item | None:
    """Take a pending row if nobody holds it; None when another sender was faster."""
    result = await session.execute(
        update(outbox)
        .where(_o.id == row_id, _o.status == PENDING, _free(now))
        .values(claimed_until=until)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = (await session.execute(select(outbox).where(_o.id == row_id))).first()
    return _item(row) if row is not None else None


async def next_head(session: AsyncSession, channel: str, chat_id: str) -> int | None:
    row = (
        await session.execute(
            select(func.min(_o.id)).where(
                _o.status == PENDING, _o.channel == channel, _o.chat_id == chat_id
            )
        )
    ).first()
    return int(row[0]) if row is not None and row[0] is not None else None


async def is_due(session: AsyncSession, row_id: int, now: datetime) -> bool:
    row = (await session.execute(select(_o.next_attempt_at).where(_o.id == row_id))).first()
    return row is not None and (as_utc(row[0]) or now) <= now


async def sent(session: AsyncSession, row_id: int) -> None:
    await session.execute(delete(outbox).where(_o.id == row_id))


async def retry_later(
    session: AsyncSession, row_id: int, attempts: int, at: datetime, error: str
) -> None:
    await session.execute(
        update(outbox)
        .where(_o.id == row_id)
        .values(attempts=attempts, next_attempt_at=at, claimed_until=None, last_error=error[:500])
    )


async def give_up(session: AsyncSession, row_id: int, status: str, error: str) -> None:
    await session.execute(
        update(outbox)
        .where(_o.id == row_id)
        .values(status=status, claimed_until=None, last_error=error[:500])
    )


async def counts(session: AsyncSession, channel: str | None = None) -> dict[str, int]:
    """Rows per status (for health output and tests)."""
    query = select(_o.status, func.count()).group_by(_o.status)
    if channel is not None:
        query = query.where(_o.channel == channel)
    return {str(s): int(n) for s, n in (await session.execute(query)).all()}


async def purge(session: AsyncSession, before: datetime) -> int:
    """Drop undeliverable rows older than `before` (they hold chat ids)."""
    result = await session.execute(
        delete(outbox).where(and_(_o.status != PENDING, _o.created_at < before))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def forget_conversation(session: AsyncSession, conversation_id: str) -> None:
    """Erasure: drop undeliverable rows of a conversation (pending ones still go out)."""
    await session.execute(
        delete(outbox).where(_o.conversation_id == conversation_id, _o.status != PENDING)
    )
