"""The widget's per-organisation origin allowlist, read without importing the table models
(the app builds its middleware before a starting worker has loaded SQLAlchemy)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

_log = logging.getLogger(__name__)


def allowed_origins_lookup(database_url: str) -> Callable[[str | None], Awaitable[list[str]]]:
    """Reads `organisations.allowed_origins` (a JSON list): one organisation's, or all of
    them (None). The widget's origin allowlist is built with it (bot.app)."""

    async def lookup(org: str | None) -> list[str]:
        from sqlalchemy import text

        from bot.store.db import get_engine

        sql = "SELECT allowed_origins FROM organisations"
        params: dict[str, Any] = {}
        if org is not None:
            sql += " WHERE id = :org"
            params["org"] = org
        try:
            async with get_engine(database_url).connect() as conn:
                rows = (await conn.execute(text(sql), params)).all()
        except Exception as exc:  # no organisations table (yet): only the global list applies
            _log.debug("organisation origins unavailable: %s", exc)
            return []
        found: list[str] = []
        for (value,) in rows:
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    value = [value]
            if isinstance(value, list):
                found.extend(str(v) for v in value if isinstance(v, str))
        return found

    return lookup
