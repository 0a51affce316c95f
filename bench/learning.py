"""Learned questions benchmark: what a process pays to pick them up (`bot.learning.LiveMatcher`).

Run from the project root:  .venv/bin/python bench/learning.py [--learned 0 200 1000]

For each number of learned questions (made from the sample questions, reworded, spread over the
topics): the matcher's rebuild time, the once-every-30-s check (one `count`/`max(id)` query on a
SQLite file), and the router's latency per message (p50/p99) at rest and while the watcher
thread rebuilds without pause (the worst case: a rebuild happens at most once per check).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from bot.knowledge import load_knowledge  # noqa: E402
from bot.learning import LiveMatcher, learned_version  # noqa: E402
from bot.models import LearnedQuestion  # noqa: E402
from bot.routing import Router  # noqa: E402
from bot.storage import create_db_engine, migrate  # noqa: E402

TODAY = date(2026, 12, 3)
MESSAGES = 2000


def learned_pairs(knowledge, n: int) -> list[tuple[str, str]]:
    """`n` questions to learn: sample questions of every topic, reworded a little."""
    samples = [(t, q) for t, e in knowledge.faq.items() for q in e.questions.all()]
    pairs = []
    for i in range(n):
        topic, question = samples[i % len(samples)]
        pairs.append((topic, f"{question} (asked again {i})"))
    return pairs


def latencies(router: Router, questions: list[str]) -> list[float]:
    out = []
    for question in questions:
        start = time.perf_counter()
        router.route(question, today=TODAY)
        out.append((time.perf_counter() - start) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learned", type=int, nargs="*", default=[0, 200, 1000])
    args = parser.parse_args()
    knowledge = load_knowledge()
    questions = [q for e in knowledge.faq.values() for q in e.questions.all()]
    questions = (questions * (MESSAGES // len(questions) + 1))[:MESSAGES]
    print("| learned | rebuild s | check ms | p50 ms | p99 ms | p50 ms rebuilding | "
          "p99 ms rebuilding |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for n in args.learned:
        with tempfile.TemporaryDirectory() as folder:
            db = create_db_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
            migrate(db)
            with Session(db) as session:
                for topic, question in learned_pairs(knowledge, n):
                    session.add(LearnedQuestion(question=question, topic=topic, lang="en"))
                session.commit()
            live = LiveMatcher(knowledge, db)
            builds = []
            for _ in range(3):
                live._version = (-1, -1)  # force the rebuild a change would cause
                start = time.perf_counter()
                live.refresh()
                builds.append(time.perf_counter() - start)
            checks = []
            for _ in range(50):
                start = time.perf_counter()
                with Session(db) as session:
                    learned_version(session)
                checks.append((time.perf_counter() - start) * 1000)
            router = Router(knowledge, live)  # type: ignore[arg-type]
            at_rest = latencies(router, questions)
            stop = threading.Event()

            def rebuild(live: LiveMatcher = live, stop: threading.Event = stop) -> None:
                while not stop.is_set():
                    live._version = (-1, -1)
                    live.refresh()

            thread = threading.Thread(target=rebuild)
            thread.start()
            try:
                busy = latencies(router, questions)
            finally:
                stop.set()
                thread.join()
            db.dispose()
        print(
            f"| {n} | {statistics.median(builds):.2f} | {statistics.median(checks):.2f} | "
            f"{p(at_rest, 50):.1f} | {p(at_rest, 99):.1f} | "
            f"{p(busy, 50):.1f} | {p(busy, 99):.1f} |"
        )


if __name__ == "__main__":
    main()
