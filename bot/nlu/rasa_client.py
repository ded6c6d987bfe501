"""Rasa as the second backend: its /model/parse over HTTP, mapped onto our contract.

Rasa gives the intent and the entities. Values are brought into the contract's form here
(postcodes "3511AB", hours as numbers, ids through the shared nlu_data vocabulary); option
matching stays ours, because Rasa does not know the question on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from bot.nlu.entities import Vocabulary, normalise_postcode
from bot.nlu.numbers import find_hours, find_numbers, plain_number
from bot.nlu.options import OptionMatcher, OptionSpec
from bot.nlu.tokens import norm_phrase

PARSE_PATH = "/model/parse"


class RasaError(Exception):
    """Rasa could not be reached or answered something that is not a parse."""


def _value(entity: str, raw: Any, surface: str, vocabulary: Vocabulary | None) -> Any:
    if entity == "postcode":
        return normalise_postcode(str(raw)) or normalise_postcode(surface) or str(raw).upper()
    if entity == "hours":
        hours = find_hours(surface) or find_hours(f"{raw} uur")
        if hours:
            return hours[0].value
        numbers = find_numbers(str(raw))
        return plain_number(numbers[0].value) if numbers else raw
    if entity == "number":
        numbers = find_numbers(str(raw)) or find_numbers(surface)
        return plain_number(numbers[0].value) if numbers else raw
    if vocabulary is not None and entity in vocabulary.tables:
        table = vocabulary.tables[entity]
        values = set(table.values())
        if str(raw) in values:
            return raw
        key = " ".join(norm_phrase(str(raw)))
        if key in table:
            return table[key]
        key = " ".join(norm_phrase(surface))
        return table.get(key, raw)
    return raw


def map_parse(
    raw: dict[str, Any], text: str, vocabulary: Vocabulary | None = None
) -> dict[str, Any]:
    """Rasa's /model/parse answer -> the contract shape (without "option")."""
    intent = raw.get("intent") or {}
    ranking = [
        {"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0.0), 4)}
        for r in raw.get("intent_ranking") or []
    ]
    entities: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for ent in raw.get("entities") or []:
        name = str(ent.get("entity"))
        start, end = int(ent.get("start", 0)), int(ent.get("end", 0))
        value = _value(name, ent.get("value"), text[start:end], vocabulary)
        key = (name, str(value))
        if key in seen:  # DIET and the regex extractor often find the same entity
            continue
        seen.add(key)
        entities.append({"entity": name, "value": value, "start": start, "end": end})
    entities.sort(key=lambda e: (e["start"], e["end"]))
    return {
        "text": text,
        "intent": {
            "name": intent.get("name"),
            "confidence": round(float(intent.get("confidence") or 0.0), 4),
        },
        "intent_ranking": ranking,
        "entities": entities,
        "option": None,
    }


class RasaClient:
    """Async and sync access to one Rasa server (`rasa run --enable-api`)."""

    def __init__(
        self,
        url: str,
        vocabulary: Vocabulary | None = None,
        matcher: OptionMatcher | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.vocabulary = vocabulary
        self.matcher = matcher or OptionMatcher()
        self.timeout = timeout
        self._async: httpx.AsyncClient | None = None
        self._sync: httpx.Client | None = None

    def _finish(
        self, raw: Any, text: str, lang: str | None, options: Sequence[OptionSpec] | None
    ) -> dict[str, Any]:
        if not isinstance(raw, dict) or "intent" not in raw:
            raise RasaError(f"unexpected answer from {self.url}{PARSE_PATH}: {raw!r:.200}")
        result = map_parse(raw, text, self.vocabulary)
        if options:
            hit = self.matcher.match(text, options, lang or "nl")
            result["option"] = hit.to_dict() if hit else None
        return result

    async def parse(
        self, text: str, lang: str | None = None, options: Sequence[OptionSpec] | None = None
    ) -> dict[str, Any]:
        if self._async is None:
            self._async = httpx.AsyncClient(base_url=self.url, timeout=self.timeout)
        try:
            response = await self._async.post(PARSE_PATH, json={"text": text})
            response.raise_for_status()
            raw = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaError(f"Rasa at {self.url} failed: {exc}") from exc
        return self._finish(raw, text, lang, options)

    def parse_sync(
        self, text: str, lang: str | None = None, options: Sequence[OptionSpec] | None = None
    ) -> dict[str, Any]:
        if self._sync is None:
            self._sync = httpx.Client(base_url=self.url, timeout=self.timeout)
        try:
            response = self._sync.post(PARSE_PATH, json={"text": text})
            response.raise_for_status()
            raw = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaError(f"Rasa at {self.url} failed: {exc}") from exc
        return self._finish(raw, text, lang, options)

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
            self._async = None

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None
