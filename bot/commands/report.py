"""`vrijwilligerskracht report funnel|team` — aggregates only, every cell k ≥ 5."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from bot.commands.campaign import fail, parse_day, run_db

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.analytics import Report

app = typer.Typer(help="Funnel and campaign reports.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
FORMATS = ("table", "csv", "json", "png")


def _emit(text: str, target: Path | None) -> None:
    if target is None:
        sys.stdout.write(text)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    err.print(f"Written to {target}")


@app.command("funnel")
def funnel_cmd(
    campaign: str | None = typer.Option(None, "--campaign", help="Campaign code"),
    owner: str | None = typer.Option(None, "--owner", help="All campaigns of one organisation"),
    channel: str | None = typer.Option(None, "--channel", help="web, telegram, whatsapp, ..."),
    region: str | None = typer.Option(None, "--region", help="Province"),
    week: str | None = typer.Option(None, "--week", help="ISO week, e.g. 2026-W48"),
    since: str | None = typer.Option(None, "--since", help="First day (YYYY-MM-DD)"),
    until: str | None = typer.Option(None, "--until", help="Last day (YYYY-MM-DD)"),
    fmt: str = typer.Option("table", "--format", help="table, csv, json or png"),
    by: str | None = typer.Option(
        None, "--by", help="table/csv: one row per campaign, channel, region or week"
    ),
    out_file: Path | None = typer.Option(None, "--out", help="File (png default: funnel.png)"),
    lang: str = typer.Option("nl", "--lang", help="Labels: nl or en"),
) -> None:
    """The funnel entries → consent → started → completed → recommendations → ik wil helpen →
    organisation responded, with drop-off per question and the profile mix."""
    from bot.analytics import DIMENSIONS, Filters, funnel_report
    from bot.config import get_settings
    from bot.store.campaigns import get_campaign, list_campaigns

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}")
    if by is not None and by not in DIMENSIONS:
        raise fail(f"--by must be one of {', '.join(DIMENSIONS)}")
    if campaign and owner:
        raise fail("use --campaign or --owner, not both")
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    if week:
        try:
            wk = Filters.for_week(week)
        except ValueError:
            raise fail(f"--week must look like 2026-W48, not {week!r}") from None
        first, last = wk.since, wk.until
    settings = get_settings()

    async def work(session: AsyncSession) -> Report:
        codes: tuple[str, ...] | None = None
        weeks: list[tuple[date, date]] = []
        if campaign:
            found = await get_campaign(session, campaign)
            if found is None:
                # Widgets and links may carry codes nobody registered: report them anyway.
                err.print(f"[yellow]Note:[/yellow] {campaign!r} is not a registered campaign")
                codes = (campaign,)
            else:
                codes = (found.code,)
                if found.starts_on and found.ends_on:
                    weeks = [(found.starts_on, found.ends_on)]
        elif owner:
            owned = await list_campaigns(session, owner)
            codes = tuple(c.code for c in owned)
            weeks = [(c.starts_on, c.ends_on) for c in owned if c.starts_on and c.ends_on]
        filters = Filters(campaigns=codes, channel=channel, region=region, since=first, until=last)
        return await funnel_report(session, filters, lang=lang, campaign_weeks=weeks)

    report = run_db(settings, work)
    if fmt == "json":
        _emit(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n", out_file)
    elif fmt == "csv":
        _emit(report.breakdown_csv(by) if by else report.funnel_csv(), out_file)
    elif fmt == "png":
        from bot.admin.charts import report_png

        target = out_file or Path("funnel.png")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(report_png(report, lang=lang, title=_title(campaign, owner)))
        out.print(f"[green]Charts written[/green] to {target}")
    else:
        _print_tables(report, by, lang)


def _title(campaign: str | None, owner: str | None) -> str:
    if campaign:
        return f"Campagne {campaign}"
    if owner:
        return f"Organisatie {owner}"
    return "Alle campagnes"


def _print_tables(report: Report, by: str | None, lang: str) -> None:
    from bot.analytics import STAGE_LABELS, cell

    labels = STAGE_LABELS.get(lang, STAGE_LABELS["nl"])
    if by:
        table = Table(by, *(labels[s] for s in report.stage_names), title=f"Funnel per {by}")
        for value, counts in report.breakdowns[by]:
            table.add_row(value, *(cell(n) for n in counts))
        out.print(table)
        return
    funnel = Table("stage", "people", "% of entries", title="Funnel (k ≥ 5: '<5' is hidden)")
    first = report.entries
    for name, n in report.stages:
        pct = f"{100 * n / first:.0f}%" if n is not None and first else ""
        funnel.add_row(labels[name], cell(n), pct)
    out.print(funnel)
    drop = Table("#", "question", "shown", "answered", "skipped", "left here", title="Per question")
    for q in report.drop_off:
        drop.add_row(
            str(q.position),
            q.label,
            cell(q.shown),
            cell(q.answered),
            cell(q.skipped),
            cell(q.left),
        )
    out.print(drop)
    mix = Table("profile", "people", title="Profile mix")
    for _, name, n in report.profiles:
        mix.add_row(name, cell(n))
    out.print(mix)


@app.command("team")
def team_cmd(
    campaign: str = typer.Argument(..., help="Company campaign code"),
    fmt: str = typer.Option("table", "--format", help="table or json"),
    lang: str = typer.Option("nl", "--lang"),
) -> None:
    """Employee volunteering: the team's profile mix and causes (aggregates, k ≥ 5)."""
    from bot.analytics import cell, team_report
    from bot.config import get_settings
    from bot.store.campaigns import get_campaign

    async def work(session: AsyncSession) -> Any:
        found = await get_campaign(session, campaign)
        if found is None:
            raise fail(f"no campaign with code {campaign!r}")
        if not found.company:
            raise fail(f"campaign {found.code} is not a company campaign (create with --company)")
        return await team_report(session, found.code, found.name, lang=lang)

    report = run_db(get_settings(), work)
    if fmt == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    out.print(
        f"[bold]{report.name}[/bold]: {cell(report.entries)} started, "
        f"{cell(report.completed)} completed (k ≥ 5: '<5' is hidden)"
    )
    mix = Table("profile", "people", title="Profile mix")
    for _, name, n in report.profiles:
        mix.add_row(name, cell(n))
    out.print(mix)
    causes = Table("cause", "people", title="Causes chosen")
    for _, name, n in report.causes:
        causes.add_row(name, cell(n))
    out.print(causes)
