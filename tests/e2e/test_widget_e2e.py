"""The widget in a real browser against a real server: the whole quiz by mouse and by keyboard,
reload and continue, markup shown as text, accessibility (axe-core), allowed and refused
origins, lost connections, narrow screens and zoom."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import MetaData, Table, func, select

from bot.store.db import get_sync_engine
from tests.e2e.conftest import E2E
from tests.e2e.widget import ROOT, answer_by_mouse, open_bubble, settle, state

pytestmark = pytest.mark.e2e

MAX_STEPS = 40


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.js_errors = errors
    return p


NEARBY_YES = "Ja, graag"


def finished(s: dict[str, Any]) -> bool:
    """The profile is out and no question or offer of nearby work is waiting."""
    return bool(s["result"]) and not s["kind"] and NEARBY_YES not in s["options"]


def walk_by_mouse(page: Any, on_state: Any = None) -> dict[str, Any]:
    """Answer everything, yes to nearby work after the profile, up to the vacancies."""
    s = settle(page)
    for step in range(MAX_STEPS):
        if finished(s):
            return s
        if on_state:
            on_state(s)
        assert s["enabled"] or s["kind"] == "place", s
        answer_by_mouse(page, s, step)
        s = settle(page)
    raise AssertionError(f"no result after {MAX_STEPS} answers: {s}")


def shot(page: Any, path: Path) -> None:
    page.wait_for_timeout(150)
    page.screenshot(path=str(path))


def conversations(url: str) -> int:
    engine = get_sync_engine(url)
    try:
        with engine.connect() as conn:
            table = Table("conversations", MetaData(), autoload_with=conn)
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def test_the_whole_quiz_by_mouse(e2e: E2E, page: Any, artifacts: Path) -> None:
    page.goto(e2e.base + "/")
    s = open_bubble(page)
    assert s["open"] and "vrijwilligerskracht" in " ".join(s["bot"]).lower()
    seen: list[str] = []

    def on_state(s: dict[str, Any]) -> None:
        seen.append(s["progress"])
        if s["progress"].startswith("Vraag 4 "):
            shot(page, artifacts / "widget-question.png")

    s = walk_by_mouse(page, on_state)
    assert s["result"].startswith("Jij bent ")
    assert "Vraag 1 van 12" in seen
    last = seen[-1].split()  # "Vraag 11 van 11": the last question (fewer without weekly work)
    assert last[1] == last[3], seen
    assert s["progress"] == ""  # the bar gives way to the result
    assert s["options"], "the result offers what to do next"
    shot(page, artifacts / "widget-result.png")
    page.evaluate(f"() => {ROOT}.querySelector('.scroll').scrollTop = 1e6")
    shot(page, artifacts / "widget-recommendations.png")
    if s["cards"]:
        # A recommendation's buttons work: "Meer info" shows the vacancy.
        page.locator(".card:not(.result) .cb").first.click()
        after = settle(page)
        assert len(after["cards"]) == len(s["cards"]) + 1
    assert page.js_errors == []


def test_the_whole_quiz_by_keyboard_only(e2e: E2E, page: Any) -> None:
    page.goto(e2e.base + "/")
    for _ in range(40):  # Tab from the top of the page to the launcher
        page.keyboard.press("Tab")
        focus = state(page)["focus"]
        if focus and "launcher" in focus["cls"]:
            break
    else:
        raise AssertionError("the launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    s = settle(page)
    for _ in range(MAX_STEPS):
        if finished(s):
            break
        focus = s["focus"]
        assert focus is not None, ("focus left the widget", s["options"], s["bot"][-2:], s["kind"])
        assert focus["visible"] and focus["outline"] != "none", focus
        if s["kind"] == "place":
            assert focus["tag"] == "input", "focus moves to the text box for a typed answer"
            page.keyboard.type("Utrecht")
            page.keyboard.press("Enter")
        elif s["done"]:
            assert focus["cls"] == "opt" and focus["text"] == s["options"][0], focus
            page.keyboard.press("Space")
            page.keyboard.press("Tab")
            page.keyboard.press("Space")
            assert len(state(page)["pressed"]) == 2
            for _ in range(12):
                page.keyboard.press("Tab")
                if "done" in (state(page)["focus"] or {}).get("cls", ""):
                    break
            page.keyboard.press("Enter")
        elif NEARBY_YES in s["options"]:
            # The profile's heading has focus (it is read out first); Tab on to "Ja, graag".
            assert focus["tag"] == "h3" and focus["text"].startswith("Jij bent "), focus
            for _ in range(12):
                page.keyboard.press("Tab")
                if (state(page)["focus"] or {}).get("text") == NEARBY_YES:
                    break
            page.keyboard.press("Enter")
        else:
            assert focus["cls"] == "opt" and focus["text"] == s["options"][0], focus
            if len(s["options"]) > 1:
                page.keyboard.press("Tab")  # the second option
            page.keyboard.press("Enter")
        s = settle(page)
    assert s["result"] and s["result"].startswith("Jij bent ")
    assert s["focus"] and s["focus"]["tag"] == "h3", "the result heading gets focus"
    # Escape closes the chat and gives focus back to the launcher.
    page.keyboard.press("Escape")
    s = state(page)
    assert not s["open"] and "launcher" in s["focus"]["cls"]
    assert page.js_errors == []


def test_a_reload_mid_quiz_continues_the_conversation(e2e: E2E, page: Any) -> None:
    page.goto(e2e.base + "/")
    s = open_bubble(page)
    for step in range(4):  # consent and three questions
        answer_by_mouse(page, s, step)
        s = settle(page)
    assert s["progress"] == "Vraag 4 van 12"
    sender = page.evaluate("() => JSON.parse(localStorage.getItem('vk:demo')).sender")
    bot_before, mine_before = s["bot"], s["mine"]

    page.reload()
    s = open_bubble(page)
    assert s["progress"] == "Vraag 4 van 12"
    assert s["bot"] == bot_before and s["mine"] == mine_before
    assert page.evaluate("() => JSON.parse(localStorage.getItem('vk:demo')).sender") == sender
    answer_by_mouse(page, s, 0)
    assert settle(page)["progress"] == "Vraag 5 van 12"  # the server knew where we were

    # "Opnieuw beginnen" starts over (consent is kept) and clears the transcript.
    page.locator(".hb[aria-label='Opnieuw beginnen']").click()
    s = settle(page)
    assert s["progress"] == "Vraag 1 van 12"
    assert s["mine"] == [] and len(s["bot"]) <= 2


def test_markup_from_organisations_and_the_bot_is_shown_as_text(e2e: E2E, browser: Any) -> None:
    # Without the page's CSP, so any markup that slipped through would really run.
    ctx = browser.new_context(bypass_csp=True, reduced_motion="reduce")
    page = ctx.new_page()
    try:
        page.goto(e2e.base + "/")
        s = open_bubble(page)
        evil = "<img src=x onerror=\"window.__pwned='bot'\"><script>window.__pwned=1</script>"

        def at_place(s: dict[str, Any]) -> None:
            if s["kind"] == "place" and not at_place.done:  # type: ignore[attr-defined]
                at_place.done = True  # type: ignore[attr-defined]
                page.locator("#vk-in").fill(evil)
                page.locator(".send").click()
                echoed = settle(page)
                assert evil in echoed["mine"][-1].replace("Jij: ", "")
                assert any("<img src=x" in b for b in echoed["bot"][-2:]), echoed["bot"][-2:]

        at_place.done = False  # type: ignore[attr-defined]
        s = walk_by_mouse(page, at_place)
        assert at_place.done  # type: ignore[attr-defined]
        names = [c for c in s["cards"] if "<img src=x onerror=" in c]
        assert names, "the organisation with markup in its name is recommended, as text"
        assert "<script>window.__pwned='org2'</script>" in names[0]
        # A title attribute with markup, through the public API.
        page.evaluate(
            "() => Vrijwilligerskracht.mount({target: document.body, "
            "title: '<img src=x onerror=\"window.__pwned=7\">', "
            "preview: [{text: '<script>window.__pwned=8</script>'}]})"
        )
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.__pwned") is None
        imgs = page.evaluate(
            "() => [...document.querySelectorAll('[data-vrijwilligerskracht]')]"
            ".map((h) => h.shadowRoot.querySelectorAll('img, script').length)"
        )
        assert imgs == [0, 0]
    finally:
        ctx.close()


AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target)}));
}"""


