"""Reads quiz content files from disk and hands them to the pure parser in `quiz.model`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from quiz.model import Quiz
from quiz.validate import ContentError, ContentInvalid, load_yaml_text, parse_quiz

CONTENT_DIR = Path(__file__).resolve().parent.parent / "quiz" / "content"
DEFAULT_QUIZ = "vrijwilligerskracht"


def _read(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentInvalid([ContentError(str(path), "", f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise ContentInvalid([ContentError(str(path), "", "not UTF-8 text")]) from exc
    return load_yaml_text(text, str(path))


def structure_files(folder: Path) -> list[Path]:
    """Structure files are `<quiz>.yaml`; `<quiz>.<lang>.yaml` are their texts."""
    return sorted(p for p in folder.glob("*.yaml") if p.stem.count(".") == 0)


def load_quiz_file(structure_path: Path) -> Quiz:
    """Load one quiz: its structure file plus every `<quiz>.<lang>.yaml` beside it."""
    structure = _read(structure_path)
    texts: dict[str, tuple[object, str]] = {}
    for path in sorted(structure_path.parent.glob(f"{structure_path.stem}.*.yaml")):
        lang = path.stem.split(".", 1)[1]
        texts[lang] = (_read(path), str(path))
    return parse_quiz(structure, str(structure_path), texts)


def resolve_structure(path: Path) -> list[Path]:
    """A folder, a structure file, or a language file -> the structure files to load."""
    if path.is_dir():
        return structure_files(path)
    if path.stem.count(".") == 1:
        return [path.with_name(path.stem.split(".", 1)[0] + ".yaml")]
    return [path]


@lru_cache(maxsize=8)
def load_quiz(quiz_id: str = DEFAULT_QUIZ, folder: Path = CONTENT_DIR) -> Quiz:
    return load_quiz_file(folder / f"{quiz_id}.yaml")


def load_quizzes(folder: Path | None = None) -> dict[str, Quiz]:
    """Every quiz in the content folder (VK_CONTENT_DIR, else the built-in one), keyed by id;
    the default quiz first."""
    folder = folder or CONTENT_DIR
    quizzes = {q.id: q for q in (load_quiz_file(p) for p in structure_files(folder))}
    if not quizzes:
        raise ContentInvalid([ContentError(str(folder), "", "no quiz structure file found")])
    first = DEFAULT_QUIZ if DEFAULT_QUIZ in quizzes else next(iter(quizzes))
    return {first: quizzes[first], **{k: v for k, v in quizzes.items() if k != first}}


@lru_cache(maxsize=4)
def default_quiz(folder: Path | None = None) -> Quiz:
    """The quiz new conversations get: the first of `folder`, by default VK_CONTENT_DIR's
    (else the built-in one). Reports, cards and tools use it, so they show the served quiz."""
    if folder is None:
        from bot.config import get_settings

        folder = get_settings().content_dir
    return next(iter(load_quizzes(folder).values()))
