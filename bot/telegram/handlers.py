"""The handlers: each turns a PTB update into an engine event, runs it, and sends the replies.

Nothing is registered here; `bot.telegram.app.add_handlers` wires these, in order.
"""

from __future__ import annotations

import logging
import re
from contextlib import suppress

from telegram import InlineQueryResultsButton, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes, filters

from bot.dialogue import N_, Event, Reply
from bot.i18n import lang_of, translations
from bot.redact import redact
from bot.telegram.desk import desk
from bot.telegram.sending import send_replies
from bot.telegram.sharing import ASK_THE_BOT, inline_results, query_lang, staff_links_html

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = N_("Sorry, something went wrong on my side. Please try again in a moment.")
SLOW_DOWN = N_(
    "You sent many messages at once: I'm answering the first ones and skipped the rest. "
    "Please send one question at a time."
)
INLINE_CACHE_SECONDS = 300  # answers change only with a deployment
Context = ContextTypes.DEFAULT_TYPE


class MentionsMe(filters.MessageFilter):
    """A message that @mentions this bot (how a group addresses it)."""

    def filter(self, message: Message) -> bool:
        me = f"@{message.get_bot().username}".lower()
        mentions = message.parse_entities([MessageEntity.MENTION]).values()
        return any(mention.lower() == me for mention in mentions)


# --- messages ----------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    """/start, with a deep-link payload when the user came through one."""
    payload = context.args[0] if context.args else ""
    await _converse(update, context, Event.start(payload, language=_language(update)))


async def command(update: Update, context: Context) -> None:
    """Any other command, for the engine (which answers unknown ones); not another bot's."""
    head, *rest = update.effective_message.text.removeprefix("/").split(maxsplit=1)
    name, _, addressee = head.partition("@")
    if addressee and addressee.lower() != context.bot.username.lower():
        return
    arg = rest[0].strip() if rest else ""
    await _converse(update, context, Event.command(name, arg, language=_language(update)))


async def text(update: Update, context: Context) -> None:
    """A typed message in a private chat: a question, a date the bot asked for, small talk."""
    event = Event.message(update.effective_message.text, language=_language(update))
    await _converse(update, context, event)


async def group_text(update: Update, context: Context) -> None:
    """A group message that mentions the bot: the rest of it is the question."""
    mention = re.compile(rf"@{re.escape(context.bot.username)}\b", re.IGNORECASE)
    question = mention.sub(" ", update.effective_message.text).strip()
    await _converse(update, context, Event.message(question, language=_language(update)))


async def other_message(update: Update, context: Context) -> None:
    """A photo, sticker or file in a private chat: the engine asks for a typed question."""
    await _converse(update, context, Event.message("", language=_language(update)))


async def _converse(update: Update, context: Context, event: Event) -> None:
    replies = await desk(context).converse(update.effective_user.id, event)
    await send_replies(context.bot, update.effective_chat.id, replies)


# --- buttons, inline mode, staff -------------------------------------------------------------


async def button(update: Update, context: Context) -> None:
    """A button press: answered at once (the spinner stops), then navigation edits in place."""
    query = update.callback_query
    with suppress(BadRequest):  # too old to answer (a backlog after a restart): act on it still
        await query.answer()
    event = Event.button(query.data or "", language=_language(update))
    replies = await desk(context).converse(query.from_user.id, event)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    await send_replies(context.bot, chat_id, replies, pressed=query.message)


async def inline_query(update: Update, context: Context) -> None:
    """`@bot words` in any chat: the best answers as shareable messages."""
    query = update.inline_query
    lang = query_lang(query.query, lang_of(query.from_user.language_code))
    results = inline_results(
        desk(context).engine, query.query, lang=lang, bot_username=context.bot.username
    )
    start_here = InlineQueryResultsButton(
        text=translations(lang).gettext(ASK_THE_BOT), start_parameter="inline"
    )
    # Personal: the language (and so the results) can come from the user, not the query.
    await query.answer(
        results, cache_time=INLINE_CACHE_SECONDS, is_personal=True, button=start_here
    )


async def staff_link(update: Update, context: Context) -> None:
    """/link words (staff only): deep links to the best-matching answers and steps."""
    engine = desk(context).engine
    html = staff_links_html(
        engine.knowledge,
        engine.matcher,
        " ".join(context.args or ()),
        lang=lang_of(_language(update)),
        bot_username=context.bot.username,
    )
    await send_replies(context.bot, update.effective_chat.id, [Reply(html)])


async def slow_down(update: Update) -> None:
    """A user's queue is full (their update was dropped): ask them, once, to slow down."""
    text = translations(lang_of(_language(update))).gettext(SLOW_DOWN)
    with suppress(TelegramError):  # a courtesy: nothing more to do if it fails
        if update.callback_query:
            await update.callback_query.answer(text)
        elif update.effective_chat:
            await update.get_bot().send_message(update.effective_chat.id, text)


# --- errors ------------------------------------------------------------------------------------


async def error(update: object, context: Context) -> None:
    """Log the failed update (redacted); mark a user who blocked the bot inactive, tell anyone
    else something went wrong."""
    chat = update.effective_chat if isinstance(update, Update) else None
    if isinstance(context.error, Forbidden) and chat and chat.type == ChatType.PRIVATE:
        log.info("user %s blocked the bot; marked inactive", chat.id)
        await desk(context).deactivate(chat.id)
        return
    log.error("failed: %s", describe(update), exc_info=context.error)
    if chat is not None and not isinstance(context.error, Forbidden):
        sorry = translations(lang_of(_language(update))).gettext(SOMETHING_WENT_WRONG)
        with suppress(TelegramError):  # the failure may be Telegram's own; nothing more to do
            await context.bot.send_message(chat.id, sorry)


def describe(update: object) -> str:
    """An update for the log: ids, its kind and what the user sent, redacted; no names."""
    if not isinstance(update, Update):
        return repr(update)[:200]
    kind = next((key for key in update.to_dict() if key != "update_id"), "unknown")
    user = update.effective_user.id if update.effective_user else None
    chat = update.effective_chat.id if update.effective_chat else None
    if update.callback_query:
        said = update.callback_query.data or ""
    elif update.inline_query:
        said = update.inline_query.query
    elif update.effective_message:
        said = update.effective_message.text or update.effective_message.caption or ""
    else:
        said = ""
    where = f"update {update.update_id} ({kind}) from user {user} in chat {chat}"
    return f"{where}: {redact(said)[:300]!r}"


def _language(update: object) -> str | None:
    user = update.effective_user if isinstance(update, Update) else None
    return user.language_code if user else None
