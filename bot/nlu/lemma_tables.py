"""Lemma tables packed for inference: sorted 64-bit string ids in numpy arrays, strings in one
UTF-8 buffer, instead of spaCy's `Table` (an OrderedDict of Python ints and strs).

The Dutch lookup table has 213k forms and its index 200k words; as Python objects they held
about 80 MB of the server's memory, packed a few MB. Keys are hashed with spaCy's own
`get_string_id`, so a packed table answers exactly what the Table answered, and `to_table`
gives the Table back for saving.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from spacy.lookups import Table
from spacy.strings import get_string_id


class StringPool:
    """Strings by position, stored as one bytes buffer plus offsets."""

    def __init__(self, strings: Sequence[str]) -> None:
        encoded = [s.encode("utf-8") for s in strings]
        self._offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=self._offsets[1:])
        self._data = b"".join(encoded)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self._data[int(self._offsets[i]) : int(self._offsets[i + 1])].decode("utf-8")


def _find(keys: np.ndarray, key: str | int) -> int:
    """Position of key's string id in the sorted `keys`, or -1."""
    wanted = np.uint64(get_string_id(key))
    i = int(np.searchsorted(keys, wanted))
    return i if i < len(keys) and keys[i] == wanted else -1


class PackedLookup:
    """A read-only `Table` of string values (`lemma_lookup`: form id -> lemma)."""

    def __init__(self, name: str | None, table: Mapping[int, str]) -> None:
        self.name = name
        keys = np.fromiter(table.keys(), dtype=np.uint64, count=len(table))
        order = np.argsort(keys, kind="stable")
        values = list(table.values())
        lemmas = sorted(set(values))
        position = {lemma: i for i, lemma in enumerate(lemmas)}
        refs = np.fromiter((position[v] for v in values), dtype=np.uint32, count=len(values))
        self._keys = keys[order]
        self._refs = refs[order]
        self._lemmas = StringPool(lemmas)

    @classmethod
    def packable(cls, table: Mapping[Any, Any]) -> bool:
        return all(isinstance(v, str) for v in table.values())

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, key: str | int, default: str | None = None) -> str | None:
        i = _find(self._keys, key)
        return self._lemmas[int(self._refs[i])] if i >= 0 else default

    def to_table(self) -> Table:
        data = {int(k): self._lemmas[int(r)] for k, r in zip(self._keys, self._refs, strict=True)}
        return Table(self.name, data)


class PackedWords:
    """A read-only set of words (one part of speech of `lemma_index`)."""

    def __init__(self, words: Iterable[str]) -> None:
        unique = list(dict.fromkeys(words))
        ids = np.fromiter((get_string_id(w) for w in unique), dtype=np.uint64, count=len(unique))
        order = np.argsort(ids, kind="stable")
        self._ids = ids[order]
        self._words = StringPool([unique[i] for i in order])

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and _find(self._ids, word) >= 0

    def words(self) -> list[str]:
        return [self._words[i] for i in range(len(self._words))]


class PackedIndex:
    """A read-only `lemma_index` table: part of speech -> its known lemmas."""

    def __init__(self, name: str | None, table: Mapping[int, Iterable[str]]) -> None:
        self.name = name
        self._parts = {int(k): PackedWords(v) for k, v in table.items()}

    @classmethod
    def packable(cls, table: Mapping[Any, Any]) -> bool:
        return all(
            isinstance(v, list | tuple) and all(isinstance(w, str) for w in v)
            for v in table.values()
        )

    def words(self, pos: str) -> PackedWords | frozenset[str]:
        return self._parts.get(get_string_id(pos), frozenset())

    def to_table(self) -> Table:
        return Table(self.name, {k: part.words() for k, part in self._parts.items()})
