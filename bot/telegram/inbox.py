"""The help desk's inbox in Telegram: `/inbox` in the staff group (or in private for STAFF_IDS),
its buttons, and the words staff reply with to find a topic. Thin handlers over `bot.inbox`;
`bot.telegram.app.add_handlers` wires them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, time, timedelta
from html import escape

from sqlalchemy.exc import SQLAlchemyError
from telegram import ForceReply, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import filters

from bot import callbacks as cb
from bot import inbox
from bot.dates import TAIPEI, DateInputError, parse_date, taipei_today
from bot.dialogue import Reply
from bot.i18n import lang_of, translations
from bot.learning import LiveMatcher
from bot.telegram import handlers
from bot.telegram.desk import desk
from bot.telegram.sending import NO_PREVIEW, keyboard, send_replies
from bot.textnorm import strip_controls

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_WORDS = 200
# The search prompt starts with this, so a reply to it says which group it is for (the prompt
# is the bot's own message: nobody else can write one).
PROMPT = re.compile(r"🔎 #([1-9][0-9]{0,17}):")
CALLBACK_PATTERN = inbox.CALLBACK_PATTERN  # the inbox's buttons, for the CallbackQueryHandler

Handler = Callable[[Update, handlers.Context], Awaitable[None]]


def staff_only(staff_ids: frozenset[int], staff_chat_id: int | None) -> filters.BaseFilter:
    """Messages from where staff work: the staff group, or a private chat with one of STAFF_IDS."""
    private_staff = filters.User(staff_ids) & filters.ChatType.PRIVATE
    if staff_chat_id is None:
        return private_staff
    return filters.Chat(staff_chat_id) | private_staff


class RepliesToSearch(filters.MessageFilter):
    """A reply to the bot's "which topic?" prompt: the words to search topics by."""

    def filter(self, message: Message) -> bool:
        prompt = message.reply_to_message
        return (
            prompt is not None
            and prompt.from_user is not None
            and prompt.from_user.id == message.get_bot().id
            and PROMPT.match(prompt.text or "") is not None
        )


async def inbox_command(update: Update, context: handlers.Context) -> None:
    """/inbox [DATE]: a summary, then each group of questions with its buttons."""
    if not await desk(context).first_handling(update.update_id):
        return
    lang = lang_of(update.effective_user.language_code if update.effective_user else None)
    since = _since(" ".join(context.args or ()))
    if since is None:
        await _send(update.effective_message, Reply(translations(lang).gettext(inbox.USAGE)))
        return
    the_desk = desk(context)
    found = await the_desk.run(inbox.open_inbox, matcher=the_desk.engine.matcher, since=since)
    for reply in inbox.inbox_replies(found, the_desk.engine.knowledge, since=since, lang=lang):
        await _send(update.effective_message, reply)


def _since(arg: str) -> datetime | None:
    """The start of the day given (Taipei), by default 30 days ago; None if it is no date."""
    today = taipei_today()
    if not arg.strip():
        day = today - timedelta(days=DEFAULT_DAYS)
    else:
        try:
            day = parse_date(strip_controls(arg), today=today)
        except DateInputError:
            return None
    return datetime.combine(day, time(), tzinfo=TAIPEI)


def inbox_button(staff_ids: frozenset[int], staff_chat_id: int | None) -> Handler:
    """The handler of the inbox's buttons, for staff; anyone else's press (a forged button) is
    the engine's, which says the button has expired."""

    async def button(update: Update, context: handlers.Context) -> None:
        query = update.callback_query
        in_staff_chat = query.message is not None and query.message.chat.id == staff_chat_id
        if not (in_staff_chat or query.from_user.id in staff_ids):
            await handlers.button(update, context)
            return
        with suppress(BadRequest):
            await query.answer()
        if not await desk(context).first_handling(update.update_id):
            return
        await _pressed(update, context, cb.decode(strip_controls(query.data or "")))

    return button


