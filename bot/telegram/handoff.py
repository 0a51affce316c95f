"""The help desk's side of "Ask a person", in the forum topics of the staff group.

An applicant's request opens their topic (named with their first name and language, never an
identifier; reopened and renamed when they ask again) with the question, the bot's closest
answers and the staff's buttons; the applicant's messages are posted there while the request is
open. The staff's messages in the topic are copied to the applicant as the bot (copied, not
forwarded: the staff's names stay private), and only to the applicant of that topic's ticket.
"Answered ✔" closes the ticket and asks the applicant whether it helped, "Send answer: …" sends a
FAQ answer in the applicant's language, "Block" (once confirmed) closes it and refuses further
requests. Routing lives in the tickets table (`bot.tickets`), so
any process serves any topic. `close_stale` is the 7-day expiry, run by `python -m bot remind`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import replace
from datetime import datetime
from html import escape

from sqlalchemy import Engine as Database
from telegram import Bot, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import links, tickets
from bot.dialogue import N_, Button, Engine, Reply
from bot.dialogue.menus import LANGUAGE_NAMES
from bot.i18n import lang_of, render, translations
from bot.redact import redact
from bot.storage import Handled
from bot.telegram.desk import Desk, desk
from bot.telegram.sending import send_reply
from bot.textnorm import strip_controls

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

MAX_TOPIC_NAME = 128  # Telegram's limit
MAX_CAPTION = 1024
APPLICANT = "👤 "  # the applicant's messages in the topic; the staff's carry their own names

# Notes in the topic, in the ticket's language (staff read both).
NOTE_ANSWERED = N_("✔ Closed as answered. The applicant was asked whether it helped.")
NOTE_SENT = N_("📨 Sent to the applicant: %(title)s")
NOTE_BLOCKED = N_(
    "⛔ Blocked: the request is closed and the applicant cannot ask a person again "
    "(unless they delete their data with /forget)."
)
NOTE_USER_CLOSED = N_("✖️ The applicant closed the request.")
NOTE_EXPIRED = N_("⏱ Closed after 7 days without a message.")
NOTE_CLOSED = N_("This request is closed: the applicant does not see messages here.")
NOTE_UNDELIVERED = N_("⚠️ Not delivered: the applicant has blocked the bot. The request is closed.")
NOTE_REFUSED = N_("⚠️ Not delivered: Telegram refused it (%(reason)s).")
CONFIRM_BLOCK = N_(
    "Block this applicant? The request closes and they cannot ask a person again "
    "(unless they delete their data with /forget)."
)
CONFIRM_BLOCK_BUTTON = N_("⛔ Yes, block")
ALREADY_CLOSED = N_("This request is closed already.")
EXPIRED_BUTTON = N_("This button has expired.")


def topic_name(first_name: str, ticket: tickets.TicketView) -> str:
    """ "Ada · English · #12": the first name (identifiers masked) and language; no user id."""
    name = redact(strip_controls(first_name or "").strip())[:60] or "?"
    return f"{name} · {LANGUAGE_NAMES[ticket.lang]} · #{ticket.id}"[:MAX_TOPIC_NAME]


def ticket_post(engine: Engine, ticket: tickets.TicketView, *, bot_username: str) -> Reply:
    """The topic's first message: the question (redacted), the bot's closest answers with a deep
    link each, and the staff's buttons."""
    faq, lang = engine.knowledge.faq, lang_of(ticket.lang)  # staff read 繁體 for a 简体 ticket
    found = [topic for topic in ticket.candidates if topic in faq]
    text = render(
        "ticket_opened.html",
        lang,
        language=LANGUAGE_NAMES[ticket.lang],
        ticket=ticket.id,
        question=ticket.question or "",
        candidates=[
            (faq[t].title[lang], links.deep_link(bot_username, links.TopicLink(t))) for t in found
        ],
    )
    tr, ticket_id = translations(lang), cb.RowId(ticket.id)
    rows = [
        (
            Button(
                tr.gettext("📨 Send answer: %(title)s") % {"title": faq[t].title[lang]},
                data=cb.encode(cb.TicketSend(ticket_id, t)),
            ),
        )
        for t in found
    ]
    rows.append(
        (
            Button(tr.gettext("Answered ✔"), data=cb.encode(cb.TicketAnswered(ticket_id))),
            Button(tr.gettext("⛔ Block"), data=cb.encode(cb.TicketBlock(ticket_id))),
        )
    )
    return Reply(text, tuple(rows))