def test_axe_finds_no_serious_violation_at_a_question_and_at_the_result(
    e2e: E2E, browser: Any, axe_source: str
) -> None:
    ctx = browser.new_context(bypass_csp=True, reduced_motion="reduce")
    page = ctx.new_page()
    try:
        page.goto(e2e.base + "/")
        s = open_bubble(page)
        page.add_script_tag(content=axe_source)
        assert page.evaluate(AXE_RUN) == [], "at the consent question"
        answer_by_mouse(page, s, 0)
        s = settle(page)
        answer_by_mouse(page, s, 0)
        assert settle(page)["progress"] == "Vraag 2 van 12"
        assert page.evaluate(AXE_RUN) == [], "at a quiz question"
        s = walk_by_mouse(page)
        assert s["result"]
        assert page.evaluate(AXE_RUN) == [], "at the result"
        page.goto(e2e.base + "/embed")
        page.add_script_tag(content=axe_source)
        assert page.evaluate(AXE_RUN) == [], "on the embed page"
    finally:
        ctx.close()


def _site_page(base: str, org: str) -> str:
    return f"""<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Club</title>
</head><body><main><h1>Voetbalclub</h1><div id="chat"></div></main>
<script src="{base}/widget.js" data-org="{org}" data-target="#chat" data-height="500"></script>
</body></html>"""


