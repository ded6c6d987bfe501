"""Training the embedded NLU from nlu_data/train into a model folder, in seconds.

The model is rebuilt only when it is missing or when the training data changed (a hash of
nlu_data/train is stored in the model's meta.json): `serve` and `chat` call `ensure_model`.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from spacy.language import Language
from spacy.training import Example as SpacyExample
from spacy.util import fix_random_seed, minibatch

from bot.nlu.data import LANGUAGES, Example, NluData, fingerprint, load_nlu_data
from bot.nlu.entities import Vocabulary
from bot.nlu.langid import LanguageDetector
from bot.nlu.model import (
    LANGID_FILE,
    VOCABULARY_FILE,
    ModelMeta,
    ModelMissing,
    prepare,
)
from bot.nlu.textcat import DEFAULT_ARCHITECTURE, blank_pipeline

if TYPE_CHECKING:
    from bot.config import Settings

Progress = Callable[[str, int, int], None]  # (what, done, total)

EPOCHS = 15
DROPOUT = 0.2
BATCH_SIZE = 32
SEED = 7
# Examples of the other language, mixed into each classifier: people switch languages
# mid-sentence ("ok, next question") and the detector can be wrong on short texts.
MIX_OTHER_LANGUAGE = True


def train_split(data_root: Path) -> Path:
    """nlu_data/train when the data has a held-out split beside it; else the folder itself."""
    sub = data_root / "train"
    return sub if sub.is_dir() else data_root


def heldout_split(data_root: Path) -> Path:
    return data_root / "test"


def train_pipeline(
    lang: str,
    examples: list[Example],
    labels: list[str],
    architecture: str = DEFAULT_ARCHITECTURE,
    epochs: int = EPOCHS,
    seed: int = SEED,
    progress: Progress | None = None,
) -> Language:
    """One language's spaCy pipeline (lemmatizer + intent classifier), trained on examples."""
    fix_random_seed(seed)
    rng = random.Random(seed)
    nlp = blank_pipeline(lang, architecture)
    textcat = nlp.get_pipe("textcat")
    for label in labels:
        textcat.add_label(label)  # type: ignore[attr-defined]
    train = [
        SpacyExample.from_dict(
            nlp.make_doc(prepare(ex.text)),
            {"cats": {label: float(label == ex.intent) for label in labels}},
        )
        for ex in examples
    ]
    optimizer = nlp.initialize(lambda: train)
    for epoch in range(epochs):
        rng.shuffle(train)
        for batch in minibatch(train, size=BATCH_SIZE):
            nlp.update(list(batch), drop=DROPOUT, sgd=optimizer)
        if progress:
            progress(lang, epoch + 1, epochs)
    return nlp


def training_examples(data: NluData, lang: str, mix: bool = MIX_OTHER_LANGUAGE) -> list[Example]:
    own = data.for_lang(lang)
    if not mix:
        return own
    return own + [e for e in data.examples if e.lang != lang]


def train_model(
    data_root: Path,
    model_dir: Path,
    architecture: str = DEFAULT_ARCHITECTURE,
    progress: Progress | None = None,
    epochs: int = EPOCHS,
    mix: bool = MIX_OTHER_LANGUAGE,
) -> ModelMeta:
    """Train every language in the data and write the model folder atomically."""
    started = time.perf_counter()
    source = train_split(data_root)
    data = load_nlu_data([source])
    if not data.examples:
        raise ValueError(f"no training examples in {source}")
    labels = data.intents
    languages = [lang for lang in LANGUAGES if data.for_lang(lang)]
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".nlu-", dir=model_dir.parent))
    try:
        for lang in languages:
            nlp = train_pipeline(
                lang,
                training_examples(data, lang, mix),
                labels,
                architecture,
                epochs,
                SEED,
                progress,
            )
            nlp.to_disk(staging / lang)
        Vocabulary.from_tables(data.vocabulary()).save(staging / VOCABULARY_FILE)
        LanguageDetector.train((e.text, e.lang) for e in data.examples).save(staging / LANGID_FILE)
        meta = ModelMeta(
            fingerprint=fingerprint([source]),
            architecture=architecture,
            languages=languages,
            intents=labels,
            trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            seconds=round(time.perf_counter() - started, 2),
            examples=len(data.examples),
        )
        meta.save(staging)
        if model_dir.exists():
            shutil.rmtree(model_dir)
        staging.rename(model_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return meta


def is_stale(data_root: Path, model_dir: Path) -> bool:
    """True when the model is missing or was trained on other data than nlu_data/ has now."""
    try:
        meta = ModelMeta.load(model_dir)
    except (ModelMissing, ValueError, TypeError):
        return True
    return meta.fingerprint != fingerprint([train_split(data_root)])


def ensure_model_at(data_root: Path, model_dir: Path, progress: Progress | None = None) -> bool:
    """Train when stale; True when it trained. Nothing is downloaded."""
    if not is_stale(data_root, model_dir):
        return False
    train_model(data_root, model_dir, progress=progress)
    return True


def ensure_model(settings: Settings, progress: Progress | None = None) -> bool:
    """The hook `serve` and `chat` call at start (bot/startup.py)."""
    return ensure_model_at(Path(settings.nlu_data_dir), Path(settings.model_dir), progress)
