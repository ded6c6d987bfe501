"""Real conversations through the pipeline feed the funnel (the event rows' real shape)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.analytics import Filters, funnel_report
from bot.channels.rest import render
from bot.config import Settings
from bot.pipeline import Inbound, Pipeline
from bot.store.db import session_scope
from tests.walk import next_request


async def walk(pipeline: Pipeline, sender: str, campaign: str, steps: int = 80) -> None:
    """Tap through the whole quiz as a REST client would."""
    result = await pipeline.handle(
        Inbound("rest", sender, payload="/start", meta={"campaign": campaign})
    )
    for _ in range(steps):
        body = next_request(render(result.replies, sender))
        if body is None:
            return
        message = body.get("message") or ""
        location = (body.get("metadata") or {}).get("location")
        if location:
            inbound = Inbound("rest", sender, location=(location["lat"], location["lon"]))
        elif message.startswith("/"):
            inbound = Inbound("rest", sender, payload=message)
        else:
            inbound = Inbound("rest", sender, text=message)
        result = await pipeline.handle(inbound)
    raise AssertionError("quiz did not finish")


async def test_walked_conversations_are_counted(settings: Settings, db_url: str) -> None:
    pipeline = Pipeline(settings)
    for i in range(5):
        await walk(pipeline, f"done-{i}", "radio")
    for i in range(5):
        await pipeline.handle(Inbound("rest", f"consent-{i}", text="KRACHT"))
        await pipeline.handle(Inbound("rest", f"consent-{i}", payload="/consent/yes"))
    for i in range(3):
        await pipeline.handle(Inbound("rest", f"lurker-{i}", text="hoi"))
    async with session_scope(db_url) as s:
        radio = await funnel_report(s, Filters(campaigns=("radio",)))
        everyone = await funnel_report(s, Filters())
    stages = dict(radio.stages)
    assert stages["entries"] == 5 and stages["completed"] == 5
    assert everyone.entries == 13 and dict(everyone.stages)["consent"] == 10
    first = everyone.drop_off[0]
    assert first.shown == 10 and first.answered == 5 and first.left == 5
    assert dict(radio.breakdowns["channel"])["rest"][0] == 5
    assert sum(n or 0 for _, _, n in radio.profiles) in (0, 5)  # one profile of 5, or hidden
    regions = dict(radio.breakdowns["region"])
    assert regions.get("Utrecht", [None])[0] == 5  # the place answer's province


def test_report_cli_formats(
    settings: Settings, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report funnel` in every format on the same data."""
    import asyncio

    from bot.cli import app
    from bot.config import get_settings
    from bot.store.db import dispose_all
    from tests.bot.analytics_data import radio_cohorts, write

    async def seed() -> None:
        await write(db_url, *radio_cohorts())
        await dispose_all()  # the CLI below runs its own event loop

    asyncio.run(seed())
    monkeypatch.setenv("VK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        cli = CliRunner()
        out = cli.invoke(app, ["report", "funnel", "--campaign", "radio", "--format", "json"])
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        assert data["stages"][0] == {"name": "entries", "count": 34, "suppressed": False}
        csv_out = cli.invoke(app, ["report", "funnel", "--format", "csv", "--by", "week"])
        assert csv_out.exit_code == 0 and csv_out.stdout.startswith("week,entries,consent")
        table = cli.invoke(app, ["report", "funnel", "--campaign", "radio"])
        assert table.exit_code == 0 and "<5" in table.stdout and "34" in table.stdout
        png = tmp_path / "funnel.png"
        shot = cli.invoke(
            app, ["report", "funnel", "--campaign", "radio", "--format", "png", "--out", str(png)]
        )
        assert shot.exit_code == 0, shot.output
        from PIL import Image

        with Image.open(png) as img:
            assert img.format == "PNG" and img.width >= 1000 and img.height >= 1000
        bad = cli.invoke(app, ["report", "funnel", "--format", "xml"])
        assert bad.exit_code == 1 and "--format" in bad.output
        # Employee volunteering: a company campaign's team report.
        company = ["campaign", "create", "radio", "--name", "Radio BV", "--keyword", "kracht"]
        assert cli.invoke(app, [*company, "--company"]).exit_code == 0
        team = cli.invoke(app, ["report", "team", "radio", "--format", "json"])
        assert team.exit_code == 0, team.output
        team_data = json.loads(team.stdout)
        assert team_data["entries"] == 34 and team_data["completed"] == 16
        assert {p["id"]: p["count"] for p in team_data["profiles"]}["verbinder"] == 8
        missing = cli.invoke(app, ["report", "funnel", "--campaign", "nope", "--format", "json"])
        assert missing.exit_code == 0 and "not a registered campaign" in missing.stderr
        assert json.loads(missing.stdout)["stages"][0]["count"] is None
    finally:
        get_settings.cache_clear()
