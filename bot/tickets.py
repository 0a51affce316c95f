"""Tickets: requests handed to a person, as rows, so the staff's replies find their user from any
process and after any restart (the topic of the staff group → the ticket → the user).

The unit of work (`bot.storage`) applies the engine's handoff effects here, in its transaction,
and gets back what Telegram must then be asked to do (`DeskWork`: open a topic, post the user's
message in it, close it, delete the topics of a user who asked to be forgotten);
`bot.telegram.handoff` does it, and the staff's side calls the functions over a database below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, update
from sqlmodel import Session, delete, select

from bot.i18n import LANGUAGES, Language
from bot.models import Ticket, utcnow
from bot.redact import redact

OPEN, CLOSED, BLOCKED = "open", "closed", "blocked"
# A ticket without a message either way for this long closes itself (`close_stale`, run by the
# reminder sender's cron job).
IDLE_LIMIT = timedelta(days=7)
MAX_QUESTION = 600


@dataclass(frozen=True)
class TicketView:
    """A ticket as the adapter needs it: whose, in which language, where its topic is."""

    id: int
    user_id: int
    lang: Language  # the applicant's: what they are told in ("zh-hans": 简体)
    status: str
    chat_id: int | None
    thread_id: int | None
    question: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def has_topic(self) -> bool:
        return self.chat_id is not None and self.thread_id is not None


# --- what Telegram must do after the unit of work ---------------------------------------------


@dataclass(frozen=True)
class OpenTopic:
    """A new ticket: open its topic in the staff group and post the question there. An
    applicant keeps one topic: `previous` is the topic of their last ticket, to reopen."""

    ticket: TicketView
    previous: tuple[int, int] | None = None  # (chat id, thread id)


@dataclass(frozen=True)
class PostToTopic:
    """The user wrote while their ticket is open: their message goes to its topic (its topic is
    opened first if a crash left it without one)."""

    ticket: TicketView
    text: str  # redacted


@dataclass(frozen=True)
class UserClosed:
    ticket: TicketView


@dataclass(frozen=True)
class DeleteTopics:
    """The user asked to be forgotten: their tickets' topics go from the staff group too."""

    topics: tuple[tuple[int, int], ...]  # (chat id, thread id)


DeskWork = OpenTopic | PostToTopic | UserClosed | DeleteTopics


# --- in the unit of work's transaction -----------------------------------------------------------


def ticket_state(session: Session, *, user_id: int) -> Literal["open", "blocked"] | None:
    """ "open" while the user has an open ticket, "blocked" once the help desk blocked them."""
    statuses = set(
        session.exec(
            select(Ticket.status).where(
                Ticket.user_id == user_id,  # type: ignore[arg-type]
                Ticket.status.in_((OPEN, BLOCKED)),  # type: ignore[attr-defined]
            )
        ).all()
    )
    return "blocked" if BLOCKED in statuses else "open" if OPEN in statuses else None


def open_ticket(
    session: Session,
    *,
    user_id: int,
    lang: str,
    question: str | None,
    candidates: Sequence[str],
) -> OpenTopic | None:
    """A new open ticket (the user's row is locked by the caller, so one at a time); None if
    the user already has one open or is blocked."""
    if ticket_state(session, user_id=user_id) is not None:
        return None
    last = session.exec(
        select(Ticket)
        .where(Ticket.user_id == user_id, Ticket.thread_id.is_not(None))  # type: ignore[arg-type,union-attr]
        .order_by(Ticket.id.desc())  # type: ignore[union-attr]
    ).first()
    row = Ticket(
        user_id=user_id,
        lang=lang,
        question=redact(question)[:MAX_QUESTION] if question else None,
        candidates=list(candidates),
    )
    session.add(row)
    session.flush()  # its id names the topic
    previous = (last.chat_id, last.thread_id) if last and last.chat_id and last.thread_id else None
    return OpenTopic(_view(row), previous)


def relay(session: Session, *, user_id: int, text: str) -> PostToTopic | None:
    """The user's message for their open ticket (its idle clock restarts); None if none is."""
    row = _open_of(session, user_id)
    if row is None:
        return None
    row.last_message_at = utcnow()
    session.add(row)
    return PostToTopic(_view(row), redact(text))


