"""`vrijwilligerskracht quiz ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="quiz", no_args_is_help=True)
