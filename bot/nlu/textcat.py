"""Intent classifier architectures, and the spaCy pipeline that carries one.

The candidates are spaCy's own text classifiers plus `vk.TextCatSubwordBOW.v1`: a bag of
words and word bigrams *and* character n-grams of every word (fastText's trick), in one sparse
linear layer. The n-grams make it tolerant of typos ("opnieuuw", "verwijdr") that a plain bag
of words cannot see. `scripts/nlu_compare.py` measures every candidate on the held-out split;
the numbers and the choice are in bot/nlu/README.md.
"""

from __future__ import annotations

from functools import partial
from typing import Any, cast

import numpy
import spacy
from spacy.attrs import LOWER
from spacy.language import Language
from spacy.ml.models.textcat import NEG_VALUE, resize_and_set_ref
from spacy.strings import get_string_id
from spacy.tokens import Doc
from thinc.api import Model, SparseLinear_v2, chain, resizable, softmax_activation, with_cpu
from thinc.layers.resizable import resize_linear_weighted
from thinc.types import Floats2d

from bot.nlu import lemmatizer as _lemmatizer  # noqa: F401  (registers "vk_lemmatizer")
from quiz.text import fold

DEFAULT_ARCHITECTURE = "subword"


def _tok2vec(width: int = 64) -> dict[str, Any]:
    return {
        "@architectures": "spacy.HashEmbedCNN.v2",
        "pretrained_vectors": None,
        "width": width,
        "depth": 2,
        "embed_size": 2000,
        "window_size": 1,
        "maxout_pieces": 3,
        "subword_features": True,
    }


ARCHITECTURES: dict[str, dict[str, Any]] = {
    "bow": {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": True,
        "ngram_size": 1,
        "no_output_layer": False,
        "length": 65536,
    },
    "bow2": {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": True,
        "ngram_size": 2,
        "no_output_layer": False,
        "length": 65536,
    },
    "subword": {
        "@architectures": "vk.TextCatSubwordBOW.v1",
        "ngram_size": 2,
        "min_char": 2,
        "max_char": 5,
        "length": 65536,
    },
    "cnn": {
        "@architectures": "spacy.TextCatReduce.v1",
        "exclusive_classes": True,
        "use_reduce_first": False,
        "use_reduce_last": False,
        "use_reduce_max": True,
        "use_reduce_mean": True,
        "tok2vec": _tok2vec(),
    },
    "ensemble": {
        "@architectures": "spacy.TextCatEnsemble.v2",
        "tok2vec": _tok2vec(),
        "linear_model": {
            "@architectures": "spacy.TextCatBOW.v3",
            "exclusive_classes": True,
            "ngram_size": 2,
            "no_output_layer": False,
        },
    },
}


# ---------------------------------------------------------------------- subword bag of words

CHAR_CACHE_SIZE = 10_000  # words whose character n-gram keys are kept
_char_cache: dict[str, list[int]] = {}


def _char_keys(word: str, min_n: int, max_n: int) -> list[int]:
    cached = _char_cache.get(word)
    if cached is not None:
        return cached
    padded = f"<{fold(word)}>"
    keys = [
        get_string_id(f"#{padded[i : i + n]}")
        for n in range(min_n, max_n + 1)
        for i in range(len(padded) - n + 1)
    ]
    # Bounded (the oldest word makes room): a long-running server sees every word anyone
    # types, and each entry holds a few dozen ints.
    if len(_char_cache) >= CHAR_CACHE_SIZE:
        _char_cache.pop(next(iter(_char_cache)), None)
    _char_cache[word] = keys
    return keys


def extract_subword_features(ngram_size: int, min_char: int, max_char: int) -> Model:
    def forward(model: Model, docs: list[Doc], is_train: bool) -> Any:
        batch_keys: list[Any] = []
        batch_vals: list[Any] = []
        for doc in docs:
            unigrams: Any = numpy.asarray(doc.to_array([LOWER]), dtype="uint64")
            parts = [unigrams]
            for n in range(2, ngram_size + 1):
                parts.append(model.ops.ngrams(n, unigrams).astype("uint64"))
            chars = [
                k
                for tok in doc
                if not tok.is_space
                for k in _char_keys(tok.lower_, min_char, max_char)
            ]
            parts.append(numpy.asarray(chars, dtype="uint64"))
            keys, vals = numpy.unique(numpy.concatenate(parts), return_counts=True)
            batch_keys.append(keys)
            batch_vals.append(vals)
        lengths = numpy.asarray([arr.shape[0] for arr in batch_keys], dtype="int32")
        if batch_keys:
            keys_all = numpy.concatenate(batch_keys)
            vals_all = numpy.concatenate(batch_vals).astype("float32")
        else:
            keys_all = numpy.zeros((0,), dtype="uint64")
            vals_all = numpy.zeros((0,), dtype="float32")

        def backprop(dY: Any) -> list[Any]:
            return []

        return (keys_all, vals_all, lengths), backprop

    return Model("extract_subword_features", forward)


@spacy.registry.architectures("vk.TextCatSubwordBOW.v1")
def build_subword_bow(
    ngram_size: int, min_char: int, max_char: int, length: int = 262144, nO: int | None = None
) -> Model[list[Doc], Floats2d]:
    sparse_linear = SparseLinear_v2(nO=nO, length=length)
    fill_defaults = {"b": NEG_VALUE, "W": 0}
    resizable_layer: Model[Floats2d, Floats2d] = resizable(
        sparse_linear, resize_layer=partial(resize_linear_weighted, fill_defaults=fill_defaults)
    )
    features: Model = chain(
        extract_subword_features(ngram_size, min_char, max_char), resizable_layer
    )
    features = with_cpu(features, features.ops)
    output = softmax_activation()
    model: Model[list[Doc], Floats2d] = chain(features, with_cpu(output, output.ops))
    if nO is not None:
        model.set_dim("nO", cast(int, nO))
    model.set_ref("output_layer", sparse_linear)
    model.attrs["multi_label"] = False
    model.attrs["resize_output"] = partial(resize_and_set_ref, resizable_layer=resizable_layer)
    return model


# ---------------------------------------------------------------------- the pipeline


def blank_pipeline(lang: str, architecture: str) -> Language:
    """spacy.blank(lang) + the lookup lemmatizer + an exclusive-class intent classifier."""
    if architecture not in ARCHITECTURES:
        known = ", ".join(ARCHITECTURES)
        raise ValueError(f"unknown architecture {architecture!r} (known: {known})")
    nlp = spacy.blank(lang)
    nlp.add_pipe("vk_lemmatizer")
    nlp.add_pipe("textcat", config={"model": ARCHITECTURES[architecture], "threshold": 0.0})
    return nlp
