"""`vrijwilligerskracht chat`: the whole quiz in the terminal, through the one pipeline."""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bot.channels.terminal import TerminalView
    from bot.pipeline import Pipeline


def command(
    lang: str = typer.Option("nl", "--lang", help="Language to start in: nl or en."),
    sender: str | None = typer.Option(
        None, "--sender", help="Conversation id to continue (default: your user name)."
    ),
    new: bool = typer.Option(False, "--new", help="Start a fresh conversation."),
    campaign: str | None = typer.Option(None, "--campaign", help="Campaign code to attribute."),
) -> None:
    """Chat with the bot in the terminal. Type a number to pick a choice, or type freely."""
    if lang not in ("nl", "en"):
        typer.echo("--lang must be nl or en", err=True)
        raise typer.Exit(2)
    who = sender or f"{getpass.getuser()}-{uuid.uuid4().hex[:8] if new else 'terminal'}"
    try:
        asyncio.run(_chat(lang, who, campaign))
    except KeyboardInterrupt:
        typer.echo("")


async def _chat(lang: str, sender: str, campaign: str | None) -> None:
    from bot.config import get_settings
    from bot.runtime import build_runtime
    from bot.startup import prepare

    settings = get_settings()
    await prepare(settings, quiet=True)
    runtime = build_runtime(settings, channels=False)
    try:
        await _converse(runtime.pipeline, lang, sender, campaign)
    finally:
        await runtime.stop()


async def _converse(pipeline: Pipeline, lang: str, sender: str, campaign: str | None) -> None:
    from bot.channels.terminal import render, to_payload_or_text
    from bot.pipeline import Inbound

    meta: dict[str, object] = {"lang": lang}
    if campaign:
        meta["campaign"] = campaign
    first = await pipeline.handle(
        Inbound(channel="terminal", sender=sender, text="/start", meta={**meta, "start": True})
    )
    view: TerminalView | None = _show(render(first.replies))
    interactive = sys.stdin.isatty()
    while True:
        try:
            typed = input("> " if interactive else "")
        except EOFError:
            break
        if not typed.strip():
            continue
        if typed.strip().lower() in ("quit", "exit", ":q"):
            break
        if not interactive:
            print(f"> {typed}")
        payload, text = to_payload_or_text(typed, view)
        result = await pipeline.handle(
            Inbound(channel="terminal", sender=sender, text=text, payload=payload, meta=meta)
        )
        view = _show(render(result.replies))


def _show(view: TerminalView) -> TerminalView:
    print("\n".join(view.lines))
    sys.stdout.flush()
    return view
