"""Builds the pipeline's interpreter from the settings: spaCy by default, Rasa when
VK_RASA_URL is set. A trained model is loaded once per process and shared."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.nlu.interpreter import NluInterpreter
    from bot.nlu.model import NluModel

log = logging.getLogger(__name__)
_lock = threading.Lock()
_models: dict[tuple[str, str], NluModel] = {}


def load_model(model_dir: Path) -> NluModel | None:
    """The trained model in model_dir (cached per folder and training run); None if absent."""
    from bot.nlu.memory import release_memory
    from bot.nlu.model import ModelMeta, ModelMissing, NluModel

    try:
        meta = ModelMeta.load(model_dir)
    except (ModelMissing, ValueError, TypeError):
        return None
    key = (str(model_dir.resolve()), f"{meta.fingerprint}:{meta.trained_at}")
    with _lock:
        model = _models.get(key)
        if model is None:
            model = NluModel.load(model_dir)
            _models.clear()  # one model per process is enough
            _models[key] = model
            release_memory()  # loading (and start-up work before it) left freed pages behind
    return model


def build_interpreter(settings: Settings) -> NluInterpreter | None:
    """The interpreter hook; None when there is no trained model and no Rasa to ask.

    `serve` and `chat` train the model first (bot/startup.py -> training.ensure_model), so
    None only happens in tests and tools that build a pipeline without preparing it.
    """
    from bot.nlu.backends import NluBackend, RasaBackend, SpacyBackend
    from bot.nlu.interpreter import NluInterpreter
    from bot.nlu.rasa_client import RasaClient

    model = load_model(Path(settings.model_dir))
    backend: NluBackend
    if settings.rasa_url:
        vocabulary = model.entities.vocabulary if model is not None else None
        client = RasaClient(settings.rasa_url, vocabulary, model.matcher if model else None)
        backend = RasaBackend(client, model)
    elif model is not None:
        backend = SpacyBackend(model)
    else:
        log.warning(
            "no NLU model in %s: free text uses keywords, places and the option matcher only",
            settings.model_dir,
        )
        return None
    languages = model.meta.languages if model is not None else ["nl", "en"]
    return NluInterpreter(backend, languages=languages)
