"""`vrijwilligerskracht quiz validate|profiles|simulate` through the real command line app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.content import load_quiz
from tests.quiz.fixtures.content import Parts, file_name, write_quiz

runner = CliRunner()


def test_validate_shipped_content() -> None:
    result = runner.invoke(app, ["quiz", "validate"])
    assert result.exit_code == 0, result.output
    assert "OK vrijwilligerskracht" in result.output
    assert "7 profiles" in result.output
    assert "5 scored + 7 practical questions" in result.output


def test_validate_accepts_a_language_file_or_folder(tmp_path: Path) -> None:
    write_quiz(tmp_path)
    for target in (tmp_path, tmp_path / file_name("en"), tmp_path / file_name("structure")):
        result = runner.invoke(app, ["quiz", "validate", str(target)])
        assert result.exit_code == 0, result.output


def test_validate_reports_file_path_and_problem(tmp_path: Path) -> None:
    def break_it(p: Parts) -> None:
        p["en"]["questions"]["team"]["options"]["alone"]["title"] = "All on my own, thank you"
        del p["nl"]["questions"]["motive"]["why"]

    write_quiz(tmp_path, break_it)
    result = runner.invoke(app, ["quiz", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        f"{tmp_path / file_name('en')}: questions.team.options.alone.title: "
        "title 'All on my own, thank you' has 24 characters; at most 20"
    ) in result.output
    assert f"{tmp_path / file_name('nl')}: questions.motive.why: missing translation" in (
        result.output
    )
    assert "2 problem(s)" in result.output


def test_validate_json(tmp_path: Path) -> None:
    write_quiz(
        tmp_path,
        lambda p: p["structure"]["profiles"][0]["activities"].update(fun=1),
    )
    result = runner.invoke(app, ["quiz", "validate", str(tmp_path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["errors"] == [
        {
            "file": str(tmp_path / file_name("structure")),
            "path": "profiles[0].activities.fun",
            "message": "unknown dimension 'fun' (known: hands_on, social, organising, teaching, "
            "creative, expert, caring, outdoor, digital)",
        }
    ]
    good = runner.invoke(app, ["quiz", "validate", "--json"])
    assert good.exit_code == 0
    summary = json.loads(good.stdout)
    assert summary["ok"] is True
    assert summary["quizzes"][0]["scored_questions"] == 5
    assert set(summary["quizzes"][0]["estimated_minutes"]) == {"nl", "en"}


def test_validate_malformed_yaml(tmp_path: Path) -> None:
    write_quiz(tmp_path, raw={"en": "language: en\nui: {welcome: 'Hi'\n"})
    result = runner.invoke(app, ["quiz", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / file_name('en')}: line " in result.output
    assert "malformed YAML" in result.output


def test_validate_orphan_language_file_and_missing_path(tmp_path: Path) -> None:
    write_quiz(tmp_path, omit=("structure",))
    result = runner.invoke(app, ["quiz", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert f"no structure file {file_name('structure')}" in result.output
    missing = runner.invoke(app, ["quiz", "validate", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1
    assert "no such file or folder" in missing.output


def test_validate_balance_flag() -> None:
    result = runner.invoke(app, ["quiz", "validate", "--balance"])
    assert result.exit_code == 0, result.output


def test_profiles_json_lists_activities_and_motives() -> None:
    result = runner.invoke(app, ["quiz", "profiles", "--json"])
    assert result.exit_code == 0, result.output
    profiles = json.loads(result.stdout)
    assert [p["id"] for p in profiles][:3] == ["verbinder", "aanpakker", "organisator"]
    for p in profiles:
        assert {"id", "name", "tagline", "description", "activities", "motives"} <= set(p)
        assert p["activities"] and all(isinstance(v, float) for v in p["activities"].values())
    assert profiles[0]["name"] == "De Verbinder"


def test_profiles_in_english_and_as_a_table() -> None:
    english = json.loads(runner.invoke(app, ["quiz", "profiles", "--json", "--lang", "en"]).stdout)
    assert english[0]["name"] == "The Connector"
    table = runner.invoke(app, ["quiz", "profiles"])
    assert table.exit_code == 0
    assert "aanpakker" in table.output
    bad = runner.invoke(app, ["quiz", "profiles", "--lang", "fr"])
    assert bad.exit_code == 2


def test_simulate_json_shares() -> None:
    result = runner.invoke(app, ["quiz", "simulate", "--n", "5000", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    shares = data["profiles"]
    assert len(shares) == 7
    assert abs(sum(shares.values()) - 1.0) < 1e-3
    assert all(0.05 <= s <= 0.30 for s in shares.values())
    again = json.loads(
        runner.invoke(app, ["quiz", "simulate", "--n", "5000", "--seed", "2", "--json"]).stdout
    )
    assert again == data


def test_simulate_table_and_check() -> None:
    result = runner.invoke(app, ["quiz", "simulate", "--n", "3000", "--check"])
    assert result.exit_code == 0, result.output
    assert "creatieveling" in result.output
    assert "ok" in result.output


def test_simulate_another_content_folder(tmp_path: Path) -> None:
    write_quiz(tmp_path)
    result = runner.invoke(
        app, ["quiz", "simulate", "--n", "1000", "--json", "--path", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["profiles"]) == {p.id for p in load_quiz().profiles}
