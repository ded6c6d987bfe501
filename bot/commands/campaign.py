"""`vrijwilligerskracht campaign ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="campaign", no_args_is_help=True)
