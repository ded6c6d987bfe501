"""`vrijwilligerskracht leads webhook ORG URL`: connect an organisation's own system."""

from __future__ import annotations

import typer

app = typer.Typer(help="The hand-off of leads to organisations.", no_args_is_help=True)


@app.command("webhook")
def webhook_cmd(
    organisation: str = typer.Argument(..., help="Organisation id."),
    url: str = typer.Argument(..., help="HTTPS endpoint that receives new leads ('' = off)."),
) -> None:
    """Send this organisation's leads to URL too (Standard Webhooks); prints the secret once."""
    import asyncio

    import sqlalchemy as sa

    from bot.config import get_settings
    from bot.leads.tables import organisations
    from bot.leads.webhook import new_secret
    from bot.store.db import dispose_all, get_engine
    from bot.store.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    secret = new_secret() if url else None

    async def run() -> int:
        try:
            async with get_engine(settings.database_url).begin() as conn:
                result = await conn.execute(
                    sa.update(organisations)
                    .where(organisations.c.id == organisation)
                    .values(webhook_url=url or None, webhook_secret=secret)
                )
                return int(result.rowcount or 0)
        finally:
            await dispose_all()

    if not asyncio.run(run()):
        typer.echo(f"No organisation {organisation!r}.", err=True)
        raise typer.Exit(1)
    if secret:
        typer.echo(f"webhook on for {organisation}: {url}\nsecret (shown once): {secret}")
    else:
        typer.echo(f"webhook off for {organisation}")
