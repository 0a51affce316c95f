"""Storage: migrations build the models' schema, state round-trips, one user's updates are
serialised, logs are redacted, forgetting deletes everything (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from bot import guides
from bot.dialogue import Event, SavedDate, State
from bot.models import ConversationState, Feedback, UnansweredQuestion, User
from bot.models import SavedDate as SavedDateRow
from bot.storage import (
    ConcurrentUpdateError,
    SchemaError,
    converse,
    create_db_engine,
    current_revision,
    head_revision,
    load_state,
    mark_inactive,
    prepare,
    record_feedback,
    record_unanswered,
    store_state,
    unanswered_questions,
)

TODAY = date(2026, 11, 21)
USER = 7_000_000_001  # beyond 32 bits, as Telegram ids are


def test_migrations_build_exactly_the_models(db):
    with db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    assert current_revision(db) == head_revision()


def test_prepare_migrates_sqlite_and_refuses_an_unmigrated_server_database(tmp_path):
    db = create_db_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    prepare(db)
    assert current_revision(db) == head_revision()
    db.dispose()

    class Dialect:
        name = "postgresql"

    class Unmigrated:
        dialect = Dialect()

        def connect(self):
            return create_db_engine("sqlite://").connect()

    with pytest.raises(SchemaError, match="python -m bot migrate"):
        prepare(Unmigrated())  # type: ignore[arg-type]


def _full_state() -> State:
    return State(
        lang="zh",
        since=TODAY,
        guide="apply",
        step=9,
        profile=guides.Profile(inside_taiwan=True, renewal=False),
        pending="date:processing:hk-macau",
        question="my passport is [passport number]",
        topic="passport-requirements",
        saved=(
            SavedDate("renewal", date(2027, 6, 30)),
            SavedDate("processing", date(2026, 12, 1), "hk-macau"),
        ),
    )


def test_state_round_trips(db):
    state = _full_state()
    with Session(db) as session:
        assert load_state(session, user_id=USER) == (State(), None)
        assert store_state(session, user_id=USER, state=state, version=None, old=State())
        session.commit()
    with Session(db) as session:
        loaded, version = load_state(session, user_id=USER)
    assert version == 1
    assert replace(loaded, since=None) == replace(state, since=None)
    assert loaded.since is not None


def test_saving_a_kind_again_replaces_its_date_and_removing_deletes_the_row(db):
    state = _full_state()
    with Session(db) as session:
        store_state(session, user_id=USER, state=state, version=None, old=State())
        session.commit()
    changed = replace(state, saved=(SavedDate("renewal", date(2027, 7, 31)),))
    with Session(db) as session:
        assert store_state(session, user_id=USER, state=changed, version=1, old=state)
        session.commit()
    with Session(db) as session:
        rows = session.exec(select(SavedDateRow)).all()
        assert [(r.kind, r.given_on) for r in rows] == [("renewal", date(2027, 7, 31))]
        assert load_state(session, user_id=USER)[0].saved == changed.saved


def test_a_stored_impossible_date_is_dropped_on_load_not_raised_later(db, knowledge, matcher):
    """A far-future date saved from a forged button made every later /deadlines raise
    OverflowError: loading repairs the state (drops that date), the user's others are kept."""
    from bot.dialogue import Engine

    state = _full_state()
    with Session(db) as session:
        store_state(session, user_id=USER, state=state, version=None, old=State())
        session.add(SavedDateRow(user_id=USER, kind="supplement", given_on=date(9999, 12, 31)))
        session.commit()
    with Session(db) as session:
        loaded, _ = load_state(session, user_id=USER)
    assert loaded.saved == state.saved

    replies = converse(
        db, Engine(knowledge, matcher), user_id=USER, event=Event.command("deadlines"), today=TODAY
    )
    assert replies
    with Session(db) as session:
        kinds = {row.kind for row in session.exec(select(SavedDateRow)).all()}
    assert kinds == {"renewal", "processing"}


def test_a_stale_version_is_refused(db):
    with Session(db) as session:
        store_state(session, user_id=USER, state=State(lang="en"), version=None, old=State())
        session.commit()
    with Session(db) as session:
        assert not store_state(
            session, user_id=USER, state=State(lang="zh"), version=0, old=State()
        )
        session.rollback()
    with Session(db) as session:
        assert load_state(session, user_id=USER)[0].lang == "en"


def test_a_user_who_blocked_the_bot_is_inactive_until_they_write_again(db, knowledge, matcher):
    from bot.dialogue import Engine

    engine = Engine(knowledge, matcher)
    converse(db, engine, user_id=USER, event=Event.start(), today=TODAY)
    with Session(db) as session:
        mark_inactive(session, user_id=USER)
        session.commit()
        assert session.get(User, USER).active is False  # type: ignore[union-attr]
    converse(db, engine, user_id=USER, event=Event.message("hi"), today=TODAY)
    with Session(db) as session:
        assert session.get(User, USER).active is True  # type: ignore[union-attr]


