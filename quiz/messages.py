"""The channel-neutral reply model.

The engine returns these; every channel adapter renders them within its platform's limits.
Nothing here knows about Telegram, WhatsApp or HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal

QuestionKind = Literal["choice", "multi", "scale", "place", "number", "text"]


@dataclass(frozen=True)
class Button:
    """One tappable choice. `payload` is what comes back when it is tapped."""

    title: str
    payload: str
    description: str = ""
    selected: bool = False


@dataclass(frozen=True)
class QuizMeta:
    """Where the person is in the quiz; rendered as `custom.quiz` and as a progress bar."""

    question_id: str
    kind: QuestionKind
    step: int
    total: int

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = _plain(self)
        return found


@dataclass(frozen=True)
class Text:
    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class Buttons:
    """A message with choices.

    `nav` holds secondary actions (why, back, skip) that rich channels show as small links.
    `multi` marks a multi-select question: buttons toggle (`selected`) and `done` closes it.
    `quiz` is set when the message asks a quiz question. `allow_location` asks channels that
    can share a location to offer that too.
    """

    text: str
    buttons: tuple[Button, ...]
    quiz: QuizMeta | None = None
    multi: bool = False
    done: Button | None = None
    allow_location: bool = False
    nav: tuple[Button, ...] = ()
    kind: Literal["buttons"] = "buttons"


@dataclass(frozen=True)
class Card:
    """A titled block: the profile result or one recommended vacancy.

    `data` carries the structured form (for `custom.result` and rich renderers).
    """

    title: str
    text: str
    subtitle: str = ""
    buttons: tuple[Button, ...] = ()
    image_url: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    kind: Literal["card"] = "card"


@dataclass(frozen=True)
class Image:
    url: str
    alt: str
    kind: Literal["image"] = "image"


Reply = Text | Buttons | Card | Image


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    """Plain-data form of a reply (for storage in the outbox and for tests): what
    `dataclasses.asdict` gives, without its deep copies (several times the cost of a turn)."""
    found: dict[str, Any] = _plain(reply)
    return found


_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    cls = type(value)
    names = _FIELDS.get(cls)
    if names is None and is_dataclass(value):
        names = _FIELDS[cls] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if cls is tuple or cls is list:
        return cls(_plain(v) for v in value)
    if cls is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def reply_from_dict(data: dict[str, Any]) -> Reply:
    """Inverse of `reply_to_dict`."""
    kind = data.get("kind")
    if kind == "text":
        return Text(text=data["text"])
    if kind == "image":
        return Image(url=data["url"], alt=data["alt"])
    if kind == "buttons":
        quiz = data.get("quiz")
        done = data.get("done")
        return Buttons(
            text=data["text"],
            buttons=tuple(Button(**b) for b in data["buttons"]),
            quiz=QuizMeta(**quiz) if quiz else None,
            multi=bool(data.get("multi")),
            done=Button(**done) if done else None,
            allow_location=bool(data.get("allow_location")),
            nav=tuple(Button(**b) for b in data.get("nav", ())),
        )
    if kind == "card":
        return Card(
            title=data["title"],
            text=data["text"],
            subtitle=data.get("subtitle", ""),
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            image_url=data.get("image_url"),
            data=dict(data.get("data") or {}),
        )
    raise ValueError(f"unknown reply kind: {kind!r}")
