"""`vrijwilligerskracht privacy ...`: personal data housekeeping."""

from __future__ import annotations

import typer

app = typer.Typer(help="Personal data housekeeping.", no_args_is_help=True)


async def purge(database_url: str, older_than_days: int) -> int:
    """Erase every conversation untouched for `older_than_days`; returns how many."""
    from datetime import timedelta

    from bot.store.conversations import purge_older_than, utcnow
    from bot.store.db import session_scope

    async with session_scope(database_url) as session:
        return await purge_older_than(session, utcnow() - timedelta(days=older_than_days))


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
