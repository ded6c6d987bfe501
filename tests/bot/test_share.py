""" "Deel je kracht": the result card as an image on Telegram (fake Bot API), a download on the
web, with a link that brings a friend in as a `vriend` referral, counted in the funnel."""

from __future__ import annotations

import io
import itertools
from urllib.parse import urlsplit

import httpx
import pytest

from bot.analytics import Filters, funnel_report
from bot.config import Settings
from bot.pipeline import Inbound, Pipeline
from bot.share import ensure_referral_campaign
from bot.store.db import session_scope
from quiz.messages import Buttons, Image, Text
from tests.bot.channels.test_telegram_webhook import walk_by_taps
from tests.bot.test_analytics_pipeline import walk
from tests.fakes.harness import telegram_stack, with_vacancies
from tests.fakes.telegram_api import TelegramUser


@pytest.fixture
def count_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.analytics import suppression

    monkeypatch.setattr(suppression, "K", 1)


async def test_telegram_sends_the_card_and_a_friend_counts_as_a_referral(
    settings: Settings, count_everyone: None
) -> None:
    from PIL import Image as PILImage

    settings = settings.model_copy(update={"telegram_bot_username": "vk_test_bot"})
    async with telegram_stack(settings) as st:
        await with_vacancies(st, 40)
        await st.user.say("/start")
        await st.user.tap("/consent/yes")
        await walk_by_taps(st)
        offer = next(
            m for m in st.fake.sent(st.user.user_id) if "/share/" in str(m.get("reply_markup"))
        )
        assert offer["text"].startswith("Wil je meer zien")
        [payload] = [
            b["callback_data"]
            for row in offer["reply_markup"]["inline_keyboard"]
            for b in row
            if b["callback_data"].startswith("/share/")
        ]
        await st.user.tap(payload)
        photo, invite = st.fake.sent(st.user.user_id)[-2:]
        assert "photo" in photo and photo["caption"].startswith("Mijn vrijwilligerskracht: ")
        [call] = st.fake.calls_of("sendPhoto")
        url = str(call.params["photo"])
        assert url.startswith("https://vk.example.org/cards/") and "size=square" in url
        assert "https://t.me/vk_test_bot?start=vriend" in invite["text"]

        # The card itself: 1080×1080 PNG, from our own server.
        card = await st.http.get(urlsplit(url)._replace(scheme="", netloc="").geturl())
        assert card.status_code == 200
        assert PILImage.open(io.BytesIO(card.content)).size == (1080, 1080)

        # A friend follows the link: Telegram sends "/start vriend".
        friend = TelegramUser(st.fake, st.user.deliver, user_id=777, first_name="Ali")
        friend._update_ids = itertools.count(990000)  # update ids are per bot, not per chat
        await friend.say("/start vriend")
        async with session_scope(st.settings.database_url) as session:
            report = await funnel_report(session, Filters())
        assert report.referrals == 1, report.breakdowns
        assert report.to_dict()["referrals"] == 1


async def test_web_gets_the_card_to_download_and_the_landing_link(
    settings: Settings, db_url: str
) -> None:
    from bot.app import create_app

    settings = settings.model_copy(update={"public_url": "http://testserver"})
    assert await ensure_referral_campaign(settings)
    assert not await ensure_referral_campaign(settings)  # once
    pipeline = Pipeline(settings)
    await walk(pipeline, "web-sharer", "radio")
    state = await pipeline.handle(Inbound("rest", "web-sharer", payload="/restart"))
    del state
    profile = "verbinder"
    shared = await pipeline.handle(Inbound("rest", "web-sharer", payload=f"/share/{profile}"))
    image, text = shared.replies
    assert isinstance(image, Image) and isinstance(text, Text)
    assert image.url.startswith("http://testserver/cards/verbinder.png?size=square")
    assert "http://testserver/c/vriend" in text.text

    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        download = await client.get(f"/cards/{profile}.png?size=wide&lang=nl&download=1")
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith("attachment;")
        landing = await client.get("/c/vriend")
        assert landing.status_code == 200 and 'data-campaign="vriend"' in landing.text


def test_the_offer_comes_with_the_result() -> None:
    from bot.content import load_quiz
    from quiz.engine import Engine
    from quiz.protocol import Recommendations
    from tests.quiz.test_engine import RECS, full_run

    engine = Engine(load_quiz())
    step = full_run(engine)
    st = step.state
    st.result = st.result or {"primary": "verbinder"}
    again = engine.step(st, Recommendations(RECS, 0, False))
    closing = again.replies[-1]
    assert isinstance(closing, Buttons) and closing.text.startswith("Wil je meer zien")
    titles = [b.title for b in closing.buttons]
    assert titles[-2:] == ["Deel je kracht", "Opnieuw beginnen"]
