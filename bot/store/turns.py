"""The pipeline's hot path to the database: one locked write transaction per inbound message.

It runs on every message, so it speaks raw driver SQL instead of going through SQLAlchemy
(whose per-statement overhead alone would be several times our whole CPU budget):

- SQLite: one `sqlite3` connection per process, used on the event loop thread (a statement
  takes microseconds). `BEGIN IMMEDIATE` takes the database write lock; when another process
  holds it we retry asynchronously instead of blocking the loop.
- Postgres: an asyncpg pool; `BEGIN` plus a transaction-scoped advisory lock keyed by the user
  hash, sent in one round trip.

Every channel takes this path: the replies a platform channel must deliver later are outbox
rows written in the same statement(s) as the state (`Write.outbox`). Other lean writers (the
outbox sender) open unlocked transactions on the same `TurnDatabase`.
The schema itself is defined by the SQLModel tables in `bot.store.conversations`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.store.url import async_url, parse_db_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

SQLITE_LOCK_TIMEOUT = 30.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def advisory_key(user_hash: str) -> int:
    return int.from_bytes(bytes.fromhex(user_hash[:16]), "big", signed=True)


# ---------------------------------------------------------------------- SQL (qmark style)


@dataclass(frozen=True)
class Sql:
    """One statement in both dialects (qmark for sqlite3, $n for asyncpg)."""

    sqlite: str
    postgresql: str

    @classmethod
    def same(cls, sql: str) -> Sql:
        return cls(sql, _numbered(sql))


_SQL = {
    # The conversation and, when the message has an idempotency key, its earlier answer.
    "read": (
        "SELECT c.id, c.state, c.campaign, c.region, c.org, c.consent_at, "
        "(SELECT i.conversation_id FROM inbound_messages i WHERE i.key = ?), "
        "(SELECT i.replies FROM inbound_messages i WHERE i.key = ?) "
        "FROM (SELECT 1 AS one) AS o LEFT JOIN conversations c "
        "ON c.channel = ? AND c.user_hash = ?"
    ),
    "insert_conversation": (
        "INSERT INTO conversations (id, user_hash, channel, state, lang, phase, campaign, "
        "region, org, created_at, updated_at, consent_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "update_conversation": (
        "UPDATE conversations SET state = ?, lang = ?, phase = ?, campaign = ?, region = ?, "
        "org = ?, updated_at = ?, consent_at = ? WHERE id = ?"
    ),
    "insert_event": (
        "INSERT INTO events (conversation_id, name, data, question, campaign, channel, region, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "insert_consent": (
        "INSERT INTO consents (conversation_id, quiz_id, channel, given_at) VALUES (?, ?, ?, ?)"
    ),
    "insert_lead": (
        "INSERT INTO leads (conversation_id, vacancy_id, channel, campaign, status, created_at, "
        "share_consent, contact_name, contact_email, contact_phone, contact_chat, "
        "contact_message, chat_id, lang) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    # The person's answer to a follow-up (question c: contact yet?, s: started?).
    "lead_answer": (
        "UPDATE leads SET volunteer_status = ?, volunteer_status_at = ? "
        "WHERE id = ? AND conversation_id = ?"
    ),
    "insert_inbound": (
        "INSERT INTO inbound_messages (key, conversation_id, replies, created_at) "
        "VALUES (?, ?, ?, ?)"
    ),
    # Erasure: fold the person's events into the report counters, then delete every row.
    "report_lock": "SELECT 1",
    "report_hwm": "SELECT value FROM report_state WHERE name = 'events'",
    "report_journey": "SELECT state FROM report_journeys WHERE conversation_id = ?",
    "report_events": (
        "SELECT name, question, campaign, channel, region, created_at, data FROM events "
        "WHERE conversation_id = ? AND id > ? ORDER BY id"
    ),
    "report_responded": (
        "SELECT COUNT(*) FROM leads WHERE conversation_id = ? AND status = 'responded'"
    ),
    "report_count": (
        "INSERT INTO report_counts (g, campaign, day, channel, region, metric, key, n) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (g, metric, day, campaign, channel, region, key) "
        "DO UPDATE SET n = report_counts.n + excluded.n"
    ),
    "report_max_event": "SELECT MAX(id) FROM events",
    "report_lower_hwm": "UPDATE report_state SET value = ? WHERE name = 'events' AND value > ?",
    "delete_journey": "DELETE FROM report_journeys WHERE conversation_id = ?",
    "delete_events": "DELETE FROM events WHERE conversation_id = ?",
    "delete_consents": "DELETE FROM consents WHERE conversation_id = ?",
    "delete_leads": "DELETE FROM leads WHERE conversation_id = ?",
    "delete_inbound": "DELETE FROM inbound_messages WHERE conversation_id = ?",
    "delete_conversation": "DELETE FROM conversations WHERE id = ?",
    "insert_outbox": (
        "INSERT INTO outbox (channel, chat_id, conversation_id, op, status, attempts, "
        "next_attempt_at, window_ends_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)"
    ),
    # A turn's rows claimed for this process's sender as they are written (see `write`).
    "insert_outbox_claimed": (
        "INSERT INTO outbox (channel, chat_id, conversation_id, op, status, attempts, "
        "next_attempt_at, window_ends_at, created_at, claimed_until) "
        "VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?) RETURNING id"
    ),
    "chat_has_pending": (
        "SELECT 1 FROM outbox WHERE status = 'pending' AND channel = ? AND chat_id = ? LIMIT 1"
    ),
    # Erasure: set-aside rows hold the chat id; pending ones still go out (then are deleted).
    "forget_outbox": "DELETE FROM outbox WHERE conversation_id = ? AND status <> 'pending'",
}


def _numbered(sql: str) -> str:
    counter = iter(range(1, 1000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", sql)


_SQL_PG = {name: _numbered(sql) for name, sql in _SQL.items()}
# Refreshes and erasures of report counters serialise on one advisory lock (SQLite: the
# write lock every transaction here already holds).
_SQL_PG["report_lock"] = "SELECT pg_advisory_xact_lock(8533039698987151988)"

# Postgres: everything a turn writes in one statement (one round trip instead of five).
_SQL_PG["write"] = """
WITH conv AS (
  INSERT INTO conversations (id, user_hash, channel, state, lang, phase, campaign, region, org,
                             created_at, updated_at, consent_at)
  VALUES ($1::text, $2, $3::text, $4::json, $5, $6, $7, $8::text, $9, $10::timestamptz,
          $10::timestamptz, $11)
  ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, lang = EXCLUDED.lang,
    phase = EXCLUDED.phase, campaign = EXCLUDED.campaign, region = EXCLUDED.region,
    org = EXCLUDED.org, updated_at = EXCLUDED.updated_at, consent_at = EXCLUDED.consent_at
), ev AS (
  INSERT INTO events (conversation_id, name, data, question, campaign, channel, region,
                      created_at)
  SELECT $1::text, e.name, e.data, e.question, $12::text, $3::text, $8::text, $10::timestamptz
  FROM json_to_recordset($13::json) AS e(name text, data json, question text)
), cs AS (
  INSERT INTO consents (conversation_id, quiz_id, channel, given_at)
  SELECT $1::text, $14::text, $3::text, $10::timestamptz WHERE $14::text IS NOT NULL
), ld AS (
  INSERT INTO leads (conversation_id, vacancy_id, channel, campaign, status, created_at,
                     share_consent, contact_name, contact_email, contact_phone, contact_chat,
                     contact_message, chat_id, lang)
  SELECT $1::text, l.vacancy_id, $3::text, $12::text, 'new', $10::timestamptz,
         l.share_consent, l.contact_name, l.contact_email, l.contact_phone, l.contact_chat,
         l.contact_message, l.chat_id, l.lang
  FROM json_to_recordset($15::json) AS l(vacancy_id text, share_consent text,
       contact_name text, contact_email text, contact_phone text, contact_chat text,
       contact_message text, chat_id text, lang text)
), im AS (
  INSERT INTO inbound_messages (key, conversation_id, replies, created_at)
  SELECT $16::text, $1::text, $17::json, $10::timestamptz WHERE $16::text IS NOT NULL
), ob AS (
  INSERT INTO outbox (channel, chat_id, conversation_id, op, status, attempts, next_attempt_at,
                      window_ends_at, created_at, claimed_until)
  SELECT r.channel, r.chat_id, $1::text, r.op, 'pending', 0, $10::timestamptz,
         r.window_ends_at, $10::timestamptz,
         CASE WHEN NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending'
                               AND p.channel = r.channel AND p.chat_id = r.chat_id)
              THEN $19::timestamptz END
  FROM ROWS FROM (json_to_recordset($18::json)
                  AS (channel text, chat_id text, op json, window_ends_at timestamptz))
       WITH ORDINALITY AS r(channel, chat_id, op, window_ends_at, n)
  ORDER BY r.n
  RETURNING id, claimed_until
)
SELECT id FROM ob WHERE claimed_until IS NOT NULL ORDER BY id
"""


# ---------------------------------------------------------------------- transactions


class Tx(ABC):
    """One transaction. Subclasses bind it to a driver."""

    dialect = "sqlite"

    def __init__(self) -> None:
        self.sql = _SQL_PG if self.dialect == "postgresql" else _SQL

    def text(self, statement: str | Sql) -> str:
        """A statement's text: a name from this module's table, or a `Sql` pair."""
        if isinstance(statement, Sql):
            return statement.postgresql if self.dialect == "postgresql" else statement.sqlite
        return self.sql[statement]

    def ts(self, value: datetime | None) -> Any:
        """A timestamp as this driver stores it (SQLite: SQLAlchemy's text format)."""
        if value is None or self.dialect == "postgresql":
            return value
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    @abstractmethod
    async def one(self, statement: str | Sql, params: Sequence[Any]) -> Sequence[Any] | None: ...

    @abstractmethod
    async def all(self, statement: str | Sql, params: Any) -> list[Sequence[Any]]: ...

    @abstractmethod
    async def run(self, statement: str | Sql, params: Sequence[Any]) -> None: ...

    async def many(self, statement: str | Sql, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            await self.run(statement, row)


class _SqliteTx(Tx):
    dialect = "sqlite"

    def __init__(self, con: sqlite3.Connection) -> None:
        super().__init__()
        self.con = con

    async def one(self, statement: str | Sql, params: Sequence[Any]) -> Sequence[Any] | None:
        row: Sequence[Any] | None = self.con.execute(self.text(statement), params).fetchone()
        return row

    async def all(self, statement: str | Sql, params: Any) -> list[Sequence[Any]]:
        return list(self.con.execute(self.text(statement), params).fetchall())

    async def run(self, statement: str | Sql, params: Sequence[Any]) -> None:
        self.con.execute(self.text(statement), params)

    async def many(self, statement: str | Sql, rows: Sequence[Sequence[Any]]) -> None:
        self.con.executemany(self.text(statement), rows)


class _AsyncpgTx(Tx):
    dialect = "postgresql"

    def __init__(self, con: Any) -> None:
        super().__init__()
        self.con = con

    async def one(self, statement: str | Sql, params: Sequence[Any]) -> Sequence[Any] | None:
        row: Sequence[Any] | None = await self.con.fetchrow(self.text(statement), *params)
        return row

    async def all(self, statement: str | Sql, params: Any) -> list[Sequence[Any]]:
        return list(await self.con.fetch(self.text(statement), *params))

    async def run(self, statement: str | Sql, params: Sequence[Any]) -> None:
        await self.con.execute(self.text(statement), *params)

    async def many(self, statement: str | Sql, rows: Sequence[Sequence[Any]]) -> None:
        if len(rows) == 1:
            await self.con.execute(self.text(statement), *rows[0])
        elif rows:
            await self.con.executemany(self.text(statement), rows)


class _SATx(Tx):
    """The same SQL on a SQLAlchemy connection: for maintenance (`privacy purge`) that runs in
    a session's transaction, never on the per-message path."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.dialect = dialect
        super().__init__()
        self.conn = conn

    async def one(self, statement: str | Sql, params: Sequence[Any]) -> Sequence[Any] | None:
        result = await self.conn.exec_driver_sql(self.text(statement), tuple(params))
        return result.first()

    async def all(self, statement: str | Sql, params: Any) -> list[Sequence[Any]]:
        result = await self.conn.exec_driver_sql(self.text(statement), tuple(params))
        return list(result.all())

    async def run(self, statement: str | Sql, params: Sequence[Any]) -> None:
        await self.conn.exec_driver_sql(self.text(statement), tuple(params))

    async def many(self, statement: str | Sql, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self.conn.exec_driver_sql(self.text(statement), [tuple(r) for r in rows])


class TurnDatabase:
    """Opens the lean transactions for one database URL (one instance per process)."""

    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        u = parse_db_url(self.url)
        self.dialect = "postgresql" if u.backend == "postgresql" else "sqlite"
        self._sqlite: sqlite3.Connection | None = None
        self._sqlite_path = u.database or ":memory:"
        # SQLite has one writer at a time anyway: this process's writers queue on asyncio
        # instead of on SQLite's sleep-and-retry busy handler.
        self._write_lock = asyncio.Lock()
        self._pool: Any = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._pool_lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self, user_hash: str | None = None) -> AsyncIterator[Tx]:
        """Begin (locking the conversation of `user_hash` when given), yield; commit, or roll
        back on error."""
        if self.dialect == "postgresql":
            async with self._pg_transaction(user_hash) as tx:
                yield tx
        else:
            async with self._write_lock, self._sqlite_transaction() as tx:
                yield tx

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Tx]:
        """For one statement, which is atomic by itself: on Postgres a pooled connection
        without BEGIN and COMMIT (one round trip instead of three). SQLite takes the usual
        transaction: its BEGIN IMMEDIATE waits out other processes' writers."""
        if self.dialect != "postgresql":
            async with self.transaction() as tx:
                yield tx
            return
        pool = await self._pg_pool()
        con = await pool.acquire()
        try:
            yield _AsyncpgTx(con)
        finally:
            with contextlib.suppress(Exception):
                await pool.release(con)

    # -------------------------------------------------------------- SQLite

    def _sqlite_con(self) -> sqlite3.Connection:
        if self._sqlite is None:
            from pathlib import Path

            if self._sqlite_path != ":memory:":
                Path(self._sqlite_path).parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self._sqlite_path, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("PRAGMA busy_timeout=0")  # we wait for the write lock ourselves
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA secure_delete=ON")  # erased rows are zeroed, not just unlinked
            self._sqlite = con
            _open.add(self)
        return self._sqlite

    @asynccontextmanager
    async def _sqlite_transaction(self) -> AsyncIterator[Tx]:
        con = self._sqlite_con()
        delay = 0.0005
        deadline = asyncio.get_running_loop().time() + SQLITE_LOCK_TIMEOUT
        while True:
            try:
                con.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.02)
        try:
            yield _SqliteTx(con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    # -------------------------------------------------------------- Postgres

    async def _pg_pool(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._pool_loop is loop:
            return self._pool
        async with self._pool_lock:
            if self._pool is None or self._pool_loop is not loop:
                import asyncpg

                u = parse_db_url(self.url)

                async def init(con: Any) -> None:
                    # The same JSON codec SQLAlchemy installs: text in, Python objects out.
                    await con.set_type_codec(
                        "json",
                        encoder=str.encode,
                        decoder=lambda b: json.loads(b.decode()),
                        schema="pg_catalog",
                        format="binary",
                    )

                async def no_reset(_con: Any) -> None:
                    # Every transaction ends in COMMIT or ROLLBACK and only xact-scoped locks
                    # are used, so the default per-release reset query is not needed.
                    return None

                host = u.host or u.query.get("host")  # ?host=/run/postgresql: a Unix socket
                self._pool = await asyncpg.create_pool(
                    host=host,
                    port=u.port or 5432,
                    user=u.username,
                    password=u.password,
                    database=u.database,
                    min_size=1,
                    max_size=10,
                    init=init,
                    reset=no_reset,
                )
                self._pool_loop = loop
                _open.add(self)
        return self._pool

    @asynccontextmanager
    async def _pg_transaction(self, user_hash: str | None) -> AsyncIterator[Tx]:
        pool = await self._pg_pool()
        begin = "BEGIN"
        if user_hash is not None:
            begin += f"; SELECT pg_advisory_xact_lock({advisory_key(user_hash)})"
        con = await self._pg_begin(pool, begin)
        try:
            try:
                yield _AsyncpgTx(con)
            except BaseException:
                try:
                    await con.execute("ROLLBACK")
                except BaseException:
                    _terminate(con)
                raise
            try:
                await con.execute("COMMIT")
            except BaseException:
                _terminate(con)
                raise
        finally:
            with contextlib.suppress(Exception):  # one the pool already took back after a loss
                await pool.release(con)

    @staticmethod
    async def _pg_begin(pool: Any, begin: str) -> Any:
        """A pooled connection with its transaction begun. A connection whose BEGIN fails
        may be dead or stuck mid-operation (a server that went away while it sat in the
        pool): it is closed, never handed out again, and a stale one is replaced once."""
        for attempt in (1, 2):
            con = await pool.acquire()
            try:
                await con.execute(begin)
                return con
            except BaseException as exc:
                await _discard(pool, con)
                if attempt == 2 or not _stale_connection(exc):
                    raise
                # Its idle siblings went through the same: replace them all on next use.
                await pool.expire_connections()
        raise AssertionError("unreachable")

    async def close(self) -> None:
        _open.discard(self)
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            if self._pool_loop is asyncio.get_running_loop():
                await pool.close()
            else:
                pool.terminate()


_open: set[TurnDatabase] = set()


def _terminate(con: Any) -> None:
    """Close a connection for good (one asyncpg already detached after a loss raises)."""
    with contextlib.suppress(Exception):
        con.terminate()


async def _discard(pool: Any, con: Any) -> None:
    _terminate(con)
    with contextlib.suppress(Exception):
        await pool.release(con)


def _stale_connection(exc: BaseException) -> bool:
    """asyncpg's errors for a pooled connection that was broken before this turn used it."""
    name = type(exc).__name__
    return name in ("InternalClientError", "InterfaceError", "ConnectionDoesNotExistError") or (
        isinstance(exc, ConnectionError)
    )


async def close_all() -> None:
    """Close every SQLite connection and Postgres pool this process opened and has not closed
    (tests call it after each test; an unclosed sqlite3 connection warns on Python 3.13)."""
    for db in list(_open):
        await db.close()


# ---------------------------------------------------------------------- repository


@dataclass
class Read:
    """What the turn starts from: the conversation (None if new) and a duplicate's answer."""

    conversation: dict[str, Any] | None
    duplicate_of: str | None = None
    duplicate_replies: list[dict[str, Any]] | None = None


async def read(tx: Tx, channel: str, user_hash: str, key: str | None) -> Read:
    row = await tx.one("read", (key, key, channel, user_hash))
    assert row is not None
    conv = None
    if row[0] is not None:
        conv = {
            "id": row[0],
            "state": _loads(row[1]),
            "campaign": row[2],
            "region": row[3],
            "org": row[4],
            "consent_at": row[5],
        }
    if row[6] is not None:
        return Read(conv, str(row[6]), list(_loads(row[7])))
    return Read(conv)


@dataclass
class Write:
    """Everything one turn stores, written together."""

    conversation_id: str
    is_new: bool
    user_hash: str
    channel: str
    state_json: str
    lang: str
    phase: str
    campaign: str | None
    region: str | None
    org: str | None
    now: datetime
    consent_at: Any
    event_campaign: str | None
    events: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)
    consent_quiz: str | None = None
    leads: list[LeadInsert] = field(default_factory=list)
    # Follow-up answers: (lead id, volunteer status).
    lead_answers: list[tuple[int, str]] = field(default_factory=list)
    key: str | None = None
    replies_json: str | None = None
    outbox: list[OutboxInsert] = field(default_factory=list)
    # Claim the rows for this process's sender until then, when their chat has nothing
    # pending before them (the sender then delivers them without a claim of its own).
    claim_until: datetime | None = None


@dataclass(frozen=True)
class LeadInsert:
    """A lead written with the turn, with what the person agreed to share (share_consent
    "yes"), or "no" with nothing; `chat_id` only with consent: follow-ups go there."""

    vacancy_id: str
    share_consent: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_chat: str | None = None
    contact_message: str | None = None
    chat_id: str | None = None
    lang: str | None = None

    def row(self) -> tuple[Any, ...]:
        return (
            self.share_consent,
            self.contact_name,
            self.contact_email,
            self.contact_phone,
            self.contact_chat,
            self.contact_message,
            self.chat_id,
            self.lang,
        )


@dataclass(frozen=True)
class OutboxInsert:
    """One platform call for later delivery, written with the turn (see bot.store.outbox)."""

    channel: str
    chat_id: str
    op: dict[str, Any]
    window_ends_at: datetime | None = None


@dataclass(frozen=True)
class Item:
    """A claimed outbox row: one call its sender now owns."""

    id: int
    channel: str
    chat_id: str
    op: dict[str, Any]
    attempts: int
    window_ends_at: datetime | None


def _claimed(rows: Sequence[OutboxInsert], ids: Sequence[int]) -> list[Item]:
    return [
        Item(int(i), o.channel, o.chat_id, o.op, 0, o.window_ends_at)
        for i, o in zip(ids, rows, strict=True)
    ]


async def write(tx: Tx, w: Write) -> list[Item]:
    """Store the turn; returns the outbox rows claimed for this process's sender (none
    without `w.claim_until`, or when the chat still has earlier rows waiting)."""
    consent_at = w.consent_at if isinstance(w.consent_at, str) else tx.ts(w.consent_at)
    if tx.dialect == "postgresql":
        ids = await tx.all(
            "write",
            (
                w.conversation_id,
                w.user_hash,
                w.channel,
                w.state_json,
                w.lang,
                w.phase,
                w.campaign,
                w.region,
                w.org,
                w.now,
                consent_at,
                w.event_campaign,
                dumps([{"name": n, "data": d, "question": q} for n, d, q in w.events]),
                w.consent_quiz,
                dumps([vars(lead) for lead in w.leads]),
                w.key,
                w.replies_json,
                dumps(
                    [
                        {
                            "channel": o.channel,
                            "chat_id": o.chat_id,
                            "op": o.op,
                            "window_ends_at": o.window_ends_at.isoformat()
                            if o.window_ends_at
                            else None,
                        }
                        for o in w.outbox
                    ]
                ),
                w.claim_until,
            ),
        )
        await record_lead_answers(tx, w.conversation_id, w.lead_answers, w.now)
        return _claimed(w.outbox, [row[0] for row in ids]) if ids else []
    now = tx.ts(w.now)
    if w.is_new:
        await tx.run(
            "insert_conversation",
            (
                w.conversation_id,
                w.user_hash,
                w.channel,
                w.state_json,
                w.lang,
                w.phase,
                w.campaign,
                w.region,
                w.org,
                now,
                now,
                consent_at,
            ),
        )
    else:
        await tx.run(
            "update_conversation",
            (
                w.state_json,
                w.lang,
                w.phase,
                w.campaign,
                w.region,
                w.org,
                now,
                consent_at,
                w.conversation_id,
            ),
        )
    if w.events:
        await tx.many(
            "insert_event",
            [
                (w.conversation_id, n, dumps(d), q, w.event_campaign, w.channel, w.region, now)
                for n, d, q in w.events
            ],
        )
    if w.consent_quiz is not None:
        await tx.run("insert_consent", (w.conversation_id, w.consent_quiz, w.channel, now))
    if w.leads:
        await tx.many(
            "insert_lead",
            [_lead_params(w, lead, now) for lead in w.leads],
        )
    if w.key is not None:
        await tx.run("insert_inbound", (w.key, w.conversation_id, w.replies_json, now))
    claimed: list[Item] = []
    if w.outbox:
        claimed = await _enqueue_for_sender(tx, w)
    await record_lead_answers(tx, w.conversation_id, w.lead_answers, w.now)
    return claimed


async def _enqueue_for_sender(tx: Tx, w: Write) -> list[Item]:
    """SQLite: the turn's rows, claimed when their chat has nothing pending before them."""
    first = w.outbox[0]
    one_chat = all(o.channel == first.channel and o.chat_id == first.chat_id for o in w.outbox)
    if (
        w.claim_until is None
        or not one_chat
        or await tx.one("chat_has_pending", (first.channel, first.chat_id))
    ):
        await enqueue(tx, w.outbox, w.conversation_id, w.now)
        return []
    at, until = tx.ts(w.now), tx.ts(w.claim_until)
    ids = []
    for o in w.outbox:
        params = (o.channel, o.chat_id, w.conversation_id, dumps(o.op), at)
        row = await tx.one("insert_outbox_claimed", (*params, tx.ts(o.window_ends_at), at, until))
        assert row is not None
        ids.append(row[0])
    return _claimed(w.outbox, ids)


def _lead_params(w: Write, lead: LeadInsert, now: Any) -> tuple[Any, ...]:
    head = (w.conversation_id, lead.vacancy_id, w.channel, w.event_campaign, "new", now)
    return (*head, *lead.row())


async def record_lead_answers(
    tx: Tx, conversation_id: str, answers: Sequence[tuple[int, str]], now: datetime
) -> None:
    """The person's follow-up answers on their own leads (a lead of another conversation is
    never touched: the id comes from a button)."""
    if answers:
        at = tx.ts(now)
        await tx.many(
            "lead_answer", [(status, at, lead_id, conversation_id) for lead_id, status in answers]
        )


async def enqueue(
    tx: Tx, rows: Sequence[OutboxInsert], conversation_id: str | None, now: datetime
) -> None:
    """Outbox rows outside the Postgres one-statement write (SQLite; erasure confirmations)."""
    at = tx.ts(now)
    await tx.many(
        "insert_outbox",
        [
            (o.channel, o.chat_id, conversation_id, dumps(o.op), at, tx.ts(o.window_ends_at), at)
            for o in rows
        ],
    )


async def forget_outbox(tx: Tx, conversation_id: str) -> None:
    await tx.run("forget_outbox", (conversation_id,))


async def record_erasure(
    tx: Tx,
    anon_id: str,
    conversation_id: str,
    channel: str,
    key: str | None,
    replies_json: str | None,
) -> None:
    """Count the erasure, and keep the request's key with its answer so a retry is not re-run.

    The key's row names a fresh random id, not the erased conversation."""
    del conversation_id
    await tx.run("report_count", (0, "", "", channel, "", "erased", "erasures", 1))
    if key is not None:
        await tx.run("insert_inbound", (key, anon_id, replies_json, tx.ts(utcnow())))


async def insert_events(
    tx: Tx,
    conversation_id: str,
    channel: str,
    campaign: str | None,
    events: Sequence[tuple[str, dict[str, Any]]],
) -> None:
    """Analytics events outside the one-statement write (they carry no region: anonymous)."""
    now = tx.ts(utcnow())
    await tx.many(
        "insert_event",
        [
            (conversation_id, name, dumps(data), _question(data), campaign, channel, None, now)
            for name, data in events
        ],
    )


def _question(data: dict[str, Any]) -> str | None:
    value = data.get("question")
    return None if value is None else str(value)


async def erase_conversation(tx: Tx, conversation_id: str) -> str:
    """Delete every row of a conversation, after folding its events into the report counters
    (so reports stay right); returns a fresh random id for the erasure's own record."""
    from bot.analytics.erasure import fold_erased

    await tx.run("report_lock", ())
    hwm_row = await tx.one("report_hwm", ())
    hwm = int(hwm_row[0]) if hwm_row is not None else 0
    journey = await tx.one("report_journey", (conversation_id,))
    pending = await tx.all("report_events", (conversation_id, hwm))
    responded = await tx.one("report_responded", (conversation_id,))
    changes = fold_erased(
        journey[0] if journey is not None else None,
        [tuple(r) for r in pending],
        bool(responded and responded[0]),
    )
    await tx.many("report_count", changes)
    for name in (
        "delete_journey",
        "delete_events",
        "delete_consents",
        "delete_leads",
        "delete_inbound",
        "delete_conversation",
    ):
        await tx.run(name, (conversation_id,))
    if tx.dialect == "sqlite":
        # SQLite reuses the highest ids once deleted: the refresh must not skip new events.
        top = await tx.one("report_max_event", ())
        newest = int(top[0]) if top is not None and top[0] is not None else 0
        await tx.run("report_lower_hwm", (newest, newest))
        _checkpoint_after_commit(tx)
    return "anon-" + new_id()


def _checkpoint_after_commit(tx: Tx) -> None:
    """Once the erasure is committed, move the WAL into the database and truncate it, so the
    deleted rows (zeroed there by secure_delete) leave no copy in the -wal file. Until the
    transaction ends the checkpoint reports busy: it is simply tried again a moment later."""
    if isinstance(tx, _SqliteTx):
        path = tx.con.execute("PRAGMA database_list").fetchone()[2]
    elif isinstance(tx, _SATx):
        path = parse_db_url(str(tx.conn.engine.url)).database
    else:
        return
    if not path:
        return
    loop = asyncio.get_running_loop()

    def checkpoint(tries: int = 0) -> None:
        busy = 1
        try:
            con = sqlite3.connect(path, timeout=0)
            try:
                busy = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            busy = 1
        if busy and tries < 400:
            loop.call_later(0.005 * min(tries + 1, 20), checkpoint, tries + 1)

    loop.call_soon(checkpoint)