def close_by_user(session: Session, *, user_id: int) -> UserClosed | None:
    row = _open_of(session, user_id)
    if row is None:
        return None
    row.status, row.closed_at = CLOSED, utcnow()
    session.add(row)
    return UserClosed(_view(row))


def forget(session: Session, *, user_id: int) -> DeleteTopics | None:
    """Delete every ticket of the user; the topics they had, to delete in the staff group."""
    rows = session.exec(select(Ticket).where(Ticket.user_id == user_id)).all()  # type: ignore[arg-type]
    topics = tuple(  # one topic per applicant, but a ticket per request in it
        dict.fromkeys(
            (row.chat_id, row.thread_id)
            for row in rows
            if row.chat_id is not None and row.thread_id is not None
        )
    )
    session.exec(delete(Ticket).where(Ticket.user_id == user_id))  # type: ignore[arg-type]
    return DeleteTopics(topics) if topics else None


def _open_of(session: Session, user_id: int) -> Ticket | None:
    return session.exec(
        select(Ticket).where(Ticket.user_id == user_id, Ticket.status == OPEN)  # type: ignore[arg-type]
    ).first()


# --- the staff's side and housekeeping (their own transactions) --------------------------------


def set_topic(db: Engine, *, ticket_id: int, chat_id: int, thread_id: int) -> None:
    """The ticket's topic was opened and its question posted: route replies there, and keep the
    question no longer (the topic shows it)."""
    with Session(db) as session:
        session.exec(
            update(Ticket)
            .where(Ticket.id == ticket_id)  # type: ignore[arg-type]
            .values(chat_id=chat_id, thread_id=thread_id, question=None, candidates=[])
        )
        session.commit()


def by_topic(db: Engine, *, chat_id: int, thread_id: int) -> TicketView | None:
    """The ticket whose topic this is (the latest, should a topic ever be reused)."""
    with Session(db) as session:
        row = session.exec(
            select(Ticket)
            .where(Ticket.chat_id == chat_id, Ticket.thread_id == thread_id)  # type: ignore[arg-type]
            .order_by(Ticket.id.desc())  # type: ignore[union-attr]
        ).first()
        return _view(row) if row is not None else None


def get(db: Engine, *, ticket_id: int) -> TicketView | None:
    with Session(db) as session:
        row = session.get(Ticket, ticket_id)
        return _view(row) if row is not None else None


def touch(db: Engine, *, ticket_id: int) -> None:
    """A message went through the ticket (a staff reply): its idle clock restarts."""
    with Session(db) as session:
        session.exec(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status == OPEN)  # type: ignore[arg-type]
            .values(last_message_at=utcnow())
        )
        session.commit()


def close(db: Engine, *, ticket_id: int, status: str = CLOSED) -> TicketView | None:
    """Close an open ticket (as answered, or blocked); None if it was not open (closed already,
    by someone else at the same moment, or forgotten): exactly one closer acts on it."""
    with Session(db) as session:
        changed = session.exec(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status == OPEN)  # type: ignore[arg-type]
            .values(status=status, closed_at=utcnow())
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
        row = session.get(Ticket, ticket_id) if changed == 1 else None
        return _view(row) if row is not None else None


def stale(db: Engine, *, now: datetime, limit: int | None = None) -> list[TicketView]:
    """Open tickets without a message for `IDLE_LIMIT` at `now`, oldest first."""
    with Session(db) as session:
        rows = session.exec(
            select(Ticket)
            .where(
                Ticket.status == OPEN,  # type: ignore[arg-type]
                Ticket.last_message_at <= (now - IDLE_LIMIT).astimezone(UTC),  # type: ignore[operator]
            )
            .order_by(Ticket.last_message_at, Ticket.id)  # type: ignore[arg-type]
            .limit(limit)
        ).all()
        return [_view(row) for row in rows]


def _view(row: Ticket) -> TicketView:
    assert row.id is not None
    return TicketView(
        id=row.id,
        user_id=row.user_id,
        lang=next((known for known in LANGUAGES if known == row.lang), "en"),
        status=row.status,
        chat_id=row.chat_id,
        thread_id=row.thread_id,
        question=row.question,
        candidates=tuple(row.candidates or ()),
    )
