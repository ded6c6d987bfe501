"""`vrijwilligerskracht telegram set-webhook|delete-webhook|info`: connect the bot to Telegram."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from bot.config import Settings

app = typer.Typer(no_args_is_help=True)

WEBHOOK_PATH = "/telegram/webhook"


def webhook_url(given: str | None, settings: Settings) -> str:
    """The full webhook URL: a base URL gets `/telegram/webhook` appended."""
    url = (given or settings.public_url).rstrip("/")
    if not url.endswith(WEBHOOK_PATH):
        url += WEBHOOK_PATH
    return url


def _settings() -> Settings:
    from rich.console import Console

    from bot.config import get_settings

    settings = get_settings()
    if not settings.telegram_token:
        Console(stderr=True).print(
            "[red]VK_TELEGRAM_TOKEN is not set.[/red] Create a bot with @BotFather and put its "
            "token in VK_TELEGRAM_TOKEN."
        )
        raise typer.Exit(1)
    return settings


def _run(settings: Settings, work: Any) -> Any:
    """Run `work(bot)` with an initialised bot; Telegram's errors become a clear exit 1."""
    from rich.console import Console
    from telegram.error import TelegramError

    from bot.channels.telegram.send import build_bot

    async def main() -> Any:
        async with build_bot(settings) as bot:
            return await work(bot)

    try:
        return asyncio.run(main())
    except TelegramError as exc:
        Console(stderr=True).print(f"[red]Telegram said:[/red] {exc.message}")
        raise typer.Exit(1) from exc


@app.command("set-webhook")
def set_webhook(
    url: str = typer.Argument(
        None, help="Public HTTPS URL of this server (default: VK_PUBLIC_URL)."
    ),
    drop_pending: bool = typer.Option(
        False, "--drop-pending", help="Forget updates Telegram is still holding."
    ),
) -> None:
    """Point Telegram at POST /telegram/webhook, with the secret token, and set the menu."""
    from rich.console import Console

    from bot.channels.telegram.inbound import ALLOWED_UPDATES, MENU, webhook_secret

    settings = _settings()
    full = webhook_url(url, settings)
    if not full.startswith("https://"):
        Console(stderr=True).print(
            f"[red]Telegram only calls HTTPS webhooks[/red] ({full}). Use a public https:// URL, "
            "or run `vrijwilligerskracht serve --telegram-polling` on a machine without one."
        )
        raise typer.Exit(1)

    async def work(bot: Any) -> str:
        from telegram import BotCommand

        await bot.set_webhook(
            url=full,
            secret_token=webhook_secret(settings),
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=drop_pending,
            max_connections=40,
        )
        for lang in (None, "nl", "en"):
            commands = [BotCommand(c, d) for c, d in MENU[lang or "nl"]]
            await bot.set_my_commands(commands, language_code=lang)
        return str(bot.username)

    username = _run(settings, work)
    console = Console()
    console.print(f"[green]Webhook set[/green] for @{username}: {full}")
    console.print("  Telegram sends the secret token in X-Telegram-Bot-Api-Secret-Token.")
    console.print("  Command menu set (Dutch, English).")


@app.command("delete-webhook")
def delete_webhook() -> None:
    """Stop webhook delivery (for example before using `serve --telegram-polling`)."""
    from rich.console import Console

    settings = _settings()

    async def work(bot: Any) -> None:
        await bot.delete_webhook()

    _run(settings, work)
    Console().print("[green]Webhook removed.[/green]")


@app.command("info")
def info() -> None:
    """Show the bot's name and where Telegram delivers its updates."""
    from rich.console import Console

    settings = _settings()

    async def work(bot: Any) -> tuple[str, Any]:
        return str(bot.username), await bot.get_webhook_info()

    username, hook = _run(settings, work)
    console = Console()
    console.print(f"bot       @{username}")
    console.print(f"webhook   {hook.url or '(none: polling)'}")
    console.print(f"pending   {hook.pending_update_count} update(s)")
    if hook.last_error_message:
        console.print(f"[yellow]last error[/yellow]  {hook.last_error_message}")
