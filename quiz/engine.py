"""The conversation state machine: `Engine(quiz).step(state, event) -> Step`.

Pure: the state is plain JSON-serialisable data, replies are the neutral message model and
everything the app must do (store analytics, fetch recommendations, erase data, pass on a
lead) comes back as effects. The engine never special-cases a channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quiz import handoff
from quiz.effects import (
    ConsentGiven,
    Effect,
    EraseData,
    ForgetAfterResult,
    NeedRecommendations,
    ShareCard,
    Track,
)
from quiz.messages import Button, Buttons, Card, QuizMeta, Reply, Text
from quiz.model import ADULT_AGE, CONSENT_AGE, MINOR_MAX_HOURS, Question, Quiz
from quiz.present import (
    RenderContext,
    render_matches,
    render_profile,
    render_recommendations,
    render_result,
)
from quiz.protocol import (
    Answer,
    Command,
    Done,
    Event,
    FreeText,
    Info,
    Language,
    Recommendations,
    Share,
    Start,
    Value,
    WantToHelp,
    answer_payload,
    encode,
)
from quiz.scoring import chosen_options, score

# "offer": the profile is out and the person is asked whether they want to see nearby work.
PHASES = ("new", "consent", "asking", "offer", "result", "stopped", "declined")

# UI texts that name the installation (controller, retention period, privacy statement).
PRIVACY_KEYS = frozenset(
    {"consent", "consent_explained", "declined", "forgotten", "minor_forgotten"}
)


@dataclass(frozen=True)
class Installation:
    """Facts about the installation that privacy texts name; the app passes them in.

    The engine never reads settings itself: `bot.pipeline` builds this from them.
    """

    controller: str = "de organisatie achter deze test"
    privacy_url: str = ""
    retention_days: int = 180
    # Working days within which an organisation should answer a lead (the promise after
    # "Ik wil helpen", and when the person is asked whether it worked out).
    followup_days: int = 3

    def values(self) -> dict[str, Any]:
        return {
            "controller": self.controller,
            "privacy_url": self.privacy_url,
            "retention_days": self.retention_days,
        }


@dataclass
class State:
    """Everything the engine knows about one conversation. Round-trips through JSON."""

    quiz_id: str = ""
    lang: str = "nl"
    phase: str = "new"
    consent: bool = False
    current: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    campaign: str | None = None
    result: dict[str, Any] | None = None
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    rec_offset: int = 0
    more_available: bool = False
    misses: int = 0
    stopped_phase: str | None = None
    # Said yes to keeping answers; it counts once the age shows they may (CONSENT_AGE).
    wants_consent: bool = False
    # Under CONSENT_AGE: nothing is kept, only suitable work is shown.
    minor: bool = False
    # The profile has been shown (before the practical questions).
    revealed: bool = False
    # The hand-off after "Ik wil helpen" (quiz.handoff): the open step, the leads passed on,
    # follow-ups asked and not yet answered (by lead id), and follow-ups waiting for the next
    # visit on a channel that cannot write first. `chat`: the app says this chat can be
    # written to later (Telegram, WhatsApp).
    chat: bool = False
    handoff: dict[str, Any] | None = None
    leads: list[str] = field(default_factory=list)
    shared: list[dict[str, Any]] = field(default_factory=list)
    followups: dict[str, dict[str, Any]] = field(default_factory=dict)
    inbox: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # Same result as dataclasses.asdict (a deep copy), at a fraction of its cost: this
        # runs on every step and asdict dominated the server's CPU time per message.
        return {name: _plain(value) for name, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> State:
        if not data:
            return cls()
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def _plain(value: Any) -> Any:
    """Deep copy of JSON-shaped data (dicts, lists, tuples, scalars)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


@dataclass(frozen=True)
class Step:
    state: State
    replies: tuple[Reply, ...]
    effects: tuple[Effect, ...] = ()


