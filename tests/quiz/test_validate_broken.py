"""The validator on broken content: each kind of mistake gives a precise, located error.

Every case takes the shipped content, breaks one thing, and expects an error naming the file,
the path inside it and what is wrong.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.content import load_quiz_file
from quiz.validate import ContentError, ContentInvalid
from tests.quiz.fixtures.content import (
    Parts,
    file_name,
    profile_index,
    question,
    question_index,
    raw_text,
    shipped_parts,
    write_quiz,
)


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Callable[[Parts], None] | None
    part: str  # the file the error must name: "structure", "nl" or "en"
    path: Callable[[Parts], str] | str  # the path inside it (a callable computes indexes)
    message: str  # a fragment of the message
    raw: Callable[[], dict[str, str]] | None = None
    omit: tuple[str, ...] = ()


def _q(qid: str) -> Callable[[Parts], str]:
    return lambda p: f"questions[{question_index(p, qid)}]"


def _p(pid: str) -> Callable[[Parts], str]:
    return lambda p: f"profiles[{profile_index(p, pid)}]"


def _set(part: str, keys: tuple[str | int, ...], value: object) -> Callable[[Parts], None]:
    def apply(p: Parts) -> None:
        node = p[part]
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return apply


def _delete(part: str, keys: tuple[str | int, ...]) -> Callable[[Parts], None]:
    def apply(p: Parts) -> None:
        node = p[part]
        for k in keys[:-1]:
            node = node[k]
        del node[keys[-1]]

    return apply


def _option(qid: str, index: int, **changes: object) -> Callable[[Parts], None]:
    def apply(p: Parts) -> None:
        question(p, qid)["options"][index].update(changes)

    return apply


def _add_options(qid: str, count: int) -> Callable[[Parts], None]:
    def apply(p: Parts) -> None:
        q = question(p, qid)
        for i in range(count):
            oid = f"extra{i}"
            q["options"].append({"id": oid, "value": "sport", "activities": {"social": 1}})
            for lang in ("nl", "en"):
                p[lang]["questions"][qid]["options"][oid] = {"title": f"Extra {i}"}
        if q.get("feeds"):
            for o in q["options"]:
                o.pop("activities", None)

    return apply


def _clone_profile(p: Parts) -> None:
    """A second profile with exactly the signature of an existing one can never win."""
    source = p["structure"]["profiles"][profile_index(p, "creatieveling")]
    clone = {**copy.deepcopy(source), "id": "kopie"}
    p["structure"]["profiles"].append(clone)
    for lang in ("nl", "en"):
        p[lang]["profiles"]["kopie"] = copy.deepcopy(p[lang]["profiles"]["creatieveling"])


def _as_multi_with_options(qid: str, count: int) -> Callable[[Parts], None]:
    def apply(p: Parts) -> None:
        question(p, qid)["kind"] = "multi"
        _add_options(qid, count)(p)

    return apply


def _more_scored_questions(p: Parts) -> None:
    for i in range(8):
        clone = {**copy.deepcopy(question(p, "activity")), "id": f"activity{i}"}
        p["structure"]["questions"].insert(0, clone)
        for lang in ("nl", "en"):
            p[lang]["questions"][f"activity{i}"] = copy.deepcopy(p[lang]["questions"]["activity"])


def _drop_dimension_everywhere(family: str, dim: str) -> Callable[[Parts], None]:
    def apply(p: Parts) -> None:
        for q in p["structure"]["questions"]:
            for o in q.get("options") or []:
                weights = o.get(family) or {}
                weights.pop(dim, None)
                if not o.get("motives") and not o.get("activities") and "value" not in o:
                    o["motives"] = {"values": 1}

    return apply


def _drop_from_profiles(family: str, dim: str) -> Callable[[Parts], None]:
    def apply(p: Parts) -> None:
        for prof in p["structure"]["profiles"]:
            (prof.get(family) or {}).pop(dim, None)

    return apply


def _append_synonym(lang: str, qid: str, oid: str, synonym: str) -> Callable[[Parts], None]:
    def apply(p: Parts) -> None:
        entry = p[lang]["questions"][qid]["options"][oid]
        entry.setdefault("synonyms", []).append(synonym)

    return apply


def _append_keyword(lang: str, key: str, phrase: str) -> Callable[[Parts], None]:
    def apply(p: Parts) -> None:
        p[lang]["ui"][key] += f", {phrase}"

    return apply


def _duplicate_line(part: str, after: str, line: str) -> Callable[[], dict[str, str]]:
    def make() -> dict[str, str]:
        text = raw_text(part)
        assert after in text
        return {part: text.replace(after, f"{after}\n{line}", 1)}

    return make


CASES = [
    Case(
        "malformed yaml",
        None,
        "nl",
        "line 3, column 3",
        "malformed YAML",
        raw=lambda: {"nl": "language: nl\nquiz: [vrijwilligerskracht\nui: {}\n"},
    ),
    Case(
        "duplicate yaml key",
        None,
        "en",
        "line",
        "duplicate key 'back'",
        raw=_duplicate_line("en", '  back: "Back"', '  back: "Go back"'),
    ),
    Case(
        "top level not a mapping",
        None,
        "structure",
        "",
        "must hold a mapping",
        raw=lambda: {"structure": "- just\n- a list\n"},
    ),
    Case(
        "unknown motive dimension on an option",
        _option("motive", 0, motives={"altruism": 3}),
        "structure",
        lambda p: _q("motive")(p) + ".options[0].motives.altruism",
        "unknown dimension 'altruism'",
    ),
    Case(
        "unknown activity dimension on a profile",
        _set("structure", ("profiles", 0, "activities"), {"social": 3, "talking": 1}),
        "structure",
        "profiles[0].activities.talking",
        "unknown dimension 'talking'",
    ),
    Case(
        "negative weight",
        _option("activity", 0, activities={"hands_on": -1}),
        "structure",
        lambda p: _q("activity")(p) + ".options[0].activities.hands_on",
        "must not be negative",
    ),
    Case(
        "unknown profile id in a text file",
        _set("nl", ("profiles", "held"), {"name": "De Held"}),
        "nl",
        "profiles.held",
        "unknown profile id 'held'",
    ),
    Case(
        "unknown question id in a text file",
        _set("en", ("questions", "hobby"), {"text": "Hobby?", "why": "Because."}),
        "en",
        "questions.hobby",
        "unknown question id 'hobby'",
    ),
    Case(
        "unknown option id in a text file",
        _set("en", ("questions", "team", "options", "huge"), {"title": "Huge"}),
        "en",
        "questions.team.options.huge",
        "unknown option id 'huge'",
    ),
    Case(
        "unknown cause id",
        _option("interest", 0, value="pets"),
        "structure",
        lambda p: _q("interest")(p) + ".options[0].value",
        "unknown cause id 'pets'",
    ),
    Case(
        "unknown offer of a motive",
        _option("motive", 0, value=["fun"]),
        "structure",
        lambda p: _q("motive")(p) + ".options[0].value",
        "unknown offer 'fun'",
    ),
    Case(
        "a condition on a later question",
        lambda p: question(p, "commitment").update(ask_if={"hours": ["h1"]}),
        "structure",
        lambda p: _q("commitment")(p) + ".ask_if.hours",
        "'hours' is not a question asked before this one",
    ),
    Case(
        "a condition on an unknown option",
        lambda p: question(p, "hours").update(ask_if={"commitment": ["weekly"]}),
        "structure",
        lambda p: _q("hours")(p) + ".ask_if.commitment",
        "unknown option 'weekly' of question 'commitment'",
    ),
    Case(
        "a motive without the words of its line",
        _delete("nl", ("questions", "motive", "options", "cv", "because")),
        "nl",
        "questions.motive.options.cv.because",
        "missing translation",
    ),
    Case(
        "unknown weekday",
        _option("days", 2, value={"days": ["zaterdag"]}),
        "structure",
        lambda p: _q("days")(p) + ".options[2].value.days",
        "unknown weekday 'zaterdag'",
    ),
    Case(
        "duplicate profile id",
        lambda p: p["structure"]["profiles"].append(copy.deepcopy(p["structure"]["profiles"][0])),
        "structure",
        "profiles[7].id",
        "duplicate profile id 'verbinder'",
    ),
    Case(
        "duplicate question id",
        lambda p: p["structure"]["questions"].append(copy.deepcopy(question(p, "team"))),
        "structure",
        "questions[12].id",
        "duplicate question id 'team'",
    ),
    Case(
        "duplicate option id",
        _option("team", 2, id="alone"),
        "structure",
        lambda p: _q("team")(p) + ".options[2].id",
        "duplicate option id 'alone'",
    ),
    Case(
        "bad id",
        _option("team", 0, id="Alone!"),
        "structure",
        lambda p: _q("team")(p) + ".options[0].id",
        "must be lower case",
    ),
    Case(
        "missing option translation",
        _delete("en", ("questions", "team", "options", "big")),
        "en",
        "questions.team.options.big",
        "missing translation",
    ),
    Case(
        "missing ui translation",
        _delete("en", ("ui", "welcome")),
        "en",
        "ui.welcome",
        "missing translation",
    ),
    Case(
        "missing profile translation",
        _delete("en", ("profiles", "coach", "tagline")),
        "en",
        "profiles.coach.tagline",
        "missing translation",
    ),
    Case(
        "missing label",
        _delete("nl", ("labels", "refugees")),
        "nl",
        "labels.refugees",
        "missing translation",
    ),
    Case(
        "unknown label",
        _set("nl", ("labels", "pets"), "huisdieren"),
        "nl",
        "labels.pets",
        "unknown cause, activity",
    ),
    Case(
        "missing why",
        _delete("nl", ("questions", "motive", "why")),
        "nl",
        "questions.motive.why",
        "missing translation",
    ),
    Case(
        "empty why",
        _set("en", ("questions", "age", "why"), "  "),
        "en",
        "questions.age.why",
        "must be a non-empty text",
    ),
    Case(
        "description in one language only",
        _set("en", ("questions", "team", "options", "alone", "description"), "Just me"),
        "nl",
        "questions.team.options.alone.description",
        "missing translation",
    ),
    Case(
        "no text file for a listed language",
        None,
        "structure",
        "languages",
        "no text file for language 'en'",
        omit=("en",),
    ),
    Case(
        "wrong language inside a text file",
        _set("en", ("language",), "nl"),
        "en",
        "language",
        "must be 'en'",
    ),
    Case(
        "text file for another quiz",
        _set("nl", ("quiz",), "andere-quiz"),
        "nl",
        "quiz",
        "must name the quiz 'vrijwilligerskracht'",
    ),
    Case(
        "reply button title too long",
        _set("nl", ("questions", "team", "options", "alone", "title"), "Helemaal in mijn eentje"),
        "nl",
        "questions.team.options.alone.title",
        "at most 20 (reply button on WhatsApp)",
    ),
    Case(
        "list row title too long",
        _set("en", ("questions", "motive", "options", "cv", "title"), "Work experience for my CV"),
        "en",
        "questions.motive.options.cv.title",
        "at most 24 (list row on WhatsApp)",
    ),
    Case(
        "row description too long",
        _set("nl", ("questions", "motive", "options", "cv", "description"), "x" * 73),
        "nl",
        "questions.motive.options.cv.description",
        "73 characters; at most 72",
    ),
    Case(
        "question text too long",
        _set("nl", ("questions", "motive", "text"), "Waarom? " * 130),
        "nl",
        "questions.motive.text",
        "at most 1024",
    ),
    Case(
        "too many options",
        _add_options("activity", 4),
        "structure",
        lambda p: _q("activity")(p) + ".options",
        "11 options; WhatsApp lists hold at most 10 rows",
    ),
    Case(
        "multi question without room for done",
        _as_multi_with_options("interest", 3),
        "structure",
        lambda p: _q("interest")(p) + ".options",
        "also needs one for 'done'",
    ),
    Case(
        "too few options",
        lambda p: question(p, "team")["options"].__delitem__(slice(1, None)),
        "structure",
        lambda p: _q("team")(p) + ".options",
        "at least 2 options",
    ),
    Case(
        "too many scored questions",
        _more_scored_questions,
        "structure",
        "questions",
        "13 scored questions; at most 12",
    ),
    Case(
        "scored option without weights",
        _option("team", 1, activities={}),
        "structure",
        lambda p: _q("team")(p) + ".options[1]",
        "needs weights",
    ),
    Case(
        "weights on a practical question",
        _option("hours", 0, activities={"social": 1}),
        "structure",
        lambda p: _q("hours")(p) + ".options[0]",
        "have no effect",
    ),
    Case(
        "unknown kind",
        _set("structure", ("questions", 0, "kind"), "slider"),
        "structure",
        "questions[0].kind",
        "unknown kind 'slider'",
    ),
    Case(
        "scored question of a free kind",
        lambda p: question(p, "team").update(kind="number", options=[]),
        "structure",
        lambda p: _q("team")(p) + ".kind",
        "a scored question must be one of choice, multi, scale",
    ),
    Case(
        "practical question feeding nothing",
        lambda p: question(p, "commitment").update(feeds=None, scored=False),
        "structure",
        lambda p: _q("commitment")(p) + ".feeds",
        "must feed something",
    ),
    Case(
        "unknown feed",
        lambda p: question(p, "commitment").update(feeds="mood"),
        "structure",
        lambda p: _q("commitment")(p) + ".feeds",
        "unknown target 'mood'",
    ),
    Case(
        "hours not a number",
        _option("hours", 1, value="twee"),
        "structure",
        lambda p: _q("hours")(p) + ".options[1].value",
        "must be a number (hours)",
    ),
    Case(
        "unknown commitment",
        _option("commitment", 0, value="sometimes"),
        "structure",
        lambda p: _q("commitment")(p) + ".options[0].value",
        "unknown commitment 'sometimes'",
    ),
    Case(
        "place question with options",
        lambda p: question(p, "place").update(options=[{"id": "here"}, {"id": "there"}]),
        "structure",
        lambda p: _q("place")(p) + ".options",
        "takes no options",
    ),
    Case(
        "typo in a structure key",
        lambda p: p["structure"]["profiles"][0].update(activites={"social": 1}),
        "structure",
        "profiles[0].activites",
        "did you mean 'activities'?",
    ),
    Case(
        "typo in a text key",
        lambda p: p["nl"]["questions"]["team"].update(waarom="Daarom."),
        "nl",
        "questions.team.waarom",
        "unknown key 'waarom'",
    ),
    Case(
        "profile without activity affinities",
        _set("structure", ("profiles", 0, "activities"), {}),
        "structure",
        "profiles[0].activities",
        "needs activity affinities",
    ),
    Case(
        "profile weighs a dimension no question measures",
        _drop_dimension_everywhere("activities", "outdoor"),
        "structure",
        lambda p: _p("aanpakker")(p) + ".activities.outdoor",
        "no scored question measures",
    ),
    Case(
        "option weighs a dimension no profile uses",
        _drop_from_profiles("activities", "digital"),
        "structure",
        lambda p: _q("activity")(p) + ".options[6].activities.digital",
        "no profile uses this dimension",
    ),
    Case(
        "unreachable profile",
        _clone_profile,
        "structure",
        "profiles[7]",
        "profile 'kopie' is unreachable",
    ),
    Case(
        "unknown placeholder",
        _set("nl", ("ui", "result_intro"), "Jij bent {naam}!"),
        "nl",
        "ui.result_intro",
        "unknown placeholder {naam}",
    ),
    Case(
        "missing placeholder",
        _set("en", ("ui", "contact_intro"), "How nice! Get in touch:"),
        "en",
        "ui.contact_intro",
        "must contain the placeholder {organisation}",
    ),
    Case(
        "reason placeholder typo",
        _set("nl", ("ui", "reason_cause"), "je koos: {oorzaak}"),
        "nl",
        "ui.reason_cause",
        "unknown placeholder {oorzaak}",
    ),
    Case(
        "reason placeholder missing",
        _set("en", ("ui", "reason_when"), "{day}"),
        "en",
        "ui.reason_when",
        "must contain the placeholder {daypart}",
    ),
    Case(
        "reason text missing",
        _delete("en", ("ui", "reason_hours")),
        "en",
        "ui.reason_hours",
        "missing translation",
    ),
    Case(
        "stray brace",
        _set("en", ("ui", "welcome"), "Hi {"),
        "en",
        "ui.welcome",
        "malformed placeholder",
    ),
    Case(
        "ui button too long",
        _set("en", ("ui", "back"), "Go back to the previous question"),
        "en",
        "ui.back",
        "at most 20",
    ),
    Case(
        "one keyword, two commands",
        _append_keyword("en", "keywords_stop", "help"),
        "en",
        "ui.keywords_stop",
        "'help' is also in ui.keywords_help",
    ),
    Case(
        "one keyword, two languages",
        _append_keyword("en", "keywords_language", "dutch"),
        "en",
        "ui.keywords_language",
        "'dutch' is also in ui.keywords_language",
    ),
    Case(
        "synonym naming two options",
        _append_synonym("nl", "team", "small", "alleen"),
        "nl",
        "questions.team.options.small.synonyms",
        "'alleen' also names option 'alone'",
    ),
    Case(
        "synonym that is a command word",
        _append_synonym("nl", "team", "small", "terug"),
        "nl",
        "questions.team.options.small.synonyms",
        "'terug' is a command word (ui.keywords_back)",
    ),
    Case(
        "synonym that is an option number",
        _append_synonym("en", "age", "a18", "2"),
        "en",
        "questions.age.options.a18.synonyms",
        "typed, '2' picks option 2 ('a16')",
    ),
]


def _errors(tmp_path: Path, case: Case) -> list[ContentError]:
    structure = write_quiz(
        tmp_path, case.mutate, raw=case.raw() if case.raw else None, omit=case.omit
    )
    with pytest.raises(ContentInvalid) as info:
        load_quiz_file(structure)
    return info.value.errors


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_content_is_reported_precisely(tmp_path: Path, case: Case) -> None:
    errors = _errors(tmp_path, case)
    path = case.path(shipped_parts()) if callable(case.path) else case.path
    wanted = file_name(case.part)
    matching = [
        e
        for e in errors
        if Path(e.file).name == wanted and e.path.startswith(path) and case.message in e.message
    ]
    assert matching, f"expected {wanted}: {path}: ...{case.message}...; got:\n" + "\n".join(
        str(e) for e in errors
    )
    # The message reads "file: path: what", as the CLI prints it.
    assert str(matching[0]).startswith(f"{tmp_path / wanted}: ")


def test_exact_paths_are_exact(tmp_path: Path) -> None:
    """Path-prefix matching above is for YAML line marks; spot-check whole paths here."""
    case = next(c for c in CASES if c.name == "missing option translation")
    errors = _errors(tmp_path, case)
    assert [str(e) for e in errors] == [
        f"{tmp_path / file_name('en')}: questions.team.options.big: missing translation"
    ]


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    def two_mistakes(p: Parts) -> None:
        del p["en"]["ui"]["welcome"]
        question(p, "motive")["options"][0]["motives"] = {"altruism": 3}

    structure = write_quiz(tmp_path, two_mistakes)
    with pytest.raises(ContentInvalid) as info:
        load_quiz_file(structure)
    text = str(info.value)
    assert "ui.welcome: missing translation" in text
    assert "unknown dimension 'altruism'" in text


def test_the_unmutated_copy_is_valid(tmp_path: Path) -> None:
    """The fixture writer itself produces valid content (so each case breaks one thing)."""
    quiz = load_quiz_file(write_quiz(tmp_path))
    assert len(quiz.profiles) == 7
