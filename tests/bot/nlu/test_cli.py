"""`vrijwilligerskracht nlu train|parse|eval` through the real command line app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import get_settings
from bot.nlu.training import is_stale
from tests.bot.nlu.conftest import NLU_DATA

runner = CliRunner()


@pytest.fixture
def model_env(nlu_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("VK_MODEL_DIR", str(nlu_model_dir))
    monkeypatch.setenv("VK_NLU_DATA_DIR", str(NLU_DATA))
    get_settings.cache_clear()
    yield nlu_model_dir
    get_settings.cache_clear()


def test_parse_json_lines(model_env: Path) -> None:
    lines = [
        {"text": "wacht, terug", "lang": "nl"},
        {
            "text": "de tweede",
            "options": [{"id": "x", "label": "Een"}, {"id": "y", "label": "Twee"}],
        },
        {"text": "ik woon in Den Bosch"},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\n"
    result = runner.invoke(app, ["nlu", "parse"], input=stdin)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["intent"]["name"] == "back"
    assert out[1]["option"] == {"id": "y", "confidence": 1.0}
    assert {"entity": "place", "value": "'s-Hertogenbosch", "start": 11, "end": 20} in out[2][
        "entities"
    ]


def test_parse_reports_bad_lines_and_goes_on(model_env: Path) -> None:
    result = runner.invoke(app, ["nlu", "parse"], input='not json\n{"text": "hoi"}\n')
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert "error" in out[0] and "line 1" in out[0]["error"]
    assert out[1]["intent"]["name"] == "greet"


def test_eval_json(model_env: Path) -> None:
    result = runner.invoke(app, ["nlu", "eval", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["backend"] == "spacy"
    assert report["accuracy"] > 0.9
    assert set(report) >= {"macro_f1", "intents", "confusion", "entity_f1", "parses_per_second"}
    assert report["intents"]["back"]["f1"] > 0.8


def test_eval_table(model_env: Path) -> None:
    result = runner.invoke(app, ["nlu", "eval"])
    assert result.exit_code == 0, result.output
    assert "Confusion" in result.stdout and "parses/s" in result.stdout


def test_rasa_backend_unreachable_is_a_clear_error(model_env: Path) -> None:
    result = runner.invoke(
        app, ["nlu", "eval", "--backend", "rasa", "--rasa-url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "make rasa" in result.output


def test_train_writes_a_fresh_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "nlu_data"
    (data / "train").mkdir(parents=True)
    for lang, words in (("nl", ["hoi", "hallo", "terug", "vorige"]), ("en", ["hi", "back"])):
        body = "\n".join(
            [
                'version: "3.1"',
                "nlu:",
                "- intent: greet",
                "  examples: |",
                *[f"    - {w}" for w in words[: len(words) // 2]],
                "- intent: back",
                "  examples: |",
                *[f"    - {w}" for w in words[len(words) // 2 :]],
            ]
        )
        (data / "train" / f"{lang}.yml").write_text(body + "\n", encoding="utf-8")
    out = tmp_path / "model"
    assert is_stale(data, out)
    result = runner.invoke(
        app, ["nlu", "train", "--data", str(data), "--out", str(out), "--arch", "bow"]
    )
    assert result.exit_code == 0, result.output
    assert "Trained" in result.output
    assert not is_stale(data, out)
    (data / "train" / "nl.yml").write_text(
        (data / "train" / "nl.yml").read_text() + "    - hee\n", encoding="utf-8"
    )
    assert is_stale(data, out)


def test_train_rejects_unknown_architecture() -> None:
    result = runner.invoke(app, ["nlu", "train", "--arch", "transformer"])
    assert result.exit_code == 1
