"""The packed lemma tables answer exactly what spaCy's tables answered, and save back whole."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import srsly
from spacy.lookups import Lookups
from spacy.tokens import Doc

from bot.nlu.lemma_tables import PackedIndex, PackedLookup
from bot.nlu.lemmatizer import FallbackLemmatizer
from bot.nlu.model import NluModel


def _reference(lemmatizer: FallbackLemmatizer, folder: Path) -> FallbackLemmatizer:
    """The same component over the tables as spaCy loads them (unpacked)."""
    ref = FallbackLemmatizer(lemmatizer.vocab, None, "ref", mode="lookup_fallback")
    ref.lookups = Lookups().from_disk(folder / "vk_lemmatizer" / "lookups")
    return ref


def _sample_words(ref: FallbackLemmatizer, n: int = 3000) -> list[str]:
    words: set[str] = set()
    for lemmas in ref.lookups.get_table("lemma_index").values():
        words.update(lemmas)
    for forms in ref.lookups.get_table("lemma_exc").values():
        words.update(forms)
    rng = random.Random(3)
    picked = rng.sample(sorted(words), n)
    inflected = [w + suffix for w in picked[:500] for suffix in ("en", "s", "e", "t", "ed", "ing")]
    return [*picked, *inflected, "mensen", "dieren", "kinderen", "gasten", "ontvangen", "xq"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_packed_lemmas_equal_the_tables(
    nlu_model: NluModel, nlu_model_dir: Path, lang: str
) -> None:
    lemmatizer = nlu_model.pipelines[lang].get_pipe("vk_lemmatizer")
    assert isinstance(lemmatizer, FallbackLemmatizer)
    assert isinstance(lemmatizer._packed_lookup, PackedLookup)
    assert isinstance(lemmatizer._packed_index, PackedIndex)
    assert "lemma_lookup" not in lemmatizer.lookups  # the big tables are not kept twice
    ref = _reference(lemmatizer, nlu_model_dir / lang)
    for word in _sample_words(ref):
        token = Doc(lemmatizer.vocab, words=[word.lower()])[0]
        assert lemmatizer.lookup_fallback_lemmatize(token) == ref.lookup_fallback_lemmatize(
            token
        ), word


def test_packed_plurals(nlu_model: NluModel) -> None:
    lemmas = nlu_model.lemmatize("nl", ("mensen", "dieren", "kinderen", "hij"))
    assert lemmas == ("mens", "dier", "kind", "hij")


def test_saving_unpacks_the_tables(nlu_model: NluModel, nlu_model_dir: Path) -> None:
    lemmatizer = nlu_model.pipelines["nl"].get_pipe("vk_lemmatizer")
    assert isinstance(lemmatizer, FallbackLemmatizer)
    saved = Lookups().from_bytes(srsly.msgpack_loads(lemmatizer.to_bytes())["lookups"])
    original = Lookups().from_disk(nlu_model_dir / "nl" / "vk_lemmatizer" / "lookups")
    assert sorted(saved.tables) == sorted(original.tables)
    assert dict(saved.get_table("lemma_lookup")) == dict(original.get_table("lemma_lookup"))
    index, want = saved.get_table("lemma_index"), original.get_table("lemma_index")
    assert {k: set(v) for k, v in index.items()} == {k: set(v) for k, v in want.items()}
    assert "lemma_lookup" not in lemmatizer.lookups  # still packed after saving
