"""The domain's imports: quiz/ never imports bot/, frameworks or I/O, and forms no cycle.

Every import statement is read with ast, those inside functions included, so a cycle cannot
hide behind a function-level import.
"""

from __future__ import annotations

import ast
from pathlib import Path

QUIZ = Path(__file__).resolve().parents[2] / "quiz"
FORBIDDEN = ("bot", "fastapi", "sqlalchemy", "telegram", "spacy", "httpx", "asyncpg", "aiosqlite")


def _module(path: Path) -> str:
    rel = path.relative_to(QUIZ.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at any depth of the syntax tree."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in QUIZ.rglob("*.py")}
    return {name: {m for m in _imports(p) if m in files and m != name} for name, p in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_quiz_imports_form_no_cycle() -> None:
    graph = _graph()
    assert "quiz.model" in graph and "quiz.validate" in graph
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_quiz_imports_no_application_or_framework() -> None:
    for path in QUIZ.rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert top not in FORBIDDEN, f"{path.name} imports {name}"
