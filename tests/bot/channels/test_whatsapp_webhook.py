"""WhatsApp end to end: signed Cloud API webhooks over HTTP into our app, replies arriving at a
fake Graph API on 127.0.0.1 (which enforces WhatsApp's message limits)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from bot.config import Settings
from bot.store import outbox
from bot.store.db import session_scope
from tests.fakes.harness import (
    WA_VERIFY,
    WhatsAppStack,
    outbox_counts,
    whatsapp_stack,
    with_vacancies,
)

UTRECHT = (52.0907, 5.1214)
DUMP = False


def bodies(st: WhatsAppStack) -> list[str]:
    out = []
    for m in st.fake.sent(st.user.key):
        if m["type"] == "text":
            out.append(m["text"]["body"])
        elif m["type"] == "interactive":
            out.append(m["interactive"]["body"]["text"])
    return out


async def conversations(st: WhatsAppStack) -> list[dict[str, Any]]:
    from bot.store.conversations import conversations as table

    async with session_scope(st.settings.database_url) as session:
        return [dict(r) for r in (await session.execute(select(table))).mappings().all()]


async def walk_by_taps(st: WhatsAppStack) -> None:
    user = st.user
    for _ in range(60):
        msg = st.fake.sent(user.key)[-1]
        inter = msg.get("interactive") or {}
        if inter.get("type") == "location_request_message":
            await user.share_location(*UTRECHT)
            continue
        if msg["type"] == "interactive" and inter["body"]["text"].startswith("Wil je meer zien"):
            return
        if msg["type"] == "interactive" and inter["body"]["text"].startswith("Wil je werk bij"):
            await user.tap("/nearby/yes")
            continue
        choices = [c for c in user.choices() if c["id"].startswith(("/a/", "/done/"))]
        done = [c for c in choices if c["id"].startswith("/done/")]
        if done:
            await user.tap(choices[0]["id"])
            await user.tap(choices[1]["id"])
            marked = [c["title"] for c in user.choices() if c["id"].startswith("/a/")]
            assert marked[0].startswith("✓ ") and marked[1].startswith("✓ ")
            await user.tap(done[0]["id"])
        else:
            await user.tap(choices[0]["id"])
    raise AssertionError("the quiz did not finish")


async def test_verification_challenge(settings: Settings) -> None:
    async with whatsapp_stack(settings) as st:
        ok = await st.http.get(
            "/whatsapp/webhook",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": WA_VERIFY,
                "hub.challenge": "1158201444",
            },
        )
        bad = await st.http.get(
            "/whatsapp/webhook",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": "guess",
                "hub.challenge": "1158201444",
            },
        )
        assert (ok.status_code, ok.text) == (200, "1158201444")
        assert bad.status_code == 403


async def test_whole_quiz_by_taps_to_recommendations(settings: Settings) -> None:
    async with whatsapp_stack(settings) as st:
        await with_vacancies(st)
        await st.user.say("Hoi! Ik wil meedoen")
        assert bodies(st)[0].startswith("Hoi!")
        await st.user.tap("/consent/yes")
        first = st.fake.sent(st.user.key)[-1]["interactive"]
        assert first["type"] == "button" and first["header"]["text"] == "Vraag 1 van 12"
        await walk_by_taps(st)
        shown = bodies(st)
        assert any(b.startswith("*Jij bent ") for b in shown), shown[-6:]
        help_id = next(
            b["reply"]["id"]
            for m in reversed(st.fake.sent(st.user.key))
            for b in m.get("interactive", {}).get("action", {}).get("buttons", [])
            if b["reply"]["id"].startswith("/help/")
        )
        await st.user.tap(help_id)
        assert bodies(st)[-1].startswith("Fijn dat je wilt helpen")
        await st.user.tap("/h/how/self")  # no sharing: the details to reach out oneself
        assert any("✉ " in b for b in bodies(st)[-3:])
        assert st.fake.rejected == []  # every message respected WhatsApp's limits
        if DUMP:
            print(json.dumps(st.fake.sent(), ensure_ascii=False, indent=1))
        [conv] = await conversations(st)
        assert conv["phase"] == "result"
        assert conv["state"]["answers"]["place"]["place"] == "Utrecht"


async def test_whole_quiz_by_typing(settings: Settings) -> None:
    async with whatsapp_stack(settings) as st:
        await st.user.say("hallo")
        await st.user.say("ja")
        for _ in range(40):
            text = bodies(st)[-1]
            if text.startswith("Wil je meer zien"):
                break
            if text.startswith("Wil je werk bij jou in de buurt zien?"):
                await st.user.say("ja graag")
            elif text.startswith("Hoe oud ben je?"):
                await st.user.say("ik ben 34")
            elif "postcode" in text.lower():
                await st.user.say("Utrecht")
            elif "Klaar" in json.dumps(st.fake.sent(st.user.key)[-1], ensure_ascii=False):
                await st.user.say("1 en 3")
            else:
                await st.user.say("2")
        else:
            raise AssertionError(bodies(st)[-4:])
        assert any(b.startswith("*Jij bent ") for b in bodies(st))
        assert st.fake.rejected == []


async def test_forged_webhooks_are_rejected(settings: Settings) -> None:
    async with whatsapp_stack(settings) as st:
        body = json.dumps(st.user.text_payload("hoi")).encode()
        good = st.user.sign(body)
        tampered = body.replace(b"hoi", b"hai")
        unsigned = await st.post(body, {"Content-Type": "application/json"})
        forged = await st.post(body, {**good, "X-Hub-Signature-256": "sha256=" + "0" * 64})
        replayed = await st.post(tampered, good)
        assert [r.status_code for r in (unsigned, forged, replayed)] == [403, 403, 403]
        await st.settle()
        assert st.fake.sent() == []
        assert await conversations(st) == []


async def test_duplicate_wamid_is_processed_once(settings: Settings) -> None:
    async with whatsapp_stack(settings) as st:
        payload = st.user.text_payload("hoi")
        await st.user.post(payload)
        await st.user.post(payload)
        assert len(st.fake.sent()) == 2  # welcome + consent buttons, once


async def test_payload_without_user_id_is_processed(settings: Settings) -> None:
    """The classic webhook shape: only the phone-number wa_id, no business-scoped user id."""
    async with whatsapp_stack(settings, user_id=None, wa_id="31687654321") as st:
        payload = st.user.text_payload("hoi")
        contact = payload["entry"][0]["changes"][0]["value"]["contacts"][0]
        assert "user_id" not in contact
        await st.user.post(payload)
        sent = st.fake.sent()
        assert [m["to"] for m in sent] == ["31687654321", "31687654321"]
        assert len(await conversations(st)) == 1


async def test_users_are_keyed_by_business_scoped_id(settings: Settings) -> None:
    async with whatsapp_stack(settings, wa_id=None, user_id="NL.1349120865530274191") as st:
        await st.user.say("hoi")
        sent = st.fake.sent()
        assert len(sent) == 2
        assert all(m.get("recipient") == "NL.1349120865530274191" for m in sent)
        assert all("to" not in m for m in sent)


async def test_campaign_keyword_in_first_message(settings: Settings) -> None:
    from bot.store.campaigns import Campaign, add_campaign

    async with whatsapp_stack(settings) as st:
        async with session_scope(st.settings.database_url) as session:
            await add_campaign(session, Campaign(code="radio-wk12", name="Radio", keyword="KRACHT"))
        await st.user.say("Kracht 💪")
        [conv] = await conversations(st)
        assert conv["campaign"] == "radio-wk12"


async def test_outside_the_service_window_nothing_free_form_is_sent(settings: Settings) -> None:
    async with whatsapp_stack(settings) as st:
        # A message that reaches us 25 hours late: its window has closed.
        await st.user.say("hoi", timestamp=int(time.time()) - 25 * 3600)
        assert st.fake.sent() == []
        counts = await outbox_counts(st.settings.database_url, "whatsapp")
        assert counts == {outbox.TEMPLATE_NEEDED: 2}


async def test_graph_re_engagement_error_records_template_need(settings: Settings) -> None:
    async with whatsapp_stack(settings) as st:
        st.fake.closed_windows.add(st.user.key)
        await st.user.say("hoi")
        counts = await outbox_counts(st.settings.database_url, "whatsapp")
        assert counts == {outbox.TEMPLATE_NEEDED: 2}


async def test_rate_limits_and_server_errors_are_retried(settings: Settings) -> None:
    async with whatsapp_stack(settings) as st:
        st.fake.fail(429)
        st.fake.fail(503, times=2)
        await st.user.say("hoi")
        assert [m["type"] for m in st.fake.sent()] == ["text", "interactive"]
        assert bodies(st)[0].startswith("Hoi!")


async def test_reactions_are_ignored_and_pictures_get_a_friendly_answer(
    settings: Settings,
) -> None:
    async with whatsapp_stack(settings) as st:
        await st.user.say("hoi")
        wamid = st.fake.sent()[-1]["_id"]
        before = len(st.fake.sent())
        await st.user.post(
            st.user.payload({"type": "reaction", "reaction": {"message_id": wamid, "emoji": "👍"}})
        )
        assert len(st.fake.sent()) == before
        await st.user.post(
            st.user.payload(
                {"type": "image", "image": {"mime_type": "image/jpeg", "sha256": "x=",
                                            "id": "1234567890"}}
            )
        )  # fmt: skip
        assert bodies(st)[-2].startswith("Sorry, dat begreep ik niet")
