"""Storage: the database engine, its migrations, and the unit of work that runs one event.

`DATABASE_URL` picks the database (SQLite by default, PostgreSQL with `postgresql+psycopg://…`);
the same code runs on both. One user's events are serialised: the unit of work locks the user's
row before reading it (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite every transaction takes the
database's write lock at BEGIN), so a second worker waits and then reads the first one's result.
The update also checks the version it read, and two first events of a new user race on the
insert; the loser handles its event again from the fresh state. The engine is pure, so handling
twice is harmless, and logs are written in the same transaction, so nothing is logged twice.

Reminders: the engine schedules them in the state and the unit of work writes the difference; the
cron sender (`bot.reminders`) claims due ones here, each claim a conditional update that exactly
one sender wins, held by a lease (see "reminders" below).
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, func, literal, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, delete, select

from bot import dialogue, guides, stats, tickets
from bot.dates import MAX_YEAR, MIN_YEAR, TAIPEI, taipei_today
from bot.deadlines import KINDS
from bot.dialogue import (
    MAX_SENT_ANSWERS,
    CloseTicket,
    Count,
    Effect,
    Event,
    ForgetUser,
    OpenTicket,
    RecordFeedback,
    RecordUnanswered,
    RelayToStaff,
    Reply,
    SavedDate,
    SentAnswer,
    State,
)
from bot.i18n import LANGUAGES, lang_of
from bot.models import (
    Announcement,
    ConversationState,
    Feedback,
    HandledUpdate,
    UnansweredQuestion,
    User,
    utcnow,
)
from bot.models import AnnouncementDelivery as DeliveryRow
from bot.models import Reminder as ReminderRow
from bot.models import SavedDate as SavedDateRow
from bot.redact import redact
from bot.schedule import Reminder

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MAX_TEXT = 600  # stored question length (redaction labels can lengthen a 500-character question)
ATTEMPTS = 10
# A reminder's status (`bot.models.Reminder.status`). "sending": a sender checked it and is
# sending it now (one per sender at a time); left so by a killed sender, the next run sends it.
SCHEDULED, SENT, SKIPPED, FAILED, CANCELLED = "scheduled", "sent", "skipped", "failed", "cancelled"
SENDING = "sending"
# What `start_sending` found: send it; the user stopped it (cancelled, forgotten, or it was
# moved or finished); the user is inactive (it is skipped); another sender holds it now.
SEND, STOPPED, INACTIVE, LOST = "send", "stopped", "inactive", "lost"
MAX_REASON = 300
# Handled update ids: Telegram gives up redelivering an update after a day, so an id is kept
# that long; every so many updates (ids are consecutive), the unit of work prunes older ones.
KEEP_HANDLED_UPDATES = timedelta(days=1)
PRUNE_HANDLED_EVERY = 500


# The tables the sender's claims and leases work on: reminders, and announcement deliveries.
Queue = type[ReminderRow] | type[DeliveryRow]


class ConcurrentUpdateError(RuntimeError):
    """A user's row kept changing under us; the event was not applied."""


class SchemaError(RuntimeError):
    """The database is not at the latest migration."""


class UnwritableDatabase(RuntimeError):
    """The SQLite database (its file or folder) cannot be written: the bot cannot run on it."""


class DatabaseFileGone(RuntimeError):
    """The SQLite file was deleted or replaced under the running bot: it must stop."""


# --- engine and schema -------------------------------------------------------------------------


