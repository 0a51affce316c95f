"""The handlers: each turns a PTB update into an engine event, runs it, and sends the replies.

Nothing is registered here; `bot.telegram.app.add_handlers` wires these, in order.
"""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import suppress

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineQueryResultsButton,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReactionTypeEmoji,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import ContextTypes, filters

from bot import callbacks as cb
from bot import stats
from bot.dates import DateInputError, read_date, taipei_today
from bot.dialogue import N_, Button, Event, Reply, command_menu
from bot.i18n import HANS, lang_of, language_of, translations
from bot.redact import redact
from bot.simplified import to_simplified
from bot.storage import DatabaseFileGone
from bot.telegram import handoff
from bot.telegram.desk import desk
from bot.telegram.sending import send_replies, split_html
from bot.telegram.sharing import ASK_THE_BOT, inline_results, query_lang, staff_links_html
from bot.textnorm import strip_controls

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = N_("Sorry, something went wrong on my side. Please try again in a moment.")
SLOW_DOWN = N_(
    "You sent many messages at once: I'm answering the first ones and skipped the rest. "
    "Please send one question at a time."
)
ASK_IN_PRIVATE = N_(
    "Ask me that in a private chat: what I keep about you is shown only there, never in a group."
)
OPEN_PRIVATE_CHAT = N_("💬 Ask me in private")
STATS_CHART = N_(
    "Per week: answered, after “did you mean”, “did you mean”, declined and handed to a person, "
    "each language apart; below them the topics with the most 👎. The numbers follow."
)
STATS_USAGE = N_("/stats shows the last 8 weeks; /stats 2026-10-01 starts from that date's week.")
# Why the bot stopped itself, in `bot_data` (the command line says it and exits non-zero).
STOPPED_BY = "stopped_by"
INLINE_CACHE_SECONDS = 300  # answers change only with a deployment
Context = ContextTypes.DEFAULT_TYPE
# What answers with one user's data: in a group it would show it to everyone.
PERSONAL_COMMANDS = frozenset({"mydata", "deadlines", "reminders", "forget"})
PERSONAL_BUTTONS = (
    cb.MyDeadlines,
    cb.SaveDeadline,
    cb.SavedCalendarFile,
    cb.DeleteDeadline,
    cb.RemindMe,
    cb.ReminderList,
    cb.CancelReminder,
    cb.CancelAllReminders,
    cb.StopReminders,
    cb.ForgetAsk,
    cb.Forget,
    # A request to a person shows the user's question and name to the staff: only in private.
    cb.HandoffAsk,
    cb.HandoffConsent,
    cb.HandoffClose,
    cb.HandoffFeedback,
    # News is sent in private: it is turned on and off there.
    cb.News,
    cb.NewsStop,
)
# A command as Telegram makes them: /name, /name@bot, then the argument.
COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?", re.DOTALL)


class MentionsMe(filters.MessageFilter):
    """A message that @mentions this bot (how a group addresses it)."""

    def filter(self, message: Message) -> bool:
        me = f"@{message.get_bot().username}".lower()
        if message.text is not None:
            mentions = message.parse_entities([MessageEntity.MENTION]).values()
        else:  # a photo or file, captioned
            mentions = message.parse_caption_entities([MessageEntity.MENTION]).values()
        return any(mention.lower() == me for mention in mentions)


# --- messages ----------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    """/start, with a deep-link payload when the user came through one."""
    payload = strip_controls(context.args[0]) if context.args else ""
    await _converse(update, context, Event.start(payload, language=_language(update)))


async def command(update: Update, context: Context) -> None:
    """Any other command, for the engine (which answers unknown ones); not another bot's."""
    found = COMMAND.fullmatch(_said(update))
    if found is None:  # a "/" entity on what is no command (clients never make one): text
        if _private(update):
            await text(update, context)
        return
    name, addressee, arg = found.groups()
    if addressee and addressee.lower() != context.bot.username.lower():
        return
    if name.lower() in PERSONAL_COMMANDS and not _private(update):
        await _ask_in_private(update, context)
        return
    event = Event.command(name, (arg or "").strip(), language=_language(update))
    await _converse(update, context, event)


async def text(update: Update, context: Context) -> None:
    """A typed message in a private chat: a question, a date the bot asked for, small talk."""
    await _converse(update, context, Event.message(_said(update), language=_language(update)))


