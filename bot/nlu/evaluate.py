"""Evaluation on the held-out split: intents (accuracy, per-intent P/R/F1, confusion), entities
(F1 over (entity, value) pairs) and speed (parses per second, one text at a time).

Any backend can be measured: it only has to turn (text, lang) into the contract's dict.
Entity scores cover the contract's entity types; `number` (our extension) is left out so that
both backends are scored on the same ground.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.nlu.data import Example

CONTRACT_ENTITIES: tuple[str, ...] = (
    "postcode",
    "place",
    "hours",
    "weekday",
    "daypart",
    "cause",
    "activity",
    "language",
)

ParseFn = Callable[[str, str], dict[str, Any]]


def value_key(value: Any) -> str:
    """Compare values as text: 2.0 == "2", "Utrecht" == "utrecht"."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(round(float(value), 1))
    text = str(value).strip().lower()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else str(round(number, 1))


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    support: int

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int) -> Scores:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return cls(round(p, 4), round(r, 4), round(f, 4), tp + fn)


@dataclass
class EvalReport:
    backend: str
    examples: int
    accuracy: float
    macro_f1: float
    intents: dict[str, Scores]
    confusion: dict[str, dict[str, int]]
    entity_f1: float
    entities: dict[str, Scores]
    parses_per_second: float
    seconds: float
    errors: list[dict[str, Any]] = field(default_factory=list)
    by_language: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "examples": self.examples,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "accuracy_by_language": self.by_language,
            "entity_f1": self.entity_f1,
            "parses_per_second": self.parses_per_second,
            "seconds": self.seconds,
            "intents": {k: v.__dict__ for k, v in self.intents.items()},
            "entities": {k: v.__dict__ for k, v in self.entities.items()},
            "confusion": self.confusion,
            "errors": self.errors,
        }


def evaluate(
    parse: ParseFn,
    examples: Iterable[Example],
    backend: str = "spacy",
    warmup: int = 3,
) -> EvalReport:
    items = list(examples)
    for ex in items[:warmup]:
        parse(ex.text, ex.lang)
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    for ex in items:
        results.append(parse(ex.text, ex.lang))
    seconds = time.perf_counter() - started
    return score(items, results, backend, seconds)


def score(
    items: list[Example], results: list[dict[str, Any]], backend: str, seconds: float
) -> EvalReport:
    labels = sorted({ex.intent for ex in items})
    confusion: dict[str, Counter[str]] = {label: Counter() for label in labels}
    errors: list[dict[str, Any]] = []
    correct = 0
    per_lang: dict[str, list[int]] = {}
    ent_counts: dict[str, list[int]] = {e: [0, 0, 0] for e in CONTRACT_ENTITIES}  # tp fp fn
    for ex, res in zip(items, results, strict=True):
        predicted = (res.get("intent") or {}).get("name") or "none"
        confusion[ex.intent][predicted] += 1
        hit = predicted == ex.intent
        correct += hit
        per_lang.setdefault(ex.lang, [0, 0])
        per_lang[ex.lang][0] += hit
        per_lang[ex.lang][1] += 1
        if not hit:
            errors.append(
                {
                    "text": ex.text,
                    "lang": ex.lang,
                    "expected": ex.intent,
                    "predicted": predicted,
                    "confidence": (res.get("intent") or {}).get("confidence"),
                }
            )
        gold = {(e.entity, value_key(e.value)) for e in ex.entities if e.entity in ent_counts}
        pred = {
            (e["entity"], value_key(e["value"]))
            for e in res.get("entities") or []
            if e.get("entity") in ent_counts
        }
        for name, _ in gold & pred:
            ent_counts[name][0] += 1
        for name, _ in pred - gold:
            ent_counts[name][1] += 1
        for name, _ in gold - pred:
            ent_counts[name][2] += 1
    intents: dict[str, Scores] = {}
    for label in labels:
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in labels if g != label)
        fn = sum(confusion[label].values()) - tp
        intents[label] = Scores.from_counts(tp, fp, fn)
    entities = {
        name: Scores.from_counts(*counts) for name, counts in ent_counts.items() if any(counts)
    }
    total = [sum(c[i] for c in ent_counts.values()) for i in range(3)]
    n = len(items)
    return EvalReport(
        backend=backend,
        examples=n,
        accuracy=round(correct / n, 4) if n else 0.0,
        macro_f1=round(sum(s.f1 for s in intents.values()) / len(intents), 4) if intents else 0.0,
        intents=intents,
        confusion={k: dict(v) for k, v in confusion.items()},
        entity_f1=Scores.from_counts(*total).f1,
        entities=entities,
        parses_per_second=round(n / seconds, 1) if seconds > 0 else 0.0,
        seconds=round(seconds, 3),
        errors=errors,
        by_language={k: round(v[0] / v[1], 4) for k, v in sorted(per_lang.items())},
    )