def test_only_allowed_origins_can_talk_to_the_server(e2e: E2E, page: Any) -> None:
    allowed, other = e2e.allowed_site, e2e.other_site
    allowed.pages["/"] = _site_page(e2e.base, "e2e-club")
    other.pages["/"] = _site_page(e2e.base, "e2e-club")

    # The club's own site (inline mode): the conversation starts.
    page.goto(allowed.origin + "/")
    page.locator(".choices .opt").first.wait_for(timeout=15_000)
    assert "vrijwilligerskracht" in " ".join(state(page)["bot"]).lower()

    # Another site naming the same organisation: nothing comes back, and nothing is done.
    before = conversations(e2e.db_url)
    page.goto(other.origin + "/")
    page.wait_for_function(f"() => {ROOT}.querySelector('.status').textContent !== ''")
    assert state(page)["bot"] == []
    body = json.dumps({"sender": "x1", "message": "/start", "metadata": {"org": "e2e-club"}})
    for content_type in ("application/json", "text/plain"):  # with and without a preflight
        outcome = page.evaluate(
            """async ([url, body, type]) => {
                 try { await fetch(url, {method: 'POST', body, headers: {'Content-Type': type}});
                       return 'read'; }
                 catch (e) { return 'blocked'; } }""",
            [e2e.base + "/webhooks/rest/webhook", body, content_type],
        )
        assert outcome == "blocked", content_type
    assert conversations(e2e.db_url) == before


def test_lost_connections_are_retried_with_the_same_message_id(e2e: E2E, page: Any) -> None:
    seen: list[str] = []

    def flaky(route: Any) -> None:
        seen.append(json.loads(route.request.post_data)["metadata"]["message_id"])
        if len(seen) <= 2:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/webhooks/rest/webhook", flaky)
    page.goto(e2e.base + "/")
    page.locator(".launcher").click()
    page.wait_for_function(f"() => /verbinding/.test({ROOT}.querySelector('.status').textContent)")
    assert "Geen verbinding" in state(page)["status"]
    page.locator(".choices .opt").first.wait_for(timeout=15_000)
    s = settle(page)
    assert s["status"] == "" and s["options"]
    assert len(seen) == 3 and len(set(seen)) == 1


def test_a_refused_request_is_explained(e2e: E2E, page: Any) -> None:
    page.route(
        "**/webhooks/rest/webhook",
        lambda route: route.fulfill(status=403, body='{"error":"origin_not_allowed"}'),
    )
    page.goto(e2e.base + "/")
    page.locator(".launcher").click()
    page.wait_for_function(f"() => {ROOT}.querySelector('.status').textContent !== ''")
    assert state(page)["status"] == "Deze chat werkt niet op deze website."


@pytest.mark.parametrize(
    ("width", "height", "scale", "name"),
    [(320, 640, 1, "widget-320px.png"), (640, 400, 2, "widget-zoom-200.png")],
)
def test_usable_at_320_px_and_at_200_percent_zoom(
    e2e: E2E, browser: Any, artifacts: Path, width: int, height: int, scale: int, name: str
) -> None:
    # 200 % zoom of a 1280 x 800 window is a 640 x 400 CSS-pixel viewport.
    ctx = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=scale,
        reduced_motion="reduce",
    )
    page = ctx.new_page()
    try:
        page.goto(e2e.base + "/")
        s = open_bubble(page)
        box = page.locator(".panel").bounding_box()
        assert box == {"x": 0, "y": 0, "width": width, "height": height}
        answer_by_mouse(page, s, 0)
        s = settle(page)
        answer_by_mouse(page, s, 2)
        s = settle(page)
        assert s["progress"] == "Vraag 2 van 12"
        overflow = page.evaluate(
            f"""() => {{ const r = {ROOT};
              return [...r.querySelectorAll('.scroll, .head, .compose')]
                .some((e) => e.scrollWidth > e.clientWidth + 1); }}"""
        )
        assert not overflow, "nothing scrolls sideways"
        last = page.locator(".choices .opt").last
        last.scroll_into_view_if_needed()
        last_box = last.bounding_box()
        assert last_box and last_box["x"] + last_box["width"] <= width
        shot(page, artifacts / name)
    finally:
        ctx.close()


