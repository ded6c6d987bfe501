"""Typer sub-commands, one module per command group. Heavy imports stay inside functions."""
