"""Settings: every environment variable the bot reads, in one pydantic-settings class."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Anchored at the project, not the working directory: every command finds the same file.
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'goldcard.sqlite3'}"


# Messages a second per bot token, across all its processes (Telegram allows about 30).
SEND_BUDGET = 30.0


class Settings(BaseSettings):
    """The environment (and an optional `.env` file); `Settings()` reads them.

    Tests build one from a plain mapping with `Settings.from_mapping`.
    """

    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # "123, 456" in the environment; NoDecode stops pydantic-settings expecting JSON.
    staff_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # The help desk's supergroup with topics (forum) that the bot administers: handoff tickets,
    # /inbox and /stats live there. Unset: no handoff, and staff commands work in private only.
    staff_chat_id: int | None = None
    log_level: str = "INFO"
    # Messages a second the reminder sender stays under (Telegram allows ~30 for broadcasts).
    broadcast_rate: float = 25.0
    # Messages a second every process sending as this bot shares (Telegram's ~30 per bot): on
    # PostgreSQL one budget across webhook workers and the reminder sender.
    send_budget: float = SEND_BUDGET

    @field_validator("staff_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator(
        "bot_token",
        "telegram_api_base_url",
        "webhook_url",
        "webhook_secret",
        "staff_chat_id",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str) -> str:
        # Heroku and most hosts hand out postgres:// URLs; SQLAlchemy 2 wants a driver named.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        return value

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper() or "INFO"

    @classmethod
    def from_mapping(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from an environment-like mapping alone (no process environment, no .env)."""
        names = set(cls.model_fields)
        return cls.model_validate({k.lower(): v for k, v in environ.items() if k.lower() in names})

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
