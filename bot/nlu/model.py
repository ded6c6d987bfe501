"""The embedded NLU: a trained model folder, loaded once, parsing text into the contract shape.

Output (ARCHITECTURE.md, "NLU (contract)"), the shape of Rasa's /model/parse plus "option":
{"text", "intent": {"name", "confidence"}, "intent_ranking": [...], "entities": [{"entity",
"value", "start", "end"}], "option": {"id", "confidence"} | null}
and, as an extension, "language": {"name", "confidence"} (the language the text is in).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language

from bot.nlu import textcat as _textcat  # noqa: F401  (registers our factories/architectures)
from bot.nlu.entities import EntityExtractor, PlaceFinder, Vocabulary, default_place_finder
from bot.nlu.langid import LanguageDetector
from bot.nlu.options import OptionMatcher, OptionSpec

META_FILE = "meta.json"
VOCABULARY_FILE = "vocabulary.json"
LANGID_FILE = "langid.json"
FORMAT_VERSION = 1
RANKING_SIZE = 10
# Switch the classifier to the detected language only when detection is this sure.
LANGUAGE_OVERRIDE = 0.9


class ModelMissing(Exception):
    """No trained model in the folder (run `vrijwilligerskracht nlu train`)."""


def prepare(text: str) -> str:
    """What the classifier sees: lower case, single spaces (entities use the original text)."""
    return " ".join(text.lower().split())


@dataclass
class ModelMeta:
    fingerprint: str
    architecture: str
    languages: list[str]
    intents: list[str]
    trained_at: str
    seconds: float
    examples: int
    version: int = FORMAT_VERSION

    def save(self, folder: Path) -> None:
        (folder / META_FILE).write_text(json.dumps(self.__dict__, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> ModelMeta:
        path = folder / META_FILE
        if not path.is_file():
            raise ModelMissing(f"no NLU model in {folder}")
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class NluModel:
    def __init__(
        self,
        pipelines: dict[str, Language],
        vocabulary: Vocabulary,
        detector: LanguageDetector,
        meta: ModelMeta,
        place_finder: PlaceFinder | None = None,
        option_threshold: float | None = None,
    ) -> None:
        self.pipelines = pipelines
        self.meta = meta
        self.detector = detector
        self.entities = EntityExtractor(vocabulary, place_finder)
        self.matcher = OptionMatcher(self.lemmatize)
        if option_threshold is not None:
            self.matcher.threshold = option_threshold
        self.default_lang = "nl" if "nl" in pipelines else next(iter(pipelines))

    @classmethod
    def load(cls, folder: Path, place_finder: PlaceFinder | str | None = "default") -> NluModel:
        meta = ModelMeta.load(folder)
        pipelines = {lang: spacy.load(folder / lang) for lang in meta.languages}
        vocabulary = Vocabulary.load(folder / VOCABULARY_FILE)
        detector = LanguageDetector.load(folder / LANGID_FILE)
        finder = default_place_finder() if place_finder == "default" else place_finder
        return cls(pipelines, vocabulary, detector, meta, finder)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ parsing

    def lemmatize(self, lang: str, toks: tuple[str, ...]) -> tuple[str, ...]:
        nlp = self.pipelines.get(lang) or self.pipelines[self.default_lang]
        lemmatizer = nlp.get_pipe("vk_lemmatizer")
        # A memory zone: strings and lexemes of words the vocabulary did not know are freed
        # afterwards (otherwise every typo anyone sends stays in the vocabulary for good).
        with nlp.memory_zone():
            doc = lemmatizer(nlp.make_doc(" ".join(toks)))
            return tuple(str(t.lemma_) for t in doc)

    def detect_language(self, text: str) -> tuple[str | None, float]:
        return self.detector.detect(text)

    def classifier_language(self, text: str, lang: str | None) -> tuple[str, str | None, float]:
        """(language whose classifier to use, detected language, detection confidence)."""
        detected, confidence = self.detect_language(text)
        chosen = lang if lang in self.pipelines else None
        if detected in self.pipelines and (chosen is None or confidence >= LANGUAGE_OVERRIDE):
            chosen = detected
        return chosen or self.default_lang, detected, confidence

    def parse(
        self,
        text: str,
        lang: str | None = None,
        options: Sequence[OptionSpec] | None = None,
    ) -> dict[str, Any]:
        text = text or ""
        use, detected, det_conf = self.classifier_language(text, lang)
        result: dict[str, Any] = {
            "text": text,
            "intent": {"name": None, "confidence": 0.0},
            "intent_ranking": [],
            "entities": [],
            "option": None,
            "language": {"name": detected, "confidence": det_conf},
        }
        if not text.strip():
            return result
        nlp = self.pipelines[use]
        with nlp.memory_zone():  # the vocabulary does not grow with what people type
            doc = nlp(prepare(text), disable=["vk_lemmatizer"])  # lemmas: only for options
            cats = {str(k): float(v) for k, v in doc.cats.items()}
            del doc
        ranking = sorted(cats.items(), key=lambda kv: -kv[1])[:RANKING_SIZE]
        result["intent_ranking"] = [
            {"name": name, "confidence": round(float(score), 4)} for name, score in ranking
        ]
        if ranking:
            result["intent"] = dict(result["intent_ranking"][0])
        result["entities"] = self.entities.extract(text, use)
        if options:
            hit = self.matcher.match(text, options, lang or use)
            result["option"] = hit.to_dict() if hit else None
        return result

    def parse_many(self, texts: Sequence[str], lang: str | None = None) -> list[dict[str, Any]]:
        return [self.parse(t, lang) for t in texts]
