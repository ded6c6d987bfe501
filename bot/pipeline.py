"""The one path every inbound message takes, whatever the channel.

dedupe (idempotency key) -> lock the conversation -> load state -> inbound to engine event
(payload, command, place, interpreter, free text) -> engine.step -> effects (recommendations,
consent, erasure, leads, analytics) -> save state + events + key in ONE transaction -> replies.

Channels that deliver later (Telegram, WhatsApp, e-mail) pass an `Outbound`: the replies are
rendered inside the same transaction and written as outbox rows with the state, on the same
lean driver path that REST takes (bot.store.turns).

Serialisation: on Postgres a transaction-scoped advisory lock per conversation (works across
processes and replicas), with an in-process queue per conversation in front; on SQLite
`BEGIN IMMEDIATE` (the database write lock), queued in-process on asyncio.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.channels.base import Outbound, RenderContext
from bot.understand import Interpreter, Understand
from quiz.effects import (
    ConsentGiven,
    Effect,
    EraseData,
    ForgetAfterResult,
    Lead,
    LeadAnswer,
    NeedRecommendations,
    ShareCard,
    Track,
)
from quiz.engine import Engine, Installation, State, Step
from quiz.messages import Reply, reply_from_dict, reply_to_dict
from quiz.model import Question, Quiz
from quiz.protocol import Event, Recommendations, Start

if TYPE_CHECKING:
    from bot.campaigns import CampaignDirectory
    from bot.config import Settings
    from bot.flood import FloodControl
    from bot.store.turns import Item, LeadInsert, OutboxInsert, TurnDatabase, Tx

log = logging.getLogger(__name__)

Recommender = Callable[[dict[str, Any], int, int], Awaitable[tuple[list[dict[str, Any]], bool]]]

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
    # ... because the test ended without consent: what is on screen may stay there.
    forgotten: bool = False
    # Outbox rows written by this turn and claimed for the channel's sender (Outbound
    # .claim_seconds): it delivers them at once, without claiming them itself.
    claimed: list[Item] = field(default_factory=list)


@dataclass
class _Turn:
    """What one inbound message did, collected before anything is written."""

    state: State
    channel: str
    engine: Engine
    understand: Understand
    replies: list[Reply] = field(default_factory=list)
    # The question on screen before this message (for renderers; None for a new conversation).
    question_before: Question | None = None
    # The organisation whose widget or campaign brought the person (its colours on cards).
    org: str | None = None
    tracks: list[Track] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    lead_answers: list[LeadAnswer] = field(default_factory=list)
    consent: bool = False
    erase: bool = False
    # No consent and the result is out: remove the conversation, deliver the replies.
    forget: bool = False


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
        *,
        quizzes: Mapping[str, Quiz] | None = None,
        database: TurnDatabase | None = None,
        campaigns: CampaignDirectory | None = None,
        gazetteer: Any = None,
    ) -> None:
        """Collaborators left out are built here (tests and tools); the server passes them in
        from its composition root (bot.runtime). `quizzes`: every quiz served, by id, the
        default first; `quiz` alone serves one."""
        if quizzes is None:
            if quiz is None:
                from bot.content import default_quiz

                quiz = default_quiz()
            quizzes = {quiz.id: quiz}
        self.settings = settings
        # Called after a turn that wrote leads or lead answers commits (the jobs runner's poke).
        self.on_leads: Callable[[], None] | None = None
        installation = installation_of(settings)
        self.engines = {quiz_id: Engine(q, installation) for quiz_id, q in quizzes.items()}
        self.engine = next(iter(self.engines.values()))
        self._org_engines: dict[tuple[str, str], Engine] = {}
        self.quiz = self.engine.quiz
        self.recommender = recommender
        if gazetteer is None:
            from bot.geo.gazetteer import get_gazetteer

            gazetteer = get_gazetteer()
        # What free text means depends on the quiz (its options, its command words).
        self.understanders = {
            quiz_id: Understand(
                e.quiz, gazetteer=gazetteer, interpreter=interpreter, on_error=_nlu_error
            )
            for quiz_id, e in self.engines.items()
        }
        self.understand = self.understanders[self.quiz.id]
        self._hmac = hmac.new(settings.secret_key.encode(), digestmod=hashlib.sha256)
        self._db = database
        self._locks = _KeyedLocks()
        self._campaigns = campaigns
        self._flood: FloodControl | None = None

    @property
    def interpreter(self) -> Interpreter | None:
        """The NLU hook of understanding (set later when the model loads in the background)."""
        return self.understand.interpreter

    @interpreter.setter
    def interpreter(self, value: Interpreter | None) -> None:
        for understand in self.understanders.values():
            understand.interpreter = value

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

    async def _campaign_directory(self) -> CampaignDirectory:
        """The campaigns for first-touch attribution (an in-process cache, see bot.campaigns)."""
        if self._campaigns is None:
            from bot.campaigns import CampaignDirectory

            url = self.settings.database_url
            self._campaigns = CampaignDirectory(url, database=self.database())
        return await self._campaigns.current()

    def engine_for(
        self, state: State | None, quiz_id: str | None = None, org: str | None = None
    ) -> Engine:
        """The engine of a conversation's quiz (or of `quiz_id` for a new one); for an
        organisation with its own controller (VK_CONTROLLERS) one that names it."""
        wanted = state.quiz_id if state is not None else quiz_id
        engine = self.engines.get(wanted or "", self.engine)
        if not org or org not in self.settings.controllers:
            return engine
        key = (engine.quiz.id, org)
        found = self._org_engines.get(key)
        if found is None:
            found = Engine(engine.quiz, installation_of(self.settings, org))
            self._org_engines[key] = found
        return found

    # ------------------------------------------------------------------ entry point

    async def handle(self, inbound: Inbound, outbound: Outbound | None = None) -> HandleResult:
        """One message; with `outbound`, its replies also go to the outbox in the same write."""
        from bot import metrics

        started = time.perf_counter()
        try:
            result = await self._handle(inbound, outbound)
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

            self._flood = FloodControl.from_settings(self.settings, self.database())
        return self._flood

    async def close(self) -> None:
        if self._flood is not None:
            await self._flood.close()
        if self._db is not None:
            await self._db.close()

    @asynccontextmanager
    async def _serialised(self, db: TurnDatabase, user_hash: str) -> AsyncIterator[None]:
        # SQLite queues its one writer inside TurnDatabase; Postgres: one waiter per
        # conversation in this process holds a pool connection, the rest wait on asyncio.
        if db.dialect == "sqlite":
            yield
        else:
            async with self._locks.hold(user_hash):
                yield

    async def _handle(self, inbound: Inbound, outbound: Outbound | None) -> HandleResult:
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
            return await flood.refuse(self, inbound, user_hash, decision, outbound)
        # ---- end of flood control

        db = self.database()
        campaigns = await self._campaign_directory()
        key = self.inbound_key(inbound)
        async with (
            self._serialised(db, user_hash),
            db.transaction(user_hash) as tx,
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
            conversation_id, claimed = await self._save(
                tx, inbound, user_hash, found.conversation, turn, key, outbound
            )
        if (turn.leads or turn.lead_answers) and self.on_leads is not None:
            self.on_leads()
        # A no-consent result also ends in erasure: clients drop what they keep locally too.
        return HandleResult(
            replies=turn.replies,
            conversation_id=conversation_id,
            erased=turn.erase or turn.forget,
            forgotten=turn.forget and not turn.erase,
            claimed=claimed,
        )

    # ------------------------------------------------------------------ the turn

    async def _turn(self, inbound: Inbound, conv: dict[str, Any] | None) -> _Turn:
        meta = inbound.meta
        org = (conv or {}).get("org") or meta.get("org")
        if conv is None:
            engine = self.engine_for(None, meta.get("quiz"), org)
            state = engine.new_state(meta.get("lang"))
        else:
            state = State.from_dict(conv["state"])
            engine = self.engine_for(state, org=org)
        # Telegram and WhatsApp can write first: the hand-off may offer "through this chat".
        state.chat = inbound.channel in CHAT_CHANNELS
        understand = self.understanders.get(engine.quiz.id, self.understand)
        turn = _Turn(state=state, channel=inbound.channel, engine=engine, understand=understand)
        turn.org = (conv or {}).get("org") or meta.get("org")
        if conv is not None:
            turn.question_before = engine.current_question(state)
        if conv is None or meta.get("start") or understand.is_start(inbound):
            await self._step(turn, Start(lang=meta.get("lang"), campaign=meta.get("campaign")))
            follow = understand.after_start(inbound)
            if follow is not None:
                await self._step(turn, follow)
            return turn
        event = await understand(inbound, turn.state, turn.question_before)
        await self._step(turn, event)
        return turn

    async def _step(self, turn: _Turn, event: Event) -> None:
        """engine.step plus every effect it asks for (recommendations loop back in)."""
        step: Step = turn.engine.step(turn.state, event)
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
                step = turn.engine.step(
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
                turn.lead_answers.clear()
                turn.consent = False
            elif isinstance(effect, ForgetAfterResult):
                turn.forget = True
                turn.leads.clear()
            elif isinstance(effect, Lead):
                turn.leads.append(effect)
            elif isinstance(effect, LeadAnswer):
                turn.lead_answers.append(effect)
            elif isinstance(effect, ShareCard):
                from bot import share

                turn.replies.extend(
                    share.replies(
                        self.settings,
                        turn.engine.quiz,
                        turn.channel,
                        effect.profile_id,
                        effect.lang,
                        turn.org,
                    )
                )

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

    # ------------------------------------------------------------------ saving

    async def _save(
        self,
        tx: Tx,
        inbound: Inbound,
        user_hash: str,
        conv: dict[str, Any] | None,
        turn: _Turn,
        key: str | None,
        outbound: Outbound | None,
    ) -> tuple[str, list[Item]]:
        """Write the turn in one go; returns the conversation id (the old one after erasure)
        and the outbox rows claimed for the channel's sender."""
        from bot.store import turns as store

        # The replies are kept for a repeated message to get the same answer; a channel with
        # an outbox acknowledges a repeat without one (its rows were written the first time).
        replies_json = (
            None
            if key is None
            else "[]"
            if outbound is not None
            else store.dumps([reply_to_dict(r) for r in turn.replies])
        )
        conversation_id = conv["id"] if conv else store.new_id()
        rows = self._outbox_rows(outbound, turn, conversation_id)
        if turn.erase:
            anon = (
                await store.erase_conversation(tx, conversation_id)
                if conv
                else "anon-" + store.new_id()
            )
            await store.record_erasure(
                tx, anon, conversation_id, inbound.channel, key, replies_json
            )
            if outbound is not None:
                await store.forget_outbox(tx, conversation_id)
                # The confirmation still goes out; its row holds no conversation id.
                await store.enqueue(tx, rows, None, store.utcnow())
            return conversation_id, []
        if turn.forget:
            await self._forget(tx, inbound, conv, turn, rows)
            return conversation_id, []
        now = store.utcnow()
        st = turn.state
        meta = inbound.meta
        old = conv or {}
        campaign = old.get("campaign") or meta.get("campaign") or st.campaign
        claim = outbound.claim_seconds if outbound is not None else None
        claimed = await store.write(
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
                leads=[_lead_row(lead, inbound.channel, outbound) for lead in turn.leads],
                lead_answers=[
                    (a.lead_id, LEAD_ANSWERS.get((a.question, a.answer), a.answer))
                    for a in turn.lead_answers
                ],
                key=key,
                replies_json=replies_json,
                outbox=rows,
                claim_until=now + timedelta(seconds=claim) if claim else None,
            ),
        )
        return conversation_id, claimed

    async def _forget(
        self,
        tx: Tx,
        inbound: Inbound,
        conv: dict[str, Any] | None,
        turn: _Turn,
        rows: list[OutboxInsert],
    ) -> None:
        """No consent: erase the conversation now the result is out, this turn's analytics
        events included (they are folded into the report counters first, like any erasure).
        No idempotency key is kept, since it would tie the message to the conversation."""
        from bot.store import turns as store

        conversation_id = conv["id"] if conv else store.new_id()
        if turn.tracks:
            events = [(t.name, t.data) for t in turn.tracks]
            await store.insert_events(
                tx, conversation_id, inbound.channel, turn.state.campaign, events
            )
        await store.erase_conversation(tx, conversation_id)
        if rows:
            await store.forget_outbox(tx, conversation_id)
            await store.enqueue(tx, rows, None, store.utcnow())

    def _outbox_rows(
        self, outbound: Outbound | None, turn: _Turn, conversation_id: str
    ) -> list[OutboxInsert]:
        """The channel's rendering of this turn's replies, as outbox rows."""
        if outbound is None or not turn.replies:
            return []
        from bot.store.turns import OutboxInsert

        context = RenderContext(
            lang=turn.state.lang or self.settings.default_language,
            conversation_id=conversation_id,
            question_before=turn.question_before,
            question_after=None if turn.erase else turn.engine.current_question(turn.state),
            erased=turn.erase,
        )
        return [
            OutboxInsert(outbound.channel, outbound.chat_id, dict(op), outbound.window_ends_at)
            for op in outbound.render(turn.replies, context)
        ]


