"""Sending the engine's replies through the Bot API: HTML, keyboards, splitting, edits, files.

Plain functions over a `telegram.Bot`, so the handlers and the reminder sender share them, and the
rate limiting every process puts in front of its Bot API calls: Telegram's ~30 messages a second
are per bot token, so on PostgreSQL every process sending as the bot draws on one budget kept in
the database (`SharedBudget`); SQLite's single process keeps PTB's in-process limiter.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy import Engine as Database
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    MaybeInaccessibleMessage,
    Message,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest
from telegram.ext import AIORateLimiter

from bot.config import SEND_BUDGET
from bot.dialogue import Keyboard, Reply

log = logging.getLogger(__name__)

MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096
MAX_CAPTION = MessageLimit.CAPTION_LENGTH  # 1024
# Answers cite official pages; a preview of the first one would push the answer off screen.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

# Telegram HTML as atoms a message may be cut between: a tag, a character reference, a character.
_ATOM = re.compile(r"<[^>]*>|&#?[A-Za-z0-9]+;|[^<&]|[<&]", re.S)
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)")
_TAGS = re.compile(r"<[^>]*>")
# Where to cut, best first: between paragraphs, between lines, between words.
_PARAGRAPH, _LINE, _WORD = 3, 2, 1
# Outside a blockquote first: a quote is cut (closed and reopened) only when it cannot be whole.
_CUTS_BEST_FIRST = (
    (False, _PARAGRAPH),
    (False, _LINE),
    (True, _PARAGRAPH),
    (True, _LINE),
    (False, _WORD),
    (True, _WORD),
)


# Telegram counts arrivals; a message arrives a few ms after its slot, by how much varies (thread
# hand-offs, the network), so two can land closer than their slots. Slots 10% wider than the
# budget keep any one second under it (measured: 21 in a second at 20/s without it).
SLOT_MARGIN = 1.1

# Virtual scheduling (GCRA) in one statement: the row holds when the bot's next message may go;
# a message takes the slot at that moment or now, whichever is later, moves it on by one
# interval, and learns how long to wait for its slot. The clock is the database's, so processes
# on different machines need not agree on the time; an idle budget saves up no burst.
_TAKE_SLOT = text(
    """
    INSERT INTO send_budget AS b (bot_id, next_at)
    VALUES (:bot_id, extract(epoch FROM clock_timestamp()) + :interval)
    ON CONFLICT (bot_id) DO UPDATE
    SET next_at = greatest(b.next_at, extract(epoch FROM clock_timestamp())) + :interval
    RETURNING next_at - :interval - extract(epoch FROM clock_timestamp())
    """
)


class SharedBudget:
    """One bot token's messages a second, shared through PostgreSQL by every process sending as
    it (webhook workers, the reminder sender): one short statement per message."""

    def __init__(self, db: Database, *, bot_id: int, per_second: float = SEND_BUDGET) -> None:
        if per_second <= 0:
            raise ValueError(f"the send budget must be positive, not {per_second}")
        self.db, self.bot_id, self.interval = db, bot_id, SLOT_MARGIN / per_second

    @classmethod
    def over(
        cls, db: Database, *, token: str, per_second: float = SEND_BUDGET
    ) -> SharedBudget | None:
        """The budget of the bot `token` names, kept in `db`; None on SQLite (one process)."""
        if db.dialect.name == "sqlite":
            return None
        return cls(db, bot_id=int(token.split(":", 1)[0]), per_second=per_second)

    def take_slot(self) -> float:
        """Claim the next message's slot; the seconds until it comes (0 or less: now)."""
        with self.db.begin() as connection:
            wait = connection.execute(
                _TAKE_SLOT, {"bot_id": self.bot_id, "interval": self.interval}
            ).scalar_one()
        return float(wait)

    async def take(self) -> None:
        """Return when this process may send one message. Should the database fail, the message
        waits one slot and goes: a limiter must not be why a reply or a reminder is lost (the
        sender's own pacer still holds it under its rate)."""
        try:
            wait = await asyncio.to_thread(self.take_slot)
        except SQLAlchemyError as exc:
            log.warning("send budget: the database failed (%s); pacing alone", type(exc).__name__)
            wait = self.interval
        if wait > 0:
            await asyncio.sleep(wait)


class BudgetedRateLimiter(AIORateLimiter):
    """PTB's limiter (20 a minute per group, `RetryAfter` waited out and retried) with the shared
    budget in place of its per-process overall rate: a request to a chat takes a slot first,
    each attempt its own, as PTB's overall limit counts them."""

    def __init__(self, budget: SharedBudget, *, max_retries: int = 3) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self.budget = budget

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """PTB's, each attempt of a request to a chat taking a slot of the budget first."""
        if data.get("chat_id") is not None and not data.get("allow_paid_broadcast"):
            unbudgeted = callback

            async def callback(*args: Any, **kwargs: Any) -> Any:
                await self.budget.take()
                return await unbudgeted(*args, **kwargs)

        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


def rate_limiter(
    per_second: float = SEND_BUDGET, *, max_retries: int = 3, budget: SharedBudget | None = None
) -> AIORateLimiter:
    """PTB's limiter: at most `per_second` messages overall (or the shared `budget`'s) and 20 a
    minute per group, and a `RetryAfter` from Telegram pauses every request for the time it
    asks, then retries."""
    if budget is not None:
        return BudgetedRateLimiter(budget, max_retries=max_retries)
    return AIORateLimiter(
        overall_max_rate=per_second, overall_time_period=1, max_retries=max_retries
    )