# --- the applicant's side: what their event left for the help desk ----------------------------


async def carry_out(update: Update, context: Context, handled: Handled) -> list[Reply]:
    """Do the help desk's work of an applicant's event (open the topic, post their message,
    close or delete topics); the replies to send them, the "could not reach the help desk"
    notice instead when their request could not be passed on."""
    here, bot = desk(context), context.bot
    replies = handled.replies
    first_name = update.effective_user.first_name if update.effective_user else ""
    for work in handled.desk:
        match work:
            case tickets.OpenTopic(ticket, previous):
                opened = await open_topic(
                    bot, here, ticket, first_name=first_name, previous=previous
                )
                if opened is None:
                    replies = [await _unreachable(here, ticket)]
            case tickets.PostToTopic(ticket, text):
                if not await post_to_topic(bot, here, ticket, text, update, first_name):
                    replies = [await _unreachable(here, ticket)]
            case tickets.UserClosed(ticket):
                await note_and_close(bot, ticket, NOTE_USER_CLOSED)
            case tickets.DeleteTopics(topics):
                for chat_id, thread_id in topics:
                    try:
                        await bot.delete_forum_topic(chat_id, thread_id)
                    except TelegramError as exc:  # deleted by the staff already, or no rights
                        log.warning("could not delete a forgotten user's topic: %s", exc)
    return replies


async def open_topic(
    bot: Bot,
    here: Desk,
    ticket: tickets.TicketView,
    *,
    first_name: str,
    previous: tuple[int, int] | None = None,
) -> tickets.TicketView | None:
    """Open the ticket's topic in the staff group (the applicant's `previous` one reopened and
    renamed, so their requests stay in one place; else a new one) and post its question there;
    None when the staff group cannot be reached (unset, not a forum, the bot not an admin)."""
    if here.staff_chat_id is None:
        return None
    chat_id, name = here.staff_chat_id, topic_name(first_name, ticket)
    thread_id = None
    if previous is not None and previous[0] == chat_id:
        thread_id = await _reopened(bot, chat_id, previous[1], name)
    if thread_id is None:
        try:
            thread_id = (await bot.create_forum_topic(chat_id, name)).message_thread_id
        except TelegramError as exc:
            log.error("could not open a topic in the staff group %s: %s", chat_id, exc)
            return None
    await here.run(tickets.set_topic, ticket_id=ticket.id, chat_id=chat_id, thread_id=thread_id)
    placed = replace(ticket, chat_id=chat_id, thread_id=thread_id)
    post = ticket_post(here.engine, ticket, bot_username=bot.username)
    try:
        await send_reply(bot, chat_id, post, thread_id=thread_id)
    except TelegramError as exc:
        log.error("could not post a request in the staff group: %s", exc)
        return None
    return placed


async def _reopened(bot: Bot, chat_id: int, thread_id: int, name: str) -> int | None:
    """The applicant's earlier topic, reopened and named for the new ticket; None when that
    fails (the staff deleted it): a new topic then."""
    try:
        await _unless_unchanged(bot.reopen_forum_topic(chat_id, thread_id))
        await _unless_unchanged(bot.edit_forum_topic(chat_id, thread_id, name=name))
    except TelegramError as exc:
        log.info("the applicant's earlier topic %s cannot be reopened: %s", thread_id, exc)
        return None
    return thread_id


async def _unless_unchanged(change: Awaitable[object]) -> None:
    """Await a topic change; Telegram's "not modified" (open already, the same name) is fine."""
    try:
        await change
    except BadRequest as exc:
        if "not_modified" not in exc.message.lower().replace(" ", "_"):
            raise


