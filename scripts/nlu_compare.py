"""Measure every intent-classifier architecture on the held-out split (nlu_data/test).

Usage: .venv/bin/python scripts/nlu_compare.py [--arch subword --arch bow ...] [--no-mix]
Prints one row per architecture: training seconds, accuracy, macro-F1, parses per second.
The numbers behind the choice of DEFAULT_ARCHITECTURE are in bot/nlu/README.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bot.nlu.data import load_nlu_data
from bot.nlu.evaluate import evaluate
from bot.nlu.model import NluModel
from bot.nlu.textcat import ARCHITECTURES
from bot.nlu.training import heldout_split, train_model, train_split

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "nlu_data")
    parser.add_argument("--arch", action="append", choices=sorted(ARCHITECTURES))
    parser.add_argument("--no-mix", action="store_true", help="train each language on its own")
    parser.add_argument("--both-mix", action="store_true", help="measure with and without mixing")
    args = parser.parse_args()
    train = load_nlu_data([train_split(args.data)])
    test = load_nlu_data([heldout_split(args.data)], synonyms=train.synonyms)
    mixes = [True, False] if args.both_mix else [not args.no_mix]
    rows = []
    for arch in args.arch or list(ARCHITECTURES):
        for mix in mixes:
            with tempfile.TemporaryDirectory() as tmp:
                meta = train_model(args.data, Path(tmp) / "m", architecture=arch, mix=mix)
                model = NluModel.load(Path(tmp) / "m", place_finder=None)
                report = evaluate(model.parse, test.examples, arch)
            row = {
                "architecture": arch,
                "mix_languages": mix,
                "train_seconds": meta.seconds,
                "accuracy": report.accuracy,
                "macro_f1": report.macro_f1,
                "parses_per_second": report.parses_per_second,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
