"""Regenerate docs/screenshot-widget.png, the README's picture of the web widget.

The picture must show what the widget really renders, so this drives the real thing: it
starts `vrijwilligerskracht serve` on a fresh temporary SQLite database (with the fictional
demo organisations, VK_DEMO_COUNT of them), opens the demo page in Debian's Chromium through
Playwright (never a downloaded browser), answers the quiz by mouse towards "De Verbinder"
(place: Utrecht), and puts three shots of the chat panel side by side: a question, the
result card and the recommendations.

Run from the repository root:

    .venv/bin/python scripts/readme_screenshot.py [--out docs/screenshot-widget.png]

Needs /usr/bin/chromium (apt-get install -y chromium). Takes about half a minute, most of it
the server loading the demo organisations and training its language model.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshot-widget.png"
CHROMIUM = Path("/usr/bin/chromium")
SERVE = ROOT / ".venv" / "bin" / "vrijwilligerskracht"

SHADOW_ROOT = "document.querySelector('[data-vrijwilligerskracht]').shadowRoot"
SAND = (0xF6, 0xF1, 0xE7)  # --sand of the demo page's hero
MARGIN = 32  # around and between the panels
RADIUS = 16  # the panel's border-radius (widget.css)
QUESTION_SHOT = "Vraag 4 van 17"

# The answer to click at each question (option titles as the widget shows them): the
# social answers make "De Verbinder"; the practical ones find work near Utrecht.
ANSWERS = {
    "Ja, dat is goed",  # consent
    "Mensen ontmoeten",
    "Nieuwe vrienden",
    "Praten met mensen",
    "Koffie met vrienden",
    "Ik praat met iedereen",
    "Gezellig",
    "Ik zoek iemand die helpt",
    "Tussen veel mensen",
    "Het was zo gezellig!",
    "In een grote groep",
    "2 tot 4 uur",
    "Doordeweeks 's avonds",
    "Zaterdag",
    "Nieuwkomers",
    "Ouderen",
    "De buurt",
    "Sport",
    "Vast, elke week",
    "30 tot 50",
}
PLACE = "Utrecht"
PROFILE = "De Verbinder"

STATE_JS = f"""() => {{
  const r = {SHADOW_ROOT};
  const q = (s) => r.querySelector(s);
  return {{
    progress: q('.progress').hidden ? '' : q('#vk-ptext').textContent,
    kind: q('.choices').hidden ? null : q('.choices').getAttribute('data-kind'),
    titles: [...r.querySelectorAll('.choices .opt > span:last-child')]
      .map((s) => s.firstChild ? s.firstChild.textContent : ''),
    done: !!q('.choices .done'),
    result: q('.result h3') ? q('.result h3').textContent : null,
    cards: [...r.querySelectorAll('.card:not(.result)')].map((c) => c.textContent),
  }};
}}"""
SETTLED_JS = f"() => {{ const r = {SHADOW_ROOT}; return r && r.querySelector('.typing').hidden; }}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(workdir: Path, timeout: float = 600.0) -> Iterator[str]:
    """`vrijwilligerskracht serve` on a new database; yields its URL once fully prepared."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        VK_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'screenshot.db'}",
        VK_MODEL_DIR=str(workdir / "nlu"),
        VK_SECRET_KEY="readme-screenshot",
    )
    for key in ("VK_TELEGRAM_TOKEN", "VK_WHATSAPP_TOKEN", "VK_RASA_URL"):
        env.pop(key, None)
    log = (workdir / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(SERVE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise SystemExit(
                    f"the server exited with {proc.returncode}:\n"
                    + (workdir / "serve.log").read_text(errors="replace")
                )
            try:
                r = httpx.get(f"{base}/healthz", timeout=2.0)
                if r.status_code == 200 and "preparing" not in r.json():
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server was not ready after {timeout:.0f} s")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def settle(page: Any) -> dict[str, Any]:
    """Wait until no message is in flight; return what the widget shows."""
    page.wait_for_function(SETTLED_JS, timeout=30_000)
    page.wait_for_timeout(200)  # let fonts and layout come to rest before a shot
    state: dict[str, Any] = page.evaluate(STATE_JS)
    return state


def shoot(page: Any) -> Image.Image:
    page.mouse.move(0, 0)  # no hover effect on whatever the last click left the mouse over
    page.wait_for_timeout(100)
    return Image.open(io.BytesIO(page.locator(".panel").screenshot())).convert("RGB")


def answer(page: Any, state: dict[str, Any]) -> None:
    """Click this question's answer (or type the place)."""
    if state["kind"] == "place":
        page.locator("#vk-in").fill(PLACE)
        page.locator(".send").click()
        return
    picks = [i for i, title in enumerate(state["titles"]) if title in ANSWERS]
    if not picks:
        raise SystemExit(f"no planned answer among {state['titles']} ({state['progress']})")
    options = page.locator(".choices .opt")
    if state["done"]:
        for i in picks:
            options.nth(i).click()
        page.locator(".choices .done").click()
    else:
        options.nth(picks[0]).click()


def scroll_to_recommendations(page: Any) -> None:
    """Show the line above the first recommendation and the card itself at the top."""
    page.evaluate(
        f"""() => {{
          const r = {SHADOW_ROOT};
          const scroll = r.querySelector('.scroll');
          const card = r.querySelector('.card:not(.result)');
          const intro = card.previousElementSibling || card;
          const top = intro.getBoundingClientRect().top - scroll.getBoundingClientRect().top;
          scroll.scrollTop += top - 12;
        }}"""
    )
    page.wait_for_timeout(200)


def take_shots(base: str) -> list[Image.Image]:
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            ctx = browser.new_context(
                viewport={"width": 1280, "height": 800}, reduced_motion="reduce", locale="nl-NL"
            )
            page = ctx.new_page()
            page.goto(base + "/")
            page.locator(".launcher").click()
            page.locator(".choices .opt").first.wait_for()
            state = settle(page)
            shots: list[Image.Image] = []
            for _ in range(40):
                if state["result"]:
                    break
                if state["progress"] == QUESTION_SHOT:
                    shots.append(shoot(page))
                answer(page, state)
                state = settle(page)
            else:
                raise SystemExit(f"no result after 40 answers: {state}")
            if not shots:
                raise SystemExit(f"never saw {QUESTION_SHOT!r}")
            if PROFILE not in state["result"]:
                raise SystemExit(f"the quiz ended in {state['result']!r}, not {PROFILE}")
            if not state["cards"]:
                raise SystemExit("no recommendations: were the demo organisations loaded?")
            shots.append(shoot(page))  # the widget scrolls the result heading into view
            scroll_to_recommendations(page)
            shots.append(shoot(page))
            return shots
        finally:
            browser.close()


def rounded(size: tuple[int, int], radius: int) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius, fill=255)
    return mask


def compose(shots: list[Image.Image]) -> Image.Image:
    """The panels side by side on the demo page's sand colour, with rounded corners and a
    soft shadow as on the page."""
    w = max(s.width for s in shots)
    h = max(s.height for s in shots)
    canvas = Image.new("RGB", (MARGIN + len(shots) * (w + MARGIN), h + 2 * MARGIN), SAND)
    shadow = Image.new("L", canvas.size, 0)
    for i, s in enumerate(shots):
        x = MARGIN + i * (w + MARGIN)
        shadow.paste(rounded(s.size, RADIUS).point(lambda v: v * 45 // 255), (x, MARGIN + 6))
    shadow = shadow.filter(ImageFilter.GaussianBlur(10))
    canvas.paste(Image.new("RGB", canvas.size, (0, 0, 0)), (0, 0), shadow)
    for i, s in enumerate(shots):
        canvas.paste(s, (MARGIN + i * (w + MARGIN), MARGIN), rounded(s.size, RADIUS))
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the PNG")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    if not SERVE.exists():
        sys.exit(f"{SERVE} is missing (make run installs it)")
    with tempfile.TemporaryDirectory(prefix="vk-screenshot-") as tmp, serve(Path(tmp)) as base:
        shots = take_shots(base)
    image = compose(shots)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out, optimize=True)
    print(f"wrote {args.out} ({image.width}x{image.height}, {args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
