"""The one settings object. Every setting is an environment variable with the `VK_` prefix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{ROOT / 'var' / 'vrijwilligerskracht.db'}"
    )
    secret_key: str = "change-me-in-production"
    admin_token: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    default_language: str = "nl"
    content_dir: Path | None = None
    model_dir: Path = ROOT / "var" / "nlu"
    nlu_data_dir: Path = ROOT / "nlu_data"  # training data of the embedded NLU (Rasa format)

    rasa_url: str | None = None

    telegram_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_bot_username: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_polling: bool = False  # getUpdates instead of the webhook (`serve --telegram-polling`)
    # Telegram's sending limits: calls per second for the whole bot (30; more with paid
    # broadcasts), and per private chat a burst of this many calls per period.
    telegram_rate: float = 30.0
    telegram_chat_burst: int = 5
    telegram_chat_period: float = 5.0

    whatsapp_token: str | None = None
    whatsapp_phone_id: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_number: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"

    metrics_token: str | None = None  # /metrics needs it (bearer or ?token=) when set
    # Privacy: who is responsible for the data (named in the consent text), the privacy
    # statement (default: this server's /privacy) and how long conversations are kept.
    controller_name: str = "Vrijwilligerskracht"
    privacy_url: str | None = None
    retention_days: int = 180
    # Per organisation, for the conversations its widget brings in (`metadata.org`): who is
    # responsible there, and optionally its own privacy statement. JSON, e.g.
    # VK_CONTROLLERS='{"vc-utrecht": "Vrijwilligerscentrale Utrecht"}'.
    controllers: dict[str, str] = Field(default_factory=dict)
    privacy_urls: dict[str, str] = Field(default_factory=dict)

    max_message_chars: int = 2000
    max_body_bytes: int = 16_384
    cors_origins: list[str] = Field(default_factory=list)
    # Flood control (bot/flood.py; README "Limits"). A rate of 0 turns a limit off.
    flood_rate: float = 1.0  # messages per second per sender, on average
    flood_burst: int = 10  # messages a sender may send at once
    new_conversations_per_second: float = 50.0  # per process
    new_conversation_queue_seconds: float = 2.0  # longest wait before 503 + Retry-After
    redis_url: str | None = None  # shared flood buckets across workers and replicas

    # Fictional demo vacancies loaded at start-up into an empty database (0: none).
    demo_count: int = 5000
    # Vacancy feeds (Volunteering Data Standard) synced on a schedule: comma-separated
    # URLs or a JSON list (read through bot.orgs.feeds.configured_feeds).
    feeds: str = ""

    # Outbound e-mail (leads to organisations). Without smtp_host mail goes to mail_dir as .eml.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Vrijwilligerskracht <noreply@vrijwilligerskracht.invalid>"
    smtp_starttls: bool = True
    mail_dir: Path = ROOT / "var" / "mail"

    # Durable jobs and the hand-off of leads.
    jobs_runner: bool = True  # the server runs due jobs itself (off: run `jobs run` from cron)
    lead_link_days: int = 60  # how long an organisation's signed lead link works
    lead_remind_days: int = 2  # working days without a status before the reminder
    lead_escalate_days: int = 5  # working days before the local volunteer centre gets the lead
    # "Nog nodig?": a vacancy unconfirmed this many weeks gets a one-tap e-mail to its contact;
    # without an answer it is hidden after the grace period. (Feeds of VK_FEEDS sync hourly.)
    vacancy_confirm_weeks: int = 12
    vacancy_confirm_grace_days: int = 14
    lead_max_open: int = 5  # unanswered leads that pause a vacancy (per vacancy: max_open_leads)
    # The volunteer's side: "Heb je al contact gehad met ...?" after this many working days
    # (also the promise "Je hoort binnen ... werkdagen"), "Ben je begonnen bij ...?" after this
    # many days. WhatsApp outside the 24-hour window: approved templates (README "WhatsApp
    # templates"), by name, and the template language code for each language of the quiz.
    followup_contact_days: int = 3
    followup_started_days: int = 21
    whatsapp_template_contact: str = "vk_followup_contact"
    whatsapp_template_started: str = "vk_followup_started"
    whatsapp_template_message: str = "vk_organisation_message"
    whatsapp_template_languages: dict[str, str] = Field(
        default_factory=lambda: {"nl": "nl", "en": "en"}
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
