"""The terminal chat walks the whole quiz through the pipeline to real recommendations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# consent, age (typed numbers are years), the motive and 5 scored questions, yes to nearby
# work, place, every week, hours, when, interest
ANSWERS = ["1", "34"] + ["1"] * 6 + ["ja", "Utrecht", "1", "3", "4", "7"]


@pytest.mark.slow
def test_chat_reaches_a_profile_and_local_recommendations(tmp_path: Path, db_url: str) -> None:
    env = {
        **os.environ,
        "VK_DATABASE_URL": db_url,
        "VK_MODEL_DIR": str(tmp_path / "nlu"),
        "VK_DEMO_COUNT": "800",
    }
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--new"],
        input="\n".join(ANSWERS) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=240,
        check=True,
    ).stdout
    assert "[1/12]" in out and "[12/12]" in out
    assert "Jij bent De " in out, out[-2000:]
    assert "Waarom? Je koos" in out
    assert "km bij je vandaan" in out
    assert "(fictief)" in out, "demo organisations are labelled as fictional"
    assert "Ik wil helpen" in out


def test_chat_rejects_an_unknown_language() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--lang", "fr"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert "nl or en" in done.stderr
