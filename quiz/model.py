"""The typed quiz content model and its validation.

A quiz is one language-neutral structure file (ids, weights, values) plus one text file per
language. Parsing takes already-read YAML text so this module stays free of I/O; every error
names the file, the path inside it and what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from quiz.messages import QuestionKind

MOTIVES: tuple[str, ...] = (
    "values",
    "understanding",
    "social",
    "career",
    "protective",
    "enhancement",
)
ACTIVITIES: tuple[str, ...] = (
    "hands_on",
    "social",
    "organising",
    "teaching",
    "creative",
    "expert",
    "caring",
    "outdoor",
    "digital",
)
CAUSES: tuple[str, ...] = (
    "sport",
    "education",
    "neighbourhood",
    "care",
    "elderly",
    "disability",
    "youth",
    "refugees",
    "poverty",
    "culture",
    "nature",
    "animals",
    "faith",
    "events",
    "other",
)
WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
DAYPARTS: tuple[str, ...] = ("morning", "afternoon", "evening")
KINDS: tuple[str, ...] = ("choice", "multi", "scale", "place", "number", "text")
# What a practical (unscored) question feeds into the recommendation query.
FEEDS: tuple[str, ...] = ("place", "hours", "days", "causes", "age", "commitment")

# WhatsApp limits that every option must fit (ARCHITECTURE: channels degrade, content fits).
MAX_OPTIONS = 10
MAX_BUTTON_TITLE = 20  # reply buttons, used when a question has <= 3 options
MAX_ROW_TITLE = 24  # list rows, used for 4..10 options
MAX_ROW_DESCRIPTION = 72
MAX_SCORED_QUESTIONS = 12

# UI strings every language file must provide (the engine's own phrases).
REQUIRED_UI_KEYS: tuple[str, ...] = (
    "welcome",
    "consent",
    "consent_yes",
    "consent_no",
    "consent_more",
    "consent_explained",
    "declined",
    "help",
    "back",
    "skip",
    "why_button",
    "done",
    "not_understood",
    "nothing_to_go_back_to",
    "cannot_skip",
    "stopped",
    "resume",
    "resumed",
    "restart",
    "restarted",
    "language_changed",
    "deleted",
    "my_data_intro",
    "my_data_empty",
    "place_unknown",
    "multi_hint",
    "result_intro",
    "result_reasons",
    "result_runner_up",
    "result_confidence_high",
    "result_confidence_medium",
    "result_confidence_low",
    "strengths",
    "example_roles",
    "recommendations_intro",
    "recommendations_none",
    "more_info",
    "show_more",
    "want_to_help",
    "contact_intro",
    "no_more",
    "finished_hint",
    "reason_joiner",
    "result_unknown",
    "my_data_language",
    "my_data_consent",
    "my_data_campaign",
    "my_data_profile",
    "distance_km",
    "remote",
    "vog_required",
    "fictional_note",
    "keywords_yes",
    "keywords_no",
    "keywords_back",
    "keywords_skip",
    "keywords_restart",
    "keywords_help",
    "keywords_why",
    "keywords_stop",
    "keywords_resume",
    "keywords_my_data",
    "keywords_delete_data",
    "keywords_done",
    "keywords_start",
    "keywords_language",
)


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


Texts = Mapping[str, str]  # language -> text


@dataclass(frozen=True)
class Option:
    id: str
    title: Texts
    description: Texts = field(default_factory=dict)
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    motives: Mapping[str, float] = field(default_factory=dict)
    activities: Mapping[str, float] = field(default_factory=dict)
    value: Any = None


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    text: Texts
    why: Texts
    options: tuple[Option, ...] = ()
    scored: bool = True
    feeds: str | None = None
    skippable: bool = True
    personal: bool = False
    min_value: float | None = None
    max_value: float | None = None

    def option(self, option_id: str) -> Option | None:
        for opt in self.options:
            if opt.id == option_id:
                return opt
        return None


@dataclass(frozen=True)
class Profile:
    id: str
    name: Texts
    tagline: Texts
    description: Texts
    strengths: Mapping[str, tuple[str, ...]]
    roles: Mapping[str, tuple[str, ...]]
    motives: Mapping[str, float]
    activities: Mapping[str, float]
    emoji: str = ""


@dataclass(frozen=True)
class Quiz:
    id: str
    version: int
    languages: tuple[str, ...]
    default_language: str
    profiles: tuple[Profile, ...]
    questions: tuple[Question, ...]
    ui: Mapping[str, Mapping[str, str]]  # language -> key -> text
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # lang -> id -> label

    def question(self, question_id: str) -> Question | None:
        for q in self.questions:
            if q.id == question_id:
                return q
        return None

    def profile(self, profile_id: str) -> Profile | None:
        for p in self.profiles:
            if p.id == profile_id:
                return p
        return None

    @property
    def scored_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.scored)

    def t(self, lang: str, key: str, **values: Any) -> str:
        """A UI string in `lang` (falling back to the default language), formatted."""
        table = self.ui.get(lang) or self.ui[self.default_language]
        text = table.get(key) or self.ui[self.default_language].get(key, key)
        return text.format(**values) if values else text

    def label(self, lang: str, taxonomy_id: str) -> str:
        """Human label of a cause, activity, weekday or daypart id."""
        table = self.labels.get(lang) or self.labels.get(self.default_language) or {}
        return table.get(taxonomy_id, taxonomy_id.replace("_", " "))


# --------------------------------------------------------------------------- parsing


class _Collector:
    """Collects errors instead of stopping at the first, so an author sees all at once."""

    def __init__(self) -> None:
        self.errors: list[ContentError] = []

    def add(self, file: str, path: str, message: str) -> None:
        self.errors.append(ContentError(file, path, message))


def load_yaml_text(text: str, file: str) -> Any:
    """Parse YAML, turning syntax errors into a ContentError with line and column."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentInvalid([ContentError(file, where, f"malformed YAML: {problem}")]) from exc


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

    # ---- profiles
    raw_profiles = structure.get("profiles")
    profiles_struct: list[tuple[str, dict[str, float], dict[str, float], str]] = []
    if not isinstance(raw_profiles, list) or not raw_profiles:
        col.add(sf, "profiles", "must be a non-empty list")
        raw_profiles = []
    seen: set[str] = set()
    for i, rp in enumerate(raw_profiles):
        path = f"profiles[{i}]"
        if not isinstance(rp, dict):
            col.add(sf, path, "must be a mapping")
            continue
        pid = _id(rp.get("id"), sf, f"{path}.id", col)
        if pid is None:
            continue
        if pid in seen:
            col.add(sf, f"{path}.id", f"duplicate profile id {pid!r}")
            continue
        seen.add(pid)
        motives = _weights(rp.get("motives"), MOTIVES, sf, f"{path}.motives", col)
        activities = _weights(rp.get("activities"), ACTIVITIES, sf, f"{path}.activities", col)
        if not motives and not activities:
            col.add(sf, path, "a profile needs motive or activity weights (its signature)")
        profiles_struct.append((pid, motives, activities, str(rp.get("emoji", ""))))

    # ---- questions
    raw_questions = structure.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        col.add(sf, "questions", "must be a non-empty list")
        raw_questions = []
    q_struct: list[dict[str, Any]] = []
    seen_q: set[str] = set()
    for i, rq in enumerate(raw_questions):
        path = f"questions[{i}]"
        if not isinstance(rq, dict):
            col.add(sf, path, "must be a mapping")
            continue
        qid = _id(rq.get("id"), sf, f"{path}.id", col)
        if qid is None:
            continue
        if qid in seen_q:
            col.add(sf, f"{path}.id", f"duplicate question id {qid!r}")
            continue
        seen_q.add(qid)
        kind = rq.get("kind", "choice")
        if kind not in KINDS:
            col.add(sf, f"{path}.kind", f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
            kind = "choice"
        feeds = rq.get("feeds")
        if feeds is not None and feeds not in FEEDS:
            col.add(sf, f"{path}.feeds", f"unknown target {feeds!r} (known: {', '.join(FEEDS)})")
            feeds = None
        scored = bool(rq.get("scored", feeds is None))
        options: list[dict[str, Any]] = []
        raw_options = rq.get("options") or []
        if kind in ("choice", "multi", "scale"):
            if not isinstance(raw_options, list) or len(raw_options) < 2:
                col.add(sf, f"{path}.options", "a choice question needs at least 2 options")
                raw_options = raw_options if isinstance(raw_options, list) else []
            if len(raw_options) > MAX_OPTIONS:
                col.add(
                    sf,
                    f"{path}.options",
                    f"{len(raw_options)} options; WhatsApp lists hold at most {MAX_OPTIONS}",
                )
        seen_o: set[str] = set()
        for j, ro in enumerate(raw_options):
            opath = f"{path}.options[{j}]"
            if not isinstance(ro, dict):
                col.add(sf, opath, "must be a mapping")
                continue
            oid = _id(ro.get("id"), sf, f"{opath}.id", col)
            if oid is None:
                continue
            if oid in seen_o:
                col.add(sf, f"{opath}.id", f"duplicate option id {oid!r} in question {qid!r}")
                continue
            seen_o.add(oid)
            motives = _weights(ro.get("motives"), MOTIVES, sf, f"{opath}.motives", col)
            activities = _weights(ro.get("activities"), ACTIVITIES, sf, f"{opath}.activities", col)
            value = ro.get("value")
            if feeds == "causes" and value is not None:
                vals = value if isinstance(value, list) else [value]
                for v in vals:
                    if v not in CAUSES:
                        col.add(sf, f"{opath}.value", f"unknown cause id {v!r}")
            if feeds == "days" and value is not None:
                if not isinstance(value, dict):
                    col.add(sf, f"{opath}.value", "must be a mapping with days and/or dayparts")
                else:
                    for v in value.get("days", []) or []:
                        if v not in WEEKDAYS:
                            col.add(sf, f"{opath}.value.days", f"unknown weekday {v!r}")
                    for v in value.get("dayparts", []) or []:
                        if v not in DAYPARTS:
                            col.add(sf, f"{opath}.value.dayparts", f"unknown daypart {v!r}")
            if scored and not motives and not activities:
                col.add(sf, opath, "an option of a scored question needs weights")
            options.append(
                {"id": oid, "motives": motives, "activities": activities, "value": value}
            )
        q_struct.append(
            {
                "id": qid,
                "kind": kind,
                "scored": scored,
                "feeds": feeds,
                "skippable": bool(rq.get("skippable", True)),
                "personal": bool(rq.get("personal", feeds in ("place", "age"))),
                "min_value": rq.get("min"),
                "max_value": rq.get("max"),
                "options": options,
            }
        )
    n_scored = sum(1 for q in q_struct if q["scored"])
    if n_scored > MAX_SCORED_QUESTIONS:
        col.add(sf, "questions", f"{n_scored} scored questions; at most {MAX_SCORED_QUESTIONS}")

    # ---- texts per language
    ui: dict[str, dict[str, str]] = {}
    labels: dict[str, dict[str, str]] = {}
    p_texts: dict[str, dict[str, dict[str, Any]]] = {p[0]: {} for p in profiles_struct}
    q_texts: dict[str, dict[str, dict[str, Any]]] = {q["id"]: {} for q in q_struct}
    for lang, (raw, tf) in texts.items():
        if not isinstance(raw, dict):
            col.add(tf, "", "the file must hold a mapping at the top")
            continue
        if raw.get("language") != lang:
            col.add(tf, "language", f"must be {lang!r}")
        if raw.get("quiz") != quiz_id:
            col.add(tf, "quiz", f"must name the quiz {quiz_id!r}")
        raw_ui = raw.get("ui")
        if not isinstance(raw_ui, dict):
            col.add(tf, "ui", "missing the ui texts")
            raw_ui = {}
        ui[lang] = {}
        for key in REQUIRED_UI_KEYS:
            ui[lang][key] = _text(raw_ui, key, tf, "ui", col)
        for key, value in raw_ui.items():
            if key not in REQUIRED_UI_KEYS:
                if isinstance(value, str):
                    ui[lang][key] = value.strip()
                else:
                    col.add(tf, f"ui.{key}", "must be a text")
        raw_labels = raw.get("labels") or {}
        if not isinstance(raw_labels, dict):
            col.add(tf, "labels", "must be a mapping of taxonomy id to label")
            raw_labels = {}
        labels[lang] = {str(k): str(v) for k, v in raw_labels.items()}
        for tax_id in (*CAUSES, *ACTIVITIES, *WEEKDAYS, *DAYPARTS):
            if tax_id not in labels[lang]:
                col.add(tf, f"labels.{tax_id}", "missing translation")

        raw_p = raw.get("profiles")
        if not isinstance(raw_p, dict):
            col.add(tf, "profiles", "missing the profile texts")
            raw_p = {}
        for key in raw_p:
            if key not in p_texts:
                col.add(tf, f"profiles.{key}", f"unknown profile id {key!r}")
        for pid in p_texts:
            entry = raw_p.get(pid)
            path = f"profiles.{pid}"
            if not isinstance(entry, dict):
                col.add(tf, path, "missing translation")
                continue
            p_texts[pid][lang] = {
                "name": _text(entry, "name", tf, path, col),
                "tagline": _text(entry, "tagline", tf, path, col),
                "description": _text(entry, "description", tf, path, col),
                "strengths": _text_list(entry, "strengths", tf, path, col),
                "roles": _text_list(entry, "roles", tf, path, col),
            }

        raw_q = raw.get("questions")
        if not isinstance(raw_q, dict):
            col.add(tf, "questions", "missing the question texts")
            raw_q = {}
        for key in raw_q:
            if key not in q_texts:
                col.add(tf, f"questions.{key}", f"unknown question id {key!r}")
        for q in q_struct:
            qid = q["id"]
            entry = raw_q.get(qid)
            path = f"questions.{qid}"
            if not isinstance(entry, dict):
                col.add(tf, path, "missing translation")
                continue
            opts_raw = entry.get("options") or {}
            if not isinstance(opts_raw, dict):
                col.add(tf, f"{path}.options", "must be a mapping of option id to texts")
                opts_raw = {}
            known = {o["id"] for o in q["options"]}
            for key in opts_raw:
                if key not in known:
                    col.add(tf, f"{path}.options.{key}", f"unknown option id {key!r}")
            n_opts = len(q["options"])
            limit = MAX_BUTTON_TITLE if n_opts <= 3 else MAX_ROW_TITLE
            opt_texts: dict[str, dict[str, Any]] = {}
            for o in q["options"]:
                opath = f"{path}.options.{o['id']}"
                ot = opts_raw.get(o["id"])
                if isinstance(ot, str):
                    ot = {"title": ot}
                if not isinstance(ot, dict):
                    col.add(tf, opath, "missing translation")
                    continue
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
                        tf,
                        f"{opath}.description",
                        f"{len(desc)} characters; at most {MAX_ROW_DESCRIPTION}",
                    )
                syn = ot.get("synonyms") or []
                if not isinstance(syn, list) or not all(isinstance(s, str) for s in syn):
                    col.add(tf, f"{opath}.synonyms", "must be a list of texts")
                    syn = []
                opt_texts[o["id"]] = {"title": title, "description": desc, "synonyms": tuple(syn)}
            q_texts[qid][lang] = {
                "text": _text(entry, "text", tf, path, col),
                "why": _text(entry, "why", tf, path, col),
                "options": opt_texts,
            }

    if col.errors:
        raise ContentInvalid(col.errors)

    langs = tuple(texts)
    profiles = tuple(
        Profile(
            id=pid,
            name={lang: p_texts[pid][lang]["name"] for lang in langs},
            tagline={lang: p_texts[pid][lang]["tagline"] for lang in langs},
            description={lang: p_texts[pid][lang]["description"] for lang in langs},
            strengths={lang: p_texts[pid][lang]["strengths"] for lang in langs},
            roles={lang: p_texts[pid][lang]["roles"] for lang in langs},
            motives=motives,
            activities=activities,
            emoji=emoji,
        )
        for pid, motives, activities, emoji in profiles_struct
    )
    questions = tuple(
        Question(
            id=q["id"],
            kind=q["kind"],
            text={lang: q_texts[q["id"]][lang]["text"] for lang in langs},
            why={lang: q_texts[q["id"]][lang]["why"] for lang in langs},
            options=tuple(
                Option(
                    id=o["id"],
                    title={
                        lang: q_texts[q["id"]][lang]["options"][o["id"]]["title"] for lang in langs
                    },
                    description={
                        lang: q_texts[q["id"]][lang]["options"][o["id"]]["description"]
                        for lang in langs
                    },
                    synonyms={
                        lang: q_texts[q["id"]][lang]["options"][o["id"]]["synonyms"]
                        for lang in langs
                    },
                    motives=o["motives"],
                    activities=o["activities"],
                    value=o["value"],
                )
                for o in q["options"]
            ),
            scored=q["scored"],
            feeds=q["feeds"],
            skippable=q["skippable"],
            personal=q["personal"],
            min_value=q["min_value"],
            max_value=q["max_value"],
        )
        for q in q_struct
    )
    quiz = Quiz(
        id=quiz_id,
        version=version,
        languages=tuple(languages),
        default_language=default_language,
        profiles=profiles,
        questions=questions,
        ui=ui,
        labels=labels,
    )
    _check_reachability(quiz, sf, col)
    if col.errors:
        raise ContentInvalid(col.errors)
    return quiz


def _check_reachability(quiz: Quiz, file: str, col: _Collector) -> None:
    """Every profile must win for at least one answer path (greedy search per profile)."""
    from quiz.scoring import best_answers_for

    for i, profile in enumerate(quiz.profiles):
        answers = best_answers_for(quiz, profile.id)
        from quiz.scoring import score

        result = score(quiz, answers, quiz.default_language)
        if result is None or result.primary != profile.id:
            col.add(
                file,
                f"profiles[{i}]",
                f"profile {profile.id!r} is unreachable: no answer path makes it the outcome",
            )
