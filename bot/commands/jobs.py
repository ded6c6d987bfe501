"""`vrijwilligerskracht jobs run|list`: the durable jobs, with the clock under control."""

from __future__ import annotations

import json
from typing import Any

import typer

app = typer.Typer(
    help="Durable timed jobs: run what is due, list what is pending.", no_args_is_help=True
)


def _settings() -> Any:
    from rich.console import Console

    from bot.config import get_settings
    from bot.store.migrate import upgrade

    settings = get_settings()
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        Console(stderr=True).print(f"[red]Cannot open the database:[/red] {exc}")
        raise typer.Exit(1) from exc
    return settings


@app.command("run")
def run_cmd(
    now: str | None = typer.Option(
        None, "--now", help="Run as if it were this moment (ISO-8601; default: now)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what ran as JSON."),
) -> None:
    """Run every job that is due at that moment (and what those jobs make due by then)."""
    import asyncio

    from bot import clock
    from bot.jobs.runner import run_due
    from bot.store.db import dispose_all

    try:
        at = clock.parse(now) if now else clock.now()
    except ValueError as exc:
        typer.echo(f"--now: not an ISO-8601 moment: {now!r}", err=True)
        raise typer.Exit(2) from exc
    settings = _settings()
    clock.set_now(at)

    async def run() -> list[dict[str, Any]]:
        try:
            return [r.as_dict() for r in await run_due(settings, at)]
        finally:
            await dispose_all()

    ran = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps({"now": at.isoformat(), "ran": ran}, ensure_ascii=False))
        return
    typer.echo(f"{len(ran)} job(s) run as of {at.isoformat()}")
    for r in ran:
        note = f"  {r['note']}" if r["note"] else ""
        typer.echo(f"  #{r['id']:<6} {r['kind']:<16} {r['outcome']:<6}{note}")


@app.command("list")
def list_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print the jobs as JSON."),
    show_all: bool = typer.Option(False, "--all", help="Also done and dead jobs."),
) -> None:
    """The pending (and running) jobs, soonest first."""
    import asyncio

    from bot.jobs import store
    from bot.jobs.table import DEAD, DONE, PENDING, RUNNING
    from bot.store.db import dispose_all, get_engine

    settings = _settings()
    statuses = (PENDING, RUNNING, DONE, DEAD) if show_all else (PENDING, RUNNING)

    async def run() -> list[dict[str, Any]]:
        try:
            async with get_engine(settings.database_url).connect() as conn:
                return [j.as_dict() for j in await store.list_jobs(conn, statuses)]
        finally:
            await dispose_all()

    jobs = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(jobs, ensure_ascii=False))
        return
    typer.echo(f"{len(jobs)} job(s)")
    for j in jobs:
        typer.echo(f"  #{j['id']:<6} {j['kind']:<16} {j['status']:<8} due {j['due_at']}")
