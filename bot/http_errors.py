"""Database outages answer 503 with Retry-After, never 500.

When the database cannot be reached (Postgres stopped or restarting, a SQLite file that cannot
be opened) a request fails fast: REST clients get 503 and `Retry-After`, Telegram and WhatsApp
get 503 and deliver the update again later. The service recovers by itself: engines and pools
reconnect on the next request. `health` keeps the last known state for /healthz (which never
queries the database itself).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5
# Postgres SQLSTATE classes meaning "the server is not there right now": 08 connection
# exception, 57P0x operator intervention (admin shutdown, crash shutdown, cannot connect now).
_PG_STATES = ("08", "57P01", "57P02", "57P03")
_SQLITE_MESSAGES = ("unable to open", "disk i/o error")
_DEAD_CONNECTION = frozenset({"ConnectionDoesNotExistError", "CannotConnectNowError"})
# asyncpg's InterfaceError / InternalClientError on a connection a failure left broken (or a
# pool shutting down).
_BROKEN_STATE = frozenset({"InterfaceError", "InternalClientError"})
_DEAD_INTERFACE = ("closed", "another operation", "pool is closing")
_NET_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT}
)
# asyncio's create_connection over several addresses raises a plain OSError.
_CONNECT_MESSAGES = ("Connect call failed", "Multiple exceptions")


class DatabaseHealth:
    """The last known state of the database connection (set by requests, read by /healthz)."""

    def __init__(self) -> None:
        self.down_since: float | None = None

    def failed(self) -> bool:
        """Note the failure; True when it is news (the database was fine until now)."""
        if self.down_since is None:
            self.down_since = time.monotonic()
            return True
        return False

    def ok(self) -> None:
        self.down_since = None

    @property
    def is_ok(self) -> bool:
        return self.down_since is None


health = DatabaseHealth()


def _unwrap(exc: BaseException) -> list[BaseException]:
    """The exception, what SQLAlchemy wraps (`orig`) and its causes."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen) or len(seen) > 10:
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached (as opposed to a bad query)."""
    for e in _unwrap(exc):
        if isinstance(e, ConnectionError | TimeoutError):
            return True
        if isinstance(e, OSError) and (
            e.errno in _NET_ERRNOS or any(m in str(e) for m in _CONNECT_MESSAGES)
        ):
            return True
        if isinstance(e, sqlite3.OperationalError) and any(
            m in str(e).lower() for m in _SQLITE_MESSAGES
        ):
            return True
        state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(state, str) and state.startswith(_PG_STATES):
            return True
        name = type(e).__name__
        if name in _DEAD_CONNECTION:  # asyncpg: the connection went away mid-operation
            return True
        if name in _BROKEN_STATE and any(m in str(e) for m in _DEAD_INTERFACE):
            return True
        if getattr(e, "connection_invalidated", False):
            return True
    return False


def unavailable_response() -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"error": "unavailable", "detail": "the database is not reachable; try again shortly"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"},
    )


class OutageGuard:
    """ASGI middleware: an exception that means the database is gone becomes 503 (unless the
    answer has begun). It classifies by duck typing, so SQLAlchemy need not be imported for it:
    a starting worker answers before it loads SQLAlchemy (bot.later)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started or not is_database_unavailable(exc):
                raise
            from bot import metrics

            metrics.error("-", "database_unavailable")
            if health.failed():  # once per outage, not once per request
                log.warning("database unavailable (%s): answering 503 until it is back", exc)
            await unavailable_response()(scope, receive, send)


def install(app: FastAPI) -> None:
    """Answer 503 + Retry-After for every exception a lost database raises."""
    app.add_middleware(OutageGuard)
