"""`vrijwilligerskracht nlu ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="nlu", no_args_is_help=True)
