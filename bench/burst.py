"""Burst benchmark: do other users wait while one user floods the bot?

Run from the project root:  .venv/bin/python bench/burst.py [--burst 50] [--users 20]
Against the fake Bot API on loopback with a slow Bot API (--latency, default 200 ms per call, as
Telegram can be), on SQLite: `--users` users each ask `--rounds` questions in a closed loop, once
alone (the baseline) and once right after one more user sent `--burst` messages at once (a
forward of many messages is one tap). Prints both p50/p99 and exits 1 when the burst p50 is more
than twice the baseline's (the target of issue 11).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.config import Settings  # noqa: E402
from bot.dialogue import Engine  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from bot.storage import scratch_database  # noqa: E402
from bot.telegram.app import MAX_BACKLOG, build_application  # noqa: E402
from tests.fakebotapi import TimedFake, polling  # noqa: E402

QUESTIONS = ("how do I renew my gold card?", "金卡要怎麼延期", "what documents do I need?")


def percentile(latencies: list[float], p: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def bench(args: argparse.Namespace) -> tuple[list[float], list[float]]:
    knowledge = load_knowledge()
    engine = Engine(knowledge, Matcher(knowledge))
    with scratch_database(None) as db:
        assert db is not None
        async with TimedFake(args.latency) as fake:
            settings = Settings.from_mapping(
                {"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}
            )
            application = build_application(settings, db=db, engine=engine, rate_limit=False)
            people = [fake.user(f"user{n}") for n in range(args.users)]
            flooder = fake.user("flooder")
            async with polling(application):
                await asyncio.gather(*(fake.exchange(fake.command(p, "start")) for p in people))
                await fake.exchange(fake.command(flooder, "start"))

                async def everyone() -> list[float]:
                    async def ask(person: dict) -> list[float]:
                        return [
                            await fake.exchange(fake.message(person, QUESTIONS[n % 3]))
                            for n in range(args.rounds)
                        ]

                    return [t for ts in await asyncio.gather(*map(ask, people)) for t in ts]

                baseline = await everyone()
                fake.push(*(fake.message(flooder, f"question {n}") for n in range(args.burst)))
                during = await everyone()
    return baseline, during


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--burst", type=int, default=50, help="messages the flooder sends at once")
    ap.add_argument("--users", type=int, default=20, help="other users, each in a closed loop")
    ap.add_argument("--rounds", type=int, default=1, help="questions each other user asks")
    ap.add_argument("--latency", type=float, default=0.2, help="seconds per Bot API call")
    args = ap.parse_args()
    baseline, during = asyncio.run(bench(args))
    base50, burst50 = percentile(baseline, 50), percentile(during, 50)
    print(f"{args.users} users x {args.rounds} questions, Bot API {args.latency * 1000:.0f} ms, "
          f"one user sends {args.burst} at once (backlog cap {MAX_BACKLOG})")  # fmt: skip
    print("| | p50 s | p99 s |\n|---|---|---|")
    print(f"| alone | {base50:.2f} | {percentile(baseline, 99):.2f} |")
    print(f"| during the burst | {burst50:.2f} | {percentile(during, 99):.2f} |")
    within = burst50 <= 2 * base50
    print(f"burst p50 / baseline p50 = {burst50 / base50:.2f} ({'ok' if within else 'over 2x'})")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
