"""Rasa as the second backend: its answer mapped onto our contract, and the Rasa project kept in
step with nlu_data/ and stories/. A live server is used when VK_TEST_RASA_URL points at one
(`make rasa`); the CI runs `rasa data validate` itself (scripts/rasa_validate.sh)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from bot.config import ROOT
from bot.nlu.model import NluModel
from bot.nlu.options import OptionSpec
from bot.nlu.rasa_client import RasaClient, RasaError, map_parse

# An answer as `rasa run --enable-api` gives it (Rasa 3.6, DIET + regex + synonyms).
RASA_ANSWER: dict[str, Any] = {
    "text": "ik woon in 3511 ab en heb 2 uurtjes op zaterdag",
    "intent": {"name": "choose", "confidence": 0.98},
    "entities": [
        {"entity": "postcode", "start": 11, "end": 18, "value": "3511 ab", "extractor": "DIET"},
        {
            "entity": "postcode",
            "start": 11,
            "end": 18,
            "value": "3511 ab",
            "extractor": "RegexEntityExtractor",
        },
        {"entity": "hours", "start": 26, "end": 35, "value": "2 uurtjes", "extractor": "DIET"},
        {"entity": "weekday", "start": 39, "end": 47, "value": "saturday", "extractor": "DIET"},
    ],
    "text_tokens": [[0, 2]],
    "intent_ranking": [
        {"name": "choose", "confidence": 0.98},
        {"name": "help", "confidence": 0.01},
    ],
    "response_selector": {},
}


def test_rasa_answer_maps_onto_the_contract(nlu_model: NluModel) -> None:
    result = map_parse(RASA_ANSWER, RASA_ANSWER["text"], nlu_model.entities.vocabulary)
    assert result["intent"] == {"name": "choose", "confidence": 0.98}
    assert result["intent_ranking"][1] == {"name": "help", "confidence": 0.01}
    assert result["entities"] == [
        {"entity": "postcode", "value": "3511AB", "start": 11, "end": 18},
        {"entity": "hours", "value": 2, "start": 26, "end": 35},
        {"entity": "weekday", "value": "saturday", "start": 39, "end": 47},
    ]
    assert result["option"] is None
    assert "text_tokens" not in result


def test_unreachable_rasa_is_a_clear_error() -> None:
    client = RasaClient("http://127.0.0.1:9", timeout=1.0)
    with pytest.raises(RasaError, match=r"127\.0\.0\.1:9"):
        client.parse_sync("hoi")
    client.close()


def test_domain_matches_stories_and_nlu_data() -> None:
    """deploy/rasa/domain.yml is generated; a story with a new action needs a regeneration."""
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "rasa_domain.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.skipif(not os.environ.get("VK_TEST_RASA_URL"), reason="no Rasa server (make rasa)")
async def test_live_rasa_server(nlu_model: NluModel) -> None:
    client = RasaClient(os.environ["VK_TEST_RASA_URL"], nlu_model.entities.vocabulary)
    try:
        options = [OptionSpec("a", ("Buiten",)), OptionSpec("b", ("Binnen",))]
        result = await client.parse("wacht, terug", "nl", options)
        assert result["intent"]["name"] == "back"
        result = await client.parse("de tweede", "nl", options)
        assert result["option"] == {"id": "b", "confidence": 1.0}
    finally:
        await client.aclose()