async def post_to_topic(
    bot: Bot,
    here: Desk,
    ticket: tickets.TicketView,
    text: str,
    update: Update,
    first_name: str,
) -> bool:
    """The applicant's message in their ticket's topic: text as text (redacted), a photo or file
    copied with its caption redacted; False when it could not be passed on."""
    if not ticket.has_topic:  # a crash between the ticket and its topic: open it now
        placed = await open_topic(bot, here, ticket, first_name=first_name)
        if placed is None:
            return False
        ticket = placed
    assert ticket.chat_id is not None and ticket.thread_id is not None
    message = update.effective_message
    try:
        if message is None or message.text is not None:
            await bot.send_message(
                ticket.chat_id,
                APPLICANT + escape(text),
                message_thread_id=ticket.thread_id,
                parse_mode=ParseMode.HTML,
            )
        else:
            await bot.copy_message(
                ticket.chat_id,
                from_chat_id=message.chat_id,
                message_id=message.message_id,
                message_thread_id=ticket.thread_id,
                caption=(APPLICANT + escape(text))[:MAX_CAPTION] if text else None,
                parse_mode=ParseMode.HTML,
            )
    except TelegramError as exc:  # the topic was deleted, the bot removed from the group…
        log.error("could not post to ticket %s's topic: %s", ticket.id, exc)
        return False
    return True


async def _unreachable(here: Desk, ticket: tickets.TicketView) -> Reply:
    """Close a request the help desk cannot get; what the applicant is told."""
    await here.run(tickets.close, ticket_id=ticket.id)
    return here.engine.handoff_notice("unreachable", ticket.lang)


async def note_and_close(bot: Bot, ticket: tickets.TicketView, note: str) -> None:
    """Say in the ticket's topic why it closed, and close the topic (a courtesy to the staff:
    the ticket is closed already; failures are logged)."""
    if not ticket.has_topic:
        return
    assert ticket.chat_id is not None and ticket.thread_id is not None
    try:
        await _note(bot, ticket, note)
        await bot.close_forum_topic(ticket.chat_id, ticket.thread_id)
    except TelegramError as exc:
        log.warning("could not close ticket %s's topic: %s", ticket.id, exc)


async def _note(bot: Bot, ticket: tickets.TicketView, note: str, **params: object) -> None:
    assert ticket.chat_id is not None and ticket.thread_id is not None
    text = translations(lang_of(ticket.lang)).gettext(note)
    await bot.send_message(
        ticket.chat_id,
        escape(text % params if params else text),
        message_thread_id=ticket.thread_id,
        parse_mode=ParseMode.HTML,
    )


# --- the staff's side ------------------------------------------------------------------------


async def staff_message(update: Update, context: Context) -> None:
    """A staff message in a ticket's topic: copied to that ticket's applicant, as the bot."""
    here, message = desk(context), update.effective_message
    if message is None or not message.is_topic_message or message.message_thread_id is None:
        return  # the group's General topic: staff talk
    ticket = await here.run(
        tickets.by_topic, chat_id=message.chat_id, thread_id=message.message_thread_id
    )
    if ticket is None:
        return  # a topic of the staff's own
    if not await here.first_handling(update.update_id):
        return  # a replay: it was relayed once
    if ticket.status != tickets.OPEN:
        with suppress(TelegramError):
            await _note(context.bot, ticket, NOTE_CLOSED)
        return
    await _deliver(context.bot, here, ticket, message)


async def _deliver(bot: Bot, here: Desk, ticket: tickets.TicketView, message: Message) -> None:
    try:
        await bot.copy_message(ticket.user_id, message.chat_id, message.message_id)
    except Forbidden:
        await here.deactivate(ticket.user_id)
        await here.run(tickets.close, ticket_id=ticket.id)
        await note_and_close(bot, ticket, NOTE_UNDELIVERED)
        return
    except BadRequest as exc:
        with suppress(TelegramError):
            await _note(bot, ticket, NOTE_REFUSED, reason=exc.message)
        return
    await here.run(tickets.touch, ticket_id=ticket.id)


