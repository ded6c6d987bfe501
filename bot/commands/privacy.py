"""`vrijwilligerskracht privacy ...`: personal data housekeeping."""

from __future__ import annotations

import typer

app = typer.Typer(help="Personal data housekeeping.", no_args_is_help=True)


UNCONSENTED_MINUTES = 60


async def purge(
    database_url: str, older_than_days: int, unconsented_minutes: int = UNCONSENTED_MINUTES
) -> int:
    """Erase every conversation untouched for `older_than_days`, and those without consent
    idle for `unconsented_minutes`; returns how many."""
    from datetime import timedelta

    from bot.store.conversations import purge_older_than, purge_unconsented, utcnow
    from bot.store.db import session_scope

    now = utcnow()
    async with session_scope(database_url) as session:
        count = await purge_older_than(session, now - timedelta(days=older_than_days))
        count += await purge_unconsented(session, now - timedelta(minutes=unconsented_minutes))
    if count:
        checkpoint(database_url)
    return count


def checkpoint(database_url: str) -> None:
    """SQLite: fold the WAL into the database and truncate it, so erased rows (zeroed in the
    database by secure_delete) leave no copy in the -wal file."""
    import sqlite3

    from sqlalchemy.engine import make_url

    u = make_url(database_url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return
    con = sqlite3.connect(u.database, timeout=30)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


@app.command("purge")
def purge_cmd(
    older_than: int = typer.Option(
        180, "--older-than", min=0, help="Erase conversations untouched for this many days."
    ),
) -> None:
    """Erase old conversations (answers, consent, leads); analytics stay, anonymised."""
    import asyncio

    from rich.console import Console

    from bot.config import get_settings
    from bot.store.db import dispose_all
    from bot.store.migrate import upgrade

    settings = get_settings()
    console = Console()
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        console.print(f"[red]Cannot open the database:[/red] {exc}")
        raise typer.Exit(1) from exc

    async def run() -> int:
        try:
            return await purge(settings.database_url, older_than)
        finally:
            await dispose_all()

    count = asyncio.run(run())
    console.print(f"Erased {count} conversation(s) untouched for {older_than} day(s) or more.")
