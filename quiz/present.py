"""Turns a scored result and recommendations into neutral replies, in the user's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from quiz.messages import Button, Buttons, Card, Reply, Text
from quiz.model import Quiz
from quiz.protocol import Command, Info, WantToHelp, encode
from quiz.ranking import format_km


def join_words(items: Sequence[str], joiner: str) -> str:
    """'a', 'a en b', 'a, b en c' (joiner is the language's 'and')."""
    quoted = [f"‘{i}’" for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} {joiner} {quoted[-1]}"


@dataclass(frozen=True)
class RenderContext:
    quiz: Quiz
    lang: str

    def t(self, key: str, **values: Any) -> str:
        return self.quiz.t(self.lang, key, **values)

    def profile_data(self, result: dict[str, Any]) -> dict[str, Any]:
        profile = self.quiz.profile(result["primary"])
        if profile is None:
            return {}
        runner = self.quiz.profile(result.get("runner_up") or "")
        lang = self.lang
        return {
            "id": profile.id,
            "name": profile.name[lang],
            "tagline": profile.tagline[lang],
            "description": profile.description[lang],
            "strengths": list(profile.strengths[lang]),
            "roles": list(profile.roles[lang]),
            "activities": dict(profile.activities),
            "emoji": profile.emoji,
            "runner_up": {"id": runner.id, "name": runner.name[lang]} if runner else None,
            "confidence": result.get("confidence"),
            "confidence_level": result.get("confidence_level"),
            "reasons": [r["title"] for r in result.get("reasons", [])],
        }

    def recommendation_data(self, rec: dict[str, Any]) -> dict[str, Any]:
        return {
            "vacancy_id": rec.get("vacancy_id"),
            "title": rec.get("title"),
            "organisation": rec.get("organisation"),
            "distance_km": rec.get("distance_km"),
            "reasons": list(rec.get("reasons", [])),
        }

    def recommendation_card(self, rec: dict[str, Any]) -> Card:
        vid = str(rec.get("vacancy_id"))
        reasons = [str(r) for r in rec.get("reasons", [])]
        sub = [str(rec.get("organisation") or "")]
        # The distance is usually the first reason already; say it once.
        if rec.get("remote"):
            if self.t("remote") not in reasons:
                sub.append(self.t("remote"))
        elif rec.get("distance_km") is not None:
            distance = self.t("distance_km", km=_km(rec["distance_km"], self.lang))
            if distance not in reasons:
                sub.append(distance)
            elif rec.get("place"):
                sub.append(str(rec["place"]))
        text = " · ".join(reasons)
        if rec.get("vog_required"):
            text = f"{text}\n{self.t('vog_required')}" if text else self.t("vog_required")
        return Card(
            title=str(rec.get("title") or ""),
            subtitle=" · ".join(s for s in sub if s),
            text=text,
            buttons=(
                Button(self.t("more_info"), encode(Info(vid))),
                Button(self.t("want_to_help"), encode(WantToHelp(vid))),
            ),
            data={"recommendation": self.recommendation_data(rec)},
        )

    def vacancy_details(self, rec: dict[str, Any]) -> Reply:
        vid = str(rec.get("vacancy_id"))
        lines = [str(rec.get("description") or rec.get("title") or "")]
        if rec.get("fictional"):
            lines.append(self.t("fictional_note"))
        return Card(
            title=str(rec.get("title") or ""),
            subtitle=str(rec.get("organisation") or ""),
            text="\n".join(line for line in lines if line),
            buttons=(Button(self.t("want_to_help"), encode(WantToHelp(vid))),),
            data={"recommendation": self.recommendation_data(rec)},
        )

    def contact_details(self, rec: dict[str, Any]) -> Reply:
        lines = [self.t("contact_intro", organisation=rec.get("organisation") or "")]
        if rec.get("contact_email"):
            lines.append(f"✉ {rec['contact_email']}")
        if rec.get("url"):
            lines.append(f"🔗 {rec['url']}")
        if rec.get("fictional"):
            lines.append(self.t("fictional_note"))
        return Text("\n".join(lines))


def _km(value: Any, lang: str) -> str:
    try:
        km = float(value)
    except (TypeError, ValueError):
        return str(value)
    return format_km(km, lang)


def render_result(
    ctx: RenderContext, result: dict[str, Any] | None, recs: Sequence[dict[str, Any]]
) -> list[Reply]:
    """The result message (profile card carrying `custom.result`) and the first vacancies."""
    replies: list[Reply] = []
    recs_data = [ctx.recommendation_data(r) for r in recs]
    if result is None:
        replies.append(
            Card(
                title=ctx.t("result_unknown"),
                text="",
                data={"result": {"profile": None, "recommendations": recs_data}},
            )
        )
    else:
        profile = ctx.profile_data(result)
        lines = _profile_lines(ctx, profile)
        replies.append(
            Card(
                title=ctx.t("result_intro", name=profile["name"]),
                subtitle=profile["tagline"],
                text="\n\n".join(lines),
                data={"result": {"profile": profile, "recommendations": recs_data}},
            )
        )
    replies.extend(render_recommendations(ctx, recs, more=True, intro=True))
    return replies


def render_profile(
    ctx: RenderContext, result: dict[str, Any] | None, motive: str | None = None
) -> list[Reply]:
    """The reward: the profile card, carrying `custom.result.profile` (no vacancies yet).

    The motive is a line of its own ("Je doet het vooral om …"): it says why, the profile
    says what the person likes to do.
    """
    if result is None:
        return [Card(title=ctx.t("result_unknown"), text="", data={"result": {"profile": None}})]
    profile = ctx.profile_data(result)
    if motive:
        profile["motive"] = motive
    lines = _profile_lines(ctx, profile, motive)
    return [
        Card(
            title=ctx.t("result_intro", name=profile["name"]),
            subtitle=profile["tagline"],
            text="\n\n".join(lines),
            data={"result": {"profile": profile}},
        )
    ]


def _profile_lines(
    ctx: RenderContext, profile: dict[str, Any], motive: str | None = None
) -> list[str]:
    """The profile card's paragraphs: description, motive, reasons, strengths, example
    roles, and how clear the result is."""
    lines = [profile["description"]]
    if motive:
        lines.append(ctx.t("result_motive", motive=motive))
    if profile["reasons"]:
        joined = join_words(profile["reasons"], ctx.t("reason_joiner"))
        lines.append(ctx.t("result_reasons", reasons=joined))
    lines.append(f"{ctx.t('strengths')}: {', '.join(profile['strengths'])}.")
    lines.append(f"{ctx.t('example_roles')}: {', '.join(profile['roles'])}.")
    level = profile.get("confidence_level") or "medium"
    if profile["runner_up"]:
        lines.append(ctx.t(f"result_confidence_{level}", runner_up=profile["runner_up"]["name"]))
    return lines


def render_matches(ctx: RenderContext, recs: Sequence[dict[str, Any]]) -> list[Reply]:
    """The vacancies after the practical questions: a later `custom.result` carrying
    `recommendations`, then one card per vacancy."""
    recs_data = [ctx.recommendation_data(r) for r in recs]
    replies: list[Reply] = [
        Card(
            title=ctx.t("recommendations_intro" if recs else "recommendations_none"),
            # Support and accessibility are for everyone to ask about, not a question to tick.
            text=ctx.t("support_note") if recs else "",
            data={"result": {"recommendations": recs_data}},
        )
    ]
    replies.extend(render_recommendations(ctx, recs, more=True))
    return replies


def render_recommendations(
    ctx: RenderContext, recs: Sequence[dict[str, Any]], more: bool, intro: bool = False
) -> list[Reply]:
    replies: list[Reply] = []
    if intro:
        replies.append(Text(ctx.t("recommendations_intro" if recs else "recommendations_none")))
    replies.extend(ctx.recommendation_card(r) for r in recs)
    buttons = [Button(ctx.t("restart"), encode(Command.RESTART))]
    if more and recs:
        buttons.insert(0, Button(ctx.t("show_more"), encode(Command.MORE)))
    replies.append(Buttons(text=ctx.t("finished_hint"), buttons=tuple(buttons)))
    return replies
