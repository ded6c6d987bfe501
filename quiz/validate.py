"""Parsing and validation of quiz content: YAML text in, a validated `quiz.model.Quiz` out.

A quiz is one language-neutral structure file plus one text file per language. This module
takes already-read text so it stays free of I/O. Problems are collected, not raised one by
one, so an author sees them all at once; every error names the file, the path inside it and
what is wrong.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from quiz.model import (
    ACTIVITIES,
    CAUSES,
    COMMAND_KEYWORD_KEYS,
    COMMITMENTS,
    CONTEXTUAL_KEYWORD_KEYS,
    DAYPARTS,
    FEEDS,
    KINDS,
    MAX_BODY,
    MAX_BUTTON_TITLE,
    MAX_OPTIONS,
    MAX_ROW_DESCRIPTION,
    MAX_ROW_TITLE,
    MAX_SCORED_QUESTIONS,
    MOTIVES,
    OFFERS,
    OPTION_KEYS,
    OPTION_TEXT_KEYS,
    PROFILE_KEYS,
    PROFILE_TEXT_KEYS,
    QUESTION_KEYS,
    QUESTION_TEXT_KEYS,
    REQUIRED_UI_KEYS,
    SCORED_KINDS,
    STRUCTURE_KEYS,
    TEXT_FILE_KEYS,
    UI_BUTTON_KEYS,
    UI_OPTIONAL_PLACEHOLDERS,
    UI_PLACEHOLDERS,
    WEEKDAYS,
    Option,
    Profile,
    Question,
    Quiz,
)
from quiz.scoring import best_answers_for, score
from quiz.text import normalise


class ContentError(Exception):
    """One problem in a content file, located precisely."""

    def __init__(self, file: str, path: str, message: str) -> None:
        self.file = file
        self.path = path
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class ContentInvalid(Exception):
    """All problems found while loading a quiz."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# --------------------------------------------------------------------------- reading


class _Collector:
    """Collects errors instead of stopping at the first, so an author sees all at once."""

    def __init__(self) -> None:
        self.errors: list[ContentError] = []

    def add(self, file: str, path: str, message: str) -> None:
        self.errors.append(ContentError(file, path, message))


# libyaml's parser when present (several times faster); the same safe constructor either way.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeBase):  # type: ignore[misc,valid-type]
    """A safe loader that refuses duplicate mapping keys (plain YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: let the base class report it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def load_yaml_text(text: str, file: str) -> Any:
    """Parse YAML, turning syntax errors into a ContentError with line and column."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentInvalid([ContentError(file, where, f"malformed YAML: {problem}")]) from exc


def _known_keys(
    raw: Mapping[Any, Any], known: tuple[str, ...], file: str, path: str, col: _Collector
) -> None:
    """Report keys a mapping may not hold, suggesting the likely intended one."""
    for key in raw:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
        col.add(file, f"{path}.{key}" if path else str(key), f"unknown key {key!r}{hint}")


def _weights(
    raw: Any, allowed: tuple[str, ...], file: str, path: str, col: _Collector
) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        col.add(file, path, "must be a mapping of dimension id to weight")
        return {}
    out: dict[str, float] = {}
    for key, value in raw.items():
        if key not in allowed:
            col.add(
                file, f"{path}.{key}", f"unknown dimension {key!r} (known: {', '.join(allowed)})"
            )
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            col.add(file, f"{path}.{key}", f"weight must be a number, got {value!r}")
            continue
        if value < 0:
            col.add(file, f"{path}.{key}", "weight must not be negative")
            continue
        out[key] = float(value)
    return out


def _id(raw: Any, file: str, path: str, col: _Collector) -> str | None:
    if not isinstance(raw, str) or not raw:
        col.add(file, path, "missing or empty id")
        return None
    if not raw.replace("_", "").replace("-", "").isalnum() or raw != raw.lower():
        col.add(file, path, f"id {raw!r} must be lower case letters, digits, '_' or '-'")
        return None
    if len(raw) > 24:
        col.add(file, path, f"id {raw!r} is longer than 24 characters (button payloads stay short)")
        return None
    return raw


def _text(
    table: Any, key: str, file: str, path: str, col: _Collector, required: bool = True
) -> str:
    value = table.get(key) if isinstance(table, dict) else None
    if value is None:
        if required:
            col.add(file, f"{path}.{key}" if path else key, "missing translation")
        return ""
    if not isinstance(value, str) or not value.strip():
        col.add(file, f"{path}.{key}" if path else key, "must be a non-empty text")
        return ""
    return value.strip()