# Follow-up answers as the lead's volunteer status (bot.leads reads them).
LEAD_ANSWERS: dict[tuple[str, str], str] = {
    ("c", "yes"): "contacted",
    ("c", "notyet"): "no_contact",
    ("c", "other"): "looking_else",
    ("s", "yes"): "started",
    ("s", "no"): "not_started",
    ("s", "notyet"): "not_yet_started",
}
# Channels that can write to a person first (follow-ups, the organisation's chat message).
CHAT_CHANNELS: dict[str, str] = {"telegram": "Telegram", "whatsapp": "WhatsApp"}


def _lead_row(lead: Lead, channel: str, outbound: Outbound | None) -> LeadInsert:
    """The lead as stored: the contact details only with consent, and then the chat to send
    follow-ups to (the consent question says so)."""
    from bot.store.turns import LeadInsert

    if not lead.share:
        return LeadInsert(lead.vacancy_id, "no" if lead.share is False else None, lang=lead.lang)
    c = lead.contact
    return LeadInsert(
        lead.vacancy_id,
        "yes",
        contact_name=c.get("name") or None,
        contact_email=c.get("email") or None,
        contact_phone=c.get("phone") or None,
        contact_chat=CHAT_CHANNELS.get(channel) if c.get("chat") else None,
        contact_message=c.get("message") or None,
        chat_id=outbound.chat_id if outbound is not None else None,
        lang=lead.lang,
    )


