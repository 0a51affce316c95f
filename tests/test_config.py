"""Settings: one class, from the environment or from a plain mapping."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import DEFAULT_DATABASE_URL, PROJECT_ROOT, Settings


def test_defaults_from_an_empty_mapping():
    settings = Settings.from_mapping({})
    assert settings.bot_token is None and settings.webhook_secret is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert f"sqlite:///{PROJECT_ROOT / 'goldcard.sqlite3'}" == DEFAULT_DATABASE_URL
    assert settings.is_sqlite and settings.staff_ids == frozenset()
    assert settings.log_level == "INFO"


def test_values_from_a_mapping():
    settings = Settings.from_mapping(
        {
            "BOT_TOKEN": "123:abc",
            "DATABASE_URL": "postgresql+psycopg://bot@db/goldcard",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "WEBHOOK_URL": "https://bot.example.com/hook",
            "WEBHOOK_SECRET": "s3cret",
            "STAFF_IDS": "11, 22,33,",
            "STAFF_CHAT_ID": "-1001234567890",
            "LOG_LEVEL": "debug",
            "UNRELATED": "ignored",
        }
    )
    assert settings.bot_token is not None and settings.bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)
    assert not settings.is_sqlite
    assert settings.staff_ids == frozenset({11, 22, 33})
    assert settings.staff_chat_id == -1001234567890
    assert settings.log_level == "DEBUG"


def test_blank_token_is_no_token():
    assert Settings.from_mapping({"BOT_TOKEN": "  "}).bot_token is None


def test_no_staff_chat_unless_set():
    assert Settings.from_mapping({}).staff_chat_id is None
    assert Settings.from_mapping({"STAFF_CHAT_ID": " "}).staff_chat_id is None


def test_bad_staff_ids_are_an_error():
    with pytest.raises(ValidationError):
        Settings.from_mapping({"STAFF_IDS": "11,abc"})


def test_the_environment_is_read(monkeypatch):
    monkeypatch.setenv("STAFF_IDS", "7")
    monkeypatch.setenv("BOT_TOKEN", "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.staff_ids == frozenset({7}) and settings.bot_token is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@host:5432/db", "postgresql+psycopg://u:p@host:5432/db"),
        ("postgresql://u@host/db", "postgresql+psycopg://u@host/db"),
        ("postgresql+psycopg://u@host/db", "postgresql+psycopg://u@host/db"),
        ("sqlite:///x.sqlite3", "sqlite:///x.sqlite3"),
    ],
)
def test_database_url_gets_the_psycopg_driver(given, expected):
    assert Settings.from_mapping({"DATABASE_URL": given}).database_url == expected
