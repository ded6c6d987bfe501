"""`vrijwilligerskracht orgs ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="orgs", no_args_is_help=True)