def create_db_engine(url: str) -> Engine:
    """The SQLAlchemy engine for `url`: the one place the process connects from."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False},
        # One shared connection keeps an in-memory database alive (tests, trials).
        poolclass=StaticPool if memory else None,
    )
    event.listen(engine, "connect", _sqlite_connect)
    if not memory:
        event.listen(engine, "connect", _sqlite_file_connect)
        same_file = _SameFile()
        event.listen(engine, "connect", same_file.opened)
        event.listen(engine, "begin", same_file.check)  # before BEGIN: nothing is written
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # pysqlite would BEGIN only before the first write, after our reads; we BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")  # wait for another process's write, not fail
    cursor.close()


def _sqlite_file_connect(dbapi_connection: Any, _record: object) -> None:
    # Write-ahead logging: readers never wait for the writer, and a commit no longer syncs the
    # whole file (NORMAL is durable across application crashes, which is what a bot needs).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _SameFile:
    """The SQLite file the engine first opened, checked before every transaction.

    A connection keeps writing to a deleted file's inode without an error, and everything
    written is gone at the next start; a new connection would create an empty file instead. So
    a transaction on a file that is no longer at its path raises `DatabaseFileGone` (one
    `stat`, a few microseconds).
    """

    def __init__(self) -> None:
        self.path: str | None = None
        self.identity: tuple[int, int] | None = None

    def opened(self, dbapi_connection: Any, _record: object) -> None:
        if self.identity is None:
            (_, _, path) = dbapi_connection.execute("PRAGMA database_list").fetchone()
            self.path, self.identity = path, self._identity(path)

    def check(self, _connection: Connection) -> None:
        if self.path and self.identity and self._identity(self.path) != self.identity:
            raise DatabaseFileGone(
                f"the database file {self.path} was deleted or replaced while the bot ran; "
                "stopped rather than write where nothing is kept (restore it, or start afresh)"
            )

    @staticmethod
    def _identity(path: str) -> tuple[int, int] | None:
        try:
            found = os.stat(path)
        except FileNotFoundError:
            return None
        return found.st_dev, found.st_ino


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock when the transaction starts: SQLite's FOR UPDATE."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(db: Engine) -> str:
    """Upgrade the database to the latest migration; returns that revision."""
    config = _alembic_config()
    with db.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return head_revision()


@contextmanager
def scratch_database(url: str | None = None) -> Iterator[Engine | None]:
    """A migrated, throwaway database for tests and benchmarks, removed afterwards.

    Without `url`, a SQLite file in a temporary folder. With a PostgreSQL URL, a schema of its
    own on that server, so concurrent runs never meet; None when the server is unreachable.
    """
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            db = create_db_engine(f"sqlite:///{Path(folder) / 'scratch.sqlite3'}")
            migrate(db)
            yield db
            db.dispose()
        return
    admin = create_engine(f"{url}?connect_timeout=2")
    schema = f"scratch_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except OperationalError:
        admin.dispose()
        yield None
        return
    db = create_db_engine(f"{url}?options=-csearch_path%3D{schema}")
    try:
        migrate(db)
        yield db
    finally:
        db.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def check_writable(db: Engine) -> None:
    """Write to the database and change nothing: a read-only file (or a read-only connection)
    refuses it. SQLite opens a file it may not write read-only without a word, reads work, and
    every write fails later; checking the permissions instead would pass for root.

    Raises:
        OperationalError: the database refused the write.
    """
    with db.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no migrations"
    return head


def current_revision(db: Engine) -> str | None:
    with db.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def prepare(db: Engine) -> None:
    """Make the database usable at start-up: migrate SQLite, check PostgreSQL is migrated.

    A shared server database is migrated by the deployment (`python -m bot migrate`, the
    Procfile's release step), never by whichever worker starts first.
    """
    if db.dialect.name == "sqlite":
        try:
            migrate(db)
            check_writable(db)
        except OperationalError as exc:
            raise UnwritableDatabase(
                f"cannot write the SQLite database {db.url.database}: {exc.orig} "
                "(check the file's and its folder's permissions, or set DATABASE_URL)"
            ) from exc
        return
    current, head = current_revision(db), head_revision()
    if current != head:
        raise SchemaError(
            f"the database is at migration {current or 'none'}, not {head}: "
            "run `python -m bot migrate`"
        )


# --- the unit of work --------------------------------------------------------------------------


@dataclass(frozen=True)
class Handled:
    """An event's outcome: the replies to send and what Telegram must do for the help desk
    (`bot.tickets.DeskWork`: a ticket's topic to open, a message for it, …)."""

    replies: list[Reply]
    desk: list[tickets.DeskWork]


def converse(
    db: Engine,
    engine: dialogue.Engine,
    *,
    user_id: int,
    event: Event,
    today: date,
    now: datetime | None = None,
    update_id: int | None = None,
    attempts: int = ATTEMPTS,
) -> list[Reply]:
    """The replies of `handle_event` (channels without a help desk: the terminal, tests)."""
    return handle_event(
        db, engine, user_id=user_id, event=event, today=today, now=now, update_id=update_id,
        attempts=attempts,
    ).replies  # fmt: skip


def handle_event(
    db: Engine,
    engine: dialogue.Engine,
    *,
    user_id: int,
    event: Event,
    today: date,
    now: datetime | None = None,
    update_id: int | None = None,
    attempts: int = ATTEMPTS,
) -> Handled:
    """Handle one event of one user: load the state, run the engine, store the outcome.

    `now` is the moment of the event (reminders before it are not scheduled); by default the
    clock, or the start of `today` in Taipei when `today` is not the clock's day (a test or a
    simulation names its own day). `update_id` is Telegram's: it is recorded with the outcome,
    in the same transaction, and an update already recorded is not handled again (no replies),
    whichever worker handled it; an update whose handling failed was not recorded.

    Raises:
        ConcurrentUpdateError: the user's state changed under us `attempts` times in a row.
    """
    if now is None:
        now = utcnow()
        if taipei_today(now) != today:
            now = datetime.combine(today, time(), tzinfo=TAIPEI)
    connection_lost = False
    for _ in range(attempts):
        try:
            handled = _handle_once(
                db, engine, user_id=user_id, event=event, today=today, now=now,
                update_id=update_id,
            )  # fmt: skip
        except DBAPIError as exc:
            # The connection dropped (a server restart, a failover, a network cut): the
            # transaction was rolled back and the engine is pure, so the event is handled again,
            # once, on a new connection (the pool has discarded the dead ones). Had the commit
            # gone through before the drop, the update id is found handled: nothing twice.
            if connection_lost or not exc.connection_invalidated:
                raise
            connection_lost = True
            log.warning("user %s: the database connection was lost; handling the event again: "
                        "%s", user_id, exc.orig)  # fmt: skip
            continue
        if handled is not None:
            if update_id is not None and update_id % PRUNE_HANDLED_EVERY == 0:
                _prune_handled_updates(db)
            return handled
        log.debug("user %s changed concurrently; handling the event again", user_id)
    raise ConcurrentUpdateError(f"user {user_id}: state kept changing, event dropped")


def _handle_once(
    db: Engine,
    engine: dialogue.Engine,
    *,
    user_id: int,
    event: Event,
    today: date,
    now: datetime,
    update_id: int | None,
) -> Handled | None:
    """One try of `handle_event` in one transaction: the outcome, or None if the user's row
    changed under us (nothing was written)."""
    with Session(db) as session:
        state, version = load_state(session, user_id=user_id)
        if update_id is not None and not _first_handling(session, update_id=update_id):
            log.info("update %s was handled already; ignored", update_id)
            return Handled([], [])
        replies, new_state, effects = engine.handle(event, state, today=today, now=now)
        # The row load_state read (no query); a new user has none.
        user = session.get(User, user_id) if version is not None else None
        last_seen = _aware(user.last_seen) if user is not None else None
        try:
            stored = store_state(
                session, user_id=user_id, state=new_state, version=version, old=state, seen=now
            )
        except IntegrityError:  # another worker created this new user first
            stored = False
        if not stored:
            session.rollback()
            return None
        desk = apply_effects(session, user_id=user_id, effects=effects)
        # Last, in one go: the counters' rows stay locked until the commit (`stats.count_all`).
        lang = lang_of(new_state.lang or event.language)  # 简体 counts as Chinese ("zh")
        tallies = [stats.Tally(e.event, e.lang, e.key) for e in effects if isinstance(e, Count)]
        tallies += _tallies(state, new_state, lang, last_seen, today)
        tallies += [
            stats.Tally(stats.HANDED_OFF, lang_of(work.ticket.lang))
            for work in desk
            if isinstance(work, tickets.OpenTopic)
        ]
        stats.count_all(session, tallies, day=today)
        session.commit()
        return Handled(replies, desk)


def _first_handling(session: Session, *, update_id: int) -> bool:
    """Record `update_id` as handled (in the caller's transaction); False if it already was.

    The insert does nothing on a conflict: a worker handling the same update at this moment
    holds the row until it commits (then this one finds it) or rolls back (then this one
    handles the update). The user's row is locked first, so this rarely waits at all.
    """
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = (
        insert(HandledUpdate)
        .values(update_id=update_id, handled_at=utcnow())
        .on_conflict_do_nothing()
        .returning(HandledUpdate.update_id)  # type: ignore[arg-type]
    )
    return session.exec(statement).first() is not None  # type: ignore[call-overload]


def remember_answers(db: Engine, *, user_id: int, sent: Sequence[tuple[int, str]]) -> None:
    """Keep the ids of answer messages just sent to the user, with their topics (the latest
    MAX_SENT_ANSWERS), so a reaction on one counts as feedback on it. The user's row is locked
    and its version bumped, so a concurrent `converse` for them starts over with these."""
    if not sent:
        return
    with Session(db) as session:
        state, version = load_state(session, user_id=user_id)
        if version is None:  # forgotten meanwhile (/forget): nothing to keep
            return
        known = {a.message_id for a in state.answers}
        new = [
            SentAnswer(message_id, topic) for message_id, topic in sent if message_id not in known
        ]
        answers = (*state.answers, *new)[-MAX_SENT_ANSWERS:]
        conversation = session.get(ConversationState, user_id) or ConversationState(
            user_id=user_id
        )
        conversation.answers = [[a.message_id, a.topic, a.counted] for a in answers]
        session.add(conversation)
        session.exec(
            update(User)
            .where(User.id == user_id)  # type: ignore[arg-type]
            .values(version=version + 1)
        )
        session.commit()


def first_handling(db: Engine, *, update_id: int) -> bool:
    """Record an update whose reply changes nothing stored (a group's "ask me in private", a
    staff /link) as handled, before replying; False if it already was. Recorded first: a crash
    before the reply loses that one reply, rather than a replay sending it twice."""
    with Session(db) as session:
        first = _first_handling(session, update_id=update_id)
        session.commit()
    return first


def _prune_handled_updates(db: Engine) -> None:
    """Housekeeping after an update was handled: its failure must not fail the update."""
    try:
        forget_handled_updates(db, before=utcnow() - KEEP_HANDLED_UPDATES)
    except DBAPIError as exc:
        log.warning("pruning handled update ids failed (the next prune will): %s", exc.orig)


def forget_handled_updates(db: Engine, *, before: datetime) -> int:
    """Delete the update ids handled before `before` (Telegram redelivers for a day at most);
    returns how many."""
    with Session(db) as session:
        deleted = session.exec(
            delete(HandledUpdate).where(HandledUpdate.handled_at < before)  # type: ignore[arg-type]
        ).rowcount  # type: ignore[call-overload]
        session.commit()
    return int(deleted)


def load_state(session: Session, *, user_id: int) -> tuple[State, int | None]:
    """The user's state and its version; a blank state and None for a user never seen."""
    user = session.get(User, user_id, with_for_update=True)  # held until commit or rollback
    if user is None:
        return State(), None
    conversation = session.get(ConversationState, user_id) or ConversationState(user_id=user_id)
    rows = _repaired(
        session, session.exec(select(SavedDateRow).where(SavedDateRow.user_id == user_id)).all()
    )
    by_kind = {row.kind: SavedDate(row.kind, row.given_on, row.profile) for row in rows}
    scheduled = _repaired(
        session,
        session.exec(
            select(ReminderRow)
            .where(ReminderRow.user_id == user_id, ReminderRow.status == SCHEDULED)
            .order_by(ReminderRow.send_at, ReminderRow.id)  # type: ignore[arg-type]
        ).all(),
    )
    state = State(
        lang=next((lang for lang in LANGUAGES if lang == user.language), None),
        since=_aware(user.created_at).astimezone(TAIPEI).date(),
        guide=conversation.guide,
        step=conversation.step,
        profile=guides.Profile(
            **{k: v for k, v in conversation.profile.items() if _is_question(k)}
        ),
        pending=conversation.pending,
        question=conversation.question,
        topic=conversation.topic,
        saved=tuple(by_kind[kind] for kind in KINDS if kind in by_kind),
        reminders=tuple(_reminder(row) for row in scheduled),
        ticket=tickets.ticket_state(session, user_id=user_id),
        answers=_sent_answers(conversation.answers),
        offered_hans=user.offered_hans,
        news=next((lang for lang in LANGUAGES if lang == user.news), None),
    )
    return state, user.version


def _sent_answers(stored: Any) -> tuple[SentAnswer, ...]:
    """The JSON `[[message id, topic, counted], …]` as sent answers (anything else is dropped)."""
    answers = []
    for item in stored if isinstance(stored, list) else ():
        if (
            isinstance(item, list)
            and len(item) == 3
            and isinstance(item[0], int)
            and isinstance(item[1], str)
            and isinstance(item[2], bool)
        ):
            answers.append(SentAnswer(item[0], item[1], item[2]))
    return tuple(answers[-MAX_SENT_ANSWERS:])


def _repaired(session: Session, rows: Sequence[Any]) -> list[Any]:
    """`rows` (saved dates or reminders) without those of a date no typed date can have.

    A forged button once saved 9999-12-31, and every later calculation from it overflowed: such
    a row is deleted (in the caller's transaction) rather than poisoning the user's state.
    """
    kept = []
    for row in rows:
        day = row.given_on if isinstance(row, SavedDateRow) else row.due_on
        if MIN_YEAR <= day.year <= MAX_YEAR:
            kept.append(row)
        else:
            log.warning("user %s: dropped a stored %s dated %s", row.user_id, row.kind, day)
            session.delete(row)
    return kept


def store_state(
    session: Session,
    *,
    user_id: int,
    state: State,
    version: int | None,
    old: State,
    seen: datetime | None = None,
) -> bool:
    """Write `state` if the user is still at `version` (None: not yet stored); False if not.

    `seen` is the moment of the event (the user's `last_seen`, which counts active users per
    week); default: now."""
    now = utcnow()
    seen = seen or now
    if version is None:
        session.add(
            User(
                id=user_id,
                language=state.lang,
                created_at=now,
                last_seen=seen,
                version=1,
                offered_hans=state.offered_hans,
                news=state.news,
            )
        )
        session.flush()  # IntegrityError here if another worker created the user meanwhile
    else:
        result = session.exec(
            update(User)
            .where(User.id == user_id, User.version == version)  # type: ignore[arg-type]
            .values(
                version=version + 1,
                language=state.lang,
                last_seen=seen,
                active=True,
                offered_hans=state.offered_hans,
                news=state.news,
            )
        )
        if result.rowcount != 1:
            return False
    conversation = session.get(ConversationState, user_id) or ConversationState(user_id=user_id)
    conversation.guide, conversation.step = state.guide, state.step
    conversation.profile = {k: v for k, v in asdict(state.profile).items() if v is not None}
    conversation.pending = state.pending
    conversation.question = _clip(redact(state.question)) if state.question else None
    conversation.topic = state.topic
    conversation.answers = [
        [a.message_id, a.topic, a.counted] for a in state.answers[-MAX_SENT_ANSWERS:]
    ]
    conversation.updated_at = now
    session.add(conversation)
    _sync_saved_dates(session, user_id=user_id, old=old.saved, new=state.saved)
    _sync_reminders(session, user_id=user_id, old=old.reminders, new=state.reminders)
    return True


def _sync_saved_dates(
    session: Session, *, user_id: int, old: Iterable[SavedDate], new: Iterable[SavedDate]
) -> None:
    """Bring the user's saved-date rows from `old` to `new` (one row per kind)."""
    before, after = {s.kind: s for s in old}, {s.kind: s for s in new}
    gone_or_changed = [kind for kind, saved in before.items() if after.get(kind) != saved]
    if gone_or_changed:
        session.exec(
            delete(SavedDateRow).where(
                SavedDateRow.user_id == user_id,  # type: ignore[arg-type]
                SavedDateRow.kind.in_(gone_or_changed),  # type: ignore[attr-defined]
            )
        )
        session.flush()  # the unique (user, kind) row must be gone before its replacement
    for kind, saved in after.items():
        if before.get(kind) != saved:
            session.add(
                SavedDateRow(
                    user_id=user_id, kind=kind, given_on=saved.given, profile=saved.profile
                )
            )


def _sync_reminders(
    session: Session, *, user_id: int, old: Iterable[Reminder], new: Iterable[Reminder]
) -> None:
    """Bring the user's scheduled reminders from `old` to `new`: a reminder cancelled, or moved
    by a date saved again, is deleted while still scheduled; a new one is inserted.

    A reminder the sender sent meanwhile is no longer scheduled, so it is left as sent; one it
    is sending right now is deleted under it, and the sender's "sent" then changes nothing.
    """
    before, after = {r.slot: r for r in old}, {r.slot: r for r in new}
    for slot, reminder in before.items():
        if after.get(slot) != reminder:
            kind, key, days_before = slot
            session.exec(
                delete(ReminderRow).where(
                    ReminderRow.user_id == user_id,  # type: ignore[arg-type]
                    ReminderRow.kind == kind,  # type: ignore[arg-type]
                    ReminderRow.key == key,  # type: ignore[arg-type]
                    ReminderRow.days_before == days_before,  # type: ignore[arg-type]
                    ReminderRow.status == SCHEDULED,  # type: ignore[arg-type]
                )
            )
    for slot, reminder in after.items():
        if before.get(slot) != reminder:
            session.add(
                ReminderRow(
                    user_id=user_id,
                    kind=reminder.kind,
                    key=reminder.key,
                    days_before=reminder.days_before,
                    due_on=reminder.due,
                    send_at=reminder.send_at.astimezone(UTC),
                    lang=reminder.lang,
                )
            )


def _tallies(
    old: State, new: State, lang: str, last_seen: datetime | None, today: date
) -> list[stats.Tally]:
    """What an event counts besides the engine's `Count` effects: the user's first event of the
    week (from `users.last_seen`, before this event), and the reminders it cancelled (gone from
    the state with no reminder in their place; a date saved again moves them instead)."""
    tallies = []
    if last_seen is None or _week(last_seen.astimezone(TAIPEI).date()) < _week(today):
        tallies.append(stats.Tally(stats.ACTIVE_USER, lang))
    kept = {r.slot for r in new.reminders}
    tallies += [
        stats.Tally(stats.REMINDER_CANCELLED, r.lang, r.kind)
        for r in old.reminders
        if r.slot not in kept
    ]
    return tallies


def _week(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def apply_effects(
    session: Session, *, user_id: int, effects: Iterable[Effect]
) -> list[tickets.DeskWork]:
    """Apply the engine's effects in the caller's transaction; what Telegram must do after."""
    desk: list[tickets.DeskWork | None] = []
    for effect in effects:
        match effect:
            case RecordUnanswered(question, lang, reason):
                record_unanswered(session, question=question, lang=lang, reason=reason)
            case RecordFeedback(topic, helpful, lang, question):
                record_feedback(
                    session, topic=topic, helpful=helpful, lang=lang, question=question
                )
            case ForgetUser():
                desk.append(forget_user(session, user_id=user_id))
            case OpenTicket(question, lang, candidates):
                opened = tickets.open_ticket(
                    session, user_id=user_id, lang=lang, question=question, candidates=candidates
                )
                desk.append(opened)
            case RelayToStaff(text):
                desk.append(tickets.relay(session, user_id=user_id, text=text))
            case CloseTicket():
                desk.append(tickets.close_by_user(session, user_id=user_id))
            case Count():
                pass
    return [work for work in desk if work is not None]


# --- data functions ----------------------------------------------------------------------------


def record_unanswered(session: Session, *, question: str, lang: str, reason: str) -> None:
    """Log a question the bot could not answer (redacted here, whatever the caller did)."""
    session.add(UnansweredQuestion(question=_clip(redact(question)), lang=lang, reason=reason))


def record_feedback(
    session: Session, *, topic: str, helpful: bool, lang: str, question: str | None
) -> None:
    """Log 👍/👎 on an answer, with the question that led to it (redacted) when known."""
    text = _clip(redact(question)) if question else None
    session.add(Feedback(topic=topic, helpful=helpful, lang=lang, question=text))


def forget_user(session: Session, *, user_id: int) -> tickets.DeleteTopics | None:
    """Delete every row about the user (the logs hold no user id); the topics of their
    tickets, for the caller to delete from the staff group."""
    topics = tickets.forget(session, user_id=user_id)
    for table in (ReminderRow, DeliveryRow, SavedDateRow, ConversationState):
        session.exec(delete(table).where(table.user_id == user_id))  # type: ignore[arg-type]
    session.exec(delete(User).where(User.id == user_id))  # type: ignore[arg-type]
    return topics


def mark_inactive(session: Session, *, user_id: int) -> None:
    """The user blocked the bot: stop sending until they write again."""
    session.exec(
        update(User).where(User.id == user_id).values(active=False)  # type: ignore[arg-type]
    )


def unanswered_questions(session: Session, *, limit: int = 100) -> list[UnansweredQuestion]:
    """The latest unanswered questions, newest first (for the help desk)."""
    statement = (
        select(UnansweredQuestion)
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    return list(session.exec(statement).all())


# --- reminders: the cron sender's side ------------------------------------------------------


@dataclass(frozen=True)
class DueReminder:
    """A due reminder as a sender claimed it (or, in a dry run, would): what to send to whom.

    `reminder.lang` is the language to send in: the user's chosen one, else the one the chat
    was in when the reminder was scheduled.
    """

    id: int
    user_id: int
    reminder: Reminder
    attempts: int  # claims so far, this one included
    active: bool  # False: the user blocked the bot


def _due_now(now: datetime, table: Queue = ReminderRow) -> tuple[Any, ...]:
    """Scheduled (or left "sending" by a killed sender), due at or before `now`, and not held by
    a sender's unexpired lease."""
    return (
        table.status.in_((SCHEDULED, SENDING)),  # type: ignore[attr-defined]
        table.send_at <= now,  # type: ignore[operator]
        or_(table.lease_until.is_(None), table.lease_until <= now),  # type: ignore[union-attr,operator]
    )


def claim_due_reminders(
    db: Engine, *, now: datetime, lease: timedelta, claimant: str, limit: int
) -> list[DueReminder]:
    """Claim up to `limit` due reminders (soonest first) for `claimant`, until `now + lease`.

    One conditional UPDATE that exactly one sender wins: on PostgreSQL the candidates are
    locked with `FOR UPDATE SKIP LOCKED` (a concurrent sender takes the next ones instead of
    waiting for these), and the UPDATE checks the conditions again on the rows it changes; on
    SQLite the transaction holds the database's write lock from BEGIN. A sender killed before
    sending leaves its claims to the next run once the lease has expired.
    """
    with Session(db) as session:
        ids = _claim(session, ReminderRow, now=now, lease=lease, claimant=claimant, limit=limit)
        claimed = _with_users(session, ReminderRow.id.in_(ids)) if ids else []  # type: ignore[union-attr]
        session.commit()
    return claimed


def _claim(
    session: Session, table: Queue, *, now: datetime, lease: timedelta, claimant: str, limit: int
) -> list[int]:
    """Claim up to `limit` due rows of `table` (see `claim_due_reminders`); their ids."""
    now = now.astimezone(UTC)
    candidates = (
        select(table.id)
        .where(*_due_now(now, table))
        .order_by(table.send_at, table.id)  # type: ignore[arg-type]
        .limit(limit)
        .with_for_update(skip_locked=True)  # nothing on SQLite: its lock is the transaction's
        .cte("candidates")
    )
    claim = (
        update(table)
        .where(table.id.in_(select(candidates.c.id)), *_due_now(now, table))  # type: ignore[union-attr]
        .values(
            claimed_by=claimant,
            lease_until=now + lease,
            attempts=table.attempts + 1,
        )
        .returning(table.id)  # type: ignore[arg-type]
    )
    return list(session.exec(claim).scalars())  # type: ignore[call-overload]


def due_reminders(db: Engine, *, now: datetime, limit: int | None = None) -> list[DueReminder]:
    """The reminders a sender would claim at `now`, soonest first, claiming nothing (dry run)."""
    with Session(db) as session:
        return _with_users(session, *_due_now(now.astimezone(UTC)), limit=limit)


def _with_users(session: Session, *conditions: Any, limit: int | None = None) -> list[DueReminder]:
    statement = (
        select(ReminderRow, User.active, User.language)
        .join(User, User.id == ReminderRow.user_id)  # type: ignore[arg-type]
        .where(*conditions)
        .order_by(ReminderRow.send_at, ReminderRow.id)  # type: ignore[arg-type]
        .limit(limit)
    )
    return [
        DueReminder(
            id=row.id or 0,
            user_id=row.user_id,
            reminder=_reminder(row, chosen=language),
            attempts=row.attempts,
            active=active,
        )
        for row, active, language in session.exec(statement)
    ]


def renew_leases(
    db: Engine,
    *,
    ids: Sequence[int],
    claimant: str,
    until: datetime,
    table: Queue = ReminderRow,
) -> set[int]:
    """Extend `claimant`'s leases of `ids` to `until`; the ids it still holds (scheduled)."""
    if not ids:
        return set()
    statement = (
        update(table)
        .where(
            table.id.in_(ids),  # type: ignore[union-attr]
            table.claimed_by == claimant,  # type: ignore[arg-type]
            table.status == SCHEDULED,  # type: ignore[arg-type]
        )
        .values(lease_until=until.astimezone(UTC))
        .returning(table.id)  # type: ignore[arg-type]
    )
    with Session(db) as session:
        held = set(session.exec(statement).scalars())  # type: ignore[call-overload]
        session.commit()
    return held


def start_sending(
    db: Engine,
    *,
    reminder_id: int,
    user_id: int,
    claimant: str,
    now: datetime,
    lease: timedelta,
    table: Queue = ReminderRow,
) -> str:
    """Right before a claimed reminder is sent: check it is still `claimant`'s to send and mark
    it "sending" (its lease renewed to `now + lease`), in one transaction.

    Returns SEND, or why not: STOPPED (the user cancelled it, moved it, or forgot everything,
    or it is finished), INACTIVE (the user blocked the bot: marked skipped here), LOST (another
    sender took it over after our lease ran out). The user's row is locked first (shared), as
    the unit of work locks it before changing their reminders, so a /forget or a cancel either
    committed before this check or waits until the reminder is marked sending.

    An announcement's delivery (`table` DeliveryRow) is also STOPPED (and cancelled) when the
    user has turned the news off meanwhile.
    """
    with Session(db) as session:
        user = session.exec(
            select(User.active, User.news).where(User.id == user_id).with_for_update(read=True)  # type: ignore[arg-type]
        ).first()
        row = session.get(table, reminder_id, with_for_update=True)
        if user is None or row is None or row.status not in (SCHEDULED, SENDING):
            return STOPPED
        active, news = user
        if table is DeliveryRow and news is None:
            row.status, row.lease_until, row.last_error = CANCELLED, None, "news turned off"
            session.add(row)
            session.commit()
            return STOPPED
        if row.claimed_by != claimant:
            return LOST
        if not active:
            row.status, row.lease_until = SKIPPED, None
            row.last_error = "user inactive (blocked the bot)"
            if isinstance(row, ReminderRow):
                stats.count(session, event=stats.REMINDER_SKIPPED, lang=row.lang, key=row.kind)
            outcome = INACTIVE
        else:
            row.status, row.lease_until = SENDING, (now + lease).astimezone(UTC)
            outcome = SEND
        session.add(row)
        session.commit()
    return outcome


def unsend(db: Engine, *, reminder_id: int, claimant: str, table: Queue = ReminderRow) -> None:
    """Telegram refused a send for now (flood control): the reminder goes back to scheduled,
    still claimed, so the user can cancel it while the sender waits."""
    statement = (
        update(table)
        .where(
            table.id == reminder_id,  # type: ignore[arg-type]
            table.claimed_by == claimant,  # type: ignore[arg-type]
            table.status == SENDING,  # type: ignore[arg-type]
        )
        .values(status=SCHEDULED)
    )
    with Session(db) as session:
        session.exec(statement)  # type: ignore[call-overload]
        session.commit()


def finish_reminder(
    db: Engine,
    *,
    reminder_id: int,
    claimant: str,
    status: str,
    reason: str | None = None,
    at: datetime | None = None,
    table: Queue = ReminderRow,
) -> bool:
    """Record how a claimed reminder (or announcement delivery) ended (sent, skipped, failed),
    and count a reminder's in the same transaction; False if `claimant` no longer held it (the
    user cancelled it meanwhile, or another sender took it over)."""
    moment = at or utcnow()
    values: dict[str, Any] = {"status": status, "lease_until": None, "last_error": _reason(reason)}
    if status == SENT:
        values["sent_at"] = moment.astimezone(UTC)
    statement = (
        update(table)
        .where(
            table.id == reminder_id,  # type: ignore[arg-type]
            table.claimed_by == claimant,  # type: ignore[arg-type]
        )
        .values(**values)
        .returning(table.id)  # type: ignore[arg-type]
    )
    if table is ReminderRow:
        statement = statement.returning(ReminderRow.kind, ReminderRow.lang)  # type: ignore[arg-type]
    with Session(db) as session:
        changed = session.exec(statement).all()  # type: ignore[call-overload]
        event = _REMINDER_EVENTS.get(status) if table is ReminderRow else None
        if event is not None:
            tallies = [stats.Tally(event, lang, kind) for _, kind, lang in changed]
            stats.count_all(session, tallies, day=taipei_today(moment))
        session.commit()
    return len(changed) == 1


_REMINDER_EVENTS = {
    SENT: stats.REMINDER_SENT,
    FAILED: stats.REMINDER_FAILED,
    SKIPPED: stats.REMINDER_SKIPPED,
}


def postpone_reminder(
    db: Engine,
    *,
    reminder_id: int,
    claimant: str,
    reason: str,
    until: datetime,
    table: Queue = ReminderRow,
) -> None:
    """A send failed for a reason that may pass (timeout, network): keep it scheduled, leased
    to nobody until `until`, so a later run tries again."""
    statement = (
        update(table)
        .where(
            table.id == reminder_id,  # type: ignore[arg-type]
            table.claimed_by == claimant,  # type: ignore[arg-type]
            table.status.in_((SCHEDULED, SENDING)),  # type: ignore[attr-defined]
        )
        .values(status=SCHEDULED, lease_until=until.astimezone(UTC), last_error=_reason(reason))
    )
    with Session(db) as session:
        session.exec(statement)  # type: ignore[call-overload]
        session.commit()


def block_user(db: Engine, *, user_id: int, reason: str) -> int:
    """Telegram says the user blocked the bot: mark them inactive and cancel every reminder
    and announcement still scheduled for them (or being sent: it met the block); returns how
    many reminders."""
    with Session(db) as session:
        mark_inactive(session, user_id=user_id)
        cancelled = session.exec(
            update(ReminderRow)
            .where(
                ReminderRow.user_id == user_id,  # type: ignore[arg-type]
                ReminderRow.status.in_((SCHEDULED, SENDING)),  # type: ignore[attr-defined]
            )
            .values(status=CANCELLED, lease_until=None, last_error=_reason(reason))
            .returning(ReminderRow.kind, ReminderRow.lang)  # type: ignore[arg-type]
        ).all()  # type: ignore[call-overload]
        tallies = [stats.Tally(stats.REMINDER_CANCELLED, lang, kind) for kind, lang in cancelled]
        session.exec(
            update(DeliveryRow)
            .where(
                DeliveryRow.user_id == user_id,  # type: ignore[arg-type]
                DeliveryRow.status.in_((SCHEDULED, SENDING)),  # type: ignore[attr-defined]
            )
            .values(status=CANCELLED, lease_until=None, last_error=_reason(reason))
        )
        stats.count_all(session, tallies)
        session.commit()
    return len(cancelled)


# --- announcements: the same sender over their deliveries ------------------------------------


@dataclass(frozen=True)
class DueDelivery:
    """An announcement's delivery as a sender claimed it: to whom, in which language, what.

    `lang` is the user's chosen language, else the one the chat was in when they turned the
    news on."""

    id: int
    user_id: int
    lang: str
    text: str
    button: str | None
    attempts: int  # claims so far, this one included
    active: bool  # False: the user blocked the bot


@dataclass(frozen=True)
class Recipients:
    """Who an announcement goes to now (active, opted in, not sent it yet), by language, and
    how many already had it."""

    by_lang: dict[str, int]
    already: int

    @property
    def total(self) -> int:
        return sum(self.by_lang.values())


def _news_lang() -> Any:
    """The language to send the news in: the chosen one, else the one it was turned on in."""
    return func.coalesce(User.language, User.news)


def save_announcement(
    db: Engine, *, key: str, text_en: str, text_zh: str, button: str | None
) -> int:
    """Store the announcement named `key` (its text is updated if it was stored before, so
    deliveries still to go carry a corrected text); its id."""
    with Session(db) as session:
        row = session.exec(select(Announcement).where(Announcement.key == key)).first()
        row = row or Announcement(key=key, text_en=text_en, text_zh=text_zh)
        row.text_en, row.text_zh, row.button = text_en, text_zh, button
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def queue_announcement(db: Engine, *, announcement_id: int, now: datetime) -> int:
    """A delivery, due at `now`, for every active user who opted in and has none of this
    announcement yet (one INSERT … SELECT; the unique pair makes a concurrent run's rows
    conflict, not double); how many were queued."""
    insert = sqlite_insert if db.dialect.name == "sqlite" else postgresql_insert
    users = select(
        literal(announcement_id), User.id, literal(now.astimezone(UTC)), literal(SCHEDULED),
        literal(0),
    ).where(User.active, User.news.is_not(None))  # type: ignore[arg-type,union-attr]  # fmt: skip
    statement = (
        insert(DeliveryRow)
        .from_select(["announcement_id", "user_id", "send_at", "status", "attempts"], users)
        .on_conflict_do_nothing()
    )
    with Session(db) as session:
        queued = session.exec(statement).rowcount  # type: ignore[call-overload]
        session.commit()
    return int(queued)


def announcement_recipients(db: Engine, *, key: str) -> Recipients:
    """Who the announcement named `key` would go to now, sending nothing (a dry run)."""
    with Session(db) as session:
        row = session.exec(select(Announcement.id).where(Announcement.key == key)).first()
        had = (
            select(DeliveryRow.user_id).where(DeliveryRow.announcement_id == row)  # type: ignore[arg-type]
            if row is not None
            else None
        )
        statement = (
            select(_news_lang(), func.count())
            .where(User.active, User.news.is_not(None))  # type: ignore[arg-type,union-attr]
            .group_by(_news_lang())
        )
        already = 0
        if had is not None:
            statement = statement.where(User.id.not_in(had))  # type: ignore[attr-defined]
            already = session.exec(
                select(func.count()).where(
                    DeliveryRow.announcement_id == row,  # type: ignore[arg-type]
                    DeliveryRow.status == SENT,  # type: ignore[arg-type]
                )
            ).one()
        by_lang = {lang: int(n) for lang, n in session.exec(statement)}
    return Recipients(by_lang, int(already))


def claim_due_deliveries(
    db: Engine, *, now: datetime, lease: timedelta, claimant: str, limit: int
) -> list[DueDelivery]:
    """Claim up to `limit` due announcement deliveries for `claimant`, as
    `claim_due_reminders` claims reminders."""
    with Session(db) as session:
        ids = _claim(session, DeliveryRow, now=now, lease=lease, claimant=claimant, limit=limit)
        claimed = []
        if ids:
            statement = (
                select(
                    DeliveryRow,
                    User.active,
                    _news_lang(),
                    Announcement.text_en,
                    Announcement.text_zh,
                    Announcement.button,
                )
                .join(User, User.id == DeliveryRow.user_id)  # type: ignore[arg-type]
                .join(Announcement, Announcement.id == DeliveryRow.announcement_id)  # type: ignore[arg-type]
                .where(DeliveryRow.id.in_(ids))  # type: ignore[union-attr]
                .order_by(DeliveryRow.send_at, DeliveryRow.id)  # type: ignore[arg-type]
            )
            for row, active, shown, text_en, text_zh, button in session.exec(statement):
                lang = next((known for known in LANGUAGES if known == shown), "en")
                claimed.append(
                    DueDelivery(
                        id=row.id or 0,
                        user_id=row.user_id,
                        lang=lang,
                        text=text_en if lang == "en" else text_zh,
                        button=button,
                        attempts=row.attempts,
                        active=active,
                    )
                )
        session.commit()
    return claimed


def _reminder(row: ReminderRow, *, chosen: str | None = None) -> Reminder:
    lang = chosen if chosen in LANGUAGES else row.lang
    return Reminder(
        kind=row.kind,
        key=row.key,
        days_before=row.days_before,
        due=row.due_on,
        send_at=_aware(row.send_at),
        lang=next((known for known in LANGUAGES if known == lang), "en"),
    )


def _reason(reason: str | None) -> str | None:
    return reason[:MAX_REASON] if reason else None


# --- helpers -----------------------------------------------------------------------------------


def _clip(text: str) -> str:
    return text[:MAX_TEXT]


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_question(name: str) -> bool:
    return any(q.id == name for q in guides.QUESTIONS)
