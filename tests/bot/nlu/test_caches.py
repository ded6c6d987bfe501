"""The NLU's per-word and per-question caches stay bounded on a long-running server and give
the same answers as uncached work."""

from __future__ import annotations

import pytest
from spacy.tokens import Doc

from bot.content import load_quiz
from bot.nlu import lemmatizer as lemmatizer_module
from bot.nlu import options as options_module
from bot.nlu.lemmatizer import FallbackLemmatizer
from bot.nlu.model import NluModel
from bot.nlu.options import OptionMatcher, OptionSpec
from bot.understand import _option_specs, option_specs


def test_lemma_cache_is_bounded(nlu_model: NluModel, monkeypatch: pytest.MonkeyPatch) -> None:
    lemmatizer = nlu_model.pipelines["nl"].get_pipe("vk_lemmatizer")
    assert isinstance(lemmatizer, FallbackLemmatizer)
    monkeypatch.setattr(lemmatizer_module, "CACHE_SIZE", 50)
    monkeypatch.setattr(lemmatizer, "cache", {})
    words = [f"dieren{'x' * i}" for i in range(200)] + ["mensen", "kinderen"]
    for word in words:
        lemmatizer.lookup_fallback_lemmatize(Doc(lemmatizer.vocab, words=[word])[0])
        assert len(lemmatizer.cache) <= 50
    assert list(lemmatizer.cache)[-2:] == ["mensen", "kinderen"]  # the newest are kept
    assert nlu_model.lemmatize("nl", ("mensen", "dieren", "kinderen")) == ("mens", "dier", "kind")


def test_prepared_options_are_cached_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(options_module, "PREPARED_CACHE_SIZE", 3)
    matcher = OptionMatcher()
    for n, word in enumerate(("tuin", "koffie", "museum", "cursus", "muziek", "sport")):
        specs = [OptionSpec(f"o{n}", (f"lekker {word}",)), OptionSpec("x", ("iets anders",))]
        for _ in range(2):
            assert matcher.match(f"lekker {word}", specs).id == f"o{n}"  # type: ignore[union-attr]
        assert len(matcher._prepared_cache) <= 3


def test_option_specs_are_built_once_per_question() -> None:
    question = load_quiz().questions[0]
    first = option_specs(question)
    assert option_specs(question) is first
    assert first == _option_specs(question)


def test_token_caches_are_bounded_and_callers_get_their_own_list() -> None:
    from bot.nlu import tokens as tokens_module

    first = tokens_module.tokens("Op zaterdag 's avonds")
    first.clear()
    assert [t.norm for t in tokens_module.tokens("Op zaterdag 's avonds")] == [
        "op",
        "zaterdag",
        "s",
        "avonds",
    ]
    assert tokens_module.norm_phrase("Één keer") == ("een", "keer")
    for cached in (tokens_module._tokens, tokens_module.norm_phrase):
        assert cached.cache_info().maxsize == tokens_module.CACHE_SIZE


def test_vocabulary_does_not_grow_with_unseen_words(nlu_model: NluModel) -> None:
    nlp = nlu_model.pipelines["nl"]
    nlu_model.parse("warmup zin met tuin", "nl")
    nlu_model.lemmatize("nl", ("warmup", "tuin"))
    strings = len(nlp.vocab.strings)
    for i in range(300):
        text = f"qzx{i}vlorp mensen{i}jes tuinieren{i}"
        result = nlu_model.parse(text, "nl")
        assert result["intent_ranking"]
        nlu_model.lemmatize("nl", (f"qzx{i}vlorp", "mensen"))
    assert len(nlp.vocab.strings) <= strings + 5
    assert nlu_model.lemmatize("nl", ("mensen", "dieren")) == ("mens", "dier")


def test_text_lemma_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(options_module, "LEMMA_CACHE_SIZE", 20)
    matcher = OptionMatcher()
    specs = [OptionSpec("tuin", ("in de tuin",)), OptionSpec("x", ("iets anders",))]
    for i in range(100):
        matcher.match(f"ergens in de tuin {i} blok{i}", specs)
        assert len(matcher._lemma_cache) <= 20
    assert matcher.match("in de tuin", specs).id == "tuin"  # type: ignore[union-attr]


def test_character_ngram_cache_is_bounded(
    nlu_model: NluModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.nlu import textcat

    monkeypatch.setattr(textcat, "CHAR_CACHE_SIZE", 30)
    monkeypatch.setattr(textcat, "_char_cache", {})
    before = nlu_model.parse("ik wil opnieuw beginnen", "nl")["intent"]
    for i in range(100):
        nlu_model.parse(f"woord{i}x ander{i}y", "nl")
        assert len(textcat._char_cache) <= 30
    assert nlu_model.parse("ik wil opnieuw beginnen", "nl")["intent"] == before
