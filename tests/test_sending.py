"""One send budget for the bot's token: webhook workers and the reminder sender, each in its own
thread and event loop as if in its own process, draw on one rate kept in PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import event

from bot.config import Settings
from bot.dialogue import Engine, Reply
from bot.reminders import Summary
from bot.telegram.app import build_application
from bot.telegram.sending import SharedBudget, send_replies
from tests.fakebotapi import FakeBotApi
from tests.test_reminders import seed, send, sent_to

BUDGET = 20.0  # messages a second (Telegram's is ~30; lower keeps the test short)


@pytest.fixture
def budget_statements(shared_db: Database) -> Iterator[list[str]]:
    """The statements that touch the budget's table, as they run."""
    seen: list[str] = []

    def record(_conn, _cursor, statement: str, *_args: object) -> None:
        if "send_budget" in statement:
            seen.append(statement)

    event.listen(shared_db, "before_cursor_execute", record)
    yield seen
    event.remove(shared_db, "before_cursor_execute", record)


def most_in_one_second(arrivals: list[float]) -> int:
    # 30 ms allow for loopback jitter between a send's start and its arrival.
    return max(sum(a <= b < a + 0.97 for b in arrivals) for a in arrivals)


@pytest.mark.postgres
@pytest.mark.parametrize("shared_db", ["postgresql"], indirect=True)
async def test_two_workers_and_the_sender_stay_under_one_budget(
    shared_db: Database, engine: Engine, fake: FakeBotApi, budget_statements: list[str]
) -> None:
    """Each paced itself before: two workers sent 57 messages a second together and the sender
    25 on top. Now they share the budget, at one statement per message."""
    settings = Settings.from_mapping(
        {"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
         "SEND_BUDGET": str(BUDGET)}
    )  # fmt: skip
    users = list(range(101, 131))
    for user_id in users:
        fake.user(id=user_id)
    seed(shared_db, users)  # 30 reminders due
    workers = [build_application(settings, db=shared_db, engine=engine) for _ in range(2)]

    def worker(number: int) -> None:
        async def replies() -> None:
            application = workers[number]
            async with application:
                await asyncio.gather(
                    *(
                        send_replies(application.bot, user_id, [Reply(f"reply {number}")])
                        for user_id in users
                    )
                )

        asyncio.run(replies())

    def sender() -> Summary:
        budget = SharedBudget.over(shared_db, token=fake.token, per_second=BUDGET)
        assert budget is not None
        return asyncio.run(send(shared_db, engine, fake, rate=25.0, budget=budget))

    started = time.monotonic()
    *_, summary = await asyncio.gather(
        asyncio.to_thread(worker, 0), asyncio.to_thread(worker, 1), asyncio.to_thread(sender)
    )
    took = time.monotonic() - started

    arrivals = sorted(call.at for call in fake.calls_to("sendMessage"))
    assert summary == Summary(sent=30)
    assert sent_to(fake) == sorted(users * 3)
    assert len(arrivals) == 90
    assert most_in_one_second(arrivals) <= BUDGET
    assert took >= 89 / BUDGET
    assert len(budget_statements) == 90


def test_sqlite_keeps_the_in_process_limiter(tmp_path) -> None:
    """One SQLite process is the only one sending: no table to share, PTB's limiter alone."""
    from bot.storage import create_db_engine

    db = create_db_engine(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    assert SharedBudget.over(db, token="42:abc") is None
    db.dispose()


async def test_a_database_failing_under_the_budget_paces_and_sends(caplog) -> None:
    """The limiter is never why a message is lost: the database failing, a send waits a slot."""
    from bot.storage import create_db_engine

    # Nothing listens on port 1: the connection is refused at once.
    down = create_db_engine("postgresql+psycopg://postgres@127.0.0.1:1/test")
    budget = SharedBudget(down, bot_id=42, per_second=10)
    started = time.monotonic()
    await budget.take()
    assert time.monotonic() - started >= 0.1
    assert "send budget: the database failed (OperationalError)" in caplog.text
    down.dispose()