def test_logs_are_redacted_and_anonymous(db):
    with Session(db) as session:
        record_unanswered(
            session,
            question="UI A800000014, passport E12345678, mail me at a@b.tw or 0912-345-678",
            lang="en",
            reason="no-match",
        )
        record_feedback(
            session, topic="check-progress", helpful=False, lang="zh", question="案號113551045830"
        )
        session.commit()
    with Session(db) as session:
        [logged] = unanswered_questions(session)
        feedback = session.exec(select(Feedback)).one()
    assert logged.question == (
        "UI [UI number], passport [passport number], mail me at [email] or [phone]"
    )
    assert feedback.question == "案號[application number]"
    assert not hasattr(logged, "user_id") and not hasattr(feedback, "user_id")


def test_converse_stores_state_and_effects_and_forget_deletes_the_user(db, knowledge, matcher):
    from bot.dialogue import Engine

    engine = Engine(knowledge, matcher)

    def say(event: Event) -> None:
        converse(db, engine, user_id=USER, event=event, today=TODAY)

    say(Event.start(language="en"))
    say(Event.message("what is the weather on mars today, my phone is +886 912 345 678"))
    say(Event.button("1:d:renewal"))
    say(Event.message("2027-06-30"))
    say(Event.button("1:ds:renewal:20270630"))
    with Session(db) as session:
        assert session.get(User, USER) is not None
        [logged] = session.exec(select(UnansweredQuestion)).all()
        assert "[phone]" in logged.question and "912" not in logged.question
        assert len(session.exec(select(SavedDateRow)).all()) == 1
    say(Event.command("forget"))
    say(Event.button("1:fg:1"))
    with Session(db) as session:
        assert session.get(User, USER) is None
        assert session.get(ConversationState, USER) is None
        assert session.exec(select(SavedDateRow)).all() == []
        assert len(session.exec(select(UnansweredQuestion)).all()) == 1  # anonymous: kept


class _Counter:
    """A stand-in engine that counts events in `question`, slowly, to provoke races."""

    def handle(self, event, state, *, today, now=None):
        count = int(state.question or 0)
        time.sleep(0.002)
        return [], replace(state, question=str(count + 1), since=today), []


def _hammer(db, events_per_thread: int, threads: int = 2) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(events_per_thread):
                converse(db, _Counter(), user_id=USER, event=Event.message("x"), today=TODAY)  # type: ignore[arg-type]
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []


def test_two_workers_never_lose_an_update(db):
    """Both threads start on a user who does not exist yet, then race on every event."""
    if db.dialect.name == "sqlite" and db.url.database in (None, "", ":memory:"):
        pytest.skip("one shared in-memory connection cannot run two transactions at once")
    _hammer(db, events_per_thread=25)
    with Session(db) as session:
        state, version = load_state(session, user_id=USER)
    assert (state.question, version) == ("50", 50)


def test_two_workers_on_a_sqlite_file(tmp_path):
    db = create_db_engine(f"sqlite:///{tmp_path / 'race.sqlite3'}")
    prepare(db)
    _hammer(db, events_per_thread=20)
    with Session(db) as session:
        state, version = load_state(session, user_id=USER)
    assert (state.question, version) == ("40", 40)
    db.dispose()


def test_losing_the_new_user_race_every_time_gives_up_with_an_error(db):
    if db.dialect.name == "sqlite":
        pytest.skip("SQLite's write lock makes the second writer wait instead of race")

    class Racer:
        """Creates the user in another session while the unit of work handles the event."""

        def handle(self, event, state, *, today, now=None):
            with Session(db) as other:
                other.add(User(id=USER))
                other.commit()
            return [], state, []

    with pytest.raises(ConcurrentUpdateError):
        converse(db, Racer(), user_id=USER, event=Event.message("x"), today=TODAY, attempts=1)  # type: ignore[arg-type]


