"""Campaign entry points: codes, the spoken radio keyword, links and QR codes.

Three ways in: a Telegram deep link (`/start <code>`), a WhatsApp click-to-chat link whose
prefilled text carries the keyword, and a web landing page `/c/<code>`. Radio listeners type
what they heard, so the keyword is matched on a Dutch sound-alike key with a small edit
distance, only on the first message of a conversation, and never inside a longer word
("krachtig" is not "kracht").
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote

from rapidfuzz.distance import Levenshtein

from bot.config import Settings
from quiz.text import fold as text_fold

if TYPE_CHECKING:
    from bot.store.turns import Sql, TurnDatabase

log = logging.getLogger(__name__)

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
KEYWORD_RE = re.compile(r"^[^\W_](?:[\w ]{0,30}[^\W_])?$")
START_RE = re.compile(r"/start[ =]([A-Za-z0-9_-]{1,64})")
HASHTAG_RE = re.compile(r"#([A-Za-z0-9_-]{1,64})")
WHATSAPP_TEXT_MAX = 140
TEXTS_FILE = Path(__file__).resolve().parent / "admin" / "texts.json"

Channel = Literal["web", "telegram", "whatsapp"]
CHANNELS: tuple[Channel, ...] = ("web", "telegram", "whatsapp")


class CampaignError(ValueError):
    """A campaign value that cannot work (bad code, missing bot username...)."""


@lru_cache(maxsize=1)
def texts() -> dict[str, Any]:
    """Product texts of campaigns and the dashboard (Dutch first, English)."""
    data: dict[str, Any] = json.loads(TEXTS_FILE.read_text(encoding="utf-8"))
    return data


def validate_code(code: str) -> str:
    """Codes travel as Telegram start payloads: 1–64 characters of A-Z a-z 0-9 _ -."""
    if not CODE_RE.fullmatch(code):
        raise CampaignError(
            f"campaign code {code!r} must be 1-64 characters of letters, digits, '_' or '-'"
        )
    return code


# Ordinary first messages: a keyword that sounds like one would claim everybody.
COMMON_FIRST_WORDS = (
    "hoi", "hallo", "hey", "hi", "hello", "goedemorgen", "goedemiddag", "goedenavond",
    "start", "begin", "help", "hulp", "stop", "ja", "nee", "ok", "oke", "yes", "no", "test",
    "info", "vraag", "vrijwilliger", "vrijwilligerswerk", "vrijwilligerskracht",
)  # fmt: skip


def validate_keyword(keyword: str) -> str:
    word = " ".join(keyword.split())
    if not KEYWORD_RE.fullmatch(word) or not sound_key(word):
        raise CampaignError(
            f"keyword {keyword!r} must be 1-32 letters or digits (spaces allowed inside)"
        )
    clash = next((w for w in COMMON_FIRST_WORDS if keyword_matches(w, word)), None)
    if clash is not None:
        raise CampaignError(
            f"keyword {keyword!r} sounds like the ordinary first message {clash!r}: "
            "pick a more distinctive word"
        )
    return word.upper()


# ---------------------------------------------------------------------------- keywords


def fold(text: str) -> list[str]:
    """Lower case words without accents, punctuation or emoji."""
    return re.findall(r"[a-z0-9]+", text_fold(text).casefold())


# Spelling variants that sound alike in Dutch, applied in order.
_SOUND_ALIKE: tuple[tuple[str, str], ...] = (
    ("sch", "sg"),
    ("ch", "g"),
    ("gh", "g"),
    ("ck", "k"),
    ("ph", "f"),
    ("qu", "kw"),
    ("c", "k"),
    ("q", "k"),
    ("x", "ks"),
    ("ij", "y"),
    ("ei", "y"),
    ("ou", "au"),
    ("dt", "t"),
    ("z", "s"),
    ("v", "f"),
)


def sound_key(word: str) -> str:
    """A coarse Dutch sound-alike key: 'KRAGHT', 'kracht' and 'krachtt' all give 'kragt'."""
    key = "".join(fold(word))
    for old, new in _SOUND_ALIKE:
        key = key.replace(old, new)
    if key.endswith("d"):
        key = key[:-1] + "t"
    return re.sub(r"(.)\1+", r"\1", key)


def _tolerance(key: str) -> int:
    if len(key) <= 3:
        return 0
    if len(key) <= 8:
        return 1
    return 2


def _close(candidate: str, key: str) -> bool:
    if not candidate or candidate[0] != key[0]:
        return False  # listeners rarely mishear the first sound; 'pracht' is not 'kracht'
    limit = _tolerance(key)
    return Levenshtein.distance(candidate, key, score_cutoff=limit) <= limit


SHORT_MESSAGE_WORDS = 6


# A radio spot sends thousands of the same few first messages ("KRACHT", "kracht!"): each
# (text, keyword) is worked out once.
@lru_cache(maxsize=1024)
def keyword_matches(text: str, keyword: str) -> bool:
    """Does this first message carry the spoken keyword?

    A short message (≤ 6 words) matches when one of its words (or, for a keyword of several
    words, a run of words) sounds like the keyword. In a longer message only the first or the
    last word counts, so ordinary sentences are not taken for a keyword.
    """
    key = sound_key(keyword)
    words = fold(text)
    if not key or not words:
        return False
    size = max(1, len(fold(keyword)))
    grams: list[str] = []
    for n in sorted({1, size}):
        grams.extend("".join(words[i : i + n]) for i in range(len(words) - n + 1))
    if len(words) > SHORT_MESSAGE_WORDS:
        grams = ["".join(words[:size]), "".join(words[-size:]), words[0], words[-1]]
    plain = "".join(fold(keyword))
    return any(_close(sound_key(g), key) or _close(g, plain) for g in grams)


class KeywordCampaign(Protocol):
    """What keyword matching needs of a campaign (the store's Campaign fits)."""

    @property
    def code(self) -> str: ...
    @property
    def keyword(self) -> str | None: ...
    @property
    def starts_on(self) -> date | None: ...
    @property
    def ends_on(self) -> date | None: ...


def _rank(campaign: KeywordCampaign, today: date) -> tuple[int, date]:
    started = campaign.starts_on is None or campaign.starts_on <= today
    running = started and (campaign.ends_on is None or today <= campaign.ends_on)
    return (2 if running else 1 if started else 0, campaign.starts_on or date.min)


def match_campaign_keyword(
    text: str,
    campaigns: Iterable[KeywordCampaign] | dict[str, str],
    today: date | None = None,
) -> str | None:
    """The code of the campaign whose keyword (or '#code') this first message carries.

    `campaigns`: Campaign-like objects (code, keyword, starts_on, ends_on) or a plain
    {code: keyword} mapping. When several share a keyword, a running campaign wins over an
    ended one, then the latest start; campaigns that have not started yet never match.
    """
    if not text or not text.strip():
        return None
    today = today or date.today()
    if isinstance(campaigns, dict):
        items: list[KeywordCampaign] = [
            _Plain(code=c, keyword=k, starts_on=None, ends_on=None) for c, k in campaigns.items()
        ]
    else:
        items = list(campaigns)
    by_code = {c.code.lower(): c for c in items}
    for tag in HASHTAG_RE.findall(text):
        if tag.lower() in by_code:
            return str(by_code[tag.lower()].code)
    hits = [
        c
        for c in items
        if c.keyword and _rank(c, today)[0] > 0 and keyword_matches(text, c.keyword)
    ]
    if not hits:
        return None
    return str(max(hits, key=lambda c: _rank(c, today)).code)


@dataclass(frozen=True)
class _Plain:
    code: str
    keyword: str | None
    starts_on: date | None
    ends_on: date | None


# ---------------------------------------------------------------------------- links


@dataclass(frozen=True)
class Links:
    telegram: str | None
    whatsapp: str | None
    web: str
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, str | None]:
        return {"telegram": self.telegram, "whatsapp": self.whatsapp, "web": self.web}

    def get(self, channel: Channel) -> str:
        link = self.to_dict()[channel]
        if link is None:
            raise CampaignError(next(m for m in self.missing if channel in m.lower()))
        return link