async def group_text(update: Update, context: Context) -> None:
    """A group message (or caption) that mentions the bot: the rest of it is the question."""
    mention = re.compile(rf"@{re.escape(context.bot.username)}\b", re.IGNORECASE)
    question = mention.sub(" ", _said(update)).strip()
    if await _asks_for_personal_data(context, question):  # "my deadlines" runs /deadlines
        await _ask_in_private(update, context)
        return
    event = Event.message(question, language=_language(update), group=True)
    await _converse(update, context, event)


async def other_message(update: Update, context: Context) -> None:
    """A photo, sticker or file in a private chat: its caption is the question (without one
    the engine asks for a typed question)."""
    await _converse(update, context, Event.message(_said(update), language=_language(update)))


async def _converse(update: Update, context: Context, event: Event) -> None:
    user_id = update.effective_user.id
    handled = await desk(context).converse(user_id, event, update_id=update.update_id)
    replies = await handoff.carry_out(update, context, handled)  # a request to a person
    answers = await send_replies(context.bot, update.effective_chat.id, replies)
    if _private(update):  # a reaction in the user's own chat can be on them
        await desk(context).remember_answers(user_id, answers)
    await _chat_commands(update, context, replies)


async def _chat_commands(update: Update, context: Context, replies: list[Reply]) -> None:
    """A private chat's command menu in the language the replies ask for (see `Reply.commands`):
    Telegram's menus per language_code know "zh" only, so 简体 (and a language chosen against
    the app's) is set for the chat itself."""
    language = next((r.commands for r in reversed(replies) if r.commands is not None), None)
    if language is None or not _private(update):
        return
    commands = [BotCommand(name, text) for name, text in command_menu(language)]
    try:
        await context.bot.set_my_commands(
            commands, scope=BotCommandScopeChat(update.effective_chat.id)
        )
    except TelegramError as exc:  # the menu is a convenience: the reply went out
        log.warning("chat %s: the command menu was not set: %s", update.effective_chat.id, exc)


async def _ask_in_private(update: Update, context: Context) -> None:
    """In a group, point to the private chat (never answer one user's data there)."""
    if not await desk(context).first_handling(update.update_id):
        return
    tr = translations(language_of(_language(update)))
    url = f"https://t.me/{context.bot.username}"
    reply = Reply(tr.gettext(ASK_IN_PRIVATE), ((Button(tr.gettext(OPEN_PRIVATE_CHAT), url=url),),))
    await send_replies(context.bot, update.effective_chat.id, [reply])


async def _asks_for_personal_data(context: Context, question: str) -> bool:
    router = desk(context).engine.router  # the engine's own reading: "my deadlines", 我的期限
    route = await asyncio.to_thread(router.route, question, today=taipei_today())
    return route.kind == "command" and route.command in PERSONAL_COMMANDS


def _said(update: Update) -> str:
    """The message's text or caption, as it may enter the bot (no control characters)."""
    message = update.effective_message
    return strip_controls(message.text or message.caption or "") if message else ""


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


# --- buttons, inline mode, staff -------------------------------------------------------------


async def button(update: Update, context: Context) -> None:
    """A button press: answered at once (the spinner stops), then navigation edits in place."""
    query = update.callback_query
    data = strip_controls(query.data or "")
    chat_id = query.message.chat.id if query.message else query.from_user.id
    if isinstance(cb.decode(data), cb.STAFF_ACTIONS) and chat_id == desk(context).staff_chat_id:
        await handoff.staff_button(update, context)  # elsewhere the engine has it expire
        return
    in_group = query.message is not None and query.message.chat.type != ChatType.PRIVATE
    if in_group and isinstance(cb.decode(data), PERSONAL_BUTTONS):
        ask = translations(language_of(_language(update))).gettext(ASK_IN_PRIVATE)
        with suppress(BadRequest):
            await query.answer(ask, show_alert=True)
        return
    with suppress(BadRequest):  # too old to answer (a backlog after a restart): act on it still
        await query.answer()
    own_chat = chat_id == query.from_user.id  # where answers' message ids are remembered
    pressed = query.message.message_id if own_chat and query.message else None
    event = Event.button(data, language=_language(update), message_id=pressed)
    handled = await desk(context).converse(query.from_user.id, event, update_id=update.update_id)
    replies = await handoff.carry_out(update, context, handled)
    answers = await send_replies(context.bot, chat_id, replies, pressed=query.message)
    if own_chat:  # the user's own chat: reactions there can be on them
        await desk(context).remember_answers(query.from_user.id, answers)
    await _chat_commands(update, context, replies)


