"""`vrijwilligerskracht geo resolve` as in the contract."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


def test_resolve_json() -> None:
    result = runner.invoke(app, ["geo", "resolve", "3511 AB", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"lat", "lon", "place", "municipality", "postcode"} <= set(data)
    assert data["place"] == "Utrecht" and data["postcode"] == "3511AB"


def test_resolve_alias_and_typo() -> None:
    for text, place in (("Den Bosch", "'s-Hertogenbosch"), ("Amersfort", "Amersfoort")):
        result = runner.invoke(app, ["geo", "resolve", text, "--json"])
        assert result.exit_code == 0
        assert json.loads(result.stdout)["place"] == place


def test_unknown_exits_1_with_suggestions() -> None:
    result = runner.invoke(app, ["geo", "resolve", "qwerty", "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "unknown place" in result.stderr and "Weert" in result.stderr
