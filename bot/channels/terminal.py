"""The terminal channel: neutral replies as plain text with numbered choices.

Buttons of one turn are numbered across all its replies, so typing a number taps that button;
anything else is sent as free text (the engine and NLU understand it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quiz.messages import Button, Buttons, Card, Image, Reply, Text


@dataclass
class TerminalView:
    """The rendered lines of one turn plus the number -> payload table for the next input."""

    lines: list[str] = field(default_factory=list)
    choices: dict[str, str] = field(default_factory=dict)

    def _number(self, button: Button) -> str:
        n = str(len(self.choices) + 1)
        self.choices[n] = button.payload
        mark = "[x] " if button.selected else ""
        desc = f" — {button.description}" if button.description else ""
        return f"  {n}. {mark}{button.title}{desc}"

    def add(self, reply: Reply) -> None:
        if isinstance(reply, Text):
            self.lines.append(reply.text)
        elif isinstance(reply, Buttons):
            if reply.quiz is not None:
                self.lines.append(f"[{reply.quiz.step}/{reply.quiz.total}] {reply.text}")
            else:
                self.lines.append(reply.text)
            self.lines.extend(self._number(b) for b in reply.buttons)
            if reply.done is not None:
                self.lines.append(self._number(reply.done))
            if reply.nav:
                self.lines.append("  (" + " · ".join(b.title.lower() for b in reply.nav) + ")")
        elif isinstance(reply, Card):
            header = reply.title + (f" — {reply.subtitle}" if reply.subtitle else "")
            self.lines.append("")
            self.lines.append(f"== {header} ==")
            if reply.text:
                self.lines.append(reply.text)
            self.lines.extend(self._number(b) for b in reply.buttons)
        elif isinstance(reply, Image):
            self.lines.append(f"[{reply.alt}: {reply.url}]")


def render(replies: list[Reply]) -> TerminalView:
    view = TerminalView()
    for reply in replies:
        view.add(reply)
    return view


def to_payload_or_text(typed: str, view: TerminalView | None) -> tuple[str | None, str | None]:
    """A typed number becomes the payload of that button; anything else stays text."""
    key = typed.strip().rstrip(".")
    if view is not None and key in view.choices:
        return view.choices[key], None
    return None, typed