def _text_list(table: Any, key: str, file: str, path: str, col: _Collector) -> tuple[str, ...]:
    value = table.get(key) if isinstance(table, dict) else None
    if value is None:
        col.add(file, f"{path}.{key}", "missing translation")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        col.add(file, f"{path}.{key}", "must be a list of texts")
        return ()
    return tuple(v.strip() for v in value)


# --------------------------------------------------------------------------- the quiz


@dataclass
class _ProfileSpec:
    """A profile's language-neutral part, as read from the structure file."""

    id: str
    motives: dict[str, float]
    activities: dict[str, float]
    emoji: str


@dataclass
class _OptionSpec:
    id: str
    index: int
    motives: dict[str, float]
    activities: dict[str, float]
    value: Any


@dataclass
class _QuestionSpec:
    id: str
    index: int
    kind: str
    scored: bool
    feeds: str | None
    skippable: bool
    personal: bool
    min_value: Any
    max_value: Any
    options: list[_OptionSpec] = field(default_factory=list)
    ask_if: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class _Header:
    quiz_id: str
    version: int
    languages: list[str]
    default_language: str


@dataclass
class _LanguageTexts:
    """Everything read from the text files, per language."""

    ui: dict[str, dict[str, str]] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    profiles: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # id->lang->
    questions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # id->lang->


def parse_quiz(
    structure: Any,
    structure_file: str,
    texts: Mapping[str, tuple[Any, str]],
) -> Quiz:
    """Build a validated Quiz from a structure mapping and {lang: (mapping, file)} texts.

    Raises ContentInvalid listing every problem found.
    """
    col = _Collector()
    sf = structure_file
    if not isinstance(structure, dict):
        raise ContentInvalid([ContentError(sf, "", "the file must hold a mapping at the top")])
    _known_keys(structure, STRUCTURE_KEYS, sf, "", col)
    header = _header(structure, sf, texts, col)
    profiles = _profiles(structure.get("profiles"), sf, col)
    questions = _questions(structure.get("questions"), sf, col)
    n_scored = sum(1 for q in questions if q.scored)
    if n_scored > MAX_SCORED_QUESTIONS:
        col.add(sf, "questions", f"{n_scored} scored questions; at most {MAX_SCORED_QUESTIONS}")
    _check_dimensions(profiles, questions, sf, col)

    read = _LanguageTexts(
        profiles={p.id: {} for p in profiles}, questions={q.id: {} for q in questions}
    )
    for lang, (raw, tf) in texts.items():
        _language_file(raw, lang, tf, header.quiz_id, questions, read, col)
    if col.errors:
        raise ContentInvalid(col.errors)

    quiz = _build(header, profiles, questions, read, tuple(texts))
    files = {lang: tf for lang, (_, tf) in texts.items()}
    _check_translations_agree(quiz, files, col)
    _check_keywords(quiz, files, col)
    _check_option_names(quiz, files, col)
    _check_reachability(quiz, sf, col)
    if col.errors:
        raise ContentInvalid(col.errors)
    return quiz


def _header(
    structure: dict[str, Any], sf: str, texts: Mapping[str, tuple[Any, str]], col: _Collector
) -> _Header:
    quiz_id = _id(structure.get("id"), sf, "id", col) or "quiz"
    version = structure.get("version", 1)
    if not isinstance(version, int):
        col.add(sf, "version", "must be a whole number")
        version = 1
    languages = structure.get("languages", ["nl", "en"])
    if not isinstance(languages, list) or not languages:
        col.add(sf, "languages", "must be a non-empty list of language codes")
        languages = ["nl"]
    languages = [str(lang) for lang in languages]
    default_language = str(structure.get("default_language", languages[0]))
    if default_language not in languages:
        col.add(sf, "default_language", f"{default_language!r} is not in languages")
    for lang in languages:
        if lang not in texts:
            col.add(sf, "languages", f"no text file for language {lang!r}")
    for lang, (_, tf) in texts.items():
        if lang not in languages:
            col.add(tf, "language", f"language {lang!r} is not listed in {sf} languages")
    return _Header(quiz_id, version, languages, default_language)


# --------------------------------------------------------------------------- structure


