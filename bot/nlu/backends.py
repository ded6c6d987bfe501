"""The two NLU backends behind one async interface: the embedded spaCy model and Rasa.

Both return the contract's dict. The Rasa backend still uses the local model for what Rasa
cannot do for us: matching the options of the question on screen and detecting the language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot.nlu.entities import EntityExtractor
from bot.nlu.model import NluModel
from bot.nlu.options import OptionMatcher, OptionSpec
from bot.nlu.rasa_client import RasaClient


class NluBackend(Protocol):
    name: str
    matcher: OptionMatcher

    async def parse(
        self, text: str, lang: str | None = None, options: Sequence[OptionSpec] | None = None
    ) -> dict[str, Any]: ...

    def detect_language(self, text: str) -> tuple[str | None, float]: ...

    @property
    def extractor(self) -> EntityExtractor | None: ...


class SpacyBackend:
    name = "spacy"

    def __init__(self, model: NluModel) -> None:
        self.model = model
        self.matcher = model.matcher

    async def parse(
        self, text: str, lang: str | None = None, options: Sequence[OptionSpec] | None = None
    ) -> dict[str, Any]:
        # About a millisecond: cheaper than a thread hop, so it runs on the event loop.
        return self.model.parse(text, lang, options)

    def detect_language(self, text: str) -> tuple[str | None, float]:
        return self.model.detect_language(text)

    @property
    def extractor(self) -> EntityExtractor | None:
        return self.model.entities


class RasaBackend:
    name = "rasa"

    def __init__(self, client: RasaClient, local: NluModel | None = None) -> None:
        self.client = client
        self.local = local
        if local is not None:
            client.matcher = local.matcher
            client.vocabulary = client.vocabulary or local.entities.vocabulary
        self.matcher = client.matcher

    async def parse(
        self, text: str, lang: str | None = None, options: Sequence[OptionSpec] | None = None
    ) -> dict[str, Any]:
        result = await self.client.parse(text, lang, options)
        detected, confidence = self.detect_language(text)
        result["language"] = {"name": detected, "confidence": confidence}
        return result

    def detect_language(self, text: str) -> tuple[str | None, float]:
        if self.local is None:
            return None, 0.0
        return self.local.detect_language(text)

    @property
    def extractor(self) -> EntityExtractor | None:
        return self.local.entities if self.local is not None else None