def test_motion_follows_the_users_preference(e2e: E2E, browser: Any) -> None:
    names = {}
    for motion in ("no-preference", "reduce"):
        ctx = browser.new_context(reduced_motion=motion)
        page = ctx.new_page()
        page.goto(e2e.base + "/")
        open_bubble(page)
        names[motion] = page.evaluate(
            f"() => getComputedStyle({ROOT}.querySelector('.msg')).animationName"
        )
        ctx.close()
    assert names == {"no-preference": "pop", "reduce": "none"}


def test_new_messages_are_announced_but_controls_are_not(e2e: E2E, page: Any) -> None:
    page.goto(e2e.base + "/")
    open_bubble(page)
    roles = page.evaluate(
        f"""() => {{ const r = {ROOT}; const log = r.querySelector('[role=log]');
          return {{ live: log.getAttribute('aria-live'),
                   relevant: log.getAttribute('aria-relevant'),
                   buttonsInLog: log.querySelectorAll('.opt, .done, .link').length,
                   typingHidden: r.querySelector('.typing').getAttribute('aria-hidden'),
                   group: r.querySelector('.choices').getAttribute('role'),
                   groupName: r.getElementById(r.querySelector('.choices')
                      .getAttribute('aria-labelledby')).textContent }}; }}"""
    )
    assert roles["live"] == "polite" and roles["relevant"] == "additions"
    assert roles["buttonsInLog"] == 0
    assert roles["typingHidden"] == "true"
    assert roles["group"] == "group" and re.search(r"\w", roles["groupName"])


def test_switching_language(e2e: E2E, page: Any) -> None:
    page.goto(e2e.base + "/")
    open_bubble(page)
    page.locator(".hb.lang").click()
    s = settle(page)
    assert page.locator(".hb[aria-label='Start again']").count() == 1
    assert any("English" in b for b in s["bot"][-2:]), s["bot"][-2:]


def test_when_retries_run_out_the_person_can_try_again(e2e: E2E, page: Any) -> None:
    page.clock.install()  # fast-forward the back-off instead of waiting for it
    page.route("**/webhooks/rest/webhook", lambda route: route.abort("internetdisconnected"))
    page.goto(e2e.base + "/")
    page.locator(".launcher").click()
    for _ in range(6):
        page.clock.run_for(10_000)
    page.wait_for_function(f"() => !!{ROOT}.querySelector('.status button')")
    s = state(page)
    assert s["status"].startswith("Het lukt nu niet om verbinding te maken.")
    page.unroute("**/webhooks/rest/webhook")
    page.locator(".status button").click()
    page.locator(".choices .opt").first.wait_for(timeout=15_000)
    assert settle(page)["status"] == ""


def test_an_answer_without_reply_is_sent_again_after_a_reload(e2e: E2E, page: Any) -> None:
    page.goto(e2e.base + "/")
    s = open_bubble(page)
    answer_by_mouse(page, s, 0)  # consent
    assert settle(page)["progress"] == "Vraag 1 van 12"
    page.route("**/webhooks/rest/webhook", lambda route: route.abort("internetdisconnected"))
    page.locator(".choices .opt").nth(1).click()
    page.wait_for_function(f"() => /verbinding/.test({ROOT}.querySelector('.status').textContent)")
    page.unroute("**/webhooks/rest/webhook")
    page.reload()  # the page goes away while the answer is still unsent
    page.locator(".launcher").click()
    page.wait_for_function(f"() => /Vraag 2 /.test({ROOT}.querySelector('#vk-ptext').textContent)")
    s = settle(page)
    assert s["progress"] == "Vraag 2 van 12" and len(s["mine"]) == 2


def test_share_your_strength_offers_the_card_to_download(
    e2e: E2E, page: Any, artifacts: Path
) -> None:
    """ "Deel je kracht" after the result: the square card in the chat and a link that saves it
    (the server answers it as an attachment), plus the invitation for friends."""
    page.goto(e2e.base + "/")
    open_bubble(page)
    s = walk_by_mouse(page)
    assert s["result"].startswith("Jij bent ")
    page.locator(".choices .opt", has_text="Deel je kracht").click()
    settle(page)
    image = page.locator(".msg.bot img").last
    image.wait_for()
    src = str(image.get_attribute("src"))
    assert "/cards/" in src and "size=square" in src
    link = page.locator(".msg.bot a[download]").last
    assert link.inner_text() == "Download je kaart"
    href = str(link.get_attribute("href"))
    assert "download=1" in href
    assert "/c/vriend" in " ".join(state(page)["bot"])
    # The links use VK_PUBLIC_URL; this test server listens elsewhere.
    parts = urlsplit(href)
    response = page.request.get(f"{e2e.base}{parts.path}?{parts.query}")
    assert response.status == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    page.evaluate(f"() => {ROOT}.querySelector('.scroll').scrollTop = 1e6")
    shot(page, artifacts / "widget-share.png")
    assert page.js_errors == []
