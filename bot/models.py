"""The database tables (sqlmodel). Schema changes go through an Alembic migration in
`bot/migrations/versions/`; `tests/test_storage.py` checks the migrations build exactly these.

Privacy: a user is their Telegram id, language, conversation place and the dates they saved.
Unanswered questions and feedback are kept without any user id, redacted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

# Named constraints, so later migrations can alter them by name on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _when(**kwargs: Any) -> Any:
    """A timezone-aware timestamp column, set to now by default."""
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kwargs)


def _user_id(**kwargs: Any) -> Any:
    """The Telegram user id referencing `users.id`; the user's rows go when the user goes."""
    return Field(
        sa_column=Column(
            BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, **kwargs
        )
    )


class User(SQLModel, table=True):
    """One Telegram user. `version` is bumped by every update (optimistic locking)."""

    __tablename__ = "users"

    # Telegram ids exceed 32 bits; they are given, never generated.
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    language: str | None = Field(default=None, max_length=8)  # chosen: "zh" / "en"
    created_at: datetime = _when()
    last_seen: datetime = _when()
    active: bool = True  # False once Telegram says the user blocked the bot
    version: int = 0


class ConversationState(SQLModel, table=True):
    """Where a user is in the conversation (see `bot.dialogue.State`)."""

    __tablename__ = "conversation_states"

    user_id: int = _user_id(primary_key=True)
    guide: str | None = Field(default=None, max_length=40)
    step: int | None = None
    profile: dict[str, bool] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pending: str | None = Field(default=None, max_length=80)
    question: str | None = Field(default=None, max_length=600)  # redacted
    topic: str | None = Field(default=None, max_length=40)
    updated_at: datetime = _when()


class SavedDate(SQLModel, table=True):
    """A date a user saved to follow a kind of deadline (one per kind; saving again replaces)."""

    __tablename__ = "saved_dates"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_id(index=True)
    kind: str = Field(max_length=20)
    given_on: date
    profile: str | None = Field(default=None, max_length=20)
    saved_at: datetime = _when()


class Feedback(SQLModel, table=True):
    """👍/👎 on an answer, anonymous; `question` is the redacted question when known."""

    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=40, index=True)
    helpful: bool
    lang: str = Field(max_length=8)
    question: str | None = Field(default=None, max_length=600)
    created_at: datetime = _when()


class UnansweredQuestion(SQLModel, table=True):
    """A question the bot could not answer, anonymous and redacted, for the help desk."""

    __tablename__ = "unanswered_questions"

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(max_length=600)
    lang: str = Field(max_length=8)
    reason: str = Field(max_length=20)  # "no-match" | "none-of-these"
    created_at: datetime = _when(index=True)
