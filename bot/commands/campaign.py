"""`vrijwilligerskracht campaign create|list|links|qr|token ...`"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.campaigns import Channel
    from bot.config import Settings

app = typer.Typer(help="Campaign entry points: links and QR codes.", no_args_is_help=True)
token_app = typer.Typer(help="Dashboard tokens for organisations.", no_args_is_help=True)
app.add_typer(token_app, name="token")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def fail(message: str) -> typer.Exit:
    err.print(f"[red]Error:[/red] {message}")
    return typer.Exit(1)


def run_db(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on an up-to-date database.

    A private engine, closed afterwards: the command's event loop owns its connections and
    leaves the shared engines of `bot.store.db` (and whoever else uses them) alone.
    """
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from bot.startup import upgrade_if_needed
    from bot.store.db import async_url, is_sqlite

    upgrade_if_needed(settings.database_url)  # Alembic only when the schema is behind
    url = async_url(settings.database_url)

    async def main() -> T:
        args = {"connect_args": {"timeout": 30}} if is_sqlite(url) else {}
        engine = create_async_engine(url, **args)
        try:
            async with (
                async_sessionmaker(engine, expire_on_commit=False)() as session,
                session.begin(),
            ):
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date as YYYY-MM-DD, not {value!r}") from None


@app.command("create")
def create_cmd(
    code: str = typer.Argument(..., help="Code in links: 1-64 of A-Z a-z 0-9 _ -"),
    name: str = typer.Option(..., "--name", help="Name people and reports see"),
    keyword: str = typer.Option(..., "--keyword", help="Spoken keyword for radio, e.g. KRACHT"),
    owner: str = typer.Option("national", "--owner", help="'national' or an organisation id"),
    start: str | None = typer.Option(None, "--start", help="First day (YYYY-MM-DD)"),
    end: str | None = typer.Option(None, "--end", help="Last day (YYYY-MM-DD)"),
    quiz: str | None = typer.Option(None, "--quiz", help="Quiz id (default: the main quiz)"),
    region: str | None = typer.Option(None, "--region", help="Province the campaign runs in"),
    company: bool = typer.Option(False, "--company", help="Employee volunteering (team report)"),
    as_json: bool = typer.Option(False, "--json", help="Print the campaign and links as JSON"),
) -> None:
    """Create a campaign: its code, keyword and campaign weeks."""
    from bot.campaigns import CampaignError, campaign_links, validate_code, validate_keyword
    from bot.config import get_settings
    from bot.store.campaigns import Campaign, CampaignExists, add_campaign

    settings = get_settings()
    try:
        validate_code(code)
        word = validate_keyword(keyword)
    except CampaignError as exc:
        raise fail(str(exc)) from None
    starts_on, ends_on = parse_day(start, "--start"), parse_day(end, "--end")
    if starts_on and ends_on and ends_on < starts_on:
        raise fail("--end is before --start")
    if not name.strip():
        raise fail("--name must not be empty")
    if quiz is not None:
        from bot.content import load_quizzes

        served = load_quizzes(settings.content_dir)
        if quiz not in served:
            raise fail(f"--quiz {quiz!r} is not served here; quizzes: {', '.join(served)}")
    row = Campaign(
        code=code,
        name=name.strip(),
        owner=owner.strip() or "national",
        keyword=word,
        starts_on=starts_on,
        ends_on=ends_on,
        quiz_id=quiz,
        region=region,
        company=company,
    )

    async def work(session: AsyncSession) -> None:
        await add_campaign(session, row)

    try:
        run_db(settings, work)
    except CampaignExists as exc:
        raise fail(str(exc)) from None
    links = campaign_links(settings, code, word)
    if as_json:
        out.print_json(data={**_campaign_dict(row), "links": links.to_dict()})
        return
    out.print(f"[green]Campaign {code} created[/green]: {row.name} (keyword {word})")
    _print_links(links)


def _campaign_dict(c: Any) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "owner": c.owner,
        "keyword": c.keyword,
        "start": c.starts_on.isoformat() if c.starts_on else None,
        "end": c.ends_on.isoformat() if c.ends_on else None,
        "quiz": c.quiz_id,
        "region": c.region,
        "company": bool(c.company),
    }


def _print_links(links: Any) -> None:
    table = Table(show_header=True, header_style="bold")
    table.add_column("channel")
    table.add_column("link", overflow="fold")
    for channel, link in links.to_dict().items():
        table.add_row(channel, link or "[yellow]not configured[/yellow]")
    out.print(table)
    for note in links.missing:
        err.print(f"[yellow]Note:[/yellow] {note}")


