"""`vrijwilligerskracht db upgrade`"""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(
    url: str | None = typer.Option(None, "--url", help="Database URL (default: VK_DATABASE_URL)"),
) -> None:
    """Bring the database schema up to date."""
    from bot.config import get_settings
    from bot.store.migrate import current_heads, upgrade

    target = url or get_settings().database_url
    upgrade(target)
    Console().print(
        f"[green]Database up to date[/green] ({', '.join(sorted(current_heads(target)))})"
    )
