"""`vrijwilligerskracht privacy ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="privacy", no_args_is_help=True)
