"""One trained NLU model per test session (trained from the real nlu_data/ into a tmp dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ROOT
from bot.nlu.model import NluModel
from bot.nlu.training import train_model

NLU_DATA = ROOT / "nlu_data"


@pytest.fixture(scope="session")
def nlu_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nlu") / "model"
    train_model(NLU_DATA, out)
    return out


@pytest.fixture(scope="session")
def nlu_model(nlu_model_dir: Path) -> NluModel:
    return NluModel.load(nlu_model_dir)
