"""The daily retention job erases what is past its period (real database)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import select

from bot.config import Settings
from bot.jobs.registry import Context, kinds
from bot.pipeline import Inbound, Pipeline
from bot.retention import retention
from bot.store import conversations as t
from bot.store.db import session_scope


async def _age(db_url: str, conversation_id: str, days: float) -> None:
    async with session_scope(db_url) as s:
        await t.update_conversation(
            s, conversation_id, {"updated_at": t.utcnow() - timedelta(days=days)}
        )


async def _ids(db_url: str) -> set[str]:
    async with session_scope(db_url) as s:
        return set((await s.execute(select(t.conversations.c.id))).scalars().all())


def test_retention_is_a_daily_job() -> None:
    assert kinds()["privacy.retention"].every == timedelta(days=1)


async def test_retention_erases_old_and_abandoned_unconsented_conversations(
    settings: Settings, db_url: str
) -> None:
    pipeline = Pipeline(settings.model_copy(update={"retention_days": 30}))
    old = await pipeline.handle(Inbound("rest", "old", payload="/consent/yes"))
    await pipeline.handle(Inbound("rest", "old", payload="/a/age/a18"))  # the yes counts now
    recent = await pipeline.handle(Inbound("rest", "recent", payload="/consent/yes"))
    await pipeline.handle(Inbound("rest", "recent", payload="/a/age/a18"))
    left = await pipeline.handle(Inbound("rest", "left", payload="/consent/no"))
    fresh = await pipeline.handle(Inbound("rest", "fresh", payload="/consent/no"))
    await _age(db_url, old.conversation_id, 31)
    await _age(db_url, recent.conversation_id, 20)
    await _age(db_url, left.conversation_id, 2)
    ctx = Context(settings.model_copy(update={"retention_days": 30}), t.utcnow(), cast(Any, None))
    note = await retention(ctx)
    assert note == "1 old and 1 unconsented conversation(s) erased"
    assert await _ids(db_url) == {recent.conversation_id, fresh.conversation_id}
    assert await retention(ctx) is None
    await pipeline.close()