def keyboard(rows: Keyboard) -> InlineKeyboardMarkup | None:
    """The engine's button rows as an inline keyboard (None when there are none)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.data)
                for b in row
            ]
            for row in rows
            if row
        ]
    )


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_html(html: str, limit: int = MAX_TEXT) -> list[str]:
    """`html` in messages of at most `limit`, cut between paragraphs where possible, else
    between lines, else between words, and outside a blockquote before inside one; tags open at
    a cut (a quote too long for one message) are closed and reopened."""
    html = html.strip()
    if utf16_len(html) <= limit:
        return [html] if html else []
    atoms = _ATOM.findall(html)
    chunks: list[str] = []
    opened: list[tuple[str, str]] = []  # (name, opening tag) open where the chunk starts
    start = 0
    while start < len(atoms):
        cut, opened_after = _cut(atoms, start, opened, limit)
        body = "".join(atoms[start:cut])
        chunk = "".join(tag for _, tag in opened) + body
        chunk += "".join(f"</{name}>" for name, _ in reversed(opened_after))
        if _TAGS.sub("", chunk).strip():
            chunks.append(chunk.strip())
        start, opened = cut, opened_after
        while start < len(atoms) and atoms[start].isspace():
            start += 1  # the whitespace at a cut is the cut
    return chunks


def _cut(
    atoms: list[str], start: int, opened: list[tuple[str, str]], limit: int
) -> tuple[int, list[tuple[str, str]]]:
    """Where the chunk starting at `start` ends, and the tags open there."""
    stack = list(opened)
    size = sum(utf16_len(tag) for _, tag in opened)
    # (inside a quote, kind) -> the latest such cut: a quote is cut only when it cannot be kept
    # whole, so an expandable one folds what it folded in one message.
    best: dict[tuple[bool, int], tuple[int, list[tuple[str, str]]]] = {}
    i = start
    while i < len(atoms):
        atom = atoms[i]
        tag = _TAG.match(atom)
        opens = tag is not None and not tag[1]
        closing = sum(len(name) + 3 for name, _ in stack) + (len(tag[2]) + 3 if opens else 0)
        if i > start and size + utf16_len(atom) + closing > limit:
            for choice in _CUTS_BEST_FIRST:
                if choice in best:
                    return best[choice]
            return i, stack
        size += utf16_len(atom)
        quoted = any(name == "blockquote" for name, _ in stack)
        if tag is not None and opens:
            stack.append((tag[2].lower(), atom))
        elif tag is not None and stack and stack[-1][0] == tag[2].lower():
            stack.pop()
        elif atom == "\n":
            kind = _PARAGRAPH if i > start and atoms[i - 1] == "\n" else _LINE
            best[quoted, kind] = (i + 1, list(stack))
        elif atom == " ":
            best[quoted, _WORD] = (i + 1, list(stack))
        i += 1
    return i, stack


async def send_reply(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    *,
    silent: bool = False,
    budget: SharedBudget | None = None,
    thread_id: int | None = None,
) -> list[Message]:
    """Send one reply as new messages: the text (split if long) with its buttons on the last
    message, or the document with the text as its caption when that fits. A bot without a
    rate limiter (the reminder sender's) passes the shared `budget`: each message takes a slot.
    `thread_id` sends into a forum topic (a ticket's, in the staff group).
    """
    markup = keyboard(reply.buttons)
    chunks = split_html(reply.text)
    sent: list[Message] = []
    if reply.document is not None and utf16_len(reply.text) <= MAX_CAPTION:
        chunks, caption = [], reply.text
    else:
        caption = None
    for number, chunk in enumerate(chunks, 1):
        last = number == len(chunks) and reply.document is None
        if budget is not None:
            await budget.take()
        sent.append(
            await bot.send_message(
                chat_id,
                chunk,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if last else None,
                link_preview_options=NO_PREVIEW,
                disable_notification=silent,
                message_thread_id=thread_id,
            )
        )
    if reply.document is not None:
        document = reply.document
        if budget is not None:
            await budget.take()
        sent.append(
            await bot.send_document(
                chat_id,
                InputFile(document.content, filename=document.filename),
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_notification=silent,
                message_thread_id=thread_id,
            )
        )
    return sent


async def send_replies(
    bot: Bot,
    chat_id: int,
    replies: Sequence[Reply],
    *,
    pressed: MaybeInaccessibleMessage | None = None,
) -> list[tuple[int, str]]:
    """Send the engine's replies in order; the first navigation reply replaces `pressed` (the
    message whose button was pressed) in place when it can. Returns the (message id, topic) of
    each message that shows an answer (`Reply.answers`), for reactions on it."""
    answers: list[tuple[int, str]] = []
    for reply in replies:
        if reply.edit and pressed is not None and await edit_in_place(bot, pressed, reply):
            if reply.answers:
                answers.append((pressed.message_id, reply.answers))
            pressed = None  # one pressed message, replaced once
            continue
        sent = await send_reply(bot, chat_id, reply)
        if reply.answers:
            answers += [(message.message_id, reply.answers) for message in sent]
    return answers


async def edit_in_place(bot: Bot, message: MaybeInaccessibleMessage, reply: Reply) -> bool:
    """Replace `message` with `reply`; False when it cannot be (too old, a file, too long)."""
    chunks = split_html(reply.text)
    if not isinstance(message, Message) or message.text is None or reply.document:
        return False
    if len(chunks) != 1:
        return False
    try:
        await bot.edit_message_text(
            chunks[0],
            chat_id=message.chat_id,
            message_id=message.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(reply.buttons),
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as exc:
        # PTB lower-cases Telegram's wording; "not modified" means it already shows the reply.
        if "not modified" in exc.message.lower():
            return True
        if "can't be edited" in exc.message.lower() or "not found" in exc.message.lower():
            return False
        raise
    return True
