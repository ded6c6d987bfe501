""" "Deel je kracht": the result card and an invitation that brings friends in as referrals.

People say yes when someone they know asks them. After the result the engine offers a share
button; its `ShareCard` effect becomes, here, the card (bot.cards, 1080×1080, in the
organisation's colours when the person came through its widget or campaign) as an image and
a link that starts the test attributed to the `vriend` campaign (registered by a migration)
on the same channel: a Telegram deep link, a WhatsApp link with the campaign's keyword
prefilled, or the web landing page. The widget offers the card as a download
(`&download=1`; `size=wide` for 1200×630). `report funnel` counts the referrals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from bot.analytics.stages import REFERRAL_CAMPAIGN
from quiz.messages import Image, Reply, Text

if TYPE_CHECKING:
    from bot.config import Settings
    from quiz.model import Quiz

REFERRAL_NAME = "Via een vriend (Deel je kracht)"


def card_url(settings: Settings, profile_id: str, lang: str, org: str | None, size: str) -> str:
    query = {"size": size, "lang": lang}
    if org:
        query["org"] = org
    return f"{settings.public_url.rstrip('/')}/cards/{profile_id}.png?{urlencode(query)}"


def invite_link(settings: Settings, channel: str, lang: str) -> str:
    """The link for friends, on the channel the person uses (the web when it has none)."""
    from bot.campaigns import campaign_links

    links = campaign_links(settings, REFERRAL_CAMPAIGN, keyword=REFERRAL_CAMPAIGN, lang=lang)
    if channel == "telegram" and links.telegram:
        return links.telegram
    if channel == "whatsapp" and links.whatsapp:
        return links.whatsapp
    return links.web


def replies(
    settings: Settings, quiz: Quiz, channel: str, profile_id: str, lang: str, org: str | None
) -> list[Reply]:
    profile = quiz.profile(profile_id)
    name = profile.name.get(lang, profile_id) if profile is not None else profile_id
    square = card_url(settings, profile_id, lang, org, "square")
    text = quiz.t(lang, "share_text", link=invite_link(settings, channel, lang))
    return [Image(url=square, alt=quiz.t(lang, "share_alt", name=name)), Text(text)]


async def ensure_referral_campaign(settings: Settings) -> bool:
    """Register the `vriend` campaign (its keyword makes WhatsApp invitations count, its
    landing page serves web invitations); True when it was added. The migration
    volunteer_0060 does the same once per database."""
    from bot.store.campaigns import Campaign, get_campaign
    from bot.store.db import session_scope

    async with session_scope(settings.database_url) as session:
        if await get_campaign(session, REFERRAL_CAMPAIGN) is not None:
            return False
        session.add(Campaign(code=REFERRAL_CAMPAIGN, name=REFERRAL_NAME, keyword=REFERRAL_CAMPAIGN))
    return True
