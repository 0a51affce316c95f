"""What the handlers share: the database, the engine and the staff, kept in `bot_data`.

The database is synchronous (SQLAlchemy); each unit of work runs in a worker thread so the event
loop keeps serving other users meanwhile.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import Engine as Database
from sqlmodel import Session
from telegram.ext import CallbackContext

from bot import storage
from bot.dates import taipei_today
from bot.dialogue import Engine, Event, Reply

DESK_KEY = "desk"


@dataclass(frozen=True)
class Desk:
    db: Database
    engine: Engine
    staff_ids: frozenset[int] = frozenset()

    async def converse(self, user_id: int, event: Event) -> list[Reply]:
        """Handle one event of one user in the database (see `storage.converse`)."""
        return await asyncio.to_thread(
            storage.converse,
            self.db,
            self.engine,
            user_id=user_id,
            event=event,
            today=taipei_today(),
        )

    async def deactivate(self, user_id: int) -> None:
        """The user blocked the bot: mark them inactive (writing again reactivates them)."""
        await asyncio.to_thread(self._deactivate, user_id)

    def _deactivate(self, user_id: int) -> None:
        with Session(self.db) as session:
            storage.mark_inactive(session, user_id=user_id)
            session.commit()


def desk(context: CallbackContext) -> Desk:  # type: ignore[type-arg]
    """The desk the application was built with."""
    return context.bot_data[DESK_KEY]
