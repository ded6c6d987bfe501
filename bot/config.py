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

    whatsapp_token: str | None = None
    whatsapp_phone_id: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_number: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"

    metrics_token: str | None = None  # /metrics needs it (bearer or ?token=) when set

    max_message_chars: int = 2000
    max_body_bytes: int = 16_384
    cors_origins: list[str] = Field(default_factory=list)
    # Fictional demo vacancies loaded at start-up into an empty database (0: none).
    demo_count: int = 5000


@lru_cache
def get_settings() -> Settings:
    return Settings()
