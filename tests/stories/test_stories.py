"""Every story in stories/ replays through the engine with exactly the actions it lists."""

from __future__ import annotations

import pytest

from bot.content import load_quiz
from quiz.engine import Engine
from tests.stories.replay import Story, load_stories, replay

STORIES = load_stories()


def test_there_are_stories_for_every_main_path() -> None:
    names = " ".join(s.name for s in STORIES)
    for path in ("happy path", "back", "skip", "restart", "stop", "English", "delete"):
        assert path in names, f"no story covers {path!r}"


@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_story_replays(story: Story) -> None:
    mismatches = replay(Engine(load_quiz()), story)
    assert not mismatches, "\n".join(
        f"{story.file}: {story.name}: before step {i}: expected {exp}, got {act}"
        for i, exp, act in mismatches
    )


def test_a_changed_story_fails() -> None:
    """The replay really compares: a story with a wrong action is reported."""
    story = next(s for s in STORIES if s.name.startswith("happy path"))
    broken = Story(story.name, story.file, [dict(step) for step in story.steps])
    first_action = next(i for i, step in enumerate(broken.steps) if "action" in step)
    broken.steps[first_action] = {"action": "utter_something_else"}
    assert replay(Engine(load_quiz()), broken)
