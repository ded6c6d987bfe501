"""The one path every inbound message takes, whatever the channel.

dedupe (idempotency key) -> lock the conversation -> load state -> inbound to engine event
(payload, command, place, interpreter, free text) -> engine.step -> effects (recommendations,
consent, erasure, leads, analytics) -> save state + events + key in ONE transaction -> replies.

Serialisation: on Postgres a transaction-scoped advisory lock per conversation (works across
processes and replicas); on SQLite `BEGIN IMMEDIATE` (the database write lock), with an
in-process queue in front so tasks of one process wait on asyncio instead of SQLite's
sleep-and-retry busy handler.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quiz.engine import Engine, State, Step, parse_payload
from quiz.events import (
    Command,
    ConsentGiven,
    Effect,
    EraseData,
    Event,
    FreeText,
    Lead,
    NeedRecommendations,
    Payload,
    Recommendations,
    Start,
    Track,
    Value,
)
from quiz.messages import Reply, reply_from_dict, reply_to_dict
from quiz.model import Question, Quiz

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from bot.flood import FloodControl
    from bot.store.turns import TurnDatabase, Tx

log = logging.getLogger(__name__)

Recommender = Callable[[dict[str, Any], int, int], Awaitable[tuple[list[dict[str, Any]], bool]]]
Interpreter = Callable[[str, State, "Question | None", str], Awaitable["Event | None"]]
InTransaction = Callable[["AsyncSession", str, list[Reply]], Awaitable[None]]

# Commands a brand-new conversation may carry besides its implicit start (a client that
# pre-answers the consent question or picks a language on its first message).
_AFTER_START = frozenset({"language", "consent_yes", "consent_no", "consent_more"})
_MAX_RECOMMENDATION_ROUNDS = 5


@dataclass(frozen=True)
class Inbound:
    """One message from a channel, already stripped of platform details.

    meta: "lang" (language hint), "campaign" (campaign code), "org" (organisation id),
    "start" (True for an explicit /start), "region" (province, if known).
    """

    channel: str
    sender: str
    text: str | None = None
    payload: str | None = None
    location: tuple[float, float] | None = None
    external_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HandleResult:
    replies: list[Reply]
    conversation_id: str
    duplicate: bool = False
    # The turn erased the person's data (clients drop what they keep locally too).
    erased: bool = False


@dataclass
class _Turn:
    """What one inbound message did, collected before anything is written."""

    state: State
    channel: str
    replies: list[Reply] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    leads: list[str] = field(default_factory=list)
    consent: bool = False
    erase: bool = False


class _KeyedLocks:
    """asyncio locks per key, dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class Pipeline:
    """Handles inbound messages for every channel. One instance per process is enough."""

    def __init__(
        self,
        settings: Settings,
        quiz: Quiz | None = None,
        recommender: Recommender | None = None,
        interpreter: Interpreter | None = None,
    ) -> None:
        if quiz is None:
            from bot.content import load_quiz

            quiz = load_quiz()
        self.settings = settings
        self.quiz = quiz
        self.engine = Engine(quiz)
        self.recommender = recommender
        self.interpreter = interpreter
        self._hmac = hmac.new(settings.secret_key.encode(), digestmod=hashlib.sha256)
        self._db: TurnDatabase | None = None
        self._write_lock = asyncio.Lock()
        self._locks = _KeyedLocks()
        self._gazetteer: Any = None
        self._gazetteer_missing = False
        self._campaigns: Any = None
        self._flood: FloodControl | None = None

    # ------------------------------------------------------------------ identities

    def hash_id(self, channel: str, value: str) -> str:
        """Keyed hash (HMAC-SHA256 with the secret key) of a channel-scoped id."""
        h = self._hmac.copy()
        h.update(f"{channel}\x00{value}".encode())
        return h.hexdigest()

    def inbound_key(self, inbound: Inbound) -> str | None:
        if inbound.external_id is None:
            return None
        return self.hash_id(inbound.channel, "msg\x00" + str(inbound.external_id))

    async def _campaign_directory(self) -> Any:
        """The campaigns for first-touch attribution (an in-process cache, see bot.campaigns)."""
        if self._campaigns is None:
            from bot.campaigns import CampaignDirectory

            self._campaigns = CampaignDirectory(self.settings.database_url)
        return await self._campaigns.current()

    # ------------------------------------------------------------------ entry point

    async def handle(
        self, inbound: Inbound, in_transaction: InTransaction | None = None
    ) -> HandleResult:
        from bot import metrics

        started = time.perf_counter()
        try:
            result = await self._handle(inbound, in_transaction)
        except Exception:
            metrics.error(inbound.channel, "pipeline")
            raise
        metrics.observe_turn(inbound.channel, time.perf_counter() - started, result.duplicate)
        return result

    def database(self) -> TurnDatabase:
        if self._db is None:
            from bot.store.turns import TurnDatabase

            self._db = TurnDatabase(self.settings.database_url)
        return self._db

    def flood_control(self) -> FloodControl:
        """This process's flood control (bot/flood.py), made on first use."""
        if self._flood is None:
            from bot.flood import FloodControl

            self._flood = FloodControl.from_settings(self.settings)
        return self._flood

    async def close(self) -> None:
        if self._flood is not None:
            await self._flood.close()
        if self._db is not None:
            await self._db.close()

    @asynccontextmanager
    async def _serialised(self, db: TurnDatabase, user_hash: str) -> AsyncIterator[None]:
        # SQLite has one writer at a time anyway: queue in-process on asyncio.
        if db.dialect == "sqlite":
            async with self._write_lock:
                yield
        else:
            async with self._locks.hold(user_hash):
                yield

    async def _handle(self, inbound: Inbound, in_transaction: InTransaction | None) -> HandleResult:
        # ---- edge guard and flood control (bot/edge.py, bot/flood.py), before any work:
        # no lone surrogate or NUL past this point; a refused message opens no transaction.
        from bot import edge
        from bot.store import turns as store

        inbound = edge.clean_inbound(inbound)
        user_hash = self.hash_id(inbound.channel, inbound.sender)
        flood = self.flood_control()
        decision = await flood.admit(
            inbound.channel, user_hash, await flood.is_new(inbound.channel, user_hash)
        )
        if not decision.allowed:
            return await flood.refuse(self, inbound, user_hash, decision, in_transaction)
        # ---- end of flood control

        db = self.database()
        campaigns = await self._campaign_directory()
        key = self.inbound_key(inbound)
        async with (
            self._serialised(db, user_hash),
            db.transaction(user_hash, with_session=in_transaction is not None) as tx,
        ):
            found = await store.read(tx, inbound.channel, user_hash, key)
            if found.duplicate_of is not None:
                return HandleResult(
                    replies=[reply_from_dict(r) for r in found.duplicate_replies or []],
                    conversation_id=found.duplicate_of,
                    duplicate=True,
                    # A kept answer whose conversation is gone answered an erasure.
                    erased=found.conversation is None
                    or found.conversation["id"] != found.duplicate_of,
                )
            if found.conversation is None:
                inbound = _first_touch(inbound, campaigns)
            turn = await self._turn(inbound, found.conversation)
            conversation_id = await self._save(
                tx, inbound, user_hash, found.conversation, turn, key
            )
            if in_transaction is not None:
                await in_transaction(tx.session(), conversation_id, turn.replies)
        return HandleResult(
            replies=turn.replies, conversation_id=conversation_id, erased=turn.erase
        )

    # ------------------------------------------------------------------ the turn

    async def _turn(self, inbound: Inbound, conv: dict[str, Any] | None) -> _Turn:
        meta = inbound.meta
        if conv is None:
            state = self.engine.new_state(meta.get("lang"))
        else:
            state = State.from_dict(conv["state"])
        turn = _Turn(state=state, channel=inbound.channel)
        if conv is None or meta.get("start") or self._is_start(inbound):
            await self._step(turn, Start(lang=meta.get("lang"), campaign=meta.get("campaign")))
            follow = self._after_start(inbound)
            if follow is not None:
                await self._step(turn, follow)
            return turn
        event = await self._event(inbound, turn.state)
        await self._step(turn, event)
        return turn

    def _is_start(self, inbound: Inbound) -> bool:
        raw = inbound.payload if inbound.payload is not None else inbound.text
        return raw is not None and isinstance(parse_payload(raw), Start)

    def _after_start(self, inbound: Inbound) -> Event | None:
        raw = inbound.payload if inbound.payload is not None else inbound.text
        if raw is None or not raw.strip().startswith("/"):
            return None
        event = parse_payload(raw)
        if isinstance(event, Command) and event.name in _AFTER_START:
            return event
        return None

    async def _event(self, inbound: Inbound, state: State) -> Event:
        """The engine event for this inbound message."""
        if inbound.payload is not None:
            payload = inbound.payload.strip()
            return Payload(payload) if payload.startswith("/") else FreeText(payload)
        if inbound.location is not None:
            return Value(self._location_value(*inbound.location), source="location")
        text = (inbound.text or "").strip()
        if text.startswith("/"):
            return Payload(text)
        question = self.engine.current_question(state)
        is_place = question is not None and question.kind == "place"
        if is_place and text and self.engine.keywords.command(text) is None:
            match = self._resolve_place(text)
            if match is not None:
                return Value(match, source="text")
        if self.interpreter is not None and text:
            try:
                event = await self.interpreter(text, state, question, state.lang)
            except Exception:
                log.exception("interpreter failed; falling back to built-in matching")
                from bot import metrics

                metrics.error(inbound.channel, "interpreter")
                event = None
            if event is not None:
                return event
        if is_place and text:
            match = self._find_place(text)
            if match is not None:
                return Value(match, source="text")
        return FreeText(text)

    async def _step(self, turn: _Turn, event: Event) -> None:
        """engine.step plus every effect it asks for (recommendations loop back in)."""
        step: Step = self.engine.step(turn.state, event)
        turn.state = step.state
        turn.replies.extend(step.replies)
        pending: deque[Effect] = deque(step.effects)
        rounds = 0
        while pending:
            effect = pending.popleft()
            if isinstance(effect, Track):
                turn.tracks.append(effect)
            elif isinstance(effect, NeedRecommendations):
                rounds += 1
                if rounds > _MAX_RECOMMENDATION_ROUNDS:
                    log.error("recommendation loop stopped after %d rounds", rounds - 1)
                    continue
                items, more = await self._recommend(effect, turn.channel)
                step = self.engine.step(
                    turn.state, Recommendations(tuple(items), effect.offset, more)
                )
                turn.state = step.state
                turn.replies.extend(step.replies)
                pending.extend(step.effects)
            elif isinstance(effect, ConsentGiven):
                turn.consent = True
            elif isinstance(effect, EraseData):
                turn.erase = True
                turn.tracks.clear()
                turn.leads.clear()
                turn.consent = False
            elif isinstance(effect, Lead):
                turn.leads.append(effect.vacancy_id)

    async def _recommend(
        self, need: NeedRecommendations, channel: str
    ) -> tuple[list[dict[str, Any]], bool]:
        if self.recommender is None:
            return [], False
        try:
            items, more = await self.recommender(dict(need.query), need.offset, need.limit)
        except Exception:
            log.exception("recommender failed; showing the result without vacancies")
            from bot import metrics

            metrics.error(channel, "recommender")
            return [], False
        return list(items), bool(more)

    # ------------------------------------------------------------------ places

    def _geo(self) -> Any:
        if self._gazetteer is None and not self._gazetteer_missing:
            try:
                from bot.geo.gazetteer import get_gazetteer
            except ImportError:
                self._gazetteer_missing = True
                return None
            self._gazetteer = get_gazetteer()
        return self._gazetteer

    def _resolve_place(self, text: str) -> dict[str, Any] | None:
        geo = self._geo()
        if geo is None:
            return None
        match = geo.resolve(text)
        return dict(match.to_value()) if match is not None else None

    def _find_place(self, text: str) -> dict[str, Any] | None:
        geo = self._geo()
        if geo is None or not hasattr(geo, "find_in_text"):
            return None
        found = geo.find_in_text(text)
        return dict(found[0][2].to_value()) if found else None

    def _location_value(self, lat: float, lon: float) -> dict[str, Any]:
        geo = self._geo()
        if geo is not None:
            value = dict(geo.reverse(lat, lon).to_value())
            # The PC4 centroid is kept rather than the exact position (less personal).
            if value.get("lat") is not None and value.get("lon") is not None:
                return value
        return {"place": f"{lat:.3f}, {lon:.3f}", "lat": lat, "lon": lon}

    # ------------------------------------------------------------------ saving

    async def _save(
        self,
        tx: Tx,
        inbound: Inbound,
        user_hash: str,
        conv: dict[str, Any] | None,
        turn: _Turn,
        key: str | None,
    ) -> str:
        """Write the turn in one go; returns the conversation id (the old one after erasure)."""
        from bot.store import turns as store

        replies_json = (
            store.dumps([reply_to_dict(r) for r in turn.replies]) if key is not None else None
        )
        if turn.erase:
            conversation_id = conv["id"] if conv else store.new_id()
            anon = (
                await store.erase_conversation(tx, conversation_id)
                if conv
                else "anon-" + store.new_id()
            )
            await store.record_erasure(
                tx, anon, conversation_id, inbound.channel, key, replies_json
            )
            return conversation_id
        now = store.utcnow()
        st = turn.state
        meta = inbound.meta
        old = conv or {}
        campaign = old.get("campaign") or meta.get("campaign") or st.campaign
        conversation_id = conv["id"] if conv else store.new_id()
        await store.write(
            tx,
            store.Write(
                conversation_id=conversation_id,
                is_new=conv is None,
                user_hash=user_hash,
                channel=inbound.channel,
                # The state is plain JSON data already: no deep copy needed to serialise it.
                state_json=store.dumps(vars(st)),
                lang=st.lang,
                phase=st.phase,
                campaign=campaign,
                region=meta.get("region") or _region_of(st) or old.get("region"),
                org=old.get("org") or meta.get("org"),
                now=now,
                consent_at=old.get("consent_at") or (now if turn.consent or st.consent else None),
                event_campaign=st.campaign or campaign,
                events=[
                    (t.name, t.data, _str_or_none(t.data.get("question"))) for t in turn.tracks
                ],
                consent_quiz=st.quiz_id if turn.consent else None,
                leads=turn.leads,
                key=key,
                replies_json=replies_json,
            ),
        )
        return conversation_id


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _first_touch(inbound: Inbound, campaigns: Any) -> Inbound:
    """A new conversation's campaign: the channel's code, or the keyword in its first text
    (`bot.campaigns.CampaignDirectory`, cached: no query on this path)."""
    from dataclasses import replace

    given = inbound.meta.get("campaign")
    text = inbound.meta.get("first_text") or inbound.text or inbound.payload
    code = campaigns.attribute(given, text)
    if code == given:
        return inbound
    meta = {k: v for k, v in inbound.meta.items() if k != "campaign"}
    if code:
        meta["campaign"] = code
    return replace(inbound, meta=meta)


def _region_of(state: State) -> str | None:
    """The province of the place answer, if the person gave one."""
    for answer in state.answers.values():
        if isinstance(answer, dict) and answer.get("province"):
            return str(answer["province"])
    return None


__all__ = ["HandleResult", "InTransaction", "Inbound", "Interpreter", "Pipeline", "Recommender"]
