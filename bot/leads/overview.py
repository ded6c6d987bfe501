"""An organisation's leads as rows and a summary (response rate, median response time):
what the dashboard shows as HTML, CSV and JSON."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.leads import links

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.leads.store import LeadView

COLUMNS = (
    "lead_id",
    "vacancy_id",
    "vacancy_title",
    "status",
    "received_at",
    "age_days",
    "first_response_at",
    "response_hours",
    "escalated",
    "page",
)


def row(settings: Settings, lead: LeadView, now: datetime) -> dict[str, Any]:
    responded = lead.first_response_at
    hours = None if responded is None else (responded - lead.created_at).total_seconds() / 3600
    return {
        "lead_id": lead.id,
        "vacancy_id": lead.vacancy_id,
        "vacancy_title": lead.vacancy_title,
        "status": lead.status,
        "received_at": lead.created_at.isoformat(),
        "age_days": (now - lead.created_at).days,
        "first_response_at": responded.isoformat() if responded else None,
        "response_hours": None if hours is None else round(hours, 1),
        "escalated": lead.escalated_at is not None,
        "page": links.url(settings, lead.id, lead.conversation_id),
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    delivered = [r for r in rows if r["status"] not in ("new", "private")]
    answered = [r for r in delivered if r["response_hours"] is not None]
    return {
        "leads": len(rows),
        "delivered": len(delivered),
        "answered": len(answered),
        "open": sum(1 for r in rows if r["status"] in ("new", "delivered")),
        "escalated": sum(1 for r in rows if r["escalated"]),
        "response_rate": round(len(answered) / len(delivered), 3) if delivered else None,
        "median_response_hours": (
            round(statistics.median(r["response_hours"] for r in answered), 1) if answered else None
        ),
    }