def _entries(
    raw: list[Any], path: str, what: str, sf: str, col: _Collector, where: str = ""
) -> Iterator[tuple[int, str, dict[str, Any], str]]:
    """The mappings of a list that carry a valid id not seen before: (index, path, it, id)."""
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        epath = f"{path}[{i}]"
        if not isinstance(entry, dict):
            col.add(sf, epath, "must be a mapping")
            continue
        eid = _id(entry.get("id"), sf, f"{epath}.id", col)
        if eid is None:
            continue
        if eid in seen:
            col.add(sf, f"{epath}.id", f"duplicate {what} id {eid!r}{where}")
            continue
        seen.add(eid)
        yield i, epath, entry, eid


def _profiles(raw_profiles: Any, sf: str, col: _Collector) -> list[_ProfileSpec]:
    if not isinstance(raw_profiles, list) or not raw_profiles:
        col.add(sf, "profiles", "must be a non-empty list")
        return []
    out: list[_ProfileSpec] = []
    for _, path, rp, pid in _entries(raw_profiles, "profiles", "profile", sf, col):
        _known_keys(rp, PROFILE_KEYS, sf, path, col)
        motives = _weights(rp.get("motives"), MOTIVES, sf, f"{path}.motives", col)
        activities = _weights(rp.get("activities"), ACTIVITIES, sf, f"{path}.activities", col)
        if not activities:
            col.add(
                sf,
                f"{path}.activities",
                "a profile needs activity affinities (its signature; recommendations use them)",
            )
        out.append(_ProfileSpec(pid, motives, activities, str(rp.get("emoji", ""))))
    return out


def _questions(raw_questions: Any, sf: str, col: _Collector) -> list[_QuestionSpec]:
    if not isinstance(raw_questions, list) or not raw_questions:
        col.add(sf, "questions", "must be a non-empty list")
        return []
    out = [
        _question(rq, qid, i, sf, col)
        for i, _, rq, qid in _entries(raw_questions, "questions", "question", sf, col)
    ]
    for n, spec in enumerate(out):
        rq = raw_questions[spec.index]
        spec.ask_if = _ask_if(rq.get("ask_if"), out[:n], spec.index, sf, col)
    return out


def _ask_if(
    raw: Any, earlier: list[_QuestionSpec], i: int, sf: str, col: _Collector
) -> dict[str, tuple[str, ...]]:
    """`ask_if: {question: [options]}`: only earlier questions, only their options."""
    if raw is None:
        return {}
    path = f"questions[{i}].ask_if"
    if not isinstance(raw, dict):
        col.add(sf, path, "must be a mapping of an earlier question id to option ids")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for qid, wanted in raw.items():
        q = next((e for e in earlier if e.id == qid), None)
        if q is None:
            col.add(sf, f"{path}.{qid}", f"{qid!r} is not a question asked before this one")
            continue
        ids = wanted if isinstance(wanted, list) else [wanted]
        known = {o.id for o in q.options}
        good = [oid for oid in ids if isinstance(oid, str) and oid in known]
        for oid in ids:
            if oid not in good:
                col.add(sf, f"{path}.{qid}", f"unknown option {oid!r} of question {qid!r}")
        out[str(qid)] = tuple(good)
    return out


