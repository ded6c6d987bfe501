"""Campaign tables and their repository: campaigns, and the dashboard tokens of organisations.

A campaign is an entry point that marketing hands out (a link, a QR code on a poster, a keyword
on the radio). Conversations remember the campaign that brought them in (first touch); the
reports in `bot.analytics` group by it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

NATIONAL = "national"


def _now() -> datetime:
    return datetime.now(UTC)


class Campaign(SQLModel, table=True):
    """One campaign: its code (in links), the spoken keyword and the campaign weeks."""

    __tablename__ = "campaigns"

    code: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    owner: str = Field(
        default=NATIONAL, sa_column=sa.Column(sa.String(100), nullable=False, index=True)
    )
    keyword: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    starts_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    ends_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    quiz_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    region: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    company: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    created_at: datetime = Field(
        default_factory=_now, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )

    def active_on(self, day: date) -> bool:
        return (self.starts_on is None or self.starts_on <= day) and (
            self.ends_on is None or day <= self.ends_on
        )


class DashboardToken(SQLModel, table=True):
    """A bearer token for /admin that sees one owner's campaigns. Only its hash is stored."""

    __tablename__ = "dashboard_tokens"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    owner: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    label: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = Field(
        default_factory=_now, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True))
    )


class CampaignExists(ValueError):
    pass


campaigns_table: sa.Table = Campaign.__table__  # type: ignore[attr-defined]
tokens_table: sa.Table = DashboardToken.__table__  # type: ignore[attr-defined]
_c = campaigns_table.c
_t = tokens_table.c


# ---------------------------------------------------------------------------- campaigns


async def add_campaign(session: AsyncSession, campaign: Campaign) -> Campaign:
    if await get_campaign(session, campaign.code) is not None:
        raise CampaignExists(f"campaign {campaign.code!r} already exists")
    session.add(campaign)
    await session.flush()
    return campaign


async def get_campaign(session: AsyncSession, code: str) -> Campaign | None:
    """By code; exact first, then case-insensitively (people retype codes from posters)."""
    found = await session.get(Campaign, code)
    if found is not None:
        return found
    rows = await session.execute(sa.select(Campaign).where(sa.func.lower(_c.code) == code.lower()))
    return rows.scalars().first()


async def list_campaigns(session: AsyncSession, owner: str | None = None) -> list[Campaign]:
    query = sa.select(Campaign).order_by(_c.code)
    if owner is not None:
        query = query.where(_c.owner == owner)
    return list((await session.execute(query)).scalars().all())


async def campaigns_with_keyword(session: AsyncSession) -> list[Campaign]:
    query = sa.select(Campaign).where(_c.keyword.is_not(None))
    return list((await session.execute(query)).scalars().all())


# ---------------------------------------------------------------------------- tokens


def hash_token(token: str) -> str:
    """Tokens are 32 random bytes, so a plain SHA-256 is enough (no guessing to slow down)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_token(session: AsyncSession, owner: str, label: str = "") -> tuple[str, int]:
    """A new token for `owner`; the clear text is returned once and never stored."""
    token = "vkd_" + secrets.token_urlsafe(32)
    row = DashboardToken(token_hash=hash_token(token), owner=owner, label=label)
    session.add(row)
    await session.flush()
    assert row.id is not None
    return token, row.id


async def owner_for_token(session: AsyncSession, token: str) -> str | None:
    rows = await session.execute(
        sa.select(_t.owner).where(_t.token_hash == hash_token(token), _t.revoked_at.is_(None))
    )
    return rows.scalars().first()


async def list_tokens(session: AsyncSession) -> list[DashboardToken]:
    query = sa.select(DashboardToken).order_by(_t.id)
    return list((await session.execute(query)).scalars().all())


async def revoke_token(session: AsyncSession, token_id: int) -> bool:
    row = await session.get(DashboardToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = _now()
    await session.flush()
    return True
