"""Whatever an author gets wrong, the parser answers with located errors, never a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiz.model import Quiz
from quiz.validate import ContentInvalid, parse_quiz
from tests.quiz.fixtures.content import file_name, shipped_parts

JUNK: list[Any] = [None, 0, -1, 2.5, True, "", "x", "monday", [], ["x"], {}, {"x": 1}, [{"id": 1}]]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PARTS = shipped_parts()
PATHS = [(part, path) for part in PARTS for path in _paths(PARTS[part])]


def _parse(parts: dict[str, Any]) -> Quiz:
    texts = {lang: (parts[lang], file_name(lang)) for lang in ("nl", "en")}
    return parse_quiz(parts["structure"], file_name("structure"), texts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from([*JUNK, "DELETE"])),
        min_size=1,
        max_size=3,
    )
)
def test_random_breakage_gives_content_errors_only(
    edits: list[tuple[tuple[str, tuple[Any, ...]], Any]],
) -> None:
    parts = shipped_parts()
    for (part, path), value in edits:
        node: Any = parts[part]
        try:
            for key in path[:-1]:
                node = node[key]
            if value == "DELETE":
                del node[path[-1]]
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this path
    try:
        _parse(parts)
    except ContentInvalid as exc:
        assert exc.errors
        for err in exc.errors:
            assert err.file in {file_name(p) for p in ("structure", "nl", "en")}
            assert err.message
