"""Telegram benchmark: updates per second through the fake Bot API on loopback, and the time from
an update to its reply, for our bot and a bare echo bot in the same run, on SQLite and PostgreSQL.

Run from the project root:  .venv/bin/python bench/telegram.py [--updates 2000] [--users 20]
Closed loop: each simulated user sends a question, waits for the reply, sends the next. Both bots
long-poll the same kind of fake with the same per-user concurrency and no rate limiter (the
limiter caps sending at Telegram's 30 messages/s by design; one extra row shows it). Each run stops
at --updates replies or --time-limit seconds, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and this file is "telegram" there.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import Engine as Database  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.dialogue import Engine  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from bot.storage import scratch_database  # noqa: E402
from bot.telegram.app import MAX_CONCURRENT_UPDATES, PerUserUpdates, build_application  # noqa: E402
from tests.fakebotapi import FakeBotApi, TimedFake, polling  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Result:
    name: str
    replies: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.replies / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def questions() -> list[str]:
    """Real sample questions of every topic, both languages, in a fixed interleaved order."""
    knowledge = load_knowledge()
    pairs = [
        (entry.questions["en"][i], entry.questions["zh"][i])
        for entry in knowledge.faq.values()
        for i in range(min(len(entry.questions["en"]), len(entry.questions["zh"]), 3))
    ]
    return [q for pair in pairs for q in pair]


def echo_bot(fake: FakeBotApi) -> Application:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(update.effective_message.text)

    application = fake.builder().concurrent_updates(PerUserUpdates(MAX_CONCURRENT_UPDATES)).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    return application


async def run(
    name: str, build, *, asked: list[str], updates: int, users: int, time_limit: float
) -> Result:
    async with TimedFake() as fake:
        application = build(fake)
        people = [
            fake.user(f"user{n}", language_code=("en", "zh-hant")[n % 2]) for n in range(users)
        ]
        async with polling(application):
            # Warm-up, not measured: first contact (our bot answers it with the welcome too).
            await asyncio.gather(*(fake.exchange(fake.command(p, "start")) for p in people))
            texts = itertools.cycle(asked)
            latencies: list[float] = []
            started = time.perf_counter()
            deadline = started + time_limit

            async def user(person: dict) -> None:
                while len(latencies) < updates and time.perf_counter() < deadline:
                    latencies.append(await fake.exchange(fake.message(person, next(texts))))

            await asyncio.gather(*(user(p) for p in people))
            elapsed = time.perf_counter() - started
    return Result(name, len(latencies), elapsed, latencies)


def ours(db: Database, engine: Engine, *, rate_limit: bool = False):
    def build(fake: FakeBotApi) -> Application:
        settings = Settings.from_mapping(
            {"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}
        )
        return build_application(settings, db=db, engine=engine, rate_limit=rate_limit)

    return build


def row(result: Result, baseline: Result | None) -> str:
    ratio = f"{result.per_second / baseline.per_second:.2f}" if baseline else "1.00"
    return (
        f"| {result.name} | {result.replies} | {result.per_second:,.0f} | {ratio} "
        f"| {result.percentile(50):.1f} | {result.percentile(99):.1f} |"
    )


async def bench(args: argparse.Namespace) -> list[str]:
    knowledge = load_knowledge()
    engine = Engine(knowledge, Matcher(knowledge))
    asked = questions()
    limits = {"users": args.users, "time_limit": args.time_limit, "asked": asked}
    lines = [
        "| bot | replies | updates/s | vs echo | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    databases = (("SQLite", None), ("PostgreSQL", args.pg_url))
    for label, database in ((label, scratch_database(url)) for label, url in databases):
        with database as db:
            if db is None:
                lines.append(f"| {label}: unreachable at {args.pg_url}, skipped | | | | | |")
                continue
            echo = await run(f"echo bot ({label} run)", echo_bot, updates=args.updates, **limits)
            lines.append(row(echo, None))
            mine = await run(f"our bot, {label}", ours(db, engine), updates=args.updates, **limits)
            lines.append(row(mine, echo))
            if label == "SQLite" and args.limited:
                limited = await run(
                    "our bot, SQLite, with the rate limiter (30 msg/s)",
                    ours(db, engine, rate_limit=True),
                    updates=args.limited,
                    **limits,
                )
                lines.append(row(limited, echo))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=2000, help="replies per run (default 2000)")
    ap.add_argument("--users", type=int, default=20, help="simulated users at once")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per run at most")
    ap.add_argument("--limited", type=int, default=150, help="replies for the rate-limited row")
    ap.add_argument("--pg-url", default=PG_URL)
    args = ap.parse_args()
    started = time.perf_counter()
    lines = asyncio.run(bench(args))
    print(f"{args.users} user(s) in a closed loop; {os.cpu_count()} CPUs; "
          f"{time.perf_counter() - started:.0f} s in all")  # fmt: skip
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
