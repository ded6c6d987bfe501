"""`vrijwilligerskracht jobs run --now` and `jobs list --json` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.clock import add_working_days
from bot.config import Settings
from tests.bot.leads import seed
from tests.bot.leads.test_handoff import T0

ROOT = Path(__file__).resolve().parents[3]


def _cli(settings: Settings, mail_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "VK_DATABASE_URL": settings.database_url,
        "VK_MAIL_DIR": str(mail_dir),
        "VK_SMTP_HOST": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_jobs_run_now_delivers_reminds_and_escalates(
    settings: Settings, tmp_path: Path
) -> None:
    await seed.seed_orgs(settings.database_url, T0)
    await seed.add_lead(settings.database_url, T0)
    mail = tmp_path / "mail"

    first = _cli(settings, mail, "jobs", "run", "--now", T0.isoformat(), "--json")
    assert first.returncode == 0, first.stderr
    kinds = [r["kind"] for r in json.loads(first.stdout)["ran"]]
    assert "lead.deliver" in kinds
    pending = json.loads(_cli(settings, mail, "jobs", "list", "--json").stdout)
    assert {"lead.remind", "lead.escalate"} <= {j["kind"] for j in pending}

    second = _cli(settings, mail, "jobs", "run", "--now", add_working_days(T0, 2).isoformat())
    assert second.returncode == 0 and "lead.remind" in second.stdout
    third = _cli(settings, mail, "jobs", "run", "--now", add_working_days(T0, 5).isoformat())
    assert third.returncode == 0 and "lead.escalate" in third.stdout

    # The lead, the reminder and the escalation; and (+3) the volunteer's own follow-up.
    files = sorted(mail.glob("*.eml"))
    assert len(files) == 4
    [followup] = [f for f in files if f.name.endswith("followup-c.eml")]
    assert "sanne@example.org" in followup.read_text()
    [escalation] = [f for f in files if f.name.endswith("escalate.eml")]
    assert seed.CENTRE_EMAIL in escalation.read_text()


def test_jobs_run_rejects_a_bad_moment(settings: Settings, tmp_path: Path) -> None:
    result = _cli(settings, tmp_path, "jobs", "run", "--now", "next tuesday")
    assert result.returncode == 2
