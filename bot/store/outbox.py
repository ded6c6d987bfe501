"""The outbox: platform calls waiting to be sent, written in the same transaction as the turn.

A row is one API call for one chat (`op`, as the channel's renderer produced it). Rows of one
chat are delivered strictly in id order: only a chat's oldest pending row (its head) may be
claimed, and one statement claims every pending row of the chats whose heads are due (on
Postgres the heads are locked `FOR UPDATE SKIP LOCKED`), so one sender at a time owns a chat,
with any number of processes or replicas, and replicas never wait on each other. Sent rows
are deleted (the chat id is personal data); rows that can never be sent stay with status
`dead` or `template_needed` for the operator.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, String, Table
from sqlmodel import Field, SQLModel

from bot.store.turns import Item as Item
from bot.store.turns import OutboxInsert, Sql, Tx, dumps
from bot.store.turns import enqueue as _enqueue

PENDING = "pending"
DEAD = "dead"
TEMPLATE_NEEDED = "template_needed"

_BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | str | None) -> datetime | None:
    """SQLite hands timestamps back as zone-less text or datetimes; they are stored in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
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


def _item(channel: str, row: Any) -> Item:
    op = row[2]
    return Item(
        id=int(row[0]),
        channel=channel,
        chat_id=str(row[1]),
        op=dict(json.loads(op) if isinstance(op, str | bytes) else op),
        attempts=int(row[3]),
        window_ends_at=as_utc(row[4]),
    )


# The chats whose oldest pending row is due and free; then every pending row of those chats.
_CLAIM = """
WITH heads AS (
  SELECT o.chat_id FROM outbox o
  WHERE o.status = 'pending' AND o.channel = {channel} AND o.next_attempt_at <= {now}
    AND (o.claimed_until IS NULL OR o.claimed_until < {now})
    AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending'
                    AND p.channel = o.channel AND p.chat_id = o.chat_id AND p.id < o.id)
  ORDER BY o.id LIMIT {chats}{lock}
)
UPDATE outbox SET claimed_until = {until}
WHERE status = 'pending' AND channel = {channel} AND chat_id IN (SELECT chat_id FROM heads)
  AND (claimed_until IS NULL OR claimed_until < {now})
RETURNING id, chat_id, op, attempts, window_ends_at"""

_SQL = {
    "claim": Sql(
        _CLAIM.format(channel=":channel", now=":now", until=":until", chats=":chats", lock=""),
        _CLAIM.format(
            channel="$1", now="$2", until="$3", chats="$4", lock=" FOR UPDATE OF o SKIP LOCKED"
        ),
    ),
    "sent": Sql(
        "DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))",
        "DELETE FROM outbox WHERE id = ANY($1::bigint[])",
    ),
    "release": Sql(
        "UPDATE outbox SET claimed_until = NULL WHERE id IN (SELECT value FROM json_each(?))",
        "UPDATE outbox SET claimed_until = NULL WHERE id = ANY($1::bigint[])",
    ),
    "retry_later": Sql.same(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, claimed_until = NULL, "
        "last_error = ? WHERE id = ?"
    ),
    "give_up": Sql.same(
        "UPDATE outbox SET status = ?, claimed_until = NULL, last_error = ? WHERE id = ?"
    ),
    # The earliest free chat head: a row waiting behind its chat's claimed rows is not due
    # for this sender (the chat's own task wakes it when it is done).
    "next_due": Sql.same(
        "SELECT min(o.next_attempt_at) FROM outbox o WHERE o.status = 'pending' "
        "AND o.channel = ? AND (o.claimed_until IS NULL OR o.claimed_until < ?) "
        "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending' "
        "AND p.channel = o.channel AND p.chat_id = o.chat_id AND p.id < o.id)"
    ),
    "counts": Sql.same("SELECT status, count(*) FROM outbox WHERE channel = ? GROUP BY status"),
    "counts_all": Sql.same("SELECT status, count(*) FROM outbox GROUP BY status"),
    "purge": Sql.same("DELETE FROM outbox WHERE status <> 'pending' AND created_at < ?"),
}


def _ids(tx: Tx, ids: Sequence[int]) -> Any:
    return list(ids) if tx.dialect == "postgresql" else dumps(list(ids))


async def enqueue(
    tx: Tx,
    channel: str,
    chat_id: str,
    ops: Sequence[dict[str, Any]],
    conversation_id: str | None = None,
    window_ends_at: datetime | None = None,
) -> int:
    """Add calls for one chat, in order; returns how many."""
    rows = [OutboxInsert(channel, chat_id, dict(op), window_ends_at) for op in ops]
    if rows:
        await _enqueue(tx, rows, conversation_id, utcnow())
    return len(rows)


async def claim(tx: Tx, channel: str, now: datetime, until: datetime, chats: int) -> list[Item]:
    """Claim every pending row of up to `chats` chats whose oldest row is due, in id order."""
    params: Any = (channel, now, until, chats)
    if tx.dialect != "postgresql":  # sqlite3 takes named parameters from a dict
        params = {"channel": channel, "now": tx.ts(now), "until": tx.ts(until), "chats": chats}
    rows = await tx.all(_SQL["claim"], params)
    return sorted((_item(channel, r) for r in rows), key=lambda i: i.id)


async def sent(tx: Tx, ids: Sequence[int]) -> None:
    if ids:
        await tx.run(_SQL["sent"], (_ids(tx, ids),))


async def release(tx: Tx, ids: Sequence[int]) -> None:
    """Hand claimed rows back untouched (their chat has to wait for an earlier row)."""
    if ids:
        await tx.run(_SQL["release"], (_ids(tx, ids),))


async def retry_later(tx: Tx, row_id: int, attempts: int, at: datetime, error: str) -> None:
    await tx.run(_SQL["retry_later"], (attempts, tx.ts(at), error[:500], row_id))


async def give_up(tx: Tx, row_id: int, status: str, error: str) -> None:
    await tx.run(_SQL["give_up"], (status, error[:500], row_id))


async def next_due(tx: Tx, channel: str, now: datetime) -> datetime | None:
    """When the earliest free chat head of `channel` is due (None: nothing waiting)."""
    row = await tx.one(_SQL["next_due"], (channel, tx.ts(now)))
    return as_utc(row[0]) if row is not None else None


async def counts(tx: Tx, channel: str | None = None) -> dict[str, int]:
    """Rows per status (for health output and tests)."""
    if channel is None:
        rows = await tx.all(_SQL["counts_all"], ())
    else:
        rows = await tx.all(_SQL["counts"], (channel,))
    return {str(s): int(n) for s, n in rows}


async def purge(tx: Tx, before: datetime) -> int:
    """Drop undeliverable rows older than `before` (they hold chat ids)."""
    rows = await tx.all(
        Sql(
            _SQL["purge"].sqlite + " RETURNING id",
            _SQL["purge"].postgresql + " RETURNING id",
        ),
        (tx.ts(before),),
    )
    return len(rows)
