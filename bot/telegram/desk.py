"""What the handlers share: the database, the engine, the staff and their group, kept in
`bot_data`.

The database is synchronous (SQLAlchemy); each unit of work runs in a worker thread so the event
loop keeps serving other users meanwhile. SQLite takes one writer at a time and makes the others
sleep and poll for its lock, so its work goes to one thread, in turn; PostgreSQL locks only the
user's row, so its work runs on the default thread pool side by side.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Engine as Database
from sqlalchemy.exc import DBAPIError
from telegram.ext import CallbackContext

from bot import stats, storage
from bot.dates import taipei_today
from bot.dialogue import Engine, Event

DESK_KEY = "desk"
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Desk:
    db: Database
    engine: Engine
    staff_ids: frozenset[int] = frozenset()
    executor: Executor | None = field(default=None, compare=False)  # None: the default pool
    staff_chat_id: int | None = None  # the help desk's forum supergroup (STAFF_CHAT_ID)

    @classmethod
    def over(
        cls,
        db: Database,
        engine: Engine,
        staff_ids: frozenset[int] = frozenset(),
        *,
        staff_chat_id: int | None = None,
    ) -> Desk:
        """A desk whose database work runs where `db` handles it best (see above)."""
        single = ThreadPoolExecutor(1, "sqlite") if db.dialect.name == "sqlite" else None
        return cls(db, engine, staff_ids, single, staff_chat_id)

    async def converse(
        self, user_id: int, event: Event, *, update_id: int | None = None
    ) -> storage.Handled:
        """Handle one event of one user in the database, once per `update_id` (see
        `storage.handle_event`): the replies, and the help desk's work it leaves."""
        return await self._in_thread(
            functools.partial(
                storage.handle_event,
                self.db,
                self.engine,
                user_id=user_id,
                event=event,
                today=taipei_today(),
                update_id=update_id,
            )
        )

    async def remember_answers(self, user_id: int, sent: list[tuple[int, str]]) -> None:
        """Keep which messages just sent are answers to which topic (for reactions on them).
        The reply is out already: a database failure here costs only those reactions, so it is
        logged, not reported to the user as a failed update."""
        if not sent:
            return
        try:
            await self._in_thread(
                functools.partial(storage.remember_answers, self.db, user_id=user_id, sent=sent)
            )
        except DBAPIError as exc:
            log.warning("user %s: the answers just sent were not kept (reactions on them will "
                        "not count): %s", user_id, type(exc).__name__)  # fmt: skip

    async def first_handling(self, update_id: int) -> bool:
        """Record an update answered without a unit of work; False if it already was (a
        replay: answer nothing)."""
        return await self._in_thread(
            functools.partial(storage.first_handling, self.db, update_id=update_id)
        )

    async def figures(self, *, since: date | None, until: date) -> stats.Report:
        """The help desk's weekly figures (`stats.weekly`), read in the database's thread."""
        return await self._in_thread(
            functools.partial(stats.weekly, self.db, since=since, until=until)
        )

    async def deactivate(self, user_id: int) -> None:
        """The user blocked the bot: mark them inactive and cancel their scheduled reminders, as
        the sender does (writing again reactivates them; their reminders stay cancelled)."""
        await self._in_thread(
            functools.partial(
                storage.block_user, self.db, user_id=user_id, reason="Forbidden: a reply"
            )
        )

    async def run(self, work: Callable[..., T], /, **kwargs: Any) -> T:
        """`work(self.db, **kwargs)`, a data function, where the database work runs."""
        return await self._in_thread(functools.partial(work, self.db, **kwargs))

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False)

    async def _in_thread(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, work)


def desk(context: CallbackContext) -> Desk:  # type: ignore[type-arg]
    """The desk the application was built with."""
    return context.bot_data[DESK_KEY]
