"""The typed quiz content model: taxonomies, limits, UI keys and the frozen dataclasses.

A quiz is one language-neutral structure file (ids, weights, values) plus one text file per
language; quiz.validate turns those into the objects below. This module imports only the
message kinds and the protocol's keyword names, so every other module may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from quiz.messages import QuestionKind
from quiz.protocol import Keyword

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
FEEDS: tuple[str, ...] = ("place", "hours", "days", "causes", "age", "commitment", "motive")
# What volunteer work can give a volunteer (a vacancy's `offers`; a motive option's value):
# matched against the person's motive, because that match predicts satisfaction and intent to
# stay (Stukas et al. 2009).
OFFERS: tuple[str, ...] = (
    "learn",
    "work_experience",
    "certificate",
    "social",
    "flexible",
    "meaningful",
    "practise_dutch",
    "expenses",
    "guidance",
    "accessible",
)
# Below this age a person cannot consent alone (UAVG art. 5): nothing is kept.
CONSENT_AGE = 16
# From this age on the quiz treats someone as an adult (a vacancy's higher minimum is shown).
ADULT_AGE = 18
# Under CONSENT_AGE: at most this many hours, one-off work included.
MINOR_MAX_HOURS = 4.0

# WhatsApp limits that every option must fit (ARCHITECTURE: channels degrade, content fits).
MAX_OPTIONS = 10
MAX_BUTTON_TITLE = 20  # reply buttons, used when a question has <= 3 options
MAX_ROW_TITLE = 24  # list rows, used for 4..10 options
MAX_ROW_DESCRIPTION = 72
MAX_SCORED_QUESTIONS = 12
MAX_BODY = 1024  # WhatsApp interactive message body
SCORED_KINDS: tuple[str, ...] = ("choice", "multi", "scale")
COMMITMENTS: tuple[str, ...] = ("one_off", "regular", "both")

# Keys each mapping may hold; anything else is a typo that would otherwise be silently ignored.
STRUCTURE_KEYS = ("id", "version", "languages", "default_language", "profiles", "questions")
PROFILE_KEYS = ("id", "emoji", "motives", "activities")
QUESTION_KEYS = (
    "id",
    "kind",
    "scored",
    "feeds",
    "skippable",
    "personal",
    "min",
    "max",
    "ask_if",
    "options",
)
OPTION_KEYS = ("id", "motives", "activities", "value")
TEXT_FILE_KEYS = ("language", "quiz", "ui", "labels", "profiles", "questions", "handoff")
PROFILE_TEXT_KEYS = ("name", "tagline", "description", "strengths", "roles")
QUESTION_TEXT_KEYS = ("text", "why", "options")
OPTION_TEXT_KEYS = ("title", "description", "synonyms", "because")

# UI strings every language file must provide (the engine's own phrases).
REQUIRED_UI_KEYS: tuple[str, ...] = (
    "welcome",
    "consent",
    "consent_yes",
    "consent_no",
    "consent_more",
    "consent_explained",
    "declined",
    "forgotten",
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
    "reason_strength",
    "reason_cause",
    "reason_when",
    "reason_flexible",
    "reason_one_off",
    "reason_hours",
    "reason_wider",
    "reason_centre",
    # The short path: age with consent, the profile first, then the offer of nearby work.
    "minor_intro",
    "minor_parent",
    "minor_forgotten",
    "result_motive",
    "nearby_ask",
    "nearby_yes",
    "nearby_no",
    "nearby_declined",
    "reason_min_age",
    "support_note",
    *(f"offer_{offer}" for offer in OFFERS),
    *(keyword.ui_key for keyword in Keyword),
)

# The `{name}` fields each UI text must carry (the engine fills them). Texts not listed here
# take no fields: a stray brace would crash the formatting at run time.
UI_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "place_unknown": frozenset({"text"}),
    "result_intro": frozenset({"name"}),
    "result_reasons": frozenset({"reasons"}),
    "result_runner_up": frozenset({"runner_up"}),
    "result_confidence_high": frozenset({"runner_up"}),
    "result_confidence_medium": frozenset({"runner_up"}),
    "result_confidence_low": frozenset({"runner_up"}),
    "contact_intro": frozenset({"organisation"}),
    "distance_km": frozenset({"km"}),
    "reason_strength": frozenset({"activity"}),
    "reason_cause": frozenset({"cause"}),
    "reason_when": frozenset({"day", "daypart"}),
    "reason_hours": frozenset({"hours"}),
    "result_motive": frozenset({"motive"}),
    "reason_min_age": frozenset({"age"}),
}
# Fields a text may carry but need not: facts about the installation (quiz.engine.Installation).
INSTALLATION_FIELDS = frozenset({"controller", "privacy_url", "retention_days"})
UI_OPTIONAL_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "consent": INSTALLATION_FIELDS,
    "consent_explained": INSTALLATION_FIELDS,
    "declined": INSTALLATION_FIELDS,
    "forgotten": INSTALLATION_FIELDS,
    "minor_forgotten": INSTALLATION_FIELDS,
}
# UI texts shown on buttons: they must fit a WhatsApp reply button.
UI_BUTTON_KEYS: tuple[str, ...] = (
    "consent_yes",
    "consent_no",
    "consent_more",
    "back",
    "skip",
    "why_button",
    "done",
    "resume",
    "restart",
    "more_info",
    "show_more",
    "want_to_help",
    "nearby_yes",
    "nearby_no",
)
# Command words: free text equal to one of these is read as the command, never as an answer.
# yes/no only count as commands while consent is asked, so they may double as answers.
COMMAND_KEYWORD_KEYS: tuple[str, ...] = tuple(keyword.ui_key for keyword in Keyword)
CONTEXTUAL_KEYWORD_KEYS: tuple[str, ...] = (Keyword.YES.ui_key, Keyword.NO.ui_key)


Texts = Mapping[str, str]  # language -> text


@dataclass(frozen=True)
class Option:
    id: str
    title: Texts
    description: Texts = field(default_factory=dict)
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The motive line's words ("Je doet het vooral om {because}."), per language.
    because: Texts = field(default_factory=dict)
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
    # Asked only when an earlier question was answered with one of these options
    # (question id -> option ids), e.g. weekly hours only for weekly work.
    ask_if: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def applies(self, answers: Mapping[str, Any]) -> bool:
        """Is this question asked (and its answer used) given the answers so far?"""
        for qid, wanted in self.ask_if.items():
            given = answers.get(qid)
            picked = given if isinstance(given, list | tuple) else [given]
            if not any(o in wanted for o in picked):
                return False
        return True

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
