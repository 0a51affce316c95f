"""The database tables (sqlmodel). Schema changes go through an Alembic migration in
`bot/migrations/versions/`; `tests/test_storage.py` checks the migrations build exactly these.

Privacy: a user is their Telegram id, language, conversation place, the dates they saved and the
reminders of those dates, and their requests to a person (tickets). Unanswered questions and
feedback are kept without any user id, redacted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
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
    language: str | None = Field(default=None, max_length=8)  # chosen: "en" / "zh" / "zh-hans"
    created_at: datetime = _when()
    last_seen: datetime = _when()
    active: bool = True  # False once Telegram says the user blocked the bot
    offered_hans: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    version: int = 0
    # "News about procedure changes" (/settings), off by default: None, or the language the
    # chat was in when the user turned it on (a chosen `language` wins when sending).
    news: str | None = Field(default=None, max_length=8)


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
    # The latest answer messages sent: [message id, topic, counted], so a 👍/👎 reaction on one
    # counts as feedback on its topic, once (see `bot.dialogue.SentAnswer`).
    answers: list[list[Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
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


class Reminder(SQLModel, table=True):
    """One reminder of a saved deadline, and where the cron sender (`bot.reminders`) is with it.

    `status` is "scheduled" until the reminder is sent, skipped, failed for good, or cancelled.
    A sender claims a scheduled reminder by setting `claimed_by` and a lease (`lease_until`); an
    unexpired lease keeps other senders off it, an expired one (a sender killed mid-run) lets the
    next run take it. `attempts` counts claims, so a reminder that keeps failing is given up.
    """

    __tablename__ = "reminders"
    # The sender's query: scheduled reminders due at or before now.
    __table_args__ = (Index("ix_reminders_status_send_at", "status", "send_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_id(index=True)
    kind: str = Field(max_length=20)
    key: str = Field(max_length=40)  # the deadline among the kind's dates: "last_day_to_submit"
    days_before: int
    due_on: date  # the deadline itself
    send_at: datetime = Field(sa_type=DateTime(timezone=True))
    lang: str = Field(max_length=8)  # the chat's language when scheduled (a chosen one wins)
    status: str = Field(default="scheduled", max_length=12)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    claimed_by: str | None = Field(default=None, max_length=40)
    last_error: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = _when()


class Ticket(SQLModel, table=True):
    """A request handed to a person (`bot.tickets`): the forum topic of the staff group it lives
    in routes the staff's replies to the user, from any process, after any restart.

    `status` is "open" (typed text goes to the topic), "closed", or "blocked" (the help desk
    blocked the user from asking again). `question` and `candidates` wait here only until the
    topic is opened and they are posted in it (then they are cleared). No name is stored.
    """

    __tablename__ = "tickets"
    # The staff's replies find their ticket by topic.
    __table_args__ = (Index("ix_tickets_chat_id_thread_id", "chat_id", "thread_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_id(index=True)
    lang: str = Field(max_length=8)
    status: str = Field(default="open", max_length=12)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    thread_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    question: str | None = Field(default=None, max_length=600)  # redacted
    candidates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    opened_at: datetime = _when()
    last_message_at: datetime = _when(index=True)  # the 7-day expiry counts from here
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class HandledUpdate(SQLModel, table=True):
    """A Telegram update already handled, so a redelivery or a replayed POST is not handled
    again; written in the transaction of the update's outcome, kept a day (`bot.storage`)."""

    __tablename__ = "handled_updates"

    # Telegram's update_id: unique per bot, given, never generated.
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    handled_at: datetime = _when(index=True)


class SendBudget(SQLModel, table=True):
    """One bot token's send budget, shared by every process sending as it (webhook workers, the
    reminder sender): when its next message may go, in Unix seconds of the database's clock
    (`bot.telegram.sending.SharedBudget`)."""

    __tablename__ = "send_budget"

    bot_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    next_at: float


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
    reason: str = Field(max_length=20)  # "no-match" | "none-of-these" | "out-of-scope"
    created_at: datetime = _when(index=True)


class StatCounter(SQLModel, table=True):
    """An anonymous counter of the help desk's figures (`bot.stats`): how often `event` happened
    on `day` (Asia/Taipei) in `lang`, per `key` (a topic, guide, calculator kind or reason; ""
    when none). No user id, no question text: /forget has nothing to delete here.

    A day's count is spread over a few `shard` rows, so concurrent updates on PostgreSQL rarely
    wait for each other's row lock; the figures add the shards up.
    """

    __tablename__ = "stat_counters"
    __table_args__ = (PrimaryKeyConstraint("day", "event", "lang", "key", "shard"),)

    day: date
    event: str = Field(max_length=24)
    lang: str = Field(max_length=8)
    key: str = Field(default="", max_length=40)
    shard: int = Field(default=0, sa_type=SmallInteger)
    n: int = 0


class InboxGroup(SQLModel, table=True):
    """A group of similar unanswered questions and 👎 answers in the help desk's inbox
    (`bot.inbox`). Its id is what the inbox's buttons carry, so a group is a row: any process
    answers a button pressed on a message another one sent. Open until staff handle it:
    `handled_as` is the topic it was assigned to, `oos:<group>` for out of scope, or `ignored`.
    """

    __tablename__ = "inbox_groups"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _when()
    handled_as: str | None = Field(default=None, max_length=48)
    handled_by: int | None = Field(default=None, sa_type=BigInteger)  # staff's Telegram id
    handled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class InboxMember(SQLModel, table=True):
    """A question of an inbox group: an `unanswered_questions` row (`source` "u") or a 👎
    `feedback` row ("f"); each is in one group at most."""

    __tablename__ = "inbox_members"
    __table_args__ = (UniqueConstraint("source", "row_id", name="uq_inbox_members_source_row"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("inbox_groups.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    source: str = Field(max_length=1)
    row_id: int


class LearnedQuestion(SQLModel, table=True):
    """A question staff assigned from the inbox (redacted): a sample question of `topic`, or
    of an out-of-scope class (`oos:<group>`, a negative). The matcher of every process includes
    them (`bot.learning`); `python -m bot learned export` writes them into the knowledge files."""

    __tablename__ = "learned_questions"

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(max_length=600)
    topic: str = Field(max_length=48, index=True)
    lang: str = Field(max_length=8)
    learned_by: int | None = Field(default=None, sa_type=BigInteger)  # staff's Telegram id
    created_at: datetime = _when()


class Announcement(SQLModel, table=True):
    """A news message about a procedure change (`python -m bot announce FILE`), in both
    languages, with an optional guide or topic button. `key` names it: the file's `id`, else a
    hash of its content, so announcing the same file again sends nobody a second copy."""

    __tablename__ = "announcements"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True)
    text_en: str
    text_zh: str
    button: str | None = Field(default=None, max_length=80)  # "guide:renew[:3]" | "topic:<id>"
    created_at: datetime = _when()


class AnnouncementDelivery(SQLModel, table=True):
    """One announcement to one user who opted in, and where the sender is with it: the same
    claims, lease and statuses as a `Reminder` (see there), due at `send_at`. One row per
    announcement and user: the unique pair is what keeps a second run from sending again."""

    __tablename__ = "announcement_deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "user_id"),
        Index("ix_announcement_deliveries_status_send_at", "status", "send_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(
        sa_column=Column(
            ForeignKey("announcements.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    user_id: int = _user_id(index=True)
    send_at: datetime = Field(sa_type=DateTime(timezone=True))
    status: str = Field(default="scheduled", max_length=12)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    claimed_by: str | None = Field(default=None, max_length=40)
    last_error: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