async def reaction(update: Update, context: Context) -> None:
    """A change of the user's reactions on a message in their chat with the bot: a 👍 or 👎 on
    an answer is the same anonymous feedback as its buttons."""
    changed = update.message_reaction
    if changed.user is None or changed.chat.type != ChatType.PRIVATE:
        return  # an anonymous admin, or a group: not one user's feedback on their answer
    emoji = [r.emoji for r in changed.new_reaction if isinstance(r, ReactionTypeEmoji)]
    event = Event.reaction(changed.message_id, emoji, language=_language(update))
    await _converse(update, context, event)


async def inline_query(update: Update, context: Context) -> None:
    """`@bot words` in any chat: the best answers as shareable messages."""
    query = update.inline_query
    words = strip_controls(query.query)
    lang = query_lang(words, language_of(query.from_user.language_code))
    results = inline_results(
        desk(context).engine, words, lang=lang, bot_username=context.bot.username
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
    if not await desk(context).first_handling(update.update_id):
        return
    engine = desk(context).engine
    html = staff_links_html(
        engine.knowledge,
        engine.matcher,
        strip_controls(" ".join(context.args or ())),
        lang=language_of(_language(update)),
        bot_username=context.bot.username,
    )
    message = update.effective_message
    if message is not None and message.chat.type != ChatType.PRIVATE:
        # The staff group: in the topic it was asked in (send_replies knows no topics).
        for chunk in split_html(html):
            await message.reply_html(
                chunk, do_quote=False, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        return
    await send_replies(context.bot, update.effective_chat.id, [Reply(html)])


async def staff_stats(update: Update, context: Context) -> None:
    """/stats [DATE] (the staff group, and staff in private): the figures per week as a chart,
    the numbers below it."""
    message = update.effective_message
    if message is None or not await desk(context).first_handling(update.update_id):
        return
    lang = language_of(_language(update))
    arg = strip_controls(" ".join(context.args or ())).strip()
    today = taipei_today()
    try:
        since = read_date(arg, today=today).value if arg else None
    except DateInputError as exc:
        usage = translations(lang).gettext(STATS_USAGE)
        reason = exc.message(lang_of(lang))  # its reasons exist in en and zh (Traditional)
        if lang == HANS:
            reason = to_simplified(reason)
        await message.reply_text(f"{reason}\n{usage}", do_quote=False)
        return
    report = await desk(context).figures(since=since, until=today)
    chart = await asyncio.to_thread(stats.chart_png, report)  # CPU work, off the event loop
    caption = translations(lang).gettext(STATS_CHART)
    await message.reply_photo(chart, caption=caption, do_quote=False)
    for chunk in split_html(stats.report_html(report, lang)):
        await message.reply_html(chunk, do_quote=False)


async def slow_down(update: Update) -> None:
    """A user's queue is full (their update was dropped): ask them, once, to slow down."""
    text = translations(language_of(_language(update))).gettext(SLOW_DOWN)
    with suppress(TelegramError):  # a courtesy: nothing more to do if it fails
        if update.callback_query:
            await update.callback_query.answer(text)
        elif update.effective_chat:
            await update.get_bot().send_message(update.effective_chat.id, text)


# --- errors ------------------------------------------------------------------------------------


async def error(update: object, context: Context) -> None:
    """Log the failed update (redacted); mark a user who blocked the bot inactive, tell anyone
    else something went wrong."""
    if not isinstance(update, Update):  # PTB's polling (update None) or a background task
        error = context.error
        if isinstance(error, NetworkError):  # the network or Telegram hiccuped: PTB retries
            log.warning("polling failed: %s: %s", type(error).__name__, error)
        else:
            log.error("failed outside an update: %s: %s", type(error).__name__, error,
                      exc_info=error)  # fmt: skip
        return
    chat = update.effective_chat
    if isinstance(context.error, Forbidden) and chat and chat.type == ChatType.PRIVATE:
        log.info("user %s blocked the bot; marked inactive", chat.id)
        await desk(context).deactivate(chat.id)
        return
    if isinstance(context.error, DatabaseFileGone):  # nowhere left to keep anything: stop
        log.critical("stopping: %s", context.error)
        context.bot_data[STOPPED_BY] = str(context.error)
        context.application.stop_running()
    else:
        log.error("failed: %s", describe(update), exc_info=context.error)
    if chat is not None and not isinstance(context.error, Forbidden):
        sorry = translations(language_of(_language(update))).gettext(SOMETHING_WENT_WRONG)
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
    return f"{where}: {redact(strip_controls(said))[:300]!r}"


def _language(update: object) -> str | None:
    user = update.effective_user if isinstance(update, Update) else None
    return user.language_code if user else None
