"""Dutch or English? A small naive Bayes over words and character trigrams.

Trained from the same nlu_data/ examples (their file names say the language), saved with the
model as JSON. Good enough to notice that someone writes English in a Dutch conversation; the
confidence is deliberately damped for short texts ("ok", "help" are both languages).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.nlu.tokens import tokens


def features(text: str) -> list[str]:
    words = [t.norm for t in tokens(text) if not t.norm.isdigit()]
    out = [f"w:{w}" for w in words]
    for w in words:
        padded = f" {w} "
        out += [f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2)]
    return out


@dataclass
class LanguageDetector:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    vocab_size: int = 1

    @classmethod
    def train(cls, samples: Iterable[tuple[str, str]]) -> LanguageDetector:
        counts: dict[str, Counter[str]] = {}
        for text, lang in samples:
            counts.setdefault(lang, Counter()).update(features(text))
        vocab = set().union(*(c.keys() for c in counts.values())) if counts else set()
        return cls(
            counts={lang: dict(c) for lang, c in counts.items()},
            totals={lang: sum(c.values()) for lang, c in counts.items()},
            vocab_size=max(1, len(vocab)),
        )

    @property
    def languages(self) -> list[str]:
        return sorted(self.counts)

    def scores(self, text: str) -> dict[str, float]:
        """Log-likelihood per language (uniform prior)."""
        feats = features(text)
        out: dict[str, float] = {}
        for lang, table in self.counts.items():
            denom = self.totals[lang] + self.vocab_size
            out[lang] = sum(math.log((table.get(f, 0) + 1) / denom) for f in feats)
        return out

    def detect(self, text: str) -> tuple[str | None, float]:
        """(language, confidence in 0..1); (None, 0.0) when there is nothing to go on."""
        scores = self.scores(text)
        n_words = len(tokens(text))
        if not scores or n_words == 0:
            return None, 0.0
        best = max(scores, key=lambda k: scores[k])
        if len(scores) == 1:
            return best, 1.0
        # Per-feature margin, scaled by how much text there is: long texts become confident,
        # one-word texts stay near a coin toss unless the word is very typical.
        n_feats = max(1, len(features(text)))
        ordered = sorted(scores.values(), reverse=True)
        margin = (ordered[0] - ordered[1]) / n_feats
        strength = margin * min(n_words, 6) * 4.0
        confidence = 1.0 / (1.0 + math.exp(-strength))
        return best, round(confidence, 4)

    def save(self, path: Path) -> None:
        data = {"counts": self.counts, "totals": self.totals, "vocab_size": self.vocab_size}
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LanguageDetector:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["counts"], data["totals"], int(data["vocab_size"]))
