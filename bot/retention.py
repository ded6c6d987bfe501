"""The retention period, enforced by the server itself: a daily `privacy.retention` job.

Conversations untouched for `VK_RETENTION_DAYS` (the period the consent text names) are
erased; a conversation without consent that was left half way goes after one day. Erasure
is `bot.store.conversations.erase_conversation`: the journey is folded into the report
counters, then every row of it goes.
"""

from __future__ import annotations

from datetime import timedelta

from bot.jobs.registry import Context, register

# A test left half way without consent: its answers were meant to last until the result.
UNCONSENTED_IDLE = timedelta(days=1)


@register("privacy.retention", every=timedelta(days=1))
async def retention(ctx: Context) -> str | None:
    """Erase what is past its retention period; returns a note for `jobs run`."""
    from bot.store.conversations import purge_older_than, purge_unconsented
    from bot.store.db import session_scope

    async with session_scope(ctx.settings.database_url) as session:
        old = await purge_older_than(session, ctx.now - timedelta(days=ctx.settings.retention_days))
        unconsented = await purge_unconsented(session, ctx.now - UNCONSENTED_IDLE)
    if not old and not unconsented:
        return None
    return f"{old} old and {unconsented} unconsented conversation(s) erased"