def whatsapp_text(keyword: str | None, code: str, lang: str = "nl") -> str:
    """The prefilled first message: keyword first (so it is matched), then the code tag."""
    template: dict[str, str] = texts()["whatsapp_prefill"]
    word = keyword or code
    body = template.get(lang) or template["nl"]
    full = body.format(keyword=word, code=code)
    if len(full) <= WHATSAPP_TEXT_MAX:
        return full
    short = template["short"].format(keyword=word, code=code)
    if len(short) <= WHATSAPP_TEXT_MAX:
        return short
    return word[:WHATSAPP_TEXT_MAX]


def whatsapp_digits(number: str) -> str:
    """wa.me wants the full international number, digits only, no '+' or leading 00."""
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("00") or digits.startswith("00"):
        digits = digits.lstrip("0")
    return digits


def campaign_links(
    settings: Settings, code: str, keyword: str | None = None, lang: str = "nl"
) -> Links:
    validate_code(code)
    missing: list[str] = []
    telegram = whatsapp = None
    username = (settings.telegram_bot_username or "").strip().lstrip("@")
    if username:
        telegram = f"https://t.me/{username}?start={code}"
    else:
        missing.append("Telegram link needs VK_TELEGRAM_BOT_USERNAME (the bot's @username)")
    number = whatsapp_digits(settings.whatsapp_number or "")
    if number:
        text = quote(whatsapp_text(keyword, code, lang), safe="")
        whatsapp = f"https://wa.me/{number}?text={text}"
    else:
        missing.append("WhatsApp link needs VK_WHATSAPP_NUMBER (international, e.g. 31612345678)")
    web = f"{settings.public_url.rstrip('/')}/c/{quote(code)}"
    return Links(telegram=telegram, whatsapp=whatsapp, web=web, missing=tuple(missing))


