"""The lookup lemmatizer from spacy-lookups-data, with a POS-free fallback for what it misses.

spaCy's Dutch lookup table lacks common plurals ("mensen", "dieren", "kinderen": they live in
the rule tables, which need a tagger we do not have). After the lookup we therefore try the
noun and verb exception lists and suffix rules, accepting a rule's result only when the index
of known lemmas has it. Every table comes from spacy-lookups-data and is saved with the model,
so nothing is downloaded at run time.
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.pipeline import Lemmatizer
from spacy.tokens import Token

MODE = "lookup_fallback"
_FALLBACK_POS = ("noun", "verb", "adj")


class FallbackLemmatizer(Lemmatizer):
    @classmethod
    def get_lookups_config(cls, mode: str) -> tuple[list[str], list[str]]:
        if mode == MODE:
            return (["lemma_lookup"], ["lemma_exc", "lemma_rules", "lemma_index"])
        return super().get_lookups_config(mode)

    def lookup_fallback_lemmatize(self, token: Token) -> list[str]:
        lower = token.lower_
        cached = self.cache.get(lower)
        if cached is not None:
            return cached
        found = self.lookups.get_table("lemma_lookup").get(lower)
        if found is None and lower.isalpha() and len(lower) > 3:
            found = self._by_rules(lower)
        result = [str(found or lower)]
        self.cache[lower] = result
        return result

    def _index(self, pos: str) -> frozenset[str]:
        """The table stores lists; membership tests need a set (built once per POS)."""
        sets: dict[str, frozenset[str]] = self.__dict__.setdefault("_index_sets", {})
        if pos not in sets:
            index_table: Any = self.lookups.get_table("lemma_index", {})
            sets[pos] = frozenset(index_table.get(pos, ()))
        return sets[pos]

    def _by_rules(self, lower: str) -> str | None:
        exc_table: Any = self.lookups.get_table("lemma_exc", {})
        rules_table: Any = self.lookups.get_table("lemma_rules", {})
        for pos in _FALLBACK_POS:
            index = self._index(pos)
            if lower in index:
                return lower
            exceptions = exc_table.get(pos, {})
            if exceptions.get(lower):
                return str(exceptions[lower][0])
            for old, new in rules_table.get(pos, []):
                if lower.endswith(old):
                    form = lower[: len(lower) - len(old)] + new
                    if form and form in index:
                        return str(form)
        return None


@Language.factory(
    "vk_lemmatizer",
    assigns=["token.lemma"],
    default_config={"mode": MODE, "overwrite": True},
)
def make_lemmatizer(nlp: Language, name: str, mode: str, overwrite: bool) -> FallbackLemmatizer:
    return FallbackLemmatizer(nlp.vocab, None, name, mode=mode, overwrite=overwrite)