async def staff_button(update: Update, context: Context) -> None:
    """A ticket's button ("Send answer", "Answered ✔", "Block") pressed in the staff group
    (`handlers.button` sends them here; pressed anywhere else they are expired buttons)."""
    query, here = update.callback_query, desk(context)
    action = cb.decode(strip_controls(query.data or ""))
    chat_id = query.message.chat.id if query.message else None
    assert isinstance(action, cb.STAFF_ACTIONS)
    ticket = await here.run(tickets.get, ticket_id=action.ticket)
    tr = translations(lang_of(ticket.lang) if ticket else "en")
    if ticket is None or ticket.chat_id != chat_id:
        with suppress(BadRequest):
            await query.answer(tr.gettext(EXPIRED_BUTTON), show_alert=True)
        return
    if ticket.status != tickets.OPEN or not await here.first_handling(update.update_id):
        with suppress(BadRequest):
            await query.answer(tr.gettext(ALREADY_CLOSED), show_alert=True)
        return
    with suppress(BadRequest):
        await query.answer()
    match action:
        case cb.TicketSend(_, topic):
            await _send_answer(context.bot, here, ticket, topic)
        case cb.TicketAnswered():
            await _close(context.bot, here, ticket, "answered", NOTE_ANSWERED, query.message)
        case cb.TicketBlock():
            await _confirm_block(context.bot, ticket)
        case cb.TicketBlockConfirmed():
            await _close(context.bot, here, ticket, "closed", NOTE_BLOCKED, query.message)


async def _confirm_block(bot: Bot, ticket: tickets.TicketView) -> None:
    assert ticket.chat_id is not None and ticket.thread_id is not None
    tr = translations(lang_of(ticket.lang))
    button = Button(
        tr.gettext(CONFIRM_BLOCK_BUTTON),
        data=cb.encode(cb.TicketBlockConfirmed(cb.RowId(ticket.id))),
    )
    question = Reply(escape(tr.gettext(CONFIRM_BLOCK)), ((button,),))
    with suppress(TelegramError):
        await send_reply(bot, ticket.chat_id, question, thread_id=ticket.thread_id)


async def _send_answer(bot: Bot, here: Desk, ticket: tickets.TicketView, topic: str) -> None:
    entry = here.engine.knowledge.faq.get(topic)
    if entry is None:  # a topic gone from the knowledge since the button was made
        return
    try:
        await send_reply(bot, ticket.user_id, here.engine.answer(topic, ticket.lang))
    except Forbidden:
        await here.deactivate(ticket.user_id)
        await here.run(tickets.close, ticket_id=ticket.id)
        await note_and_close(bot, ticket, NOTE_UNDELIVERED)
        return
    await here.run(tickets.touch, ticket_id=ticket.id)
    with suppress(TelegramError):
        await _note(bot, ticket, NOTE_SENT, title=entry.title[lang_of(ticket.lang)])


async def _close(
    bot: Bot,
    here: Desk,
    ticket: tickets.TicketView,
    notice: str,
    note: str,
    post: object,
) -> None:
    """Close the ticket (answered, or blocked), tell the applicant, close the topic."""
    status = tickets.BLOCKED if notice == "closed" else tickets.CLOSED
    closed = await here.run(tickets.close, ticket_id=ticket.id, status=status)
    if closed is None:
        return  # closed meanwhile (by the applicant, or the other button)
    if isinstance(post, Message):
        with suppress(TelegramError):  # its buttons are spent
            await post.edit_reply_markup(None)
    try:
        await send_reply(bot, ticket.user_id, here.engine.handoff_notice(notice, ticket.lang))
    except Forbidden:
        await here.deactivate(ticket.user_id)
    await note_and_close(bot, ticket, note)


# --- the 7-day expiry ------------------------------------------------------------------------


async def close_stale(db: Database, engine: Engine, bot: Bot, *, now: datetime) -> int:
    """Close the tickets without a message for 7 days: a note in the topic, the topic closed,
    the applicant told; how many were closed (run by `python -m bot remind`)."""
    closed = 0
    for ticket in tickets.stale(db, now=now):
        if tickets.close(db, ticket_id=ticket.id) is None:
            continue  # closed meanwhile
        closed += 1
        await note_and_close(bot, ticket, NOTE_EXPIRED)
        try:
            await send_reply(bot, ticket.user_id, engine.handoff_notice("expired", ticket.lang))
        except TelegramError as exc:  # blocked the bot, or gone: the ticket is closed anyway
            log.info("ticket %s: the applicant was not told of the expiry: %s", ticket.id, exc)
    return closed
