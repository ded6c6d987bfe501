"""Reads and writes of leads for the hand-off (SQLAlchemy Core; the caller owns the
transaction). Not on the per-message path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.jobs.store import as_utc
from bot.leads.tables import (
    ANSWERS,
    DELIVERED,
    NEW,
    OPEN,
    conversations,
    events,
    leads,
    organisations,
    vacancies,
)

_l, _v, _o = leads.c, vacancies.c, organisations.c


@dataclass(frozen=True)
class LeadView:
    """One lead with what the hand-off needs of its vacancy and organisation."""

    id: int
    conversation_id: str
    vacancy_id: str
    vacancy_title: str
    organisation_id: str
    organisation_name: str
    to_email: str | None  # the vacancy's contact address, else the organisation's
    municipality: str | None
    channel: str
    campaign: str | None
    status: str
    created_at: datetime
    delivered_at: datetime | None
    first_response_at: datetime | None
    reminded_at: datetime | None
    escalated_at: datetime | None
    share_consent: str | None
    contact: dict[str, str]  # what the person agreed to share (empty: nothing)
    webhook_url: str | None
    webhook_secret: str | None
    # The volunteer's side: the chat follow-ups go to (with consent), the person's language,
    # their own answer to the follow-ups (bot.pipeline.LEAD_ANSWERS).
    chat_id: str | None = None
    lang: str | None = None
    volunteer_status: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN and self.first_response_at is None


CONTACT_FIELDS = ("name", "email", "phone", "chat", "message")


def _view(row: Any) -> LeadView:
    contact = {
        f: str(getattr(row, f"contact_{f}"))
        for f in CONTACT_FIELDS
        if getattr(row, f"contact_{f}") not in (None, "")
    }
    created = as_utc(row.created_at)
    assert created is not None
    return LeadView(
        id=int(row.id),
        conversation_id=str(row.conversation_id),
        vacancy_id=str(row.vacancy_id),
        vacancy_title=str(row.title or row.vacancy_id),
        organisation_id=str(row.organisation_id or ""),
        organisation_name=str(row.org_name or ""),
        to_email=row.vacancy_email or row.org_email,
        municipality=row.v_municipality or row.o_municipality,
        channel=str(row.channel),
        campaign=row.campaign,
        status=str(row.status),
        created_at=created,
        delivered_at=as_utc(row.delivered_at),
        first_response_at=as_utc(row.first_response_at),
        reminded_at=as_utc(row.reminded_at),
        escalated_at=as_utc(row.escalated_at),
        share_consent=row.share_consent,
        contact=contact if row.share_consent != "no" else {},
        webhook_url=row.webhook_url,
        webhook_secret=row.webhook_secret,
        chat_id=row.chat_id if row.share_consent == "yes" else None,
        lang=row.lang,
        volunteer_status=row.volunteer_status,
    )


def _select() -> Any:
    return sa.select(
        leads,
        _v.title,
        _v.organisation_id,
        _v.contact_email.label("vacancy_email"),
        _v.municipality.label("v_municipality"),
        _o.name.label("org_name"),
        _o.contact_email.label("org_email"),
        _o.municipality.label("o_municipality"),
        _o.webhook_url,
        _o.webhook_secret,
    ).select_from(
        leads.outerjoin(vacancies, _v.id == _l.vacancy_id).outerjoin(
            organisations, _o.id == _v.organisation_id
        )
    )


async def get_view(conn: AsyncConnection, lead_id: int) -> LeadView | None:
    row = (await conn.execute(_select().where(_l.id == lead_id))).first()
    return _view(row) if row is not None else None


async def for_organisation(
    conn: AsyncConnection, organisation_id: str | None, limit: int = 5000
) -> list[LeadView]:
    """Leads of one organisation's vacancies (None: all), newest first."""
    query = _select().order_by(_l.created_at.desc(), _l.id.desc()).limit(limit)
    if organisation_id is not None:
        query = query.where(_v.organisation_id == organisation_id)
    return [_view(r) for r in await conn.execute(query)]


async def unscheduled(conn: AsyncConnection, limit: int = 200) -> list[tuple[int, str]]:
    """New leads without a delivery job yet: (id, conversation_id)."""
    rows = await conn.execute(
        sa.select(_l.id, _l.conversation_id)
        .where(_l.status == NEW, _l.scheduled_at.is_(None))
        .order_by(_l.id)
        .limit(limit)
    )
    return [(int(r.id), str(r.conversation_id)) for r in rows]


async def update(conn: AsyncConnection, lead_id: int, **values: Any) -> None:
    await conn.execute(sa.update(leads).where(_l.id == lead_id).values(**values))


