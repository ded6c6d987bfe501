"""The lookup lemmatizer from spacy-lookups-data, with a POS-free fallback for what it misses.

spaCy's Dutch lookup table lacks common plurals ("mensen", "dieren", "kinderen": they live in
the rule tables, which need a tagger we do not have). After the lookup we therefore try the
noun and verb exception lists and suffix rules, accepting a rule's result only when the index
of known lemmas has it. Every table comes from spacy-lookups-data and is saved with the model,
so nothing is downloaded at run time.

Loaded for inference, the two big tables (Dutch: 213k forms, 200k indexed lemmas) are packed
into numpy arrays (bot/nlu/lemma_tables.py): same answers, about 80 MB less resident memory.
Saving unpacks them again, so a loaded pipeline writes the same tables it read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from spacy.errors import Errors
from spacy.language import Language
from spacy.lookups import Lookups, Table
from spacy.pipeline import Lemmatizer
from spacy.tokens import Token
from spacy.training import Example
from spacy.util import SimpleFrozenList

from bot.nlu.lemma_tables import PackedIndex, PackedLookup, PackedWords

MODE = "lookup_fallback"
# Words whose lemma is kept (spaCy's cache is an unbounded dict; a long-running server sees
# every typo anyone types). Past this size the oldest entry makes room.
CACHE_SIZE = 20_000
_FALLBACK_POS = ("noun", "verb", "adj")


class FallbackLemmatizer(Lemmatizer):
    # Packed copies of lemma_lookup / lemma_index once loaded from disk; None while training.
    _packed_lookup: PackedLookup | None = None
    _packed_index: PackedIndex | None = None

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
        found = self._lookup_table().get(lower)
        if found is None and lower.isalpha() and len(lower) > 3:
            found = self._by_rules(lower)
        result = [str(found or lower)]
        if len(self.cache) >= CACHE_SIZE:
            self.cache.pop(next(iter(self.cache)), None)
        self.cache[lower] = result
        return result

    def _lookup_table(self) -> PackedLookup | Table:
        if self._packed_lookup is not None:
            return self._packed_lookup
        return self.lookups.get_table("lemma_lookup")

    def _index(self, pos: str) -> PackedWords | frozenset[str]:
        """The table stores lists; membership tests need a set (built once per POS)."""
        if self._packed_index is not None:
            return self._packed_index.words(pos)
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

    # ------------------------------------------------------------------ packing

    def pack(self) -> None:
        """Swap lemma_lookup and lemma_index for packed copies (inference only reads them)."""
        self._packed_lookup = self._packed_index = None
        self.__dict__.pop("_index_sets", None)
        if "lemma_lookup" in self.lookups:
            table = self.lookups.get_table("lemma_lookup")
            if PackedLookup.packable(table):
                self._packed_lookup = PackedLookup(table.name, table)
                self.lookups.remove_table("lemma_lookup")
        if "lemma_index" in self.lookups:
            table = self.lookups.get_table("lemma_index")
            if PackedIndex.packable(table):
                self._packed_index = PackedIndex(table.name, table)
                self.lookups.remove_table("lemma_index")

    def unpacked_lookups(self) -> Lookups:
        """All tables as spaCy Tables again (what gets saved)."""
        lookups = Lookups()
        for name in self.lookups.tables:
            lookups.set_table(name, self.lookups.get_table(name))
        if self._packed_lookup is not None:
            lookups.set_table("lemma_lookup", self._packed_lookup.to_table())
        if self._packed_index is not None:
            lookups.set_table("lemma_index", self._packed_index.to_table())
        return lookups

    def _validate_tables(self, error_message: str = Errors.E912) -> None:
        if self._packed_lookup is not None:  # validated before it was packed
            self._validated = True
            return
        super()._validate_tables(error_message)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]] | None = None,
        *,
        nlp: Language | None = None,
        lookups: Lookups | None = None,
    ) -> None:
        self._packed_lookup = self._packed_index = None
        self.__dict__.pop("_index_sets", None)
        super().initialize(get_examples, nlp=nlp, lookups=lookups)

    def from_disk(
        self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()
    ) -> FallbackLemmatizer:
        self._packed_lookup = self._packed_index = None
        super().from_disk(path, exclude=exclude)
        self.pack()
        return self

    def from_bytes(
        self, bytes_data: bytes, *, exclude: Iterable[str] = SimpleFrozenList()
    ) -> FallbackLemmatizer:
        self._packed_lookup = self._packed_index = None
        super().from_bytes(bytes_data, exclude=exclude)
        self.pack()
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()) -> None:
        packed, self.lookups = self.lookups, self.unpacked_lookups()
        try:
            super().to_disk(path, exclude=exclude)
        finally:
            self.lookups = packed

    def to_bytes(self, *, exclude: Iterable[str] = SimpleFrozenList()) -> bytes:
        packed, self.lookups = self.lookups, self.unpacked_lookups()
        try:
            return super().to_bytes(exclude=exclude)
        finally:
            self.lookups = packed


@Language.factory(
    "vk_lemmatizer",
    assigns=["token.lemma"],
    default_config={"mode": MODE, "overwrite": True},
)
def make_lemmatizer(nlp: Language, name: str, mode: str, overwrite: bool) -> FallbackLemmatizer:
    return FallbackLemmatizer(nlp.vocab, None, name, mode=mode, overwrite=overwrite)
