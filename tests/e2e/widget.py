"""Reading and driving the widget in a Playwright page (its DOM lives in an open shadow root)."""

from __future__ import annotations

from typing import Any

ROOT = "document.querySelector('[data-vrijwilligerskracht]').shadowRoot"

STATE_JS = f"""() => {{
  const r = {ROOT};
  if (!r) return null;
  const q = (s) => r.querySelector(s);
  const a = r.activeElement;
  return {{
    progress: q('.progress').hidden ? '' : q('#vk-ptext').textContent,
    kind: q('.choices').hidden ? null : q('.choices').getAttribute('data-kind'),
    options: [...r.querySelectorAll('.choices .opt')].map((b) => b.textContent),
    enabled: r.querySelectorAll('.choices .opt:not([aria-disabled])').length,
    pressed: [...r.querySelectorAll('.choices .opt[aria-pressed=true]')].map((b) => b.textContent),
    done: !!q('.choices .done'),
    result: q('.result h3') ? q('.result h3').textContent : null,
    cards: [...r.querySelectorAll('.card:not(.result)')].map((c) => c.textContent),
    bot: [...r.querySelectorAll('.log .msg.bot')].map((m) => m.textContent),
    mine: [...r.querySelectorAll('.log .msg.me')].map((m) => m.textContent),
    status: q('.status').textContent,
    typing: !q('.typing').hidden,
    open: !q('.panel').hidden,
    focus: a ? {{
      tag: a.tagName.toLowerCase(), cls: a.className, text: a.textContent,
      visible: a.matches(':focus-visible'), outline: getComputedStyle(a).outlineStyle,
    }} : null,
  }};
}}"""


def state(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(STATE_JS)
    return result


def settle(page: Any, timeout: float = 15_000) -> dict[str, Any]:
    """Wait until no message is in flight; return the widget's state."""
    page.wait_for_function(
        f"() => {{ const r = {ROOT}; return r && r.querySelector('.typing').hidden; }}",
        timeout=timeout,
    )
    return state(page)


def open_bubble(page: Any) -> dict[str, Any]:
    page.locator(".launcher").click()
    page.locator(".choices .opt").first.wait_for()
    return settle(page)


def click_option(page: Any, index: int) -> None:
    page.locator(".choices .opt").nth(index).click()


def answer_by_mouse(page: Any, s: dict[str, Any], step: int, place: str = "Utrecht") -> None:
    """Answer the question now shown, varying the choices with `step`."""
    if s["kind"] == "place":
        page.locator("#vk-in").fill(place)
        page.locator(".send").click()
    elif s["done"]:
        n = len(s["options"])
        for i in {step % n, (step + 2) % n}:
            click_option(page, i)
        page.locator(".choices .done").click()
    else:
        click_option(page, step % len(s["options"]) if s["kind"] else 0)
