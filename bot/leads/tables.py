"""Core views of the tables this feature reads and writes (own MetaData: the SQLModel
classes elsewhere stay the schema's owners; these name only the columns used here)."""

from __future__ import annotations

import sqlalchemy as sa

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ts = sa.DateTime(timezone=True)

metadata = sa.MetaData()

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", _BigId, primary_key=True),
    sa.Column("conversation_id", sa.String(32)),
    sa.Column("vacancy_id", sa.String(64)),
    sa.Column("channel", sa.String(32)),
    sa.Column("campaign", sa.String(64)),
    sa.Column("status", sa.String(16)),
    sa.Column("created_at", _ts),
    sa.Column("delivered_at", _ts),
    sa.Column("status_at", _ts),
    sa.Column("scheduled_at", _ts),
    sa.Column("first_response_at", _ts),
    sa.Column("reminded_at", _ts),
    sa.Column("escalated_at", _ts),
    sa.Column("escalated_to", sa.String(64)),
    sa.Column("share_consent", sa.String(8)),
    sa.Column("contact_name", sa.String(100)),
    sa.Column("contact_email", sa.String(254)),
    sa.Column("contact_phone", sa.String(32)),
    sa.Column("contact_chat", sa.String(32)),
    sa.Column("contact_message", sa.String(500)),
    # The volunteer's side: where follow-ups go (with consent), their language, their answers.
    sa.Column("chat_id", sa.String(128)),
    sa.Column("lang", sa.String(8)),
    sa.Column("volunteer_status", sa.String(16)),
    sa.Column("volunteer_status_at", _ts),
)

vacancies = sa.Table(
    "vacancies",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("organisation_id", sa.String(64)),
    sa.Column("title", sa.String(200)),
    sa.Column("municipality", sa.String(100)),
    sa.Column("place", sa.String(100)),
    sa.Column("contact_email", sa.String(254)),
    sa.Column("max_open_leads", sa.Integer),
)

organisations = sa.Table(
    "organisations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200)),
    sa.Column("contact_email", sa.String(254)),
    sa.Column("municipality", sa.String(100)),
    sa.Column("is_volunteer_centre", sa.Boolean),
    sa.Column("webhook_url", sa.String(500)),
    sa.Column("webhook_secret", sa.String(200)),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("region", sa.String(64)),
    sa.Column("user_hash", sa.String(64)),
    sa.Column("channel", sa.String(16)),
    sa.Column("state", sa.JSON),
    sa.Column("updated_at", _ts),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(40)),
    sa.Column("name", sa.String(64)),
    sa.Column("data", sa.JSON),
    sa.Column("question", sa.String(64)),
    sa.Column("campaign", sa.String(64)),
    sa.Column("channel", sa.String(32)),
    sa.Column("region", sa.String(64)),
    sa.Column("created_at", _ts),
)

# Lead statuses. "new": written by the turn; "private": the person did not agree to share
# anything, so nothing is sent; "delivered": the organisation has it; then the organisation's
# answer. An erased conversation's lead row is gone (the page then says the person withdrew).
NEW = "new"
PRIVATE = "private"
DELIVERED = "delivered"
CONTACTED = "contacted"
NOT_A_FIT = "not_a_fit"
VACANCY_FULL = "vacancy_full"
ANSWERS: tuple[str, ...] = (CONTACTED, NOT_A_FIT, VACANCY_FULL)
OPEN: tuple[str, ...] = (NEW, DELIVERED)