class Engine:
    """The quiz conversation for one quiz (all its languages)."""

    def __init__(self, quiz: Quiz, installation: Installation | None = None) -> None:
        self.quiz = quiz
        self.installation = installation or Installation()

    # ------------------------------------------------------------------ public API

    def new_state(self, lang: str | None = None) -> State:
        return State(quiz_id=self.quiz.id, lang=self._lang(lang))

    def current_question(self, state: State) -> Question | None:
        if state.phase != "asking" or state.current is None:
            return None
        return self.quiz.question(state.current)

    def step(self, state: State, event: Event) -> Step:
        """Apply one event. Never raises on odd input: worst case a friendly re-ask."""
        st = State.from_dict(state.to_dict())  # never mutate the caller's state
        if not st.quiz_id:
            st.quiz_id = self.quiz.id
        st.lang = self._lang(st.lang)
        out = _Out()
        if not (
            handoff.deliver_inbox(self, st, event, out) or handoff.handle(self, st, event, out)
        ):
            self._dispatch(st, event, out)
        return out.step(st)

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, st: State, event: Event, out: _Out) -> None:
        if isinstance(event, Start):
            self._start(st, event, out)
            return
        if isinstance(event, Language) or event in (Command.MY_DATA, Command.DELETE_DATA):
            self._global(st, event, out)
            return
        if isinstance(event, Share):
            self._share(st, event, out)
            return
        if st.phase == "new":
            self._start(st, Start(), out)
            return
        if event is Command.RESTART:
            self._restart(st, out)
            return
        if st.phase == "stopped":
            if event is Command.STOP:
                out.say(self.t(st, "stopped"))
                return
            self._resume(st, out)
            return
        if event is Command.STOP:
            st.stopped_phase = st.phase
            st.phase = "stopped"
            out.track("stopped", question=st.current)
            out.reply(
                Buttons(
                    text=self.t(st, "stopped"),
                    buttons=(Button(self.t(st, "resume"), encode(Command.RESUME)),),
                )
            )
            return
        if st.phase == "declined":
            if event is Command.CONSENT_YES:
                self._consent(st, event, out)
            else:
                self._ask_consent(st, out, intro=self.t(st, "declined"))
            return
        if st.phase == "consent":
            self._consent(st, event, out)
            return
        if st.phase == "asking":
            self._asking(st, event, out)
            return
        if st.phase == "offer":
            self._offer_phase(st, event, out)
            return
        if st.phase == "result":
            self._result_phase(st, event, out)
            return
        self._start(st, Start(), out)

    def _global(self, st: State, event: Language | Command, out: _Out) -> None:
        if isinstance(event, Language):
            lang = event.lang if event.lang in self.quiz.languages else None
            if lang is None:
                # Toggle when no (known) language is named.
                others = [lang for lang in self.quiz.languages if lang != st.lang]
                lang = others[0] if others else st.lang
            st.lang = lang
            out.track("language_changed", lang=lang)
            out.say(self.t(st, "language_changed"))
            self._reshow(st, out)
            return
        if event is Command.MY_DATA:
            out.track("data_shown")
            out.say(self._my_data(st))
            if st.phase != "new":
                self._reshow(st, out)
            return
        # delete_data
        lang = st.lang
        fresh = self.new_state(lang)
        st.__dict__.update(fresh.__dict__)
        out.effect(EraseData())
        out.reply(
            Buttons(
                text=self.t(st, "deleted"),
                buttons=(Button(self.t(st, "restart"), encode(Start())),),
            )
        )

    # ------------------------------------------------------------------ phases

    def _start(self, st: State, event: Start, out: _Out) -> None:
        lang = self._lang(event.lang or st.lang)
        campaign = event.campaign or st.campaign
        consent = st.consent
        kept = _kept(st)
        fresh = self.new_state(lang)
        st.__dict__.update(fresh.__dict__)
        st.__dict__.update(kept)
        st.campaign = campaign
        st.consent = consent
        out.track("started_chat", campaign=campaign, lang=lang)
        if consent:
            out.say(self.t(st, "welcome"))
            st.phase = "asking"
            self._ask(st, self.quiz.questions[0], out)
            out.track("quiz_started")
            return
        st.phase = "consent"
        self._ask_consent(st, out, intro=self.t(st, "welcome"))

    def _ask_consent(self, st: State, out: _Out, intro: str | None = None) -> None:
        st.phase = "consent" if st.phase != "declined" else "declined"
        if intro:
            out.say(intro)
        out.reply(
            Buttons(
                text=self.t(st, "consent"),
                buttons=(
                    Button(self.t(st, "consent_yes"), encode(Command.CONSENT_YES)),
                    Button(self.t(st, "consent_no"), encode(Command.CONSENT_NO)),
                    Button(self.t(st, "consent_more"), encode(Command.CONSENT_MORE)),
                ),
            )
        )

    def _consent(self, st: State, event: Event, out: _Out) -> None:
        if event is Command.CONSENT_YES:
            st.phase = "asking"
            if self._age_question() is None:
                self._give_consent(st, out)
            else:
                # The age comes first: under CONSENT_AGE a yes does not count.
                st.wants_consent = True
            out.track("quiz_started")
            self._ask(st, self.quiz.questions[0], out)
        elif event is Command.CONSENT_NO:
            # Consent is no condition of use: the test goes on, and nothing outlives the result.
            st.consent = False
            st.wants_consent = False
            st.phase = "asking"
            out.track("consent_declined")
            out.track("quiz_started")
            out.say(self.t(st, "declined"))
            self._ask(st, self.quiz.questions[0], out)
        elif event in (Command.CONSENT_MORE, Command.WHY, Command.HELP):
            self._ask_consent(st, out, intro=self.t(st, "consent_explained"))
        else:
            self._ask_consent(st, out, intro=self.t(st, "not_understood"))

    def _give_consent(self, st: State, out: _Out) -> None:
        st.consent = True
        st.wants_consent = False
        out.effect(ConsentGiven())
        out.track("consent")

    def _age_question(self) -> Question | None:
        return next((q for q in self.quiz.questions if q.feeds == "age"), None)

    def _after_age(self, st: State, q: Question, out: _Out) -> None:
        """Under CONSENT_AGE nothing is kept (UAVG art. 5): no consent, a note for a parent."""
        age = self._age_of(q, st.answers.get(q.id))
        if age is not None and age < CONSENT_AGE:
            st.minor = True
            st.consent = False
            st.wants_consent = False
            out.track("minor")
            out.say(self.t(st, "minor_intro"))
            out.say(self.t(st, "minor_parent"))
            return
        st.minor = False
        if st.wants_consent:
            self._give_consent(st, out)

    @staticmethod
    def _age_of(q: Question, answer: Any) -> float | None:
        if isinstance(answer, int | float) and not isinstance(answer, bool):
            return float(answer)
        nums = [
            o.value
            for o in chosen_options(q, answer)
            if isinstance(o.value, int | float) and not isinstance(o.value, bool)
        ]
        return float(min(nums)) if nums else None

    def _asking(self, st: State, event: Event, out: _Out) -> None:
        q = self.current_question(st)
        if q is None:
            st.current = self.quiz.questions[0].id
            q = self.quiz.questions[0]
        if isinstance(event, Command | Done):
            self._command_while_asking(st, q, event, out)
            return
        if isinstance(event, Answer):
            self._answer(st, q, event, out)
            return
        if isinstance(event, Value):
            self._value(st, q, event, out)
            return
        if isinstance(event, FreeText):
            self._free_text(st, q, event.text, out)
            return
        if isinstance(event, Recommendations):
            self._ask(st, q, out)
            return
        self._not_understood(st, out)

    def _answer(self, st: State, q: Question, event: Answer, out: _Out) -> None:
        ids = [oid for oid in dict.fromkeys(event.option_ids) if q.option(oid) is not None]
        if event.question_id != q.id or not ids or len(ids) != len(event.option_ids):
            # A stale tap on an earlier question's button: show where we are.
            self._ask(st, q, out)
            return
        if q.kind != "multi":
            self._record(st, q, ids[:1], out)
        elif event.final:
            self._record(st, q, sorted(set(ids) | set(st.pending), key=q_order(q)), out)
        else:
            for oid in ids:
                if oid in st.pending:
                    st.pending.remove(oid)
                else:
                    st.pending.append(oid)
            self._ask(st, q, out, toggled=True)

    def _command_while_asking(self, st: State, q: Question, cmd: Command | Done, out: _Out) -> None:
        name = cmd.value if isinstance(cmd, Command) else "done"
        if name == "back":
            if not st.history:
                out.say(self.t(st, "nothing_to_go_back_to"))
                self._ask(st, q, out)
                return
            previous = st.history.pop()
            st.answers.pop(previous, None)
            if previous in st.skipped:
                st.skipped.remove(previous)
            st.pending = []
            if self._index(previous) <= self._reveal_index():
                st.revealed = False
                st.result = None
            out.track("back", question=q.id)
            prev_q = self.quiz.question(previous) or q
            if prev_q.kind == "multi":
                st.pending = []
            self._ask(st, prev_q, out)
        elif name == "skip":
            if not q.skippable:
                out.say(self.t(st, "cannot_skip"))
                self._ask(st, q, out)
                return
            out.track("skipped", question=q.id)
            st.skipped.append(q.id)
            st.history.append(q.id)
            st.answers.pop(q.id, None)
            st.pending = []
            self._next(st, q, out)
        elif name == "why":
            out.track("why", question=q.id)
            out.say(q.why[st.lang])
            self._ask(st, q, out)
        elif name == "help":
            out.track("help", question=q.id)
            out.say(self.t(st, "help"))
            self._ask(st, q, out)
        elif name == "done":
            if q.kind != "multi":
                self._ask(st, q, out)
                return
            if not st.pending:
                if q.skippable:
                    self._command_while_asking(st, q, Command.SKIP, out)
                else:
                    out.say(self.t(st, "multi_hint"))
                    self._ask(st, q, out)
                return
            self._record(st, q, list(st.pending), out)
        elif name == "resume" or name in ("consent_yes", "consent_no", "consent_more"):
            self._ask(st, q, out)
        else:
            self._not_understood(st, out)

    def _value(self, st: State, q: Question, event: Value, out: _Out) -> None:
        value = event.value
        if q.kind == "place" and isinstance(value, dict) and "lat" in value and "lon" in value:
            self._record(st, q, value, out)
            return
        if q.kind in ("choice", "scale", "multi") and q.options:
            picked = options_for_value(q, value)
            if picked:
                if q.kind == "multi":
                    self._record(st, q, picked, out)
                else:
                    self._record(st, q, picked[:1], out)
                return
        if q.kind == "number" and isinstance(value, int | float):
            self._record(st, q, value, out)
            return
        self._not_understood(st, out)

    def _index(self, question_id: str) -> int:
        ids = [x.id for x in self.quiz.questions]
        return ids.index(question_id) if question_id in ids else -1

    def _reveal_index(self) -> int:
        """The profile is shown once the conversation is past this question (the last scored)."""
        scored = [i for i, q in enumerate(self.quiz.questions) if q.scored]
        return scored[-1] if scored else -1

    def _free_text(self, st: State, q: Question, text: str, out: _Out) -> None:
        """Text nothing understood (bot.understand decided that): kept where text is asked."""
        text = text.strip()
        if q.kind == "text" and text:
            self._record(st, q, text[:500], out)
            return
        if q.kind == "place":
            st.misses += 1
            out.track("not_understood", question=q.id)
            out.say(self.t(st, "place_unknown", text=text[:60]))
            self._ask(st, q, out)
            return
        self._not_understood(st, out)

    def _record(self, st: State, q: Question, answer: Any, out: _Out) -> None:
        st.answers[q.id] = answer
        st.pending = []
        st.misses = 0
        if q.id in st.skipped:
            st.skipped.remove(q.id)
        st.history.append(q.id)
        data: dict[str, Any] = {"question": q.id}
        if isinstance(answer, list) and not q.personal:
            data["options"] = answer
        out.track("answered", **data)
        if q.feeds == "age":
            self._after_age(st, q, out)
        self._next(st, q, out)

    def _next(self, st: State, q: Question, out: _Out) -> None:
        i = self._index(q.id)
        if not st.revealed and i >= self._reveal_index() >= 0:
            self._reveal(st, out)
            return
        for nq in self.quiz.questions[i + 1 :]:
            if nq.id not in st.answers and nq.applies(st.answers):
                self._ask(st, nq, out)
                return
        self._finish(st, out)

    def _reveal(self, st: State, out: _Out) -> None:
        """The reward first: the profile, then the offer to look for work nearby."""
        result = score(self.quiz, st.answers, st.lang)
        st.revealed = True
        st.current = None
        st.result = None if result is None else result.to_dict()
        if result is not None:
            out.track("completed", profile=result.primary, confidence=result.confidence_level)
        for reply in render_profile(self._ctx(st), st.result, self._motive(st)):
            out.reply(reply)
        if self._practical(st) is None:
            self._finish(st, out)
            return
        st.phase = "offer"
        self._ask_offer(st, out)

    def _practical(self, st: State) -> Question | None:
        """The first practical question still to ask."""
        for nq in self.quiz.questions[self._reveal_index() + 1 :]:
            if nq.id not in st.answers and nq.applies(st.answers):
                return nq
        return None

    def _ask_offer(self, st: State, out: _Out) -> None:
        out.reply(
            Buttons(
                text=self.t(st, "nearby_ask"),
                buttons=(
                    Button(self.t(st, "nearby_yes"), encode(Command.NEARBY_YES)),
                    Button(self.t(st, "nearby_no"), encode(Command.NEARBY_NO)),
                ),
            )
        )

    def _offer_phase(self, st: State, event: Event, out: _Out) -> None:
        if event is Command.NEARBY_YES:
            out.track("nearby_wanted")
            nq = self._practical(st)
            if nq is None:
                self._finish(st, out)
                return
            st.phase = "asking"
            self._ask(st, nq, out)
            return
        if event is Command.NEARBY_NO:
            out.track("nearby_declined")
            st.phase = "result"
            st.current = None
            st.recommendations = []
            st.more_available = False
            out.say(self.t(st, "nearby_declined"))
            self._finished_hint(st, out)
            if not st.consent:
                self._forget(st, out)
            return
        if event is Command.BACK and st.history:
            st.phase = "asking"
            last = self.quiz.question(st.history[-1]) or self.quiz.questions[0]
            st.current = last.id
            self._command_while_asking(st, last, Command.BACK, out)
            return
        if event in (Command.WHY, Command.HELP):
            out.say(self.t(st, "help"))
        self._ask_offer(st, out)

    def _motive(self, st: State) -> str | None:
        """The words of the chosen motive ("werkervaring op te doen"), if one was chosen."""
        for q in self.quiz.questions:
            if q.feeds != "motive" or q.id not in st.answers:
                continue
            for o in chosen_options(q, st.answers[q.id]):
                words = o.because.get(st.lang) or o.because.get(self.quiz.default_language)
                if words:
                    return words
        return None

    def _finish(self, st: State, out: _Out) -> None:
        st.phase = "result"
        st.current = None
        if not st.revealed:
            # A quiz without practical questions after its scored ones.
            result = score(self.quiz, st.answers, st.lang)
            st.result = None if result is None else result.to_dict()
            if result is not None:
                out.track("completed", profile=result.primary, confidence=result.confidence_level)
        st.rec_offset = 0
        st.recommendations = []
        out.effect(NeedRecommendations(query=self.recommendation_query(st), offset=0))

    def _result_phase(self, st: State, event: Event, out: _Out) -> None:
        ctx = self._ctx(st)
        if isinstance(event, Recommendations):
            first = event.offset == 0
            items = [dict(i) for i in event.items]
            if first:
                st.recommendations = items
            else:
                known = {r.get("vacancy_id") for r in st.recommendations}
                st.recommendations.extend(i for i in items if i.get("vacancy_id") not in known)
            st.rec_offset = event.offset
            st.more_available = event.more_available
            if items:
                out.track(
                    "recommendations_shown", count=len(items), offset=event.offset, first=first
                )
            if first:
                shown = (
                    render_matches(ctx, items)
                    if st.revealed
                    else render_result(ctx, st.result, items)
                )
                for reply in self._with_share(st, shown):
                    out.reply(reply)
            else:
                if not items:
                    out.say(self.t(st, "no_more"))
                recs = render_recommendations(ctx, items, more=event.more_available)
                for reply in self._with_share(st, recs):
                    out.reply(reply)
            if not st.consent:
                self._forget(st, out)
            return
        if event is Command.MORE:
            out.effect(
                NeedRecommendations(query=self.recommendation_query(st), offset=st.rec_offset + 3)
            )
            return
        if isinstance(event, Info | WantToHelp):
            rec = self._rec(st, event.vacancy_id)
            if rec is None:
                self._finished_hint(st, out)
                return
            if isinstance(event, Info):
                out.track("more_info")
                out.reply(ctx.vacancy_details(rec))
                return
            handoff.begin(self, st, rec, out)
            return
        if event is Command.BACK and st.history:
            # Go back into the quiz from the result.
            st.phase = "asking"
            last = self.quiz.question(st.history[-1])
            st.current = last.id if last else self.quiz.questions[0].id
            self._command_while_asking(st, last or self.quiz.questions[0], Command.BACK, out)
            return
        self._finished_hint(st, out)

    def _with_share(self, st: State, replies: list[Reply]) -> list[Reply]:
        """ "Deel je kracht" beside "Opnieuw beginnen" in the closing question (the widget
        shows only the last message's buttons, so it must be there)."""
        last = replies[-1] if replies else None
        if not st.result or not isinstance(last, Buttons):
            return replies
        share = Button(self.t(st, "share_button"), encode(Share(str(st.result["primary"]))))
        buttons = (*last.buttons[:-1], share, last.buttons[-1])
        return [*replies[:-1], Buttons(text=last.text, buttons=buttons)]

    def _share(self, st: State, event: Share, out: _Out) -> None:
        if self.quiz.profile(event.profile_id) is None:
            self._not_understood(st, out)
            return
        out.track("result_shared", profile=event.profile_id)
        out.effect(ShareCard(event.profile_id, st.lang))

    def _forget(self, st: State, out: _Out) -> None:
        """No consent: the result is out, so the answers go (the app deletes every row)."""
        out.say(self.t(st, "minor_forgotten" if st.minor else "forgotten"))
        out.effect(ForgetAfterResult())
        lang, campaign = st.lang, st.campaign
        st.__dict__.update(self.new_state(lang).__dict__)
        st.campaign = campaign

    # ------------------------------------------------------------------ for quiz.handoff

    def followup_days(self) -> int:
        return self.installation.followup_days

    def contact_details(self, st: State, rec: dict[str, Any]) -> Reply:
        return self._ctx(st).contact_details(rec)

    def recommendation_card(self, st: State, rec: dict[str, Any]) -> Reply:
        return self._ctx(st).recommendation_card(rec)

    def finished_hint(self, st: State, out: handoff.Out) -> None:
        """After the hand-off: what next on the result, or back to where the person was."""
        assert isinstance(out, _Out)
        if st.phase == "result":
            self._finished_hint(st, out)
        else:
            self._reshow(st, out)

    def _finished_hint(self, st: State, out: _Out) -> None:
        buttons = [Button(self.t(st, "restart"), encode(Command.RESTART))]
        if st.more_available:
            buttons.insert(0, Button(self.t(st, "show_more"), encode(Command.MORE)))
        hint = Buttons(text=self.t(st, "finished_hint"), buttons=tuple(buttons))
        for reply in self._with_share(st, [hint]):
            out.reply(reply)

    def _restart(self, st: State, out: _Out) -> None:
        consent, campaign, lang = st.consent, st.campaign, st.lang
        kept = _kept(st)
        fresh = self.new_state(lang)
        st.__dict__.update(fresh.__dict__)
        st.__dict__.update(kept)
        st.campaign = campaign
        st.consent = consent
        out.track("restarted")
        if not consent:
            self._ask_consent(st, out, intro=self.t(st, "welcome"))
            return
        st.phase = "asking"
        out.say(self.t(st, "restarted"))
        out.track("quiz_started")
        self._ask(st, self.quiz.questions[0], out)

    def _resume(self, st: State, out: _Out) -> None:
        st.phase = st.stopped_phase or "asking"
        st.stopped_phase = None
        out.track("resumed")
        out.say(self.t(st, "resumed"))
        self._reshow(st, out)

    def _reshow(self, st: State, out: _Out) -> None:
        """Show again whatever the person was looking at."""
        if st.phase == "asking":
            q = self.current_question(st) or self.quiz.questions[0]
            self._ask(st, q, out)
        elif st.phase in ("consent", "declined"):
            self._ask_consent(st, out)
        elif st.phase == "offer":
            self._ask_offer(st, out)
        elif st.phase == "result" and st.revealed:
            ctx = self._ctx(st)
            if st.recommendations:
                for reply in render_matches(ctx, st.recommendations[:3]):
                    out.reply(reply)
            else:
                self._finished_hint(st, out)
        elif st.phase == "result":
            ctx = self._ctx(st)
            for reply in render_result(ctx, st.result, st.recommendations[:3]):
                out.reply(reply)
        elif st.phase == "stopped":
            out.reply(
                Buttons(
                    text=self.t(st, "stopped"),
                    buttons=(Button(self.t(st, "resume"), encode(Command.RESUME)),),
                )
            )

    def _not_understood(self, st: State, out: _Out) -> None:
        st.misses += 1
        out.track("not_understood", question=st.current)
        out.say(self.t(st, "not_understood"))
        if st.misses >= 2:
            out.say(self.t(st, "help"))
        self._reshow(st, out)

    # ------------------------------------------------------------------ questions

    def _ask(self, st: State, q: Question, out: _Out, toggled: bool = False) -> None:
        st.current = q.id
        # Progress over the questions this person gets: a conditional one (weekly hours only
        # for weekly work) counts until the answer it depends on rules it out.
        ids = [
            x.id
            for x in self.quiz.questions
            if x.id == q.id
            or x.applies(st.answers)
            or any(qid not in st.answers for qid in x.ask_if)
        ]
        meta = QuizMeta(question_id=q.id, kind=q.kind, step=ids.index(q.id) + 1, total=len(ids))
        lang = st.lang
        if not toggled:
            out.track("question_shown", question=q.id)
        nav = [Button(self.t(st, "why_button"), encode(Command.WHY))]
        if st.history:
            nav.append(Button(self.t(st, "back"), encode(Command.BACK)))
        if q.skippable:
            nav.append(Button(self.t(st, "skip"), encode(Command.SKIP)))
        text = q.text[lang]
        if q.kind == "multi" and not toggled:
            text = f"{text}\n{self.t(st, 'multi_hint')}"
        buttons = tuple(
            Button(
                title=o.title[lang],
                payload=answer_payload(q.id, o.id),
                description=o.description.get(lang, ""),
                selected=o.id in st.pending,
            )
            for o in q.options
        )
        out.reply(
            Buttons(
                text=text,
                buttons=buttons,
                quiz=meta,
                multi=q.kind == "multi",
                done=Button(self.t(st, "done"), encode(Done(q.id))) if q.kind == "multi" else None,
                allow_location=q.kind == "place",
                nav=tuple(nav),
            )
        )

    # ------------------------------------------------------------------ helpers

    def recommendation_query(self, st: State) -> dict[str, Any]:
        """The recommendation request built from practical answers and the profile."""
        query: dict[str, Any] = {"lang": st.lang}
        for q in self.quiz.questions:
            if q.feeds is None or q.id not in st.answers or not q.applies(st.answers):
                continue
            answer = st.answers[q.id]
            if q.feeds == "place" and isinstance(answer, dict):
                for key in ("lat", "lon", "place", "postcode", "municipality"):
                    if answer.get(key) is not None:
                        query[key] = answer[key]
                continue
            picked = chosen_options(q, answer) if q.options else []
            values = [o.value for o in picked if o.value is not None]
            if q.feeds == "hours":
                nums = [v for v in values if isinstance(v, int | float)]
                if isinstance(answer, int | float):
                    nums = [answer]
                if nums:
                    query["hours_per_week"] = max(nums)
            elif q.feeds == "age":
                age = self._age_of(q, answer)
                # An adult's bracket rules nothing out: a higher minimum age is shown instead.
                if age is not None and age < ADULT_AGE:
                    query["age"] = int(age)
                    if age < CONSENT_AGE:
                        query["max_hours"] = MINOR_MAX_HOURS
            elif q.feeds == "motive":
                offers = list(query.get("offers", []))
                for v in values:
                    for o in v if isinstance(v, list) else [v]:
                        if o not in offers:
                            offers.append(o)
                query["offers"] = offers
            elif q.feeds == "causes":
                causes = list(query.get("causes", []))
                for v in values:
                    for c in v if isinstance(v, list) else [v]:
                        if c not in causes:
                            causes.append(c)
                query["causes"] = causes
            elif q.feeds == "days":
                days: list[str] = list(query.get("days", []))
                dayparts: list[str] = list(query.get("dayparts", []))
                for v in values:
                    if isinstance(v, dict):
                        days += [d for d in v.get("days", []) if d not in days]
                        dayparts += [d for d in v.get("dayparts", []) if d not in dayparts]
                if days:
                    query["days"] = days
                if dayparts:
                    query["dayparts"] = dayparts
            elif q.feeds == "commitment" and values:
                query["commitment"] = values[0]
        if st.result:
            profile = self.quiz.profile(st.result["primary"])
            if profile:
                query["profile"] = profile.id
                query["activities"] = dict(profile.activities)
        return query

    def _rec(self, st: State, vacancy_id: str) -> dict[str, Any] | None:
        for rec in st.recommendations:
            if str(rec.get("vacancy_id")) == vacancy_id:
                return rec
        return None

    def _my_data(self, st: State) -> str:
        lang = st.lang
        lines = [self.t(st, "my_data_intro")]
        lines.append(f"- {self.t(st, 'my_data_language')}: {lang}")
        lines.append(
            f"- {self.t(st, 'my_data_consent')}: "
            f"{self.t(st, 'consent_yes') if st.consent else self.t(st, 'consent_no')}"
        )
        if st.campaign:
            lines.append(f"- {self.t(st, 'my_data_campaign')}: {st.campaign}")
        if not st.answers:
            lines.append(self.t(st, "my_data_empty"))
        for q in self.quiz.questions:
            if q.id not in st.answers:
                continue
            answer = st.answers[q.id]
            if isinstance(answer, dict):
                shown = str(answer.get("place") or answer.get("postcode") or "")
            elif q.options:
                shown = ", ".join(o.title[lang] for o in chosen_options(q, answer))
            else:
                shown = str(answer)
            lines.append(f"- {q.text[lang]} → {shown}")
        if st.result:
            profile = self.quiz.profile(st.result["primary"])
            if profile:
                lines.append(f"- {self.t(st, 'my_data_profile')}: {profile.name[lang]}")
        lines += [f"- {line}" for line in handoff.my_data(self, st)]
        return "\n".join(lines)

    def _ctx(self, st: State) -> RenderContext:
        return RenderContext(self.quiz, st.lang)

    def _lang(self, lang: str | None) -> str:
        return lang if lang in self.quiz.languages else self.quiz.default_language

    def t(self, st: State, key: str, **values: Any) -> str:
        if key in PRIVACY_KEYS:
            values = {**self.installation.values(), **values}
        return self.quiz.t(st.lang, key, **values)


