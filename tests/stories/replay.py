"""Replays Rasa-format stories (stories/*.yml) through the engine.

A user step becomes an engine event; the engine's replies become action names, which must
equal the story's action steps. This keeps the stories executable specifications.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from quiz.effects import Effect, EraseData, Lead, NeedRecommendations
from quiz.engine import PRIVACY_KEYS, Engine, Installation, State
from quiz.messages import Buttons, Card, Reply, Text
from quiz.model import Quiz
from quiz.protocol import Command, Done, Event, Language, Recommendations, Start, Value, decode

STORIES = Path(__file__).resolve().parents[2] / "stories"

# A place answer as the gazetteer would resolve it (the engine never geocodes itself).
PLACES: dict[str, dict[str, Any]] = {
    "Utrecht": {"place": "Utrecht", "lat": 52.0908, "lon": 5.1222, "postcode": "3511"},
    "Zwolle": {"place": "Zwolle", "lat": 52.5125, "lon": 6.0944, "postcode": "8011"},
}

FAKE_RECOMMENDATIONS: tuple[dict[str, Any], ...] = tuple(
    {
        "vacancy_id": f"v{i}",
        "organisation_id": f"o{i}",
        "organisation": f"Voorbeeldorganisatie {i}",
        "title": f"Vrijwilliger {i}",
        "distance_km": float(i),
        "reasons": [f"{i} km van je"],
        "fictional": True,
    }
    for i in (1, 2, 3)
)


@dataclass
class Story:
    name: str
    file: str
    steps: list[dict[str, Any]] = field(default_factory=list)


def load_stories(folder: Path = STORIES) -> list[Story]:
    stories: list[Story] = []
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data.get("version") == "3.1", f"{path}: stories need version '3.1'"
        for raw in data.get("stories", []):
            stories.append(Story(raw["story"], path.name, list(raw["steps"])))
    return stories


def action_names(
    quiz: Quiz, state: State, replies: tuple[Reply, ...], effects: tuple[Effect, ...] = ()
) -> list[str]:
    """Name each reply the way a Rasa domain would: utter_<ui key>, utter_ask_<question>...

    Effects the app must carry out come first, as custom actions.
    """
    filled = Installation().values()
    texts = {
        (v.format(**filled) if k in PRIVACY_KEYS else v): k for k, v in quiz.ui[state.lang].items()
    }
    names: list[str] = []
    for effect in effects:
        if isinstance(effect, EraseData):
            names.append("action_erase_data")
        elif isinstance(effect, Lead):
            names.append("action_hand_over_lead")
    for reply in replies:
        name: str
        if isinstance(reply, Buttons) and reply.quiz is not None:
            name = f"utter_ask_{reply.quiz.question_id}"
        elif isinstance(reply, Buttons):
            key = texts.get(reply.text)
            name = f"utter_ask_{key}" if key == "consent" else f"utter_{key or 'buttons'}"
        elif isinstance(reply, Card) and "profile" in reply.data.get("result", {}):
            name = "action_show_result"
        elif isinstance(reply, Card) and ("result" in reply.data or "recommendation" in reply.data):
            name = "action_show_recommendations"
        elif isinstance(reply, Text):
            key = texts.get(reply.text)
            if key is None:
                why = {q.why[state.lang] for q in quiz.questions}
                key = "why" if reply.text in why else "data" if "\n" in reply.text else "text"
            name = f"utter_{key}"
        else:
            name = f"action_{reply.kind}"
        if not names or names[-1] != name or name != "action_show_recommendations":
            names.append(name)
    return names


def user_event(engine: Engine, state: State, step: dict[str, Any]) -> Event:
    """The engine event for a story's user step (intent + entities)."""
    intent = step["intent"]
    entities = {k: v for e in step.get("entities", []) for k, v in e.items()}
    q = engine.current_question(state)
    if intent == "greet":
        return (
            Command("resume") if state.phase == "stopped" else Start(lang=entities.get("language"))
        )
    if intent == "affirm":
        if q is not None and q.kind == "multi":
            return Done(q.id)
        if state.phase == "offer":
            return Command("nearby_yes")
        return (
            Command("consent_yes") if state.phase in ("consent", "declined") else Command("resume")
        )
    if intent == "deny":
        return Command("nearby_no") if state.phase == "offer" else Command("consent_no")
    if intent == "choose":
        assert q is not None, "choose outside a question"
        if "place" in entities:
            return Value(PLACES[entities["place"]])
        return decode(f"/a/{q.id}/{entities['option']}")
    if intent == "change_language":
        return Language(entities.get("language"))
    mapping = {
        "back": "back",
        "skip": "skip",
        "restart": "restart",
        "help": "help",
        "why": "why",
        "stop": "stop",
        "delete_data": "delete_data",
        "my_data": "my_data",
    }
    if intent in mapping:
        return Command(mapping[intent])  # type: ignore[arg-type]
    raise AssertionError(f"no engine event for intent {intent!r}")


def slot_value(state: State, name: str) -> Any:
    """The state behind a story's `slot_was_set` check."""
    if name == "profile":
        return state.result["primary"] if state.result else None
    if name == "language":
        return state.lang
    if name == "consent":
        return state.consent
    raise AssertionError(f"unknown slot {name!r}")


def replay(engine: Engine, story: Story) -> list[tuple[int, list[str], list[str]]]:
    """Run a story; returns (step index, expected, actual) for every mismatch."""
    state = engine.new_state()
    mismatches: list[tuple[int, list[str], list[str]]] = []
    steps = story.steps
    i = 0
    while i < len(steps):
        step = steps[i]
        if "intent" not in step:
            raise AssertionError(f"{story.file}: {story.name}: step {i} must be a user intent")
        result = engine.step(state, user_event(engine, state, step))
        state = result.state
        replies = result.replies
        effects = result.effects
        for effect in result.effects:
            if isinstance(effect, NeedRecommendations):
                more = engine.step(state, Recommendations(FAKE_RECOMMENDATIONS, 0, True))
                state = more.state
                replies = replies + more.replies
        actual = action_names(engine.quiz, state, replies, effects)
        expected: list[str] = []
        i += 1
        while i < len(steps) and ("action" in steps[i] or "slot_was_set" in steps[i]):
            if "action" in steps[i]:
                expected.append(steps[i]["action"])
            else:
                for slot in steps[i]["slot_was_set"]:
                    for name, value in slot.items():
                        got = slot_value(state, name)
                        if got != value:
                            mismatches.append((i, [f"{name}={value}"], [f"{name}={got}"]))
            i += 1
        if expected != actual:
            mismatches.append((i, expected, actual))
    return mismatches
