"""Shared fixtures: the real knowledge base, matcher and engine (built once), and databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.dialogue import Engine as DialogueEngine
from bot.knowledge import Knowledge, load_knowledge
from bot.matching import Matcher
from tests.fakebotapi import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge()


@pytest.fixture(scope="session")
def matcher(knowledge: Knowledge) -> Matcher:
    return Matcher(knowledge)


@pytest.fixture(scope="session")
def engine(knowledge: Knowledge, matcher: Matcher) -> DialogueEngine:
    return DialogueEngine(knowledge, matcher)


# --- databases: every storage and engine test runs on SQLite and, when reachable, PostgreSQL ---

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[Engine]:
    """A migrated PostgreSQL schema of its own (concurrent test runs share the server)."""
    from bot.storage import scratch_database

    with scratch_database(PG_URL) as db:
        if db is None:
            pytest.skip(f"PostgreSQL unreachable at {PG_URL}")
        yield db


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty database: in-memory SQLite, or the session's PostgreSQL schema."""
    from bot.storage import create_db_engine, migrate

    if request.param == "postgresql":
        yield from _emptied_postgres(request)
        return
    db = create_db_engine("sqlite://")
    migrate(db)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite-file", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database several connections use at once (a test reads it while the
    bot writes, which one shared in-memory connection cannot do): a SQLite file, or the
    session's PostgreSQL schema."""
    from bot.storage import create_db_engine, migrate

    if request.param == "postgresql":
        yield from _emptied_postgres(request)
        return
    db = create_db_engine(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    migrate(db)
    yield db
    db.dispose()


def _emptied_postgres(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The session's PostgreSQL schema for one test, emptied after it."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    db = request.getfixturevalue("postgres_db")
    yield db
    tables = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)
    with db.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def _retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else reading RetryAfter.retry_after warns


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API on a local port (`tests/fakebotapi.py`)."""
    async with FakeBotApi() as api:
        yield api
