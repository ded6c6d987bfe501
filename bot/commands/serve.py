"""`vrijwilligerskracht serve`: migrate, load demo data if empty, run the HTTP service."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bot.config import Settings


def enabled_channels(settings: Settings) -> list[str]:
    """Channels this configuration serves (bot.channels.registry: REST and the widget always)."""
    from bot.channels import registry

    names = [spec.name for spec in registry.configured(settings)]
    if settings.telegram_polling and "telegram" in names:
        names[names.index("telegram")] = "telegram (polling)"
    return names


def command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request."),
    telegram_polling: bool = typer.Option(
        False, "--telegram-polling", help="Fetch Telegram updates (no public webhook URL needed)."
    ),
) -> None:
    """Run the chatbot service (REST channel, widget, health, metrics, configured channels)."""
    from rich.console import Console

    from bot import http_server
    from bot.channels.email.send import describe as mail_route
    from bot.config import get_settings
    from bot.startup import (
        prepare_beside_workers,
        prepared_flag,
        start_report_refresher,
        upgrade_if_needed,
    )
    from bot.store.db import is_sqlite

    console = Console(stderr=True, soft_wrap=True)
    settings = get_settings()
    if telegram_polling:
        if not settings.telegram_token or workers > 1:
            console.print("[red]--telegram-polling needs VK_TELEGRAM_TOKEN and one worker.[/red]")
            raise typer.Exit(1)
        settings = settings.model_copy(update={"telegram_polling": True})
    try:
        upgrade_if_needed(settings.database_url)
    except Exception as exc:
        console.print(f"[red]Cannot prepare the database:[/red] {exc}")
        raise typer.Exit(1) from exc
    state_dir = Path(settings.model_dir).parent
    note = "demo organisations and the language model load in the background"

    base = f"http://{host}:{port}"
    db = "SQLite" if is_sqlite(settings.database_url) else "Postgres"
    console.print(
        f"[bold green]Vrijwilligerskracht[/bold green] on {base}  ({db}, {workers} worker(s))"
    )
    if note:
        console.print(f"  {note}")
    console.print(f"  open      {base}/            (demo page with the chat widget)")
    console.print(f"  REST      POST {base}/webhooks/rest/webhook")
    console.print(
        f"            curl -s {base}/webhooks/rest/webhook "
        '-d \'{"sender": "me", "message": "/start"}\''
    )
    console.print(f"  health    {base}/healthz   ready {base}/readyz   metrics {base}/metrics")
    console.print(f"  channels  {', '.join(enabled_channels(settings))}")
    console.print(f"  e-mail    {mail_route(settings)}")  # SMTP, or .eml files in var/mail

    if workers > 1:
        # Every worker writes its metrics here; /metrics adds them up.
        metrics_dir = state_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        flag = prepared_flag(state_dir / f"serve-{os.getpid()}")

        def beside() -> None:
            # Once, beside the workers: they answer now and load the model when it is ready.
            prepare_beside_workers(settings, flag)
            start_report_refresher(settings)  # report counters follow the events

        from bot import supervisor

        supervisor.run(host, port, workers, access_log, beside)
        return
    from bot.app import create_app

    start_report_refresher(settings)
    http_server.run(
        create_app(settings, prepare_in_background=True),
        host=host,
        port=port,
        access_log=access_log,
        log_level="warning",
    )
