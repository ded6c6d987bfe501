"""Alembic environment: runs migrations on a synchronous connection to the configured URL."""

from __future__ import annotations

from alembic import context

from bot.store.db import get_sync_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
if not url:
    raise RuntimeError("sqlalchemy.url must be set by bot.store.migrate")


def run() -> None:
    engine = get_sync_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=None,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
