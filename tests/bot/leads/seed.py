"""Test data for the hand-off: an organisation with a vacancy, a volunteer centre in the same
municipality, and leads as the turn writes them (plus what the person agreed to share)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.leads.tables import leads
from bot.store.conversations import conversations
from bot.store.db import get_engine
from bot.store.organisations import ORGANISATIONS, VACANCIES

MUNICIPALITY = "Utrecht"
ORG = "org-buurthuis"
VACANCY = "vac-buurthuis-koken"
CENTRE = "demo-vc-utrecht"
ORG_EMAIL = "vrijwilligers@buurthuis.example"
CENTRE_EMAIL = "info@vc-utrecht.example"


def _org(org_id: str, name: str, email: str | None, centre: bool, now: datetime) -> dict[str, Any]:
    return {
        "id": org_id,
        "name": name,
        "contact_email": email,
        "municipality": MUNICIPALITY,
        "allowed_origins": [],
        "is_volunteer_centre": centre,
        "fictional": True,
        "created_at": now,
        "updated_at": now,
    }


def _vacancy(vacancy_id: str, org_id: str, title: str, email: str, now: datetime) -> dict[str, Any]:
    return {
        "id": vacancy_id,
        "organisation_id": org_id,
        "title": title,
        "description": "",
        "causes": ["neighbourhood"],
        "activities": ["hands_on"],
        "municipality": MUNICIPALITY,
        "place": MUNICIPALITY,
        "lat": 52.09,
        "lon": 5.12,
        "days": [],
        "dayparts": [],
        "contact_email": email,
        "created_at": now,
        "updated_at": now,
    }


async def seed_orgs(url: str, now: datetime, webhook: tuple[str, str] | None = None) -> None:
    async with get_engine(url).begin() as conn:
        await conn.execute(
            sa.insert(ORGANISATIONS),
            [
                _org(ORG, "Buurthuis De Linde", None, False, now),
                _org(CENTRE, "Vrijwilligerscentrale Utrecht", CENTRE_EMAIL, True, now),
            ],
        )
        if webhook:
            await conn.execute(
                sa.text(
                    "UPDATE organisations SET webhook_url = :u, webhook_secret = :s WHERE id = :i"
                ),
                {"u": webhook[0], "s": webhook[1], "i": ORG},
            )
        await conn.execute(
            sa.insert(VACANCIES),
            [
                _vacancy(VACANCY, ORG, "Koken voor de buurt", ORG_EMAIL, now),
                _vacancy(f"{CENTRE}-advies", CENTRE, "Advies", CENTRE_EMAIL, now),
            ],
        )


async def add_lead(
    url: str,
    now: datetime,
    vacancy_id: str = VACANCY,
    share: str | None = "yes",
    name: str = "Sanne",
    email: str = "sanne@example.org",
) -> tuple[int, str]:
    """A conversation and its lead, as a turn plus the consent step leave them."""
    conversation_id = uuid.uuid4().hex
    async with get_engine(url).begin() as conn:
        await conn.execute(
            sa.insert(conversations).values(
                id=conversation_id,
                user_hash=uuid.uuid4().hex,
                channel="rest",
                state={},
                lang="nl",
                phase="done",
                region=MUNICIPALITY,
                created_at=now,
                updated_at=now,
            )
        )

        result = await conn.execute(
            sa.insert(leads)
            .values(
                conversation_id=conversation_id,
                vacancy_id=vacancy_id,
                channel="rest",
                status="new",
                created_at=now,
                share_consent=share,
                contact_name=name if share == "yes" else None,
                contact_email=email if share == "yes" else None,
            )
            .returning(leads.c.id)
        )
        lead_id = int(result.scalar_one())
    return lead_id, conversation_id


async def lead_row(url: str, lead_id: int) -> Any:
    async with get_engine(url).connect() as conn:
        return (await conn.execute(sa.select(leads).where(leads.c.id == lead_id))).first()


async def event_names(url: str) -> list[str]:
    async with get_engine(url).connect() as conn:
        rows = await conn.execute(sa.text("SELECT name FROM events ORDER BY id"))
        return [str(r[0]) for r in rows]


async def lead_rows(url: str) -> list[Any]:
    async with get_engine(url).connect() as conn:
        return list((await conn.execute(sa.select(leads).order_by(leads.c.id))).all())
