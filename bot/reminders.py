"""The cron sender (`python -m bot remind`): every reminder due by now, sent once, paced under
Telegram's broadcast limit, then a one-line summary.

Exactly once, as far as a network allows: a batch of due reminders is claimed in one conditional
update (`storage.claim_due_reminders`) under a lease; right before each send the reminder is
checked again and marked "sending" in one transaction (`storage.start_sending`: still ours, still
scheduled, the user neither gone nor inactive), and it is marked sent the moment Telegram accepts
it. One reminder at a time: a sender has at most one message between "sending" and "sent", so a
sender killed mid-run repeats at most that one on the next run (which takes over its claims once
the lease expires). A database connection lost on the way is retried once; a database still
failing stops the run, which says so and exits non-zero.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine as Database
from sqlalchemy.exc import OperationalError
from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot import storage, tickets
from bot.dates import TAIPEI, taipei_today
from bot.dialogue import Engine, Reply
from bot.models import Reminder as ReminderRow
from bot.models import utcnow
from bot.storage import FAILED, INACTIVE, SEND, SENT, SKIPPED, STOPPED, DueReminder
from bot.telegram.handoff import close_stale
from bot.telegram.sending import SharedBudget, send_reply

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_RATE = 25.0  # messages a second: under Telegram's ~30/s for broadcasts
LEASE = timedelta(minutes=5)  # how long a claim keeps other senders off a reminder
RETRY_DELAY = timedelta(minutes=1)  # a timed-out send waits at least this for its next run
MAX_ATTEMPTS = 5  # claims of one reminder before a network failure marks it failed
MAX_FLOOD_WAITS = 3  # RetryAfter waits for one message within a run
# Sends go one at a time (a kill repeats at most the message Telegram accepted and we had not
# yet marked sent), so the sender's Bot API client needs one connection. At ~100 ms a send that
# caps one sender near 10/s; overlapping runs add theirs.
CONCURRENCY = 1
BATCH_SECONDS = 10  # a claim takes what the rate sends in this long, far inside the lease
DB_RETRY_PAUSE = 1.0  # seconds before the one retry of a database call whose connection failed


class DatabaseDown(RuntimeError):
    """A database call failed twice in a row: the run stops, leaving the rest to the leases."""


@dataclass
class Summary:
    """What a run did; `retrying` counts reminders left for a later run after a network error,
    `unrecorded` those sent whose "sent" could not be written (a later run may repeat them), and
    `stopped` says a database error ended the run with due reminders left undone."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retrying: int = 0
    unrecorded: int = 0
    stopped: bool = False
    tickets_closed: int = 0  # requests to a person closed after 7 days without a message

    @property
    def undone(self) -> bool:
        """Whether the run left something it should have done (the exit status says so)."""
        return self.stopped or self.unrecorded > 0

    def line(self, what: str = "reminders") -> str:
        text = f"{what}: {self.sent} sent, {self.skipped} skipped, {self.failed} failed"
        if self.retrying:
            text += f", {self.retrying} to retry on a later run"
        if self.unrecorded:
            text += f", {self.unrecorded} sent but not recorded (a later run may repeat them)"
        if self.stopped:
            text += ", stopped by a database error (a later run sends what is left)"
        if self.tickets_closed:
            text += f"; requests to a person closed after 7 days: {self.tickets_closed}"
        return text


class Pacer:
    """Starts sends at least 1/rate seconds apart, by the clock, so no second sees more than
    `rate` of them; a flood wait from Telegram (`hold`) holds every send back."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.interval = 1 / rate
        self._clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        """Return when the next send may start (several waiters each get their own turn)."""
        while True:
            now = self._clock()
            if now >= self._next:
                # From when it really starts: a late wake-up must not bunch the next sends.
                self._next = now + self.interval
                return
            await asyncio.sleep(self._next - now)

    def hold(self, seconds: float) -> None:
        self._next = max(self._next, self._clock() + seconds)


def claim_size(rate: float) -> int:
    """How many reminders one claim takes: what `rate` sends in BATCH_SECONDS, at least 50."""
    return max(50, int(rate * BATCH_SECONDS))


def skip_reason(item: DueReminder, *, today: date, latest: DueReminder) -> str | None:
    """Why a due reminder is not worth sending (None: send it).

    Args:
        item: the reminder.
        today: the day it would be sent on (Asia/Taipei).
        latest: the latest-scheduled reminder of the same user's same deadline among those due
            now; after a sender outage only it goes out, not the whole backlog.
    """
    if not item.active:
        return "user inactive (blocked the bot)"
    if item.reminder.due < today:
        return "the deadline has passed"
    if latest.id != item.id:
        return "a later reminder of the same deadline is due too"
    return None


def skip_reasons(items: Sequence[DueReminder], *, today: date) -> list[str | None]:
    """`skip_reason` of each of `items` (due together), in order."""
    latest: dict[tuple[int, str, str], DueReminder] = {}
    for item in items:
        best = latest.get(_deadline(item))
        if best is None or item.reminder.send_at >= best.reminder.send_at:
            latest[_deadline(item)] = item
    return [skip_reason(item, today=today, latest=latest[_deadline(item)]) for item in items]


def _deadline(item: DueReminder) -> tuple[int, str, str]:
    """The user's deadline a reminder is about: (user, kind, key)."""
    return item.user_id, item.reminder.kind, item.reminder.key


