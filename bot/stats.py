"""The help desk's figures: anonymous counters per day, event, language and key, and the weekly
report `/stats` and `python -m bot stats` show.

Counting: `count(session, event=…, lang=…, key=…)` adds one to a counter in the caller's
transaction (the engine's effects are counted by `storage.converse` in the transaction that stores
the reply's state); `count_now(db, …)` is the same in a transaction of its own, for code that has
none. A counter holds no user id and no question text, only a day (Asia/Taipei), an event, a
language and a key (a topic, guide, calculator kind or reason), so /forget has nothing to delete
here. A counter that cannot be written is logged and left out: counting never fails what it counts.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot.dates import taipei_today
from bot.models import StatCounter

log = logging.getLogger(__name__)

# --- the events counted (`StatCounter.event`) and what their key is ----------------------------

MESSAGE = "message"  # a typed message (a question, or text a prompt waited for)
ANSWERED = "answered"  # answered directly; key: the topic
CHOSEN = "chosen"  # answered after "did you mean", the user's choice; key: the topic
DID_YOU_MEAN = "did_you_mean"  # "did you mean" offered
NONE_OF_THESE = "none_of_these"  # "None of these" pressed at "did you mean"
DECLINED = "declined"  # the honest "I don't know"; key: "no-match" or "out-of-scope"
HANDED_OFF = "handed_off"  # handed to a person (a handoff ticket opened)
# The applicant's answer to "was this helpful?" after the help desk closed their request.
HANDOFF_HELPFUL = "handoff_helpful"
HANDOFF_UNHELPFUL = "handoff_unhelpful"
GUIDE_STARTED = "guide_started"  # a guide entered (overview, a step, a deep link); key: guide
GUIDE_FINISHED = "guide_finished"  # a guide's last step done; key: the guide
CALCULATOR = "calculator"  # a deadline computed; key: the kind
REMINDER_SENT = "reminder_sent"  # key: the deadline kind
REMINDER_FAILED = "reminder_failed"  # failed for good; key: the deadline kind
REMINDER_SKIPPED = "reminder_skipped"  # not worth sending (deadline passed, user blocked the bot)
REMINDER_CANCELLED = "reminder_cancelled"  # by the user, or by a block; key: the deadline kind
ACTIVE_USER = "active_user"  # a user's first event of the week (Monday, Asia/Taipei)
EVENTS = (
    MESSAGE,
    ANSWERED,
    CHOSEN,
    DID_YOU_MEAN,
    NONE_OF_THESE,
    DECLINED,
    HANDED_OFF,
    HANDOFF_HELPFUL,
    HANDOFF_UNHELPFUL,
    GUIDE_STARTED,
    GUIDE_FINISHED,
    CALCULATOR,
    REMINDER_SENT,
    REMINDER_FAILED,
    REMINDER_SKIPPED,
    REMINDER_CANCELLED,
    ACTIVE_USER,
)
MAX_KEY = 40
# Rows per counter and day. On PostgreSQL an upsert holds its row until the transaction commits,
# so one row per counter would queue every worker's reply behind it; a random shard of 8 does not.
SHARDS = 8


@dataclass(frozen=True, order=True)
class Tally:
    """One thing to count: `event` (one of EVENTS) in `lang`, per `key` ("" when none)."""

    event: str
    lang: str
    key: str = ""


def count(
    session: Session,
    *,
    event: str,
    lang: str,
    key: str = "",
    day: date | None = None,
    n: int = 1,
) -> None:
    """Add `n` to the counter of `event` in `lang` (per `key`) on `day` (Asia/Taipei; default
    today), in the caller's transaction. Never raises for the database: see `count_all`."""
    count_all(session, [Tally(event, lang, key)] * n, day=day)


def count_all(session: Session, tallies: Iterable[Tally], *, day: date | None = None) -> None:
    """Count each of `tallies` once, in the caller's transaction, under a savepoint.

    A database error while counting rolls back to the savepoint and is logged: the caller's own
    writes and its commit go on. Counters are written in one order (sorted), so two transactions
    counting the same events never wait for each other in a cycle. Call it last in a
    transaction: the counter rows stay locked until the commit.
    """
    totals: dict[Tally, int] = {}
    for tally in tallies:
        if tally.event not in EVENTS:
            raise ValueError(f"unknown event {tally.event!r}")
        totals[tally] = totals.get(tally, 0) + 1
    if not totals:
        return
    day = day or taipei_today()
    session.flush()  # the caller's pending rows: their errors are the caller's, not ours
    shard = random.randrange(SHARDS)
    try:
        with session.begin_nested():
            for tally, n in sorted(totals.items()):
                session.execute(_upsert(session, tally, day=day, shard=shard, n=n))
    except DBAPIError as exc:
        log.warning("counting %s failed (nothing else is affected): %s", sorted(totals), exc.orig)


def count_now(
    db: Engine, *, event: str, lang: str, key: str = "", day: date | None = None, n: int = 1
) -> None:
    """`count` in a transaction of its own, for code that has none; logs and never raises for
    the database."""
    try:
        with Session(db) as session:
            count(session, event=event, lang=lang, key=key, day=day, n=n)
            session.commit()
    except DBAPIError as exc:
        log.warning("counting %s failed: %s", event, exc.orig)


def _upsert(session: Session, tally: Tally, *, day: date, shard: int, n: int):  # type: ignore[no-untyped-def]
    """INSERT the counter, or add to it if it exists (one statement on both databases)."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert(StatCounter).values(
        day=day, event=tally.event, lang=tally.lang, key=tally.key[:MAX_KEY], shard=shard, n=n
    )
    return statement.on_conflict_do_update(
        index_elements=["day", "event", "lang", "key", "shard"],
        set_={"n": StatCounter.n + statement.excluded.n},
    )


# --- reading -----------------------------------------------------------------------------------


def totals(
    db: Engine, *, since: date | None = None, until: date | None = None
) -> dict[tuple[date, str, str, str], int]:
    """The counters from `since` up to and including `until` (both optional), their shards
    added up: {(day, event, lang, key): n}."""
    statement = select(
        StatCounter.day,
        StatCounter.event,
        StatCounter.lang,
        StatCounter.key,
        func.sum(StatCounter.n),
    ).group_by(StatCounter.day, StatCounter.event, StatCounter.lang, StatCounter.key)
    if since is not None:
        statement = statement.where(StatCounter.day >= since)
    if until is not None:
        statement = statement.where(StatCounter.day <= until)
    with Session(db) as session:
        return {
            (day, event, lang, key): int(n) for day, event, lang, key, n in session.exec(statement)
        }