def _load(settings: Settings, code: str) -> Any:
    from bot.store.campaigns import get_campaign

    async def work(session: AsyncSession) -> Any:
        return await get_campaign(session, code)

    found = run_db(settings, work)
    if found is None:
        raise fail(f"no campaign with code {code!r} (see `vrijwilligerskracht campaign list`)")
    return found


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """All campaigns."""
    from bot.config import get_settings
    from bot.store.campaigns import list_campaigns

    rows = run_db(get_settings(), list_campaigns)
    if as_json:
        out.print_json(data=[_campaign_dict(c) for c in rows])
        return
    table = Table("code", "name", "owner", "keyword", "weeks", "company")
    for c in rows:
        weeks = f"{c.starts_on or '…'} – {c.ends_on or '…'}"
        table.add_row(c.code, c.name, c.owner, c.keyword or "", weeks, "yes" if c.company else "")
    out.print(table)


@app.command("links")
def links_cmd(
    code: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help='{"telegram", "whatsapp", "web"}'),
    lang: str = typer.Option("nl", "--lang", help="Language of the WhatsApp text (nl, en)"),
) -> None:
    """Every entry point of a campaign: Telegram, WhatsApp and web links."""
    from bot.campaigns import campaign_links
    from bot.config import get_settings

    settings = get_settings()
    c = _load(settings, code)
    links = campaign_links(settings, c.code, c.keyword, lang)
    if as_json:
        print(json.dumps(links.to_dict(), ensure_ascii=False))
        for note in links.missing:
            err.print(f"[yellow]Note:[/yellow] {note}")
        return
    out.print(f"[bold]{c.name}[/bold] ({c.code}, keyword {c.keyword})")
    _print_links(links)


@app.command("qr")
def qr_cmd(
    code: str = typer.Argument(...),
    fmt: str = typer.Option("svg", "--format", help="svg, png or pdf"),
    out_file: Path | None = typer.Option(None, "--out", help="File (default CODE-CHANNEL.FMT)"),
    channel: str = typer.Option("web", "--channel", help="web, telegram or whatsapp"),
) -> None:
    """A QR code of one entry point, for posters and flyers."""
    from bot.campaigns import CHANNELS, QR_FORMATS, CampaignError, campaign_links, write_qr
    from bot.config import get_settings

    if fmt not in QR_FORMATS:
        raise fail(f"--format must be one of {', '.join(QR_FORMATS)}")
    if channel not in CHANNELS:
        raise fail(f"--channel must be one of {', '.join(CHANNELS)}")
    settings = get_settings()
    c = _load(settings, code)
    try:
        link = campaign_links(settings, c.code, c.keyword).get(cast("Channel", channel))
    except CampaignError as exc:
        raise fail(str(exc)) from None
    target = out_file or Path(f"{c.code}-{channel}.{fmt}")
    write_qr(link, target, fmt)
    out.print(f"[green]QR code written[/green] to {target} ({channel}: {link})", soft_wrap=True)


# ---------------------------------------------------------------------------- tokens


@token_app.command("create")
def token_create(
    owner: str = typer.Argument(..., help="Organisation id (as in campaign --owner)"),
    label: str = typer.Option("", "--label", help="Who holds it, for your own records"),
) -> None:
    """A dashboard token that sees only OWNER's campaigns. Shown once; store it safely."""
    from bot.config import get_settings
    from bot.store.campaigns import create_token

    async def work(session: AsyncSession) -> tuple[str, int]:
        return await create_token(session, owner.strip(), label)

    if not owner.strip():
        raise fail("OWNER must not be empty")
    token, token_id = run_db(get_settings(), work)
    err.print(f"Token {token_id} for {owner} (shown once, only its hash is stored):")
    print(token)


@token_app.command("list")
def token_list() -> None:
    """Dashboard tokens (never their secret)."""
    from bot.config import get_settings
    from bot.store.campaigns import list_tokens

    table = Table("id", "owner", "label", "created", "revoked")
    for t in run_db(get_settings(), list_tokens):
        table.add_row(
            str(t.id),
            t.owner,
            t.label,
            f"{t.created_at:%Y-%m-%d}",
            f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else "",
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(...)) -> None:
    """Revoke a dashboard token at once."""
    from bot.config import get_settings
    from bot.store.campaigns import revoke_token

    async def work(session: AsyncSession) -> bool:
        return await revoke_token(session, token_id)

    if not run_db(get_settings(), work):
        raise fail(f"no active token with id {token_id}")
    out.print(f"[green]Token {token_id} revoked[/green]")