async def _pressed(update: Update, context: handlers.Context, action: cb.Action | None) -> None:
    """Act on a staff member's press of an inbox button."""
    query = update.callback_query
    the_desk = desk(context)
    knowledge, matcher = the_desk.engine.knowledge, the_desk.engine.matcher
    lang = lang_of(query.from_user.language_code)
    expired = Reply(translations(lang).gettext(inbox.EXPIRED), edit=True)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    if isinstance(action, inbox.InboxSearch):
        await _ask_for_words(update, action.group, lang)
        return
    if isinstance(action, inbox.InboxScopes | inbox.InboxBack):
        group = await the_desk.run(inbox.open_group, matcher=matcher, group_id=action.group)
        if group is None:
            reply = expired
        elif isinstance(action, inbox.InboxScopes):
            reply = inbox.scopes_reply(group, knowledge, lang=lang)
        else:
            reply = inbox.group_reply(group, knowledge, lang=lang, edit=True)
        await send_replies(context.bot, chat_id, [reply], pressed=query.message)
        return
    outcome = inbox.outcome_of(action, knowledge) if action is not None else None
    if outcome is None:
        await send_replies(context.bot, chat_id, [expired], pressed=query.message)
        return
    handled = await the_desk.run(
        inbox.handle_group,
        group_id=action.group,  # type: ignore[union-attr]
        outcome=outcome,
        staff_id=query.from_user.id,
    )
    if handled.learned and isinstance(matcher, LiveMatcher):
        await _refresh(matcher)  # this process before staff are told; the others within a minute
    staff = query.from_user.first_name
    reply = inbox.handled_reply(handled, knowledge, lang=lang, staff=staff)
    await send_replies(context.bot, chat_id, [reply], pressed=query.message)


async def _refresh(matcher: LiveMatcher) -> None:
    try:
        await asyncio.to_thread(matcher.refresh)
    except SQLAlchemyError as exc:  # its watcher tries again
        log.warning("could not rebuild the matcher: %s", type(exc).__name__)


async def _ask_for_words(update: Update, group_id: int, lang: str) -> None:
    """Ask the staff member who pressed "Another topic" for words, as a reply (forced)."""
    query = update.callback_query
    user = query.from_user
    tr = translations(lang_of(lang))
    mention = f'<a href="tg://user?id={user.id}">{escape(user.first_name)}</a>'
    text = f"🔎 #{group_id}: {mention}, " + escape(tr.gettext(inbox.SEARCH_PROMPT))
    placeholder = tr.gettext(inbox.SEARCH_PLACEHOLDER)
    force = ForceReply(selective=True, input_field_placeholder=placeholder)
    if isinstance(query.message, Message):
        await query.message.reply_text(
            text, parse_mode=ParseMode.HTML, reply_markup=force, do_quote=False
        )
    else:
        await update.get_bot().send_message(user.id, text, parse_mode=ParseMode.HTML,
                                            reply_markup=force)  # fmt: skip


async def inbox_search(update: Update, context: handlers.Context) -> None:
    """Words replied to the "which topic?" prompt: the topics they match, as buttons."""
    if not await desk(context).first_handling(update.update_id):
        return
    message = update.effective_message
    found = PROMPT.match(message.reply_to_message.text or "")
    lang = lang_of(update.effective_user.language_code if update.effective_user else None)
    words = " ".join(strip_controls(message.text or "").split())[:MAX_WORDS]
    the_desk = desk(context)
    topics = await asyncio.to_thread(inbox.search_topics, the_desk.engine.matcher, words)
    reply = inbox.search_results_reply(
        int(found.group(1)), words, topics, the_desk.engine.knowledge, lang=lang
    )
    await _send(message, reply)


async def _send(message: Message, reply: Reply) -> None:
    """Send a reply where `message` is: in a forum, in its topic (thread), unquoted. The inbox's
    messages are short (a few questions each), never split."""
    await message.reply_text(
        reply.text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(reply.buttons),
        link_preview_options=NO_PREVIEW,
        do_quote=False,
    )
