"""The `vrijwilligerskracht` command line: one root, sub-command groups in `bot.commands`."""

from __future__ import annotations

import typer

from bot.commands import (
    campaign,
    chat,
    db,
    geo,
    jobs,
    leads,
    nlu,
    orgs,
    privacy,
    quiz,
    recommend,
    report,
    serve,
    telegram,
)

app = typer.Typer(
    help="Vrijwilligerskracht: ontdek je vrijwilligerskracht — quiz, server and tools.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("serve")(serve.command)
app.command("chat")(chat.command)
app.command("recommend")(recommend.command)
app.add_typer(quiz.app, name="quiz", help="Validate, list and simulate quiz content.")
app.add_typer(nlu.app, name="nlu", help="Train, run and evaluate the language understanding.")
app.add_typer(orgs.app, name="orgs", help="Import, generate and list organisations and vacancies.")
app.add_typer(geo.app, name="geo", help="Resolve postcodes and places.")
app.add_typer(campaign.app, name="campaign", help="Campaign entry points: links and QR codes.")
app.add_typer(report.app, name="report", help="Funnel and campaign reports.")
app.add_typer(db.app, name="db", help="Database migrations.")
app.add_typer(privacy.app, name="privacy", help="Personal data housekeeping.")
app.add_typer(telegram.app, name="telegram", help="Connect the Telegram bot: webhook and menu.")
app.add_typer(jobs.app, name="jobs", help="Durable timed jobs: run what is due, list them.")
app.add_typer(leads.app, name="leads", help="The hand-off of leads to organisations.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