def installation_of(settings: Settings, org: str | None = None) -> Installation:
    """What the privacy texts name, from the settings (the quiz package reads none); for an
    organisation listed in VK_CONTROLLERS, that organisation's controller (and statement)."""
    default_url = settings.privacy_url or settings.public_url.rstrip("/") + "/privacy"
    return Installation(
        controller=settings.controllers.get(org or "", settings.controller_name),
        privacy_url=settings.privacy_urls.get(org or "", default_url),
        retention_days=settings.retention_days,
        followup_days=settings.followup_contact_days,
    )


def _nlu_error(channel: str) -> None:
    from bot import metrics

    metrics.error(channel, "interpreter")


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _first_touch(inbound: Inbound, campaigns: CampaignDirectory) -> Inbound:
    """A new conversation's campaign: the channel's code, or the keyword in its first text
    (`bot.campaigns.CampaignDirectory`, cached: no query on this path); and the campaign's
    quiz, unless the channel named one (a widget's `data-quiz`)."""
    from dataclasses import replace

    given = inbound.meta.get("campaign")
    text = inbound.meta.get("first_text") or inbound.text or inbound.payload
    code = campaigns.attribute(given, text)
    quiz = inbound.meta.get("quiz") or campaigns.quiz_of(code)
    if code == given and quiz == inbound.meta.get("quiz"):
        return inbound
    meta = {k: v for k, v in inbound.meta.items() if k not in ("campaign", "quiz")}
    if code:
        meta["campaign"] = code
    if quiz:
        meta["quiz"] = quiz
    return replace(inbound, meta=meta)


def _region_of(state: State) -> str | None:
    """The province of the place answer, if the person gave one."""
    for answer in state.answers.values():
        if isinstance(answer, dict) and answer.get("province"):
            return str(answer["province"])
    return None


__all__ = ["HandleResult", "Inbound", "Interpreter", "Outbound", "Pipeline", "Recommender"]
