"""`vrijwilligerskracht orgs import|demo|list|export|sync`: organisations and vacancies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from bot.orgs.importer import Progress

app = typer.Typer(help="orgs", no_args_is_help=True)

_STAGES = {
    "reading": "Reading",
    "checking": "Checking rows",
    "writing": "Writing",
    "fetching": "Fetching",
    "applying": "Applying",
}


class _Bar:
    """A rich progress bar fed by the importer's progress(stage, done, total) callback."""

    def __init__(self, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=quiet,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Progress:
        self.progress.__enter__()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def update(self, stage: str, done: int, total: int) -> None:
        task = self.tasks.get(stage)
        if task is None:
            task = self.progress.add_task(_STAGES.get(stage, stage), total=total or None)
            self.tasks[stage] = task
        self.progress.update(task, completed=done, total=total or None)


def _url() -> str:
    from bot.config import get_settings
    from bot.store.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    return url


@app.command("import")
def import_(
    file: Path = typer.Argument(
        ...,
        help="CSV or JSON file, one row per vacancy, or a Volunteering Data Standard "
        "document (JSON-LD).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Import organisations and vacancies; a file with any bad row imports nothing."""
    from bot.orgs.importer import ImportFailed, import_file

    if not file.exists():
        typer.echo(f"error: {file} does not exist", err=True)
        raise typer.Exit(1)
    url = _url()
    try:
        with _Bar(quiet) as progress:
            result = import_file(url, file, progress)
    except ImportFailed as exc:
        typer.echo(f"error: {file}: nothing imported, {len(exc.errors)} problem(s):", err=True)
        for error in exc.errors[:200]:
            typer.echo(f"  {error}", err=True)
        if len(exc.errors) > 200:
            typer.echo(f"  ... and {len(exc.errors) - 200} more", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"imported {result.vacancies} vacancies ({result.created} new, {result.updated} "
        f"updated) of {result.organisations} organisations"
    )
    if result.unknown_terms:
        typer.echo(
            f"{len(result.unknown_terms)} unknown vocabulary term(s), kept with the vacancies "
            "(not mapped):",
            err=True,
        )
        for term in result.unknown_terms:
            typer.echo(f"  {term}", err=True)


@app.command("export")
def export(
    fmt: str = typer.Option(
        "odi",
        "--format",
        help="odi (JSON-LD, Volunteering Data Standard) or json (our import rows).",
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write (default: stdout)."),
    licence: str = typer.Option("CC-BY-4.0", "--licence", help="SPDX licence of the dataset."),
) -> None:
    """Write every open vacancy as a document other platforms (or `orgs import`) can read."""
    from bot.clock import now
    from bot.config import get_settings
    from bot.orgs.export import export_odi, export_rows

    if fmt not in ("odi", "json"):
        typer.echo(f"error: unknown format {fmt!r} (odi or json)", err=True)
        raise typer.Exit(1)
    url = _url()
    data: Any
    if fmt == "odi":
        data = export_odi(
            url, licence=licence, publisher=get_settings().public_url, today=now().date()
        )
    else:
        data = export_rows(url)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


@app.command("sync")
def sync(
    urls: list[str] = typer.Argument(
        None, help="Feed URL(s); without any, every feed in VK_FEEDS."
    ),
    now_at: str | None = typer.Option(None, "--now", help="The moment to sync at (ISO 8601)."),
    as_json: bool = typer.Option(False, "--json", help="Print the reports as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Fetch feeds conditionally (ETag / Last-Modified) and apply new, changed and
    withdrawn vacancies; one bad record never stops the rest."""
    from datetime import datetime

    from bot.clock import now
    from bot.config import get_settings
    from bot.orgs.feeds import configured_feeds, sync_feed

    targets = list(urls or []) or configured_feeds(get_settings())
    if not targets:
        typer.echo("error: give a feed URL or set VK_FEEDS", err=True)
        raise typer.Exit(1)
    moment = datetime.fromisoformat(now_at) if now_at else now()
    url = _url()
    reports = []
    with _Bar(quiet) as progress:
        for target in targets:
            reports.append(sync_feed(url, target, moment, progress=progress))
    failed = False
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False))
    for r in reports:
        failed = failed or r.error is not None
        if not as_json:
            typer.echo(r.summary())
            for rid, problem in r.rejected[:50]:
                typer.echo(f"  rejected {rid}: {problem}", err=True)
            for term in r.unknown_terms[:50]:
                typer.echo(f"  unknown term kept: {term}", err=True)
    if failed:
        raise typer.Exit(1)


@app.command("demo")
def demo(
    count: int = typer.Option(5000, "--count", "-n", min=1, help="Number of vacancies."),
    seed: int = typer.Option(2026, "--seed", help="Random seed (same seed, same data)."),
    out: Path | None = typer.Option(
        None, "--out", help="Write the rows to this JSON file instead of the database."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Load a fictional demo set: vacancies in real places, one volunteer centre per
    municipality. Everything is marked fictional."""
    from bot.orgs.demo import generate, load_demo

    if out is not None:
        rows = list(generate(count, seed))
        out.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
        typer.echo(f"wrote {len(rows)} rows to {out}")
        return
    url = _url()
    with _Bar(quiet) as progress:
        result = load_demo(url, count, seed, progress)
    typer.echo(
        f"loaded {result.vacancies} fictional vacancies of {result.organisations} "
        f"organisations (including volunteer centres)"
    )


@app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    vacancies: bool = typer.Option(
        False, "--vacancies", help="List vacancies instead of organisations."
    ),
    municipality: str | None = typer.Option(None, "--municipality", help="Gemeente."),
    place: str | None = typer.Option(None, "--place", help="Woonplaats of the vacancy."),
    cause: str | None = typer.Option(None, "--cause", help="Cause id, e.g. sport."),
    activity: str | None = typer.Option(None, "--activity", help="Activity id, e.g. social."),
    organisation: str | None = typer.Option(
        None, "--organisation", "--org", help="Organisation id or part of its name."
    ),
    near: str | None = typer.Option(None, "--near", help="Postcode or place."),
    radius: float = typer.Option(10.0, "--radius", help="Radius in km for --near."),
    remote: bool | None = typer.Option(None, "--remote/--local", help="Only remote/local."),
    centres: bool | None = typer.Option(
        None, "--centres/--no-centres", help="Only / no volunteer centres."
    ),
    limit: int = typer.Option(100, "--limit", help="At most this many (0 = all)."),
    show_all: bool = typer.Option(
        False, "--all", help="Also closed and expired vacancies (never recommended)."
    ),
    feed: str | None = typer.Option(None, "--feed", help="Only vacancies of this feed id."),
) -> None:
    """List organisations (with their vacancies) or vacancies, filtered."""
    from quiz.model import ACTIVITIES, CAUSES

    if cause and cause not in CAUSES:
        typer.echo(f"error: unknown cause {cause!r} (known: {', '.join(CAUSES)})", err=True)
        raise typer.Exit(1)
    if activity and activity not in ACTIVITIES:
        typer.echo(
            f"error: unknown activity {activity!r} (known: {', '.join(ACTIVITIES)})", err=True
        )
        raise typer.Exit(1)
    point = None
    if near:
        from bot.geo.gazetteer import get_gazetteer

        match = get_gazetteer().resolve(near)
        if match is None:
            typer.echo(f"error: unknown place or postcode: {near!r}", err=True)
            raise typer.Exit(1)
        point = (match.lat, match.lon)
    from bot.orgs.queries import Filters, list_organisations, list_vacancies

    filters = Filters(
        municipality=municipality,
        place=place,
        cause=cause,
        activity=activity,
        organisation=organisation,
        near=point,
        radius_km=radius,
        remote=remote,
        centres=centres,
        limit=limit,
        open_only=not show_all,
        feed_id=feed,
    )
    url = _url()
    rows = list_vacancies(url, filters) if vacancies else list_organisations(url, filters)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    if vacancies:
        for col in ("vacancy", "title", "organisation", "place", "causes", "hours"):
            table.add_column(col)
        for r in rows:
            hours = "" if r["hours_min"] is None else f"{r['hours_min']:g}-{r['hours_max'] or 0:g}"
            table.add_row(
                r["vacancy_id"],
                r["title"],
                r["organisation"],
                "remote" if r["remote"] else (r["place"] or ""),
                ",".join(r["causes"]),
                hours,
            )
    else:
        for col in ("organisation", "name", "municipality", "vacancies", "centre"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r["id"],
                r["name"],
                r["municipality"] or "",
                str(r["vacancy_count"]),
                "yes" if r["is_volunteer_centre"] else "",
            )
    Console().print(table)
    typer.echo(f"{len(rows)} shown")