async def record_event(
    conn: AsyncConnection, lead: LeadView, name: str, data: dict[str, Any], now: datetime
) -> None:
    """An analytics event on the lead's journey (ids and statuses only, never contact data)."""
    region = (
        await conn.execute(
            sa.select(conversations.c.region).where(conversations.c.id == lead.conversation_id)
        )
    ).scalar_one_or_none()
    await conn.execute(
        sa.insert(events).values(
            conversation_id=lead.conversation_id,
            name=name,
            data=data,
            question=None,
            campaign=lead.campaign,
            channel=lead.channel,
            region=region,
            created_at=now,
        )
    )


async def mark_delivered(conn: AsyncConnection, lead: LeadView, now: datetime) -> bool:
    """new -> delivered (once) with the `lead_delivered` event."""
    result = await conn.execute(
        sa.update(leads)
        .where(_l.id == lead.id, _l.status == NEW)
        .values(status=DELIVERED, delivered_at=now, status_at=now)
    )
    if not result.rowcount:
        return False
    await record_event(conn, lead, "lead_delivered", {"vacancy_id": lead.vacancy_id}, now)
    return True


async def answer(conn: AsyncConnection, lead: LeadView, status: str, now: datetime) -> bool:
    """The organisation's answer. The first one sets `first_response_at` and records the
    funnel's `organisation_responded`; later taps only change the status. True when first."""
    if status not in ANSWERS:
        raise ValueError(status)
    first = lead.first_response_at is None
    values: dict[str, Any] = {"status": status, "status_at": now}
    if first:
        values["first_response_at"] = now
    await update(conn, lead.id, **values)
    if first:
        await record_event(
            conn,
            lead,
            "organisation_responded",
            {"vacancy_id": lead.vacancy_id, "status": status},
            now,
        )
    return first


@dataclass(frozen=True)
class Centre:
    organisation_id: str
    name: str
    email: str | None
    webhook_url: str | None
    webhook_secret: str | None


async def volunteer_centre(conn: AsyncConnection, municipality: str | None) -> Centre | None:
    """The local volunteer centre (by municipality); its address from itself or its vacancy."""
    if not municipality:
        return None
    row = (
        await conn.execute(
            sa.select(
                _o.id,
                _o.name,
                _o.contact_email,
                _o.webhook_url,
                _o.webhook_secret,
                sa.select(sa.func.min(_v.contact_email))
                .where(_v.organisation_id == _o.id)
                .scalar_subquery()
                .label("vacancy_email"),
            )
            .where(_o.is_volunteer_centre.is_(True), _o.municipality == municipality)
            .order_by(_o.id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return Centre(
        str(row.id),
        str(row.name),
        row.contact_email or row.vacancy_email,
        row.webhook_url,
        row.webhook_secret,
    )


async def volunteer_not_contacted(conn: AsyncConnection, limit: int = 200) -> list[tuple[int, str]]:
    """Leads whose volunteer said "nog niet" (no contact yet) and that no volunteer centre has
    had yet: they go there now."""
    rows = await conn.execute(
        sa.select(_l.id, _l.conversation_id)
        .where(_l.volunteer_status == "no_contact", _l.escalated_at.is_(None))
        .order_by(_l.id)
        .limit(limit)
    )
    return [(int(r.id), str(r.conversation_id)) for r in rows]


async def open_counts(conn: AsyncConnection) -> dict[str, tuple[int, int | None]]:
    """Per vacancy with unanswered leads: (open leads, its max_open_leads or None)."""
    rows = await conn.execute(
        sa.select(_l.vacancy_id, sa.func.count(), sa.func.max(_v.max_open_leads))
        .select_from(leads.outerjoin(vacancies, _v.id == _l.vacancy_id))
        .where(_l.status.in_(OPEN), _l.first_response_at.is_(None))
        .group_by(_l.vacancy_id)
    )
    return {str(v): (int(n), None if m is None else int(m)) for v, n, m in rows}


async def overdue_counts(conn: AsyncConnection, since: datetime) -> dict[str, int]:
    """Per organisation: leads since `since` that passed the escalation deadline unanswered
    (escalated before any answer)."""
    late = sa.and_(
        _l.escalated_at.is_not(None),
        sa.or_(_l.first_response_at.is_(None), _l.first_response_at > _l.escalated_at),
    )
    rows = await conn.execute(
        sa.select(_v.organisation_id, sa.func.count())
        .select_from(leads.join(vacancies, _v.id == _l.vacancy_id))
        .where(late, _l.created_at >= since)
        .group_by(_v.organisation_id)
    )
    return {str(o): int(n) for o, n in rows}