def _kept(st: State) -> dict[str, Any]:
    """What a new start keeps: the hand-off's leads and follow-ups belong to the person, not
    to one round of the test."""
    return {
        "chat": st.chat,
        "leads": list(st.leads),
        "shared": _plain(st.shared),
        "followups": _plain(st.followups),
        "inbox": _plain(st.inbox),
    }


def options_for_value(q: Question, value: Any) -> list[str]:
    """Options whose content `value` matches a value resolved elsewhere (an NLU entity)."""
    values = value if isinstance(value, list) else [value]
    picked: list[str] = []
    numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numeric and all(isinstance(o.value, int | float) for o in q.options if o.value is not None):
        candidates = [o for o in q.options if isinstance(o.value, int | float)]
        if candidates:
            target = numeric[0]
            if q.feeds == "age":
                # Age options hold the lower bound of their bracket: the highest one reached.
                reached = [o for o in candidates if o.value <= target]
                chosen = (
                    max(reached, key=lambda o: o.value)
                    if reached
                    else min(candidates, key=lambda o: o.value)
                )
            else:
                # Hours options hold an upper bound: the smallest that covers the number.
                covering = sorted(
                    (o for o in candidates if o.value >= target), key=lambda o: o.value
                )
                chosen = covering[0] if covering else max(candidates, key=lambda o: o.value)
            return [chosen.id]
    for v in values:
        for opt in q.options:
            ov = opt.value
            hit = ov == v or (isinstance(ov, list) and v in ov)
            if isinstance(ov, dict) and isinstance(v, str):
                hit = v in ov.get("days", []) or v in ov.get("dayparts", [])
            if hit and opt.id not in picked:
                picked.append(opt.id)
    return picked


def q_order(q: Question) -> Any:
    ids = [o.id for o in q.options]
    return lambda oid: ids.index(oid) if oid in ids else len(ids)


class _Out:
    """Accumulates replies and effects of one step."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []

    def say(self, text: str) -> None:
        self.replies.append(Text(text))

    def reply(self, reply: Reply) -> None:
        self.replies.append(reply)

    def effect(self, effect: Effect) -> None:
        self.effects.append(effect)

    def track(self, name: str, **data: Any) -> None:
        self.effects.append(Track(name, {k: v for k, v in data.items() if v is not None}))

    def step(self, st: State) -> Step:
        return Step(state=st, replies=tuple(self.replies), effects=tuple(self.effects))


__all__ = ["Card", "Engine", "Installation", "State", "Step", "answer_payload"]