def test_python_m_bot_migrate(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"database: at migration {head_revision()}"


def test_a_sqlite_file_uses_write_ahead_logging(tmp_path):
    db = create_db_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with db.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()


# --- replayed updates --------------------------------------------------------------------------


def _file_or(db, tmp_path):
    """`db`, or a SQLite file instead of one shared in-memory connection (which cannot run two
    transactions at once)."""
    if db.dialect.name == "sqlite":
        db = create_db_engine(f"sqlite:///{tmp_path / 'replays.sqlite3'}")
        prepare(db)
    return db


def test_one_update_raced_by_two_workers_is_handled_once(db, tmp_path):
    """Telegram redelivers, or a replay posts one update again, to two webhook workers at once:
    the update id is recorded in the unit of work's transaction, so only one of them handles it
    (both start on a user who does not exist yet, then on one who does)."""
    db = _file_or(db, tmp_path)
    handled: list[int] = []

    def worker(update_id: int) -> None:
        for _ in range(5):
            replies = converse(
                db, _Replier(), user_id=USER, event=Event.message("x"), today=TODAY,  # type: ignore[arg-type]
                update_id=update_id,
            )  # fmt: skip
            handled.extend([update_id] * len(replies))

    for update_id in (100_001, 100_002):
        pool = [threading.Thread(target=worker, args=(update_id,)) for _ in range(2)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    with Session(db) as session:
        state, version = load_state(session, user_id=USER)
    assert handled == [100_001, 100_002]
    assert (state.question, version) == ("2", 2)


class _Replier(_Counter):
    """Counts events like `_Counter` and answers each with one reply."""

    def handle(self, event, state, *, today, now=None):
        from bot.dialogue import Reply

        _, new_state, effects = super().handle(event, state, today=today, now=now)
        return [Reply(new_state.question or "")], new_state, effects


def test_a_failed_update_is_not_recorded_so_its_redelivery_is_handled(db):
    """The update id is written in the same transaction as the outcome: an update whose
    handling failed was not handled, and Telegram's redelivery of it is."""

    class Broken:
        def handle(self, event, state, *, today, now=None):
            raise RuntimeError("the engine broke")

    def say(engine) -> int:
        event = Event.message("x")
        return len(converse(db, engine, user_id=USER, event=event, today=TODAY, update_id=7))

    with pytest.raises(RuntimeError):
        say(Broken())
    assert say(_Replier()) == 1


def test_handled_update_ids_are_kept_a_day_then_pruned(db):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from bot import storage
    from bot.models import HandledUpdate

    def say(update_id: int) -> int:
        event = Event.message("x")
        return len(
            converse(db, _Replier(), user_id=USER, event=event, today=TODAY, update_id=update_id)  # type: ignore[arg-type]
        )

    assert say(1) == 1
    assert say(1) == 0
    with Session(db) as session:  # a day and a minute later
        old = datetime.now(UTC) - storage.KEEP_HANDLED_UPDATES - timedelta(minutes=1)
        session.exec(update(HandledUpdate).values(handled_at=old))  # type: ignore[call-overload]
        session.commit()
    assert say(2) == 1
    assert say(storage.PRUNE_HANDLED_EVERY * 3) == 1  # every so many updates prune old ids
    with Session(db) as session:
        kept = sorted(row.update_id for row in session.exec(select(HandledUpdate)))
    assert kept == [2, storage.PRUNE_HANDLED_EVERY * 3]


# --- a lost connection ---------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["SELECT users", "UPDATE users", "INSERT INTO handled"])
def test_a_connection_killed_mid_update_is_handled_again_once(db, statement):
    """PostgreSQL drops the connection (a restart, a failover, a network cut) in the middle of
    a unit of work: nothing was committed and the engine is pure, so the event is handled again
    on a new connection, once; a second loss fails the event."""
    from sqlalchemy.exc import OperationalError

    from tests.test_reminders import connection_killed

    if db.dialect.name != "postgresql":
        pytest.skip("a connection killed under the unit of work: PostgreSQL's failure")

    def say(update_id: int) -> int:
        event = Event.message("x")
        return len(
            converse(db, _Replier(), user_id=USER, event=event, today=TODAY, update_id=update_id)  # type: ignore[arg-type]
        )

    assert say(1) == 1
    with connection_killed(db, statement) as hits:
        assert say(2) == 1
    with connection_killed(db, statement, times=2), pytest.raises(OperationalError):
        say(3)
    assert say(4) == 1

    with Session(db) as session:
        state, version = load_state(session, user_id=USER)
    assert len(hits) == 1
    assert (state.question, version) == ("3", 3)


# --- SQLite faults -------------------------------------------------------------------------------


def test_a_read_only_database_is_refused_at_start_up(tmp_path):
    """SQLite opens a file it may not write read-only without a word: reads work and every
    write fails later. A read-only connection (`mode=ro`) is that, for root too, whom a
    read-only file does not stop (the processes in `tests/test_telegram.py` try the file)."""
    from bot.storage import UnwritableDatabase

    path = tmp_path / "bot.sqlite3"
    prepare(create_db_engine(f"sqlite:///{path}"))
    read_only = create_db_engine(f"sqlite:///file:{path}?mode=ro&uri=true")

    with pytest.raises(UnwritableDatabase, match="attempt to write a readonly database"):
        prepare(read_only)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_file_deleted_while_running_stops_the_next_unit_of_work(tmp_path, how):
    """A deleted file stays writable through the open connection, and all of it is gone at the
    next start: the next unit of work refuses to run instead, writing nothing."""
    import os

    from bot.storage import DatabaseFileGone

    path = tmp_path / "bot.sqlite3"
    db = create_db_engine(f"sqlite:///{path}")
    prepare(db)
    converse(db, _Replier(), user_id=USER, event=Event.message("x"), today=TODAY)  # type: ignore[arg-type]
    for file in tmp_path.glob("bot.sqlite3*"):
        file.unlink()
    if how == "replaced":
        other = create_db_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
        prepare(other)
        other.dispose()
        os.rename(tmp_path / "other.sqlite3", path)

    with pytest.raises(DatabaseFileGone, match=f"the database file {path} was deleted"):
        converse(db, _Replier(), user_id=USER, event=Event.message("x"), today=TODAY)  # type: ignore[arg-type]
    db.dispose()
