"""Reminder sender benchmark: 10,000 users with a due reminder, the fake Bot API on loopback with
no latency, on SQLite and PostgreSQL (skipped when unreachable).

Run from the project root:  .venv/bin/python bench/reminders.py [--users 10000] [--seconds 30]
Measures the time to find and claim every due reminder (in the sender's batches, and in one
claim), then the send rate the sender achieves as a fraction of its limit: at the default 25
messages a second for --seconds, then at a limit far above it (--fast, for --seconds) to show the
headroom. The fake runs in a thread of its own, as Telegram is another machine. Every run is
bounded: a phase stops claiming after --seconds and finishes the batch under way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import Engine as Database  # noqa: E402
from sqlalchemy import insert, text, update  # noqa: E402

from bot import schedule  # noqa: E402
from bot.dates import TAIPEI  # noqa: E402
from bot.dialogue import Engine  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from bot.models import Reminder, User  # noqa: E402
from bot.reminders import DEFAULT_RATE, ReminderSender, claim_size, make_bot  # noqa: E402
from bot.storage import claim_due_reminders, scratch_database  # noqa: E402
from tests.fakebotapi import FakeBotApi  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
EXPIRY = date(2027, 6, 30)  # renewal: its first reminder (the window opens) is due at NOW
SAVED = datetime(2026, 11, 21, 15, 0, tzinfo=TAIPEI)
NOW = datetime(2027, 2, 28, 10, 0, tzinfo=TAIPEI)
LEASE = timedelta(minutes=5)
FIRST_USER = 1_000_000_000


def seed(db: Database, users: int) -> int:
    """`users` users with renewal reminders: one due now each, three later ones; the rows."""
    planned = schedule.schedule("renewal", EXPIRY, now=SAVED)
    ids = range(FIRST_USER, FIRST_USER + users)
    now = datetime.now(UTC)
    rows = [
        {
            "user_id": user_id,
            "kind": r.kind,
            "key": r.key,
            "days_before": r.days_before,
            "due_on": r.due,
            "send_at": r.send_at,
            "lang": "zh" if user_id % 2 else "en",
            "status": "scheduled",
            "attempts": 0,
            "created_at": now,
        }
        for user_id in ids
        for r in planned
    ]
    with db.begin() as connection:
        connection.execute(
            insert(User),
            [
                {"id": i, "created_at": now, "last_seen": now, "active": True, "version": 1}
                for i in ids
            ],
        )
        connection.execute(insert(Reminder), rows)
        if db.dialect.name == "postgresql":
            connection.execute(text("ANALYZE reminders"))
    return len(rows)


def unclaim(db: Database) -> None:
    with db.begin() as connection:
        connection.execute(update(Reminder).values(claimed_by=None, lease_until=None, attempts=0))


def time_claims(db: Database, *, limit: int) -> tuple[int, int, float]:
    """Claim every due reminder `limit` at a time: (claimed, claims, seconds)."""
    claimed = claims = 0
    started = time.perf_counter()
    while batch := claim_due_reminders(db, now=NOW, lease=LEASE, claimant="bench", limit=limit):
        claimed += len(batch)
        claims += 1
    return claimed, claims, time.perf_counter() - started


@contextmanager
def fake_in_a_thread(users: int) -> Iterator[FakeBotApi]:
    """The fake Bot API serving from its own thread and event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeBotApi()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result()
    for user_id in range(FIRST_USER, FIRST_USER + users):
        fake.user(id=user_id)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


async def send(
    db: Database, engine: Engine, fake: FakeBotApi, *, rate: float, seconds: float
) -> tuple[int, float]:
    """One bounded sender run: (messages sent, seconds)."""
    async with make_bot(fake.token, base_url=fake.base_url) as bot:
        sender = ReminderSender(db, engine, bot, rate=rate, now=lambda: NOW)
        started = time.perf_counter()
        summary = await sender.run(time_budget=seconds)
        elapsed = time.perf_counter() - started
    assert summary.failed == summary.retrying == 0, summary
    return summary.sent, elapsed


def bench(args: argparse.Namespace) -> list[str]:
    knowledge = load_knowledge()
    engine = Engine(knowledge, Matcher(knowledge))
    batch = claim_size(DEFAULT_RATE)
    lines = [
        "| database | claim all due, in batches of "
        f"{batch} | in one claim | limit msg/s | sent | achieved msg/s | of the limit |",
        "|---|---|---|---|---|---|---|",
    ]
    databases = (("SQLite", None), ("PostgreSQL", args.pg_url))
    for label, database in ((label, scratch_database(url)) for label, url in databases):
        with database as db:
            if db is None:
                lines.append(f"| {label}: unreachable at {args.pg_url}, skipped |||||||")
                continue
            rows = seed(db, args.users)
            claimed, claims, batched = time_claims(db, limit=batch)
            assert claimed == args.users, (claimed, args.users)
            unclaim(db)
            _, _, at_once = time_claims(db, limit=args.users)
            unclaim(db)
            claim_cells = f"{batched:.2f} s ({claims} claims)", f"{at_once:.2f} s"
            with fake_in_a_thread(args.users) as fake:
                for rate in (DEFAULT_RATE, args.fast):
                    sent, elapsed = asyncio.run(
                        send(db, engine, fake, rate=rate, seconds=args.seconds)
                    )
                    achieved = sent / elapsed
                    lines.append(
                        f"| {label}, {rows:,} rows | {claim_cells[0]} | {claim_cells[1]} "
                        f"| {rate:g} | {sent:,} in {elapsed:.1f} s | {achieved:,.1f} "
                        f"| {achieved / rate:.2f} |"
                    )
                    claim_cells = ("″", "″")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=10_000, help="users with a due reminder")
    ap.add_argument("--seconds", type=float, default=30.0, help="each send phase, at most")
    ap.add_argument("--fast", type=float, default=1000.0, help="the high limit, msg/s")
    ap.add_argument("--pg-url", default=PG_URL)
    args = ap.parse_args()
    started = time.perf_counter()
    lines = bench(args)
    print(f"{args.users:,} users with a due reminder; {os.cpu_count()} CPUs; "
          f"{time.perf_counter() - started:.0f} s in all")  # fmt: skip
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
