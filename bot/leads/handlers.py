"""Job kinds of the hand-off. Every handler re-reads the lead: an erased conversation has
no lead row any more, an answered lead needs no reminder, so late jobs do nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import clock
from bot.channels.email.send import send
from bot.jobs import store as jobs
from bot.jobs.registry import Context, GiveUp, register
from bot.leads import followups, links, mails, webhook
from bot.leads import store as leads
from bot.leads.tables import NEW, PRIVATE

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from bot.config import Settings

# New leads are scanned at once when the turn that wrote them pokes the runner (bot.app);
# this period is the safety net for a poke that never came (another process, a restart).
SCAN_EVERY = timedelta(seconds=60)
SCAN_KIND = "leads.scan"
LEAD_CREATED = "lead.created"
LEAD_ESCALATED = "lead.escalated"


def _engine(settings: Settings) -> AsyncEngine:
    from bot.store.db import get_engine

    return get_engine(settings.database_url)


def _key(kind: str, lead_id: int, conversation_id: str) -> str:
    return f"{kind}:{lead_id}:{links.tag(conversation_id)}"


async def schedule_for_new_leads(
    conn: AsyncConnection, rows: list[tuple[int, str]], now: datetime
) -> int:
    """Give each new lead (id, conversation_id) its delivery job, in the caller's
    transaction; idempotent (dedupe key per lead). Returns how many jobs were added."""
    added = 0
    for lead_id, conversation_id in rows:
        added += await jobs.enqueue(
            conn,
            "lead.deliver",
            now,
            {"lead_id": lead_id},
            _key("lead.deliver", lead_id, conversation_id),
            now=now,
        )
        await leads.update(conn, lead_id, scheduled_at=now)
    return added


@register(SCAN_KIND, every=SCAN_EVERY)
async def scan(ctx: Context) -> str | None:
    """New leads written by the turns -> delivery jobs (so the turn path needs no change);
    leads whose volunteer answered "nog niet" -> the volunteer centre."""
    async with _engine(ctx.settings).begin() as conn:
        rows = await leads.unscheduled(conn)
        added = await schedule_for_new_leads(conn, rows, ctx.now)
        escalated = await followups.schedule_escalations(conn, ctx.now)
    notes = [f"{added} new lead(s)"] if added else []
    if escalated:
        notes.append(f"{escalated} lead(s) to the volunteer centre")
    return ", ".join(notes) or None


@register("lead.deliver")
async def deliver(ctx: Context) -> str | None:
    settings = ctx.settings
    lead_id = int(ctx.payload["lead_id"])
    async with _engine(settings).connect() as conn:
        lead = await leads.get_view(conn, lead_id)
    if lead is None:
        return "withdrawn: nothing sent"
    if lead.status != NEW:
        return f"already {lead.status}"
    if lead.share_consent == "no":
        async with _engine(settings).begin() as conn:
            await leads.update(conn, lead.id, status=PRIVATE, status_at=ctx.now)
        return "not shared: nothing sent"
    remind_at = clock.add_working_days(ctx.now, settings.lead_remind_days)
    escalate_at = clock.add_working_days(ctx.now, settings.lead_escalate_days)
    where = []
    if lead.to_email:
        where.append(await send(settings, mails.lead_mail(settings, lead, remind_at)))
    async with _engine(settings).begin() as conn:
        await leads.mark_delivered(conn, lead, ctx.now)
        await followups.schedule(conn, settings, lead, ctx.now)
        if lead.webhook_url and lead.webhook_secret:
            payload = {"lead_id": lead.id, "event": LEAD_CREATED, "to": lead.organisation_id}
            key = _key("lead.webhook", lead.id, lead.conversation_id)
            await jobs.enqueue(conn, "lead.webhook", ctx.now, payload, key, now=ctx.now)
            where.append("webhook")
        if where:
            for kind, at in (("lead.remind", remind_at), ("lead.escalate", escalate_at)):
                key = _key(kind, lead.id, lead.conversation_id)
                await jobs.enqueue(conn, kind, at, {"lead_id": lead.id}, key, now=ctx.now)
        else:  # nobody to tell at the organisation: the volunteer centre takes it now
            key = _key("lead.escalate", lead.id, lead.conversation_id)
            await jobs.enqueue(
                conn, "lead.escalate", ctx.now, {"lead_id": lead.id}, key, now=ctx.now
            )
    return f"lead {lead.id} -> {', '.join(where) or 'volunteer centre'}"


@register("lead.webhook", max_attempts=10)
async def post_webhook(ctx: Context) -> str | None:
    settings = ctx.settings
    async with _engine(settings).connect() as conn:
        lead = await leads.get_view(conn, int(ctx.payload["lead_id"]))
        target = str(ctx.payload.get("to") or "")
        url, secret = (lead.webhook_url, lead.webhook_secret) if lead else (None, None)
        if lead is not None and target and target != lead.organisation_id:
            centre = await leads.volunteer_centre(conn, lead.municipality)
            url, secret = (centre.webhook_url, centre.webhook_secret) if centre else (None, None)
    if lead is None:
        return "withdrawn: nothing sent"
    if not url or not secret:
        raise GiveUp("no webhook configured any more")
    status = await webhook.post(settings, lead, str(ctx.payload["event"]), url, secret)
    return f"lead {lead.id} -> webhook {status}"


@register("lead.remind")
async def remind(ctx: Context) -> str | None:
    settings = ctx.settings
    async with _engine(settings).connect() as conn:
        lead = await leads.get_view(conn, int(ctx.payload["lead_id"]))
    if lead is None:
        return "withdrawn"
    if not lead.is_open or lead.reminded_at is not None:
        return f"lead {lead.id}: {lead.status}, no reminder"
    if not lead.to_email:
        return f"lead {lead.id}: no address"
    where = await send(settings, mails.reminder_mail(settings, lead))
    async with _engine(settings).begin() as conn:
        await leads.update(conn, lead.id, reminded_at=ctx.now)
    return f"lead {lead.id} reminder -> {where}"


@register("lead.escalate")
async def escalate(ctx: Context) -> str | None:
    settings = ctx.settings
    async with _engine(settings).connect() as conn:
        lead = await leads.get_view(conn, int(ctx.payload["lead_id"]))
        centre = await leads.volunteer_centre(conn, lead.municipality) if lead else None
    if lead is None:
        return "withdrawn"
    # The volunteer's own "nog niet" counts whatever the organisation ticked.
    by_volunteer = ctx.payload.get("why") == "volunteer"
    if (not lead.is_open and not by_volunteer) or lead.escalated_at is not None:
        return f"lead {lead.id}: {lead.status}, no escalation"
    if centre is None or centre.organisation_id == lead.organisation_id:
        return f"lead {lead.id}: no other volunteer centre in {lead.municipality or '?'}"
    where = []
    if centre.email:
        mail = mails.escalation_mail(settings, lead, centre.email, by_volunteer=by_volunteer)
        where.append(await send(settings, mail))
    async with _engine(settings).begin() as conn:
        await leads.update(conn, lead.id, escalated_at=ctx.now, escalated_to=centre.organisation_id)
        if centre.webhook_url and centre.webhook_secret:
            payload = {"lead_id": lead.id, "event": LEAD_ESCALATED, "to": centre.organisation_id}
            key = _key("lead.webhook.escalated", lead.id, lead.conversation_id)
            await jobs.enqueue(conn, "lead.webhook", ctx.now, payload, key, now=ctx.now)
            where.append("webhook")
    return f"lead {lead.id} escalated to {centre.organisation_id} -> {', '.join(where) or '-'}"


@register("jobs.purge", every=timedelta(hours=6))
async def purge(ctx: Context) -> str | None:
    """Finished jobs are kept 30 days for `jobs list` and support, then forgotten."""
    async with _engine(ctx.settings).begin() as conn:
        n = await jobs.purge_finished(conn, ctx.now - timedelta(days=30))
    return f"{n} old job(s) purged" if n else None
