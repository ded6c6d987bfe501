"""`vrijwilligerskracht chat`"""

from __future__ import annotations

import typer


def command() -> None:
    """Not built yet."""
    typer.echo("not built yet", err=True)
    raise typer.Exit(2)