class ReminderSender:
    """One run of the sender over a database, the engine (for the texts) and a `telegram.Bot`.

    `now` is the clock due reminders and leases are measured against (the CLI's `--now` fixes
    it); the pacing is by the real clock. The announcement sender (`bot.announcements`) is this
    sender over another table (`table`): it claims (`_claim_due`), skips (`_skip_reasons`) and
    renders (`_render`) its own rows, and everything else is the same.
    """

    table: storage.Queue = ReminderRow

    def __init__(
        self,
        db: Database,
        engine: Engine,
        bot: Bot,
        *,
        rate: float = DEFAULT_RATE,
        now: Callable[[], datetime] = utcnow,
        lease: timedelta = LEASE,
        retry_delay: timedelta = RETRY_DELAY,
        max_attempts: int = MAX_ATTEMPTS,
        batch_size: int | None = None,
        claimant: str | None = None,
        budget: SharedBudget | None = None,
    ) -> None:
        self.db, self.engine, self.bot = db, engine, bot
        self.pacer = Pacer(rate)
        # The bot's budget shared with the webhook workers (PostgreSQL): the pacer keeps the
        # sender under its own rate, the budget keeps everyone together under Telegram's.
        self.budget = budget
        self.now = now
        self.lease, self.retry_delay, self.max_attempts = lease, retry_delay, max_attempts
        self.batch_size = batch_size or claim_size(rate)
        self.claimant = claimant or claimant_name()
        self.summary = Summary()

    async def run(self, *, time_budget: float | None = None) -> Summary:
        """Claim and send batches until nothing is due (or `time_budget` seconds have passed:
        the batch under way is finished, the rest is left for the next run). A database that
        fails twice in a row stops the run (`Summary.stopped`); the leases hand on the rest."""
        started = time.monotonic()
        try:
            while time_budget is None or time.monotonic() - started < time_budget:
                batch = self._claim()
                if not batch:
                    break
                await self.send_batch(batch)
        except DatabaseDown as exc:
            log.error("the database failed twice in a row; stopping: %s", exc)
            self.summary.stopped = True
        return self.summary

    async def send_batch(self, batch: Sequence[DueReminder]) -> None:
        """Send a claimed batch one at a time, paced: skip what is not worth sending, check each
        reminder again right before its send (`storage.start_sending`).

        Raises:
            DatabaseDown: the database failed twice in a row.
        """
        today = taipei_today(self.now())
        to_send: list[DueReminder] = []
        for item, reason in zip(batch, self._skip_reasons(batch, today), strict=True):
            if reason is None:
                to_send.append(item)
            else:
                self._finish(item, SKIPPED, reason)
        renewed = time.monotonic()
        for n, item in enumerate(to_send):
            if time.monotonic() - renewed > self.lease.total_seconds() / 2:
                # A slow batch (flood waits): renew the lease before another sender may take
                # what is left. What is no longer ours, `start_sending` leaves.
                self._db(
                    storage.renew_leases,
                    self.db,
                    ids=[i.id for i in to_send[n:]],
                    claimant=self.claimant,
                    until=self.now() + self.lease,
                    table=self.table,
                )
                renewed = time.monotonic()
            await self.pacer.wait()
            await self._deliver(item, today)

    def _claim(self) -> Sequence[Any]:
        """Claim the next batch of due rows (`_claim_due`: reminders here).

        Raises:
            DatabaseDown: the database failed twice in a row.
        """
        return self._db(
            self._claim_due,
            self.db,
            now=self.now(),
            lease=self.lease,
            claimant=self.claimant,
            limit=self.batch_size,
        )

    def _claim_due(self, db: Database, **claim: Any) -> Sequence[Any]:
        return storage.claim_due_reminders(db, **claim)

    def _skip_reasons(self, batch: Sequence[Any], today: date) -> list[str | None]:
        return skip_reasons(batch, today=today)

    def _render(self, item: Any, today: date) -> Reply:
        return self.engine.reminder(
            item.reminder, item.reminder.lang, today=today, bot_username=self.bot.username
        )

    async def _deliver(self, item: DueReminder, today: date) -> None:
        """Send one reminder, if it is still to be sent, and record how it went."""
        try:
            reply = self._render(item, today)
        except Exception as exc:  # one unrenderable row must not stop everyone else's
            log.exception("reminder %s cannot be rendered", item.id)
            self._finish(item, FAILED, f"cannot render: {exc!r}")
            return
        floods = 0
        while True:
            check = self._db(
                storage.start_sending,
                self.db,
                reminder_id=item.id,
                user_id=item.user_id,
                claimant=self.claimant,
                now=self.now(),
                lease=self.lease,
                table=self.table,
            )
            if check != SEND:
                if check in (STOPPED, INACTIVE):
                    self.summary.skipped += 1  # the user stopped it or blocked the bot
                log.info("reminder %s not sent: %s", item.id, check)
                return
            try:
                await send_reply(self.bot, item.user_id, reply, budget=self.budget)
            except RetryAfter as exc:
                seconds = _seconds(exc)
                floods += 1
                if floods > MAX_FLOOD_WAITS or seconds > self.lease.total_seconds() / 2:
                    self._retry_later(item, f"RetryAfter: flood control, {seconds:g} s")
                    return
                log.warning("flood control: waiting %g s as Telegram asks", seconds)
                # Nothing went out: scheduled again while we wait, so the user may cancel it.
                self._db(
                    storage.unsend,
                    self.db,
                    reminder_id=item.id,
                    claimant=self.claimant,
                    table=self.table,
                )
                self.pacer.hold(seconds)
                await self.pacer.wait()
                continue
            except Forbidden as exc:
                cancelled = self._db(
                    storage.block_user,
                    self.db,
                    user_id=item.user_id,
                    reason=f"Forbidden: {exc.message}",
                )
                log.info("user %s blocked the bot: %s reminder(s) cancelled", item.user_id,
                         cancelled)  # fmt: skip
                self.summary.skipped += 1
                return
            except InvalidToken:
                raise  # nothing will get through: stop the run, the leases hand the rest on
            except BadRequest as exc:  # the request itself is wrong: sending again won't help
                self._finish(item, FAILED, f"BadRequest: {exc.message}")
                return
            except TelegramError as exc:  # timeouts, network errors: worth another run
                self._retry_later(item, f"{type(exc).__name__}: {exc.message}")
                return
            break
        self.summary.sent += 1
        try:
            recorded = self._db(
                storage.finish_reminder,
                self.db,
                reminder_id=item.id,
                claimant=self.claimant,
                status=SENT,
                table=self.table,
            )
        except DatabaseDown:
            self.summary.unrecorded += 1  # still "sending": the next run repeats this one
            raise
        if not recorded:
            log.warning("reminder %s was sent, then found deleted or taken over", item.id)

    def _db(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`call` (a storage function), once more after a pause if its connection failed (a
        database restart, a connection cut); DatabaseDown if it fails again."""
        try:
            return call(*args, **kwargs)
        except OperationalError as exc:
            log.warning("database call %s failed, retrying once: %s", call.__name__, exc.orig)
        time.sleep(DB_RETRY_PAUSE)  # the sender does one thing at a time: nothing else waits
        try:
            return call(*args, **kwargs)
        except OperationalError as exc:
            raise DatabaseDown(f"{call.__name__}: {exc.orig}") from exc

    def _finish(self, item: DueReminder, status: str, reason: str) -> None:
        self._db(
            storage.finish_reminder,
            self.db,
            reminder_id=item.id,
            claimant=self.claimant,
            status=status,
            reason=reason,
            table=self.table,
        )
        if status == FAILED:
            log.warning("reminder %s failed: %s", item.id, reason)
            self.summary.failed += 1
        else:
            self.summary.skipped += 1

    def _retry_later(self, item: DueReminder, reason: str) -> None:
        """A failure that may pass: try again on a later run, up to `max_attempts` claims."""
        if item.attempts >= self.max_attempts:
            self._finish(item, FAILED, f"{reason} (gave up after {item.attempts} attempts)")
            return
        self._db(
            storage.postpone_reminder,
            self.db,
            reminder_id=item.id,
            claimant=self.claimant,
            reason=reason,
            until=self.now() + self.retry_delay,
            table=self.table,
        )
        log.info("reminder %s: %s; retrying on a later run", item.id, reason)
        self.summary.retrying += 1


def claimant_name() -> str:
    """Who claims: host, process and a random part, so two runs never share a name."""
    return f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # a timedelta with PTB_TIMEDELTA=true (set by `run`), else an int
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def dry_run_lines(db: Database, *, now: datetime) -> list[str]:
    """What a run at `now` would do, one line per due reminder, then a summary line."""
    items = storage.due_reminders(db, now=now)
    lines, to_send = [], 0
    for item, reason in zip(items, skip_reasons(items, today=taipei_today(now)), strict=True):
        r = item.reminder
        to_send += reason is None
        lines.append(
            f"#{item.id} user {item.user_id} {r.kind}/{r.key} -{r.days_before}d "
            f"due {r.due.isoformat()} at {r.send_at.astimezone(TAIPEI):%Y-%m-%d %H:%M} "
            f"[{r.lang}]: " + ("send" if reason is None else f"skip ({reason})")
        )
    lines.append(
        f"reminders (dry run): {to_send} to send, {len(items) - to_send} to skip, nothing sent"
    )
    return lines


def make_bot(token: str, *, base_url: str | None = None, concurrency: int = CONCURRENCY) -> Bot:
    """A plain `telegram.Bot` with room for `concurrency` requests at once."""
    request = HTTPXRequest(
        connection_pool_size=concurrency + 1,  # +1: getMe at start-up
        connect_timeout=10.0,
        read_timeout=10.0,
        write_timeout=10.0,
        pool_timeout=10.0,
    )
    if base_url is None:
        return Bot(token, request=request)
    return Bot(token, base_url=base_url, request=request)


def parse_now(text: str) -> datetime:
    """`--now`: an ISO date-time; without an offset it is Asia/Taipei time."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=TAIPEI)


async def send_due(
    db: Database,
    engine: Engine,
    bot: Bot,
    *,
    now: datetime | None,
    rate: float,
    budget: SharedBudget | None = None,
) -> Summary:
    """One run against `bot` (initialised and shut down here), then the requests to a person
    idle for 7 days are closed (this cron job is what expires them)."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    async with bot:
        sender = ReminderSender(db, engine, bot, rate=rate, now=clock, budget=budget)
        summary = await sender.run()
        summary.tickets_closed = await close_stale(db, engine, bot, now=clock())
        return summary


def run(*, dry_run: bool, now: str | None, rate: float | None) -> int:
    """`python -m bot remind`: exit status 0 after a run (failures are in the summary), 2 for
    a setting it cannot run with, 1 when the Bot API refuses or cannot be reached, or the run
    left something undone (the database failed twice in a row, a "sent" not recorded)."""
    from telegram.error import NetworkError

    from bot.config import Settings
    from bot.knowledge import load_knowledge
    from bot.matching import Matcher
    from bot.redact import configure_logging, settings_secrets
    from bot.storage import (
        DatabaseFileGone,
        SchemaError,
        UnwritableDatabase,
        create_db_engine,
        prepare,
    )

    os.environ.setdefault("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta
    settings = Settings()
    configure_logging(settings.log_level, secrets=settings_secrets(settings))
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token
    try:
        moment = parse_now(now).astimezone(UTC) if now else None
    except ValueError:
        print(f"--now: {now!r} is not an ISO date-time (2027-02-28T10:00)", file=sys.stderr)
        return 2
    rate = rate if rate is not None else settings.broadcast_rate
    if rate <= 0:
        print(f"the broadcast rate must be positive, not {rate}", file=sys.stderr)
        return 2
    db = create_db_engine(settings.database_url)
    try:
        prepare(db)
        if dry_run:
            print("\n".join(dry_run_lines(db, now=moment or utcnow())))
            return 0
        from bot.telegram.app import SetupError, api_urls, bot_token

        try:
            token = bot_token(settings)
        except SetupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        idle = tickets.stale(db, now=moment or utcnow(), limit=1)
        if not idle and not storage.due_reminders(db, now=moment or utcnow(), limit=1):
            print(Summary().line())  # most runs: no need to load anything or call Telegram
            return 0
        base_url = settings.telegram_api_base_url
        knowledge = load_knowledge()
        engine = Engine(knowledge, Matcher(knowledge))
        bot = make_bot(token, base_url=api_urls(base_url)[0] if base_url else None)
        budget = SharedBudget.over(db, token=token, per_second=settings.send_budget)
        summary = asyncio.run(send_due(db, engine, bot, now=moment, rate=rate, budget=budget))
    except (SchemaError, UnwritableDatabase) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DatabaseFileGone as exc:  # deleted or replaced mid-run: stop, writing nothing more
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except InvalidToken:
        print("error: Telegram refused BOT_TOKEN (revoked or mistyped?)", file=sys.stderr)
        return 1
    except NetworkError as exc:
        print(f"error: cannot reach the Bot API: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:  # before the run: nothing claimed, nothing sent
        print(f"error: the database failed: {exc.orig}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(summary.line())
    return 1 if summary.undone else 0
