"""Database URLs read without SQLAlchemy: the per-message path and the restart check use the
raw drivers, and importing SQLAlchemy costs a starting process over half a second."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass(frozen=True)
class DbUrl:
    """The parts of an SQLAlchemy-style URL (`dialect+driver://user:pw@host:port/db?k=v`)."""

    backend: str
    driver: str
    database: str
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    query: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"


def parse_db_url(url: str) -> DbUrl:
    """Split `url` as SQLAlchemy does: for SQLite the path after `sqlite:///` is the file
    (`sqlite:////abs/file.db` is absolute), empty means in memory."""
    scheme, sep, _rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    backend, _, driver = scheme.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    path = unquote(parts.path)
    if backend == "sqlite":
        return DbUrl(backend, driver, path[1:] if path.startswith("/") else path, query=query)
    return DbUrl(
        backend,
        driver,
        path.lstrip("/"),
        host=parts.hostname,
        port=parts.port,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        query=query,
    )


def async_url(url: str) -> str:
    """The same database through the async drivers (aiosqlite, asyncpg): only the scheme
    changes, so a URL that already names a driver stays as it is."""
    scheme, sep, rest = url.partition("://")
    if scheme == "sqlite":
        return f"sqlite+aiosqlite{sep}{rest}"
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+asyncpg{sep}{rest}"
    return url
