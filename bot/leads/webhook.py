"""An organisation's own system gets each lead as JSON, signed with Standard Webhooks.

Headers `webhook-id` (stable per lead and event: de-duplicate on it), `webhook-timestamp`
and `webhook-signature` (`v1,<base64 HMAC-SHA256>` over `id.timestamp.body`). The secret is
the organisation's `webhook_secret` (`whsec_<base64>`, as `orgs webhook` prints it).
A non-2xx answer is retried with backoff by the job runner.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import TYPE_CHECKING, Any

import httpx

from bot import clock
from bot.leads import links

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.leads.store import LeadView


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def payload(settings: Settings, lead: LeadView, event: str) -> dict[str, Any]:
    """What the receiver gets: only what the person agreed to share, and the lead's page."""
    return {
        "type": event,
        "timestamp": clock.now().isoformat(),
        "data": {
            "lead_id": lead.id,
            "vacancy_id": lead.vacancy_id,
            "vacancy_title": lead.vacancy_title,
            "organisation_id": lead.organisation_id,
            "created_at": lead.created_at.isoformat(),
            "status": lead.status,
            "contact": dict(lead.contact),
            "respond_url": links.url(settings, lead.id, lead.conversation_id),
        },
    }


async def post(settings: Settings, lead: LeadView, event: str, url: str, secret: str) -> int:
    """Send once; raises for anything but 2xx (the job retries). Returns the status code."""
    from standardwebhooks.webhooks import Webhook

    body = json.dumps(payload(settings, lead, event), ensure_ascii=False, separators=(",", ":"))
    msg_id = f"msg_{event}_{lead.id}_{links.tag(lead.conversation_id)}"
    now = clock.wall()  # receivers check it against their own clock
    signature = Webhook(secret).sign(msg_id, now, body)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "user-agent": "Vrijwilligerskracht-Webhooks/1",
    }
    async with httpx.AsyncClient(timeout=15) as client:
        response = await client.post(url, content=body.encode(), headers=headers)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"webhook answered {response.status_code}")
    return response.status_code