def _question(rq: dict[str, Any], qid: str, i: int, sf: str, col: _Collector) -> _QuestionSpec:
    path = f"questions[{i}]"
    _known_keys(rq, QUESTION_KEYS, sf, path, col)
    kind = rq.get("kind", "choice")
    if kind not in KINDS:
        col.add(sf, f"{path}.kind", f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
        kind = "choice"
    feeds = rq.get("feeds")
    if feeds is not None and feeds not in FEEDS:
        col.add(sf, f"{path}.feeds", f"unknown target {feeds!r} (known: {', '.join(FEEDS)})")
        feeds = None
    scored = bool(rq.get("scored", feeds is None))
    if scored and feeds is not None:
        col.add(sf, f"{path}.scored", "a question either scores or feeds, not both")
    if scored and kind not in SCORED_KINDS:
        col.add(
            sf,
            f"{path}.kind",
            f"a scored question must be one of {', '.join(SCORED_KINDS)}, not {kind!r}",
        )
    if not scored and feeds is None:
        col.add(sf, f"{path}.feeds", "an unscored question must feed something (feeds:)")
    if (feeds == "place") != (kind == "place"):
        col.add(sf, f"{path}.kind", "a place question has kind 'place' and feeds 'place'")
    for bound in ("min", "max"):
        value = rq.get(bound)
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if value is not None and not numeric:
            col.add(sf, f"{path}.{bound}", f"must be a number, got {value!r}")
    spec = _QuestionSpec(
        id=qid,
        index=i,
        kind=kind,
        scored=scored,
        feeds=feeds,
        skippable=bool(rq.get("skippable", True)),
        personal=bool(rq.get("personal", feeds in ("place", "age"))),
        min_value=rq.get("min"),
        max_value=rq.get("max"),
    )
    spec.options = _options(_raw_options(rq, kind, path, sf, col), spec, path, sf, col)
    return spec


def _raw_options(rq: dict[str, Any], kind: str, path: str, sf: str, col: _Collector) -> list[Any]:
    raw_options = rq.get("options") or []
    if kind not in SCORED_KINDS:
        if raw_options:
            col.add(sf, f"{path}.options", f"a {kind!r} question takes no options")
        return []
    if not isinstance(raw_options, list) or len(raw_options) < 2:
        col.add(sf, f"{path}.options", "a choice question needs at least 2 options")
        raw_options = raw_options if isinstance(raw_options, list) else []
    # A multi question also shows a 'done' row, so it gets one option fewer.
    room = MAX_OPTIONS - 1 if kind == "multi" else MAX_OPTIONS
    if len(raw_options) > room:
        col.add(
            sf,
            f"{path}.options",
            f"{len(raw_options)} options; WhatsApp lists hold at most {MAX_OPTIONS} rows"
            + (" (a multi question also needs one for 'done')" if kind == "multi" else ""),
        )
    return raw_options


def _options(
    raw_options: list[Any], q: _QuestionSpec, path: str, sf: str, col: _Collector
) -> list[_OptionSpec]:
    out: list[_OptionSpec] = []
    where = f" in question {q.id!r}"
    for j, opath, ro, oid in _entries(raw_options, f"{path}.options", "option", sf, col, where):
        _known_keys(ro, OPTION_KEYS, sf, opath, col)
        motives = _weights(ro.get("motives"), MOTIVES, sf, f"{opath}.motives", col)
        activities = _weights(ro.get("activities"), ACTIVITIES, sf, f"{opath}.activities", col)
        value = ro.get("value")
        _check_option_value(value, q.feeds, opath, sf, col)
        if q.scored and not motives and not activities:
            col.add(sf, opath, "an option of a scored question needs weights")
        if not q.scored and (motives or activities):
            col.add(sf, opath, "weights on an unscored question have no effect")
        out.append(_OptionSpec(oid, j, motives, activities, value))
    return out


def _check_option_value(
    value: Any, feeds: str | None, opath: str, sf: str, col: _Collector
) -> None:
    """An option's value must be what its question feeds into the recommendation query."""
    if feeds == "causes" and value is not None:
        for v in value if isinstance(value, list) else [value]:
            if v not in CAUSES:
                col.add(sf, f"{opath}.value", f"unknown cause id {v!r}")
    if feeds == "days" and value is not None:
        if not isinstance(value, dict):
            col.add(sf, f"{opath}.value", "must be a mapping with days and/or dayparts")
            return
        for key, allowed, what in (
            ("days", WEEKDAYS, "weekday"),
            ("dayparts", DAYPARTS, "daypart"),
        ):
            listed = value.get(key) or []
            if not isinstance(listed, list):
                col.add(sf, f"{opath}.value.{key}", f"must be a list of {what}s")
                continue
            for v in listed:
                if v not in allowed:
                    col.add(sf, f"{opath}.value.{key}", f"unknown {what} {v!r}")
    if feeds in ("hours", "age") and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        col.add(sf, f"{opath}.value", f"must be a number ({feeds}), got {value!r}")
    if feeds == "motive":
        listed = value if isinstance(value, list) else [value]
        for v in listed:
            if v not in OFFERS:
                col.add(
                    sf,
                    f"{opath}.value",
                    f"unknown offer {v!r} (known: {', '.join(OFFERS)})",
                )
    if feeds == "commitment" and value not in COMMITMENTS:
        col.add(
            sf,
            f"{opath}.value",
            f"unknown commitment {value!r} (known: {', '.join(COMMITMENTS)})",
        )


# --------------------------------------------------------------------------- text files


def _language_file(
    raw: Any,
    lang: str,
    tf: str,
    quiz_id: str,
    questions: list[_QuestionSpec],
    read: _LanguageTexts,
    col: _Collector,
) -> None:
    if not isinstance(raw, dict):
        col.add(tf, "", "the file must hold a mapping at the top")
        return
    _known_keys(raw, TEXT_FILE_KEYS, tf, "", col)
    if raw.get("language") != lang:
        col.add(tf, "language", f"must be {lang!r}")
    if raw.get("quiz") != quiz_id:
        col.add(tf, "quiz", f"must name the quiz {quiz_id!r}")
    read.ui[lang] = {**_ui_texts(raw.get("ui"), tf, col), **_handoff_texts(raw, tf, col)}
    read.labels[lang] = _labels(raw.get("labels"), tf, col)
    _profile_texts(raw.get("profiles"), lang, tf, read.profiles, col)
    _question_texts(raw.get("questions"), lang, tf, questions, read.questions, col)


def _ui_texts(raw_ui: Any, tf: str, col: _Collector) -> dict[str, str]:
    if not isinstance(raw_ui, dict):
        col.add(tf, "ui", "missing the ui texts")
        raw_ui = {}
    ui = {key: _text(raw_ui, key, tf, "ui", col) for key in REQUIRED_UI_KEYS}
    for key, value in raw_ui.items():
        if key not in REQUIRED_UI_KEYS:
            if isinstance(value, str):
                ui[key] = value.strip()
            else:
                col.add(tf, f"ui.{key}", "must be a text")
    _check_ui(ui, tf, col)
    return ui


def _handoff_texts(raw: dict[str, Any], tf: str, col: _Collector) -> dict[str, str]:
    """The `handoff` block: the texts after "Ik wil helpen" (quiz.handoff), each with the
    fields the flow fills in; button texts fit a WhatsApp reply button."""
    from quiz import handoff

    block = raw.get("handoff")
    if not isinstance(block, dict):
        col.add(tf, "handoff", "missing the hand-off texts")
        return {}
    texts = {key: _text(block, key, tf, "handoff", col) for key in handoff.TEXT_PLACEHOLDERS}
    for key in block:
        if key not in handoff.TEXT_PLACEHOLDERS:
            col.add(tf, f"handoff.{key}", "unknown text (the hand-off does not use it)")
    for key, expected in handoff.TEXT_PLACEHOLDERS.items():
        fields = _placeholders(texts.get(key, ""), tf, f"handoff.{key}", col)
        if fields is None:
            continue
        for name in sorted(expected - fields):
            col.add(tf, f"handoff.{key}", f"must contain the placeholder {{{name}}}")
        for name in sorted(fields - expected):
            col.add(tf, f"handoff.{key}", f"unknown placeholder {{{name}}}")
    for key in handoff.BUTTON_KEYS:
        if len(texts.get(key, "")) > MAX_BUTTON_TITLE:
            col.add(tf, f"handoff.{key}", f"button text longer than {MAX_BUTTON_TITLE} characters")
    return texts


def _labels(raw_labels: Any, tf: str, col: _Collector) -> dict[str, str]:
    raw_labels = raw_labels or {}
    if not isinstance(raw_labels, dict):
        col.add(tf, "labels", "must be a mapping of taxonomy id to label")
        raw_labels = {}
    labels = {str(k): str(v) for k, v in raw_labels.items()}
    taxonomy = (*CAUSES, *ACTIVITIES, *WEEKDAYS, *DAYPARTS)
    for key in labels:
        if key not in taxonomy:
            col.add(tf, f"labels.{key}", f"unknown cause, activity, weekday or daypart {key!r}")
    for tax_id in taxonomy:
        if tax_id not in labels:
            col.add(tf, f"labels.{tax_id}", "missing translation")
    return labels


def _profile_texts(
    raw_p: Any, lang: str, tf: str, out: dict[str, dict[str, dict[str, Any]]], col: _Collector
) -> None:
    if not isinstance(raw_p, dict):
        col.add(tf, "profiles", "missing the profile texts")
        raw_p = {}
    for key in raw_p:
        if key not in out:
            col.add(tf, f"profiles.{key}", f"unknown profile id {key!r}")
    for pid in out:
        entry = raw_p.get(pid)
        path = f"profiles.{pid}"
        if not isinstance(entry, dict):
            col.add(tf, path, "missing translation")
            continue
        _known_keys(entry, PROFILE_TEXT_KEYS, tf, path, col)
        out[pid][lang] = {
            "name": _text(entry, "name", tf, path, col),
            "tagline": _text(entry, "tagline", tf, path, col),
            "description": _text(entry, "description", tf, path, col),
            "strengths": _text_list(entry, "strengths", tf, path, col),
            "roles": _text_list(entry, "roles", tf, path, col),
        }


def _question_texts(
    raw_q: Any,
    lang: str,
    tf: str,
    questions: list[_QuestionSpec],
    out: dict[str, dict[str, dict[str, Any]]],
    col: _Collector,
) -> None:
    if not isinstance(raw_q, dict):
        col.add(tf, "questions", "missing the question texts")
        raw_q = {}
    for key in raw_q:
        if key not in out:
            col.add(tf, f"questions.{key}", f"unknown question id {key!r}")
    for q in questions:
        entry = raw_q.get(q.id)
        path = f"questions.{q.id}"
        if not isinstance(entry, dict):
            col.add(tf, path, "missing translation")
            continue
        _known_keys(entry, QUESTION_TEXT_KEYS, tf, path, col)
        texts = {
            "text": _text(entry, "text", tf, path, col),
            "why": _text(entry, "why", tf, path, col),
            "options": _option_texts(entry.get("options"), q, tf, path, col),
        }
        for key in ("text", "why"):
            if len(texts[key]) > MAX_BODY:
                col.add(tf, f"{path}.{key}", f"{len(texts[key])} characters; at most {MAX_BODY}")
        out[q.id][lang] = texts


def _option_texts(
    opts_raw: Any, q: _QuestionSpec, tf: str, path: str, col: _Collector
) -> dict[str, dict[str, Any]]:
    opts_raw = opts_raw or {}
    if not isinstance(opts_raw, dict):
        col.add(tf, f"{path}.options", "must be a mapping of option id to texts")
        opts_raw = {}
    known = {o.id for o in q.options}
    for key in opts_raw:
        if key not in known:
            col.add(tf, f"{path}.options.{key}", f"unknown option id {key!r}")
    # Rows shown: the options, plus the 'done' row of a multi question.
    n_opts = len(q.options) + (1 if q.kind == "multi" else 0)
    limit = MAX_BUTTON_TITLE if n_opts <= 3 else MAX_ROW_TITLE
    out: dict[str, dict[str, Any]] = {}
    for o in q.options:
        opath = f"{path}.options.{o.id}"
        ot = opts_raw.get(o.id)
        if isinstance(ot, str):
            ot = {"title": ot}
        if not isinstance(ot, dict):
            col.add(tf, opath, "missing translation")
            continue
        _known_keys(ot, OPTION_TEXT_KEYS, tf, opath, col)
        title = _text(ot, "title", tf, opath, col)
        if len(title) > limit:
            col.add(
                tf,
                f"{opath}.title",
                f"title {title!r} has {len(title)} characters; at most {limit} "
                f"({'reply button' if n_opts <= 3 else 'list row'} on WhatsApp)",
            )
        desc = _text(ot, "description", tf, opath, col, required=False)
        if len(desc) > MAX_ROW_DESCRIPTION:
            col.add(
                tf, f"{opath}.description", f"{len(desc)} characters; at most {MAX_ROW_DESCRIPTION}"
            )
        syn = ot.get("synonyms") or []
        if not isinstance(syn, list) or not all(isinstance(s, str) for s in syn):
            col.add(tf, f"{opath}.synonyms", "must be a list of texts")
            syn = []
        because = _text(ot, "because", tf, opath, col, required=q.feeds == "motive")
        out[o.id] = {
            "title": title,
            "description": desc,
            "synonyms": tuple(syn),
            "because": because,
        }
    return out


# --------------------------------------------------------------------------- building


def _build(
    header: _Header,
    profiles: list[_ProfileSpec],
    questions: list[_QuestionSpec],
    read: _LanguageTexts,
    langs: tuple[str, ...],
) -> Quiz:
    return Quiz(
        id=header.quiz_id,
        version=header.version,
        languages=tuple(header.languages),
        default_language=header.default_language,
        profiles=tuple(_build_profile(p, read.profiles[p.id], langs) for p in profiles),
        questions=tuple(_build_question(q, read.questions[q.id], langs) for q in questions),
        ui=read.ui,
        labels=read.labels,
    )


def _build_profile(
    p: _ProfileSpec, texts: dict[str, dict[str, Any]], langs: tuple[str, ...]
) -> Profile:
    def per_lang(key: str) -> dict[str, Any]:
        return {lang: texts[lang][key] for lang in langs}

    return Profile(
        id=p.id,
        name=per_lang("name"),
        tagline=per_lang("tagline"),
        description=per_lang("description"),
        strengths=per_lang("strengths"),
        roles=per_lang("roles"),
        motives=p.motives,
        activities=p.activities,
        emoji=p.emoji,
    )


def _build_question(
    q: _QuestionSpec, texts: dict[str, dict[str, Any]], langs: tuple[str, ...]
) -> Question:
    def option_texts(oid: str, key: str) -> dict[str, Any]:
        return {lang: texts[lang]["options"][oid][key] for lang in langs}

    return Question(
        id=q.id,
        kind=q.kind,  # type: ignore[arg-type]  # checked against KINDS above
        text={lang: texts[lang]["text"] for lang in langs},
        why={lang: texts[lang]["why"] for lang in langs},
        options=tuple(
            Option(
                id=o.id,
                title=option_texts(o.id, "title"),
                description=option_texts(o.id, "description"),
                synonyms=option_texts(o.id, "synonyms"),
                because={k: v for k, v in option_texts(o.id, "because").items() if v},
                motives=o.motives,
                activities=o.activities,
                value=o.value,
            )
            for o in q.options
        ),
        scored=q.scored,
        feeds=q.feeds,
        skippable=q.skippable,
        personal=q.personal,
        min_value=q.min_value,
        max_value=q.max_value,
        ask_if=q.ask_if,
    )


def _check_dimensions(
    profiles: list[_ProfileSpec], questions: list[_QuestionSpec], file: str, col: _Collector
) -> None:
    """Profiles weigh only what questions measure; questions measure only what profiles use."""
    measured: set[tuple[str, str]] = set()
    for q in questions:
        if q.scored:
            for o in q.options:
                measured.update(("motives", d) for d in o.motives)
                measured.update(("activities", d) for d in o.activities)
    used: set[tuple[str, str]] = set()
    for i, p in enumerate(profiles):
        for family, weights in (("motives", p.motives), ("activities", p.activities)):
            for d in weights:
                used.add((family, d))
                if (family, d) not in measured:
                    col.add(
                        file,
                        f"profiles[{i}].{family}.{d}",
                        "no scored question measures this dimension, so it can never count",
                    )
    for q in questions:
        if not q.scored:
            continue
        for o in q.options:
            for family, weights in (("motives", o.motives), ("activities", o.activities)):
                for d in weights:
                    if (family, d) not in used:
                        col.add(
                            file,
                            f"questions[{q.index}].options[{o.index}].{family}.{d}",
                            "no profile uses this dimension, so the weight has no effect",
                        )


def _placeholders(
    text: str, file: str, where: str, col: _Collector, hint: str = ""
) -> set[str] | None:
    """The {fields} a text fills in; None for no text, or a malformed one (reported)."""
    if not text:
        return None
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        col.add(file, where, f"malformed placeholder: {exc}{hint}")
        return None


def _check_ui(table: Mapping[str, str], file: str, col: _Collector) -> None:
    """Placeholders the engine fills, and button texts that fit WhatsApp."""
    for key in (*REQUIRED_UI_KEYS, *(k for k in UI_PLACEHOLDERS if k not in REQUIRED_UI_KEYS)):
        hint = " (write a brace as {{ }})"
        fields = _placeholders(table.get(key, ""), file, f"ui.{key}", col, hint)
        if fields is None:
            continue
        expected = UI_PLACEHOLDERS.get(key, frozenset())
        for name in sorted(expected - fields):
            col.add(file, f"ui.{key}", f"must contain the placeholder {{{name}}}")
        optional = UI_OPTIONAL_PLACEHOLDERS.get(key, frozenset())
        for name in sorted(fields - expected - optional):
            allowed = ", ".join(f"{{{n}}}" for n in sorted(expected | optional)) or "none"
            col.add(file, f"ui.{key}", f"unknown placeholder {{{name}}} (allowed: {allowed})")
    for key in UI_BUTTON_KEYS:
        text = table.get(key, "")
        if len(text) > MAX_BUTTON_TITLE:
            col.add(
                file,
                f"ui.{key}",
                f"button text {text!r} has {len(text)} characters; at most {MAX_BUTTON_TITLE}",
            )


def _check_translations_agree(quiz: Quiz, files: Mapping[str, str], col: _Collector) -> None:
    """Optional texts present in one language must be present in all."""
    extra = {k for table in quiz.ui.values() for k in table if k not in REQUIRED_UI_KEYS}
    for lang, table in quiz.ui.items():
        for key in sorted(extra - set(table)):
            col.add(files[lang], f"ui.{key}", "missing translation (other languages have it)")
    for q in quiz.questions:
        for o in q.options:
            if not any(o.description.values()):
                continue
            for lang, desc in o.description.items():
                if not desc:
                    col.add(
                        files[lang],
                        f"questions.{q.id}.options.{o.id}.description",
                        "missing translation (other languages have it)",
                    )


def _keyword_phrases(quiz: Quiz) -> list[tuple[str, str, str, str]]:
    """(normalised phrase, phrase, ui key, language) for every command keyword."""
    out: list[tuple[str, str, str, str]] = []
    for lang in quiz.languages:
        table = quiz.ui.get(lang, {})
        for key in COMMAND_KEYWORD_KEYS:
            for phrase in table.get(key, "").split(","):
                norm = normalise(phrase)
                if norm:
                    out.append((norm, phrase.strip(), key, lang))
    return out


def _check_keywords(quiz: Quiz, files: Mapping[str, str], col: _Collector) -> None:
    """One phrase, one command: free text equal to a keyword must mean one thing."""
    owner: dict[str, tuple[str, str]] = {}
    for norm, phrase, key, lang in _keyword_phrases(quiz):
        # Language switches differ per language; every other command is the same in all.
        command = f"{key}:{lang}" if key == "keywords_language" else key
        if norm not in owner:
            owner[norm] = (command, f"ui.{key} of {files[lang]}")
        elif owner[norm][0] != command:
            col.add(
                files[lang],
                f"ui.{key}",
                f"{phrase!r} is also in {owner[norm][1]}: typed, it cannot mean both",
            )


def _check_option_names(quiz: Quiz, files: Mapping[str, str], col: _Collector) -> None:
    """Typed titles and synonyms must point at one option and not be read as something else."""
    commands = {
        norm: key
        for norm, _, key, _ in _keyword_phrases(quiz)
        if key not in CONTEXTUAL_KEYWORD_KEYS
    }
    for q in quiz.questions:
        n = len(q.options)
        names: dict[str, str] = {}
        for lang in quiz.languages:
            for o in q.options:
                opath = f"questions.{q.id}.options.{o.id}"
                entries = [("title", o.title.get(lang, ""))]
                entries += [("synonyms", s) for s in o.synonyms.get(lang, ())]
                for field_name, name in entries:
                    norm = normalise(name)
                    where = f"{opath}.{field_name}"
                    if not norm:
                        if name:
                            col.add(files[lang], where, f"{name!r} has no letters or digits")
                        continue
                    other = names.setdefault(norm, o.id)
                    if other != o.id:
                        col.add(
                            files[lang],
                            where,
                            f"{name!r} also names option {other!r}: typed, it could mean either",
                        )
                    if norm in commands:
                        col.add(
                            files[lang],
                            where,
                            f"{name!r} is a command word (ui.{commands[norm]}): "
                            "typed, it runs that command instead",
                        )
                    index = (
                        int(norm) - 1
                        if norm.isdigit()
                        else (ord(norm) - ord("a") if len(norm) == 1 and norm.isalpha() else -1)
                    )
                    if 0 <= index < n and q.options[index].id != o.id:
                        col.add(
                            files[lang],
                            where,
                            f"typed, {name!r} picks option {index + 1} ({q.options[index].id!r})",
                        )


def _check_reachability(quiz: Quiz, file: str, col: _Collector) -> None:
    """Every profile must win for at least one answer path (greedy search per profile)."""
    for i, profile in enumerate(quiz.profiles):
        answers = best_answers_for(quiz, profile.id)
        result = score(quiz, answers, quiz.default_language)
        if result is None or result.primary != profile.id:
            col.add(
                file,
                f"profiles[{i}]",
                f"profile {profile.id!r} is unreachable: no answer path makes it the outcome",
            )
