"""Who is looking at /admin: the administrator (VK_ADMIN_TOKEN, sees everything) or an
organisation (a dashboard token from `campaign token create`, sees only its own campaigns).

The token comes as `Authorization: Bearer <token>`, or from the HttpOnly cookie the login form
sets (browsers cannot add headers to page and image requests).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request

    from bot.config import Settings

COOKIE = "vk_admin"
MAX_TOKEN = 200


@dataclass(frozen=True)
class Principal:
    """`owner` None = administrator; otherwise the organisation id whose campaigns it sees."""

    owner: str | None

    @property
    def is_admin(self) -> bool:
        return self.owner is None

    def may_see_owner(self, owner: str) -> bool:
        return self.is_admin or owner == self.owner


class Unauthorized(Exception):
    def __init__(self, reason: str, presented: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.presented = presented


def presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get(COOKIE)
    return cookie or None


async def principal_for(settings: Settings, token: str | None) -> Principal:
    """Raise Unauthorized unless `token` is the admin token or an active dashboard token."""
    if not token:
        raise Unauthorized("a bearer token is required", presented=False)
    if len(token) > MAX_TOKEN:
        raise Unauthorized("invalid token", presented=True)
    admin = settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return Principal(owner=None)
    from bot.store.campaigns import owner_for_token
    from bot.store.db import session_scope

    async with session_scope(settings.database_url) as session:
        owner = await owner_for_token(session, token)
    if owner is None:
        raise Unauthorized("invalid token", presented=True)
    return Principal(owner=owner)
