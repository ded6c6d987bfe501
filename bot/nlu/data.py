"""Reads Rasa-format NLU YAML (version "3.1"): examples, entity markup, synonyms, lookups, regexes.

One reader for both backends, so the embedded pipeline trains on exactly what Rasa trains on.
The language of an example comes from its file name (`nl.yml`, `en_extra.yml`, ...).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LANGUAGES: tuple[str, ...] = ("nl", "en")

# [text](entity) | [text](entity:value) | [text]{"entity": ..., "value": ...}
_MARKUP = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


class NluDataError(Exception):
    """A problem in an NLU data file, with the file and the offending item."""


@dataclass(frozen=True)
class EntitySpan:
    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    lang: str
    entities: tuple[EntitySpan, ...] = ()


@dataclass
class NluData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # lower-case surface -> value
    lookups: dict[str, list[str]] = field(default_factory=dict)  # entity -> surface forms
    regexes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    def for_lang(self, lang: str) -> list[Example]:
        return [e for e in self.examples if e.lang == lang]

    def vocabulary(self) -> dict[str, dict[str, str]]:
        """entity -> {surface form: normalised value}, from lookups and synonyms together."""
        out: dict[str, dict[str, str]] = {}
        for entity, forms in self.lookups.items():
            table = out.setdefault(entity, {})
            for form in forms:
                table[form.lower()] = self.synonyms.get(form.lower(), form.lower())
        for ex in self.examples:
            for ent in ex.entities:
                surface = ex.text[ent.start : ent.end].lower()
                # Short forms ("EN") are ambiguous inside sentences ("en" = "and").
                if len(surface) < 3:
                    continue
                if ent.entity in out and surface not in out[ent.entity]:
                    out[ent.entity][surface] = ent.value
        return out


def parse_markup(line: str) -> tuple[str, tuple[EntitySpan, ...]]:
    """'ik woon in [Den Bosch](place)' -> plain text and entity spans in it."""
    text_parts: list[str] = []
    spans: list[EntitySpan] = []
    pos = 0
    length = 0
    for m in _MARKUP.finditer(line):
        before = line[pos : m.start()]
        text_parts.append(before)
        length += len(before)
        surface = m.group("text")
        if m.group("json"):
            try:
                meta = json.loads(m.group("json"))
            except json.JSONDecodeError as exc:
                raise NluDataError(f"bad entity annotation {m.group('json')!r}: {exc}") from exc
            entity = str(meta.get("entity", ""))
            value = str(meta.get("value", surface))
        else:
            entity, _, value = m.group("short").partition(":")
            value = value or surface
        if not entity:
            raise NluDataError(f"entity annotation without a name in {line!r}")
        spans.append(EntitySpan(entity, value, length, length + len(surface)))
        text_parts.append(surface)
        length += len(surface)
        pos = m.end()
    text_parts.append(line[pos:])
    return "".join(text_parts), tuple(spans)


def _lines(block: Any, where: str) -> list[str]:
    if isinstance(block, list):
        return [str(x) for x in block]
    if not isinstance(block, str):
        raise NluDataError(f"{where}: 'examples' must be a block of '- ' lines")
    out = []
    for raw in block.splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("- "):
            raise NluDataError(f"{where}: example line must start with '- ': {raw!r}")
        out.append(stripped[2:].strip())
    return out


def file_language(path: Path) -> str | None:
    stem = path.stem.lower()
    for lang in LANGUAGES:
        if stem == lang or stem.startswith((f"{lang}_", f"{lang}-", f"{lang}.")):
            return lang
    return None


def data_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def load_file(path: Path, into: NluData) -> None:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise NluDataError(f"{path}: not valid YAML: {exc}") from exc
    items = doc.get("nlu") or []
    lang = file_language(path)
    for i, item in enumerate(items):
        where = f"{path}: nlu[{i}]"
        if "intent" in item:
            if lang is None:
                raise NluDataError(f"{where}: intent examples need a language file name (nl.yml)")
            for line in _lines(item.get("examples", ""), where):
                text, spans = parse_markup(line)
                into.examples.append(Example(text, str(item["intent"]), lang, spans))
                for span in spans:
                    surface = text[span.start : span.end].lower()
                    if span.value != text[span.start : span.end]:
                        into.synonyms.setdefault(surface, span.value)
        elif "synonym" in item:
            for line in _lines(item.get("examples", ""), where):
                into.synonyms[line.lower()] = str(item["synonym"])
        elif "lookup" in item:
            into.lookups.setdefault(str(item["lookup"]), []).extend(
                _lines(item.get("examples", ""), where)
            )
        elif "regex" in item:
            into.regexes.setdefault(str(item["regex"]), []).extend(
                _lines(item.get("examples", ""), where)
            )


def load_nlu_data(paths: Iterable[Path], synonyms: dict[str, str] | None = None) -> NluData:
    """All examples and vocabulary in the given files or folders.

    Entity values written without an explicit value ("[Engels](language)") are mapped through
    the synonyms, as Rasa's EntitySynonymMapper does; pass the training data's synonyms when
    loading a test split that has none of its own.
    """
    data = NluData()
    for root in paths:
        for path in data_files(root) if root.is_dir() else [root]:
            load_file(path, data)
    table = {**(synonyms or {}), **data.synonyms}
    data.examples = [_map_values(ex, table) for ex in data.examples]
    return data


def _map_values(ex: Example, synonyms: dict[str, str]) -> Example:
    if not ex.entities:
        return ex
    mapped = tuple(
        EntitySpan(e.entity, synonyms.get(e.value.lower(), e.value), e.start, e.end)
        if e.value == ex.text[e.start : e.end]
        else e
        for e in ex.entities
    )
    return Example(ex.text, ex.intent, ex.lang, mapped)


def fingerprint(paths: Iterable[Path]) -> str:
    """A hash of the training files' names and contents: the model is stale when it changes."""
    digest = hashlib.sha256()
    for root in paths:
        for path in data_files(root) if root.is_dir() else [root]:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