# ---------------------------------------------------------------------------- QR codes

QR_FORMATS: tuple[str, ...] = ("svg", "png", "pdf")


def write_qr(link: str, out: Path, fmt: str, scale: int = 10) -> Path:
    """A QR code for posters: error correction M, four-module quiet zone."""
    import segno

    if fmt not in QR_FORMATS:
        raise CampaignError(f"QR format must be one of {', '.join(QR_FORMATS)}, not {fmt!r}")
    qr = segno.make(link, error="m", micro=False, boost_error=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"kind": fmt, "border": 4}
    if fmt == "png":
        kwargs["scale"] = scale
    elif fmt == "svg":
        kwargs.update(scale=scale, title=link, xmldecl=True, unit="px")
    else:
        kwargs["scale"] = 4
    qr.save(str(out), **kwargs)
    return out


def qr_matrix(link: str) -> Sequence[Sequence[int]]:
    """The module matrix `write_qr` draws (for tests and previews)."""
    import segno

    qr = segno.make(link, error="m", micro=False, boost_error=False)
    return [list(row) for row in qr.matrix]


# ---------------------------------------------------------------------------- first touch


def _campaigns_sql() -> Sql:
    from bot.store.turns import Sql

    return Sql.same("SELECT code, keyword, starts_on, ends_on, quiz_id FROM campaigns")


def _day(value: Any) -> date | None:
    """A DATE column: asyncpg gives a date, sqlite3 the ISO text SQLAlchemy wrote."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class _Listed:
    """What attribution needs of a campaign (bot.store.campaigns.Campaign has more)."""

    code: str
    keyword: str | None
    starts_on: date | None
    ends_on: date | None
    quiz_id: str | None

    @classmethod
    def of(cls, row: Sequence[Any]) -> _Listed:
        code, keyword, starts_on, ends_on, quiz_id = row
        return cls(str(code), keyword, _day(starts_on), _day(ends_on), quiz_id)


class CampaignDirectory:
    """Every campaign, cached in-process, so that first-touch attribution costs the
    pipeline's hot path no query. Refreshed at most every `ttl` seconds (a new campaign
    is recognised by a running server within that time)."""

    def __init__(
        self, database_url: str, ttl: float = 30.0, database: TurnDatabase | None = None
    ) -> None:
        self.database_url = database_url
        self.database = database
        self.ttl = ttl
        self._loaded_at: float | None = None
        self._by_code: dict[str, Any] = {}
        self._lock: asyncio.Lock | None = None

    async def current(self) -> CampaignDirectory:
        """This directory, refreshed first when it is stale."""
        now = time.monotonic()
        if self._loaded_at is not None and now - self._loaded_at < self.ttl:
            return self
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._loaded_at is None or time.monotonic() - self._loaded_at >= self.ttl:
                await self.refresh()
        return self

    async def refresh(self) -> None:
        """Read the campaigns on the turn's raw driver (no SQLAlchemy on the message path)."""
        if self.database is None:
            from bot.store.turns import TurnDatabase

            self.database = TurnDatabase(self.database_url)
        try:
            async with self.database.transaction() as tx:
                rows = [_Listed.of(row) for row in await tx.all(_campaigns_sql(), ())]
        except Exception:  # no campaigns table yet, database briefly away: attribute nothing
            log.warning("campaigns could not be loaded; first touch uses codes as given")
            rows = []
        self._by_code = {c.code.lower(): c for c in rows}
        self._loaded_at = time.monotonic()

    def quiz_of(self, code: str | None) -> str | None:
        """The quiz a campaign's conversations get (None: the default quiz)."""
        found = self._by_code.get(code.lower()) if code else None
        return str(found.quiz_id) if found is not None and found.quiz_id else None

    def attribute(
        self, code: str | None, first_text: str | None, today: date | None = None
    ) -> str | None:
        """The campaign a new conversation is attributed to.

        A code from the channel (Telegram `/start <code>`, the widget's data-campaign, REST
        metadata, or '/start <code>' typed as the first text) wins: a known code in its
        stored spelling, an unknown but well-formed one as given, a malformed one dropped.
        Without a code, the first message is matched against the campaigns' keywords.
        """
        start = START_RE.fullmatch((first_text or "").strip())
        if not code and start:
            code = start.group(1)
        if code:
            code = code.strip()
            if not CODE_RE.fullmatch(code):
                return None
            found = self._by_code.get(code.lower())
            return str(found.code) if found is not None else code
        if not first_text or not first_text.strip() or first_text.lstrip().startswith("/"):
            return None
        keyworded = [c for c in self._by_code.values() if c.keyword]
        return match_campaign_keyword(first_text, keyworded, today) if keyworded else None
