"""The Telegram application: built from the settings, wired in one place, run by long polling
or behind a webhook. State lives in the database, so any number of processes can serve one bot.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine as Database
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, Update
from telegram.constants import BotDescriptionLimit
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    MessageReactionHandler,
    filters,
)

from bot.config import Settings
from bot.dialogue import Engine, command_menu
from bot.i18n import render
from bot.learning import LiveMatcher
from bot.telegram import handlers, handoff, inbox, webhook
from bot.telegram.desk import DESK_KEY, Desk
from bot.telegram.sending import SharedBudget, rate_limiter
from bot.textnorm import Lang

log = logging.getLogger(__name__)

# A token's shape: the bot's numeric id, a colon, URL-safe characters. @BotFather's are 35 long
# today, but Telegram promises no length (local Bot API servers and emulators hand out others):
# Telegram's getMe at start-up is what decides whether a token is good.
TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts
# The update types the handlers use; an edited message is not asked again. Telegram sends
# reactions only when asked for by name (👍/👎 on an answer is feedback).
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.MESSAGE_REACTION,
]
MAX_CONCURRENT_UPDATES = 16
# A load balancer's check waits this long for the database (under its own usual 5 s timeout).
HEALTH_TIMEOUT = 3.0
# A user's updates waiting or running; past it they are dropped with one "slow down" (an album
# is 10 messages; a forward of 100 is one tap, and would keep the user waiting for minutes).
MAX_BACKLOG = 10
# (language, language_code): zh users get the zh texts, everyone else the default (English).
PROFILE_LANGUAGES: tuple[tuple[Lang, str | None], ...] = (("en", None), ("zh", "zh"))


class SetupError(Exception):
    """A setting the bot cannot run with; the message is one line for whoever deploys it."""


# --- the application -------------------------------------------------------------------------


def bot_token(settings: Settings) -> str:
    """The token from BOT_TOKEN, checked for its shape only, `<digits>:<token characters>`
    (never echoed back); whether Telegram takes it is getMe's answer at start-up."""
    if settings.bot_token is None:
        raise SetupError("BOT_TOKEN is not set: put the token from @BotFather in the environment")
    token = settings.bot_token.get_secret_value().strip()
    if not TOKEN.fullmatch(token):
        raise SetupError(
            "BOT_TOKEN is malformed: expected <bot id>:<token>, digits, a colon, then letters, "
            f"digits, _ and - ({len(token)} characters given)"
        )
    return token


def api_urls(base_url: str) -> tuple[str, str]:
    """(base_url, base_file_url) for a TELEGRAM_API_BASE_URL such as http://host:8081/bot."""
    base = base_url.rstrip("/")
    if not base.endswith("/bot"):
        base += "/bot"
    return base, base.removesuffix("/bot") + "/file/bot"


def build_application(
    settings: Settings,
    *,
    db: Database | None = None,
    engine: Engine | None = None,
    rate_limit: bool = True,
) -> Application:  # type: ignore[type-arg]
    """The bot, ready to run: token and API address from `settings`, the rate limiter, the
    profile published at start-up, every handler wired. `db` and `engine` default to the ones
    the settings and the knowledge base make (tests and benchmarks pass their own).

    Raises:
        SetupError: BOT_TOKEN is missing or malformed.
    """
    token = bot_token(settings)
    webhook.install()  # the webhook server reads no body before the secret (if run as one)
    if db is None:
        from bot.storage import create_db_engine, prepare

        db = create_db_engine(settings.database_url)
        prepare(db)
    if engine is None:
        from bot.knowledge import load_knowledge

        knowledge = load_knowledge()
        engine = Engine(knowledge, LiveMatcher(knowledge, db))  # type: ignore[arg-type]
    builder = (
        ApplicationBuilder()
        .token(token)
        .concurrent_updates(PerUserUpdates(MAX_CONCURRENT_UPDATES, overflow=handlers.slow_down))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.telegram_api_base_url:
        base_url, base_file_url = api_urls(settings.telegram_api_base_url)
        builder = builder.base_url(base_url).base_file_url(base_file_url)
    if rate_limit:
        budget = SharedBudget.over(db, token=token, per_second=settings.send_budget)
        builder = builder.rate_limiter(rate_limiter(settings.send_budget, budget=budget))
    application = builder.build()
    engine = engine.with_handoff(settings.staff_chat_id is not None)  # "Ask a person"
    desk = application.bot_data[DESK_KEY] = Desk.over(
        db, engine, settings.staff_ids, staff_chat_id=settings.staff_chat_id
    )
    webhook.serve_health(application.update_queue, functools.partial(health, desk))
    add_handlers(application, staff_ids=settings.staff_ids, staff_chat_id=settings.staff_chat_id)
    return application


async def health(desk: Desk) -> tuple[bool, dict[str, Any]]:
    """The webhook's `GET /healthz`: healthy when the database answers `SELECT 1` within
    HEALTH_TIMEOUT seconds and the knowledge is loaded; (healthy, a small JSON report)."""
    knowledge = desk.engine.knowledge
    loaded = {"answers": len(knowledge.faq), "guides": len(knowledge.guides)}
    try:
        await asyncio.wait_for(asyncio.to_thread(_select_1, desk.db), HEALTH_TIMEOUT)
        database = "ok"
    except (SQLAlchemyError, TimeoutError) as exc:
        log.warning("health check: the database does not answer: %s", type(exc).__name__)
        database = "unreachable"
    healthy = database == "ok" and loaded["answers"] > 0
    status = "ok" if healthy else "unavailable"
    return healthy, {"status": status, "database": database, "knowledge": loaded}


def _select_1(db: Database) -> None:
    with db.connect() as connection:
        connection.execute(text("SELECT 1"))


def add_handlers(
    application: Application,  # type: ignore[type-arg]
    *,
    staff_ids: frozenset[int],
    staff_chat_id: int | None = None,
) -> None:
    """Wire every handler. Order matters: PTB gives an update to the first handler that wants
    it, so the narrow command handlers come before the catch-all ones."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    staff = inbox.staff_only(staff_ids, staff_chat_id) & filters.UpdateType.MESSAGE
    # Staff's words for a topic, replied to the inbox's prompt: first, so that in a ticket's
    # topic they are not relayed to the applicant, and elsewhere not read as a question.
    application.add_handler(
        MessageHandler(
            staff & filters.TEXT & ~filters.COMMAND & inbox.RepliesToSearch(), inbox.inbox_search
        )
    )
    if staff_chat_id is not None:
        # The staff's replies in a ticket's topic, before anything reads group messages: they
        # go to the ticket's applicant. Commands (staff tools) and service messages do not.
        application.add_handler(
            MessageHandler(
                filters.Chat(staff_chat_id)
                & filters.UpdateType.MESSAGE
                & filters.IS_TOPIC_MESSAGE
                & ~filters.COMMAND
                & ~filters.StatusUpdate.ALL
                & ~filters.VIA_BOT,
                handoff.staff_message,
            )
        )

    # Staff first: for anyone else /link is just an unknown command (no hint it exists). Where
    # staff work: the staff group (answered in its topic), or STAFF_IDS in private.
    application.add_handler(CommandHandler("link", handlers.staff_link, staff))
    # The figures: anyone in the staff group (it is the help desk's), staff in private.
    staff_places = filters.User(staff_ids) & private
    if staff_chat_id is not None:
        staff_places |= filters.Chat(staff_chat_id) & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("stats", handlers.staff_stats, staff_places))
    # /inbox where staff work (the staff group, or STAFF_IDS in private); elsewhere unknown.
    application.add_handler(CommandHandler("inbox", inbox.inbox_command, staff))
    # The inbox's buttons before the engine's: staff's presses are handled here, anyone else's
    # is passed on to the engine (which says the button has expired).
    application.add_handler(
        CallbackQueryHandler(
            inbox.inbox_button(staff_ids, staff_chat_id), pattern=inbox.CALLBACK_PATTERN
        )
    )
    # /start before the catch-all commands: it carries deep-link payloads.
    application.add_handler(CommandHandler("start", handlers.start, filters.UpdateType.MESSAGE))
    # Every other command, in private chats and groups alike (a command addresses the bot).
    application.add_handler(
        MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, handlers.command)
    )
    # Text after commands, so "/help" is never read as a question.
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.text))
    # In groups only a mention addresses the bot; other talk is not ours to answer.
    application.add_handler(
        MessageHandler(
            groups & (filters.TEXT | filters.CAPTION) & handlers.MentionsMe(), handlers.group_text
        )
    )
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.other_message)
    )
    application.add_handler(CallbackQueryHandler(handlers.button))
    # A user's own reactions (not the anonymous counts Telegram sends for channels and groups).
    application.add_handler(
        MessageReactionHandler(
            handlers.reaction,
            message_reaction_types=MessageReactionHandler.MESSAGE_REACTION_UPDATED,
        )
    )
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_error_handler(handlers.error)


class PerUserUpdates(BaseUpdateProcessor):
    """Updates of different users run concurrently, one user's strictly in order (the storage
    also serialises them across processes; this keeps their order within one).

    An update waits for its user's turn *before* it takes one of the concurrent slots, so a
    user's queue holds no slot; past `max_backlog` waiting updates, a user's further updates are
    dropped and `overflow` is told once (until the user's queue empties).
    """

    def __init__(
        self,
        max_concurrent_updates: int,
        *,
        max_backlog: int = MAX_BACKLOG,
        overflow: Callable[[Update], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.max_backlog = max_backlog
        self._overflow = overflow
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._told: set[int] = set()  # users told to slow down in this burst

    # PTB's version (marked final) takes a slot and then calls do_process_update, where the
    # update waited for its user: one user's 16 queued updates held every slot.
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        """Wait for the user's turn, then for a slot (see the class docstring)."""
        await self.do_process_update(update, coroutine)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            async with self._semaphore:
                await coroutine
            return
        if self._waiting.get(user.id, 0) >= self.max_backlog:
            await self._drop(user.id, update, coroutine)
            return
        lock = self._locks.setdefault(user.id, asyncio.Lock())
        self._waiting[user.id] = self._waiting.get(user.id, 0) + 1
        try:
            async with lock, self._semaphore:
                await coroutine
        finally:
            self._waiting[user.id] -= 1
            if not self._waiting[user.id]:  # nobody queued: forget the user's lock
                del self._waiting[user.id], self._locks[user.id]
                self._told.discard(user.id)

    async def _drop(self, user_id: int, update: Update, coroutine: Awaitable[Any]) -> None:
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never run: no "coroutine was never awaited"
        log.info(
            "user %s has %s updates queued: update %s dropped",
            user_id,
            self.max_backlog,
            update.update_id,
        )
        if self._overflow is not None and user_id not in self._told:
            self._told.add(user_id)
            async with self._semaphore:
                await self._overflow(update)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


# --- the bot's profile -----------------------------------------------------------------------


def description(lang: Lang) -> str:
    """The "What can this bot do?" text of an empty chat: /help's summary, without commands."""
    text = _plain(render("help.html", lang, commands=()))
    limit = BotDescriptionLimit.MAX_DESCRIPTION_LENGTH
    while len(text) > limit and "\n\n" in text:
        text = text.rsplit("\n\n", 1)[0]
    return text[:limit]


def short_description(lang: Lang) -> str:
    """The profile page's line: the welcome's first paragraph without its greeting."""
    welcome = _plain(render("welcome.html", lang, returning=False, language="", place=""))
    first = welcome.split("\n\n")[0]
    _, wave, rest = first.partition("👋")
    text = (rest if wave else first).strip()
    limit = BotDescriptionLimit.MAX_SHORT_DESCRIPTION_LENGTH
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _plain(html: str) -> str:
    text = unescape(re.sub(r"<[^>]+>", "", html))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


async def publish_profile(application: Application) -> None:  # type: ignore[type-arg]
    """Set the description, short description and command menu in each language."""
    bot = application.bot
    for lang, code in PROFILE_LANGUAGES:
        commands = [BotCommand(name, text) for name, text in command_menu(lang)]
        await bot.set_my_commands(commands, language_code=code)
        await bot.set_my_description(description(lang), language_code=code)
        await bot.set_my_short_description(short_description(lang), language_code=code)


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    matcher = application.bot_data[DESK_KEY].engine.matcher
    if isinstance(matcher, LiveMatcher):
        matcher.watch()  # learned questions reach this process within a minute
    try:
        await publish_profile(application)
    except TelegramError as exc:  # the bot answers fine without; try again at the next start
        log.warning("could not publish the bot's profile: %s", exc)


async def _post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    matcher = application.bot_data[DESK_KEY].engine.matcher
    if isinstance(matcher, LiveMatcher):
        matcher.close()
    application.bot_data[DESK_KEY].close()


# --- running -----------------------------------------------------------------------------------


def webhook_settings(settings: Settings) -> tuple[str, str]:
    """(WEBHOOK_URL, WEBHOOK_SECRET), checked.

    Raises:
        SetupError: either is missing or not what Telegram accepts.
    """
    url, secret = settings.webhook_url, settings.webhook_secret
    if not url or (urlsplit(url).scheme != "https" and not _loopback(url)):
        raise SetupError("WEBHOOK_URL must be set to the bot's public https:// address")
    if secret is None or not WEBHOOK_SECRET.fullmatch(secret.get_secret_value()):
        raise SetupError("WEBHOOK_SECRET must be set: 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return url, secret.get_secret_value()


def _loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost")  # a local Bot API server


class QuietRefusedToken(logging.Filter):
    """Drops PTB's traceback for a token Telegram refused; the command line says it in a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InvalidToken))


def run_polling(application: Application) -> None:  # type: ignore[type-arg]
    """Long polling until interrupted (the Procfile's `worker`)."""
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


def run_webhook(
    application: Application,  # type: ignore[type-arg]
    settings: Settings,
    *,
    port: int,
    listen: str = "0.0.0.0",
) -> None:
    """PTB's webhook server on `port` until interrupted (the Procfile's `web`): Telegram posts
    updates to WEBHOOK_URL, with WEBHOOK_SECRET in a header (anything else gets 403)."""
    url, secret = webhook_settings(settings)
    application.run_webhook(
        listen=listen,
        port=port,
        url_path=urlsplit(url).path.lstrip("/"),
        webhook_url=url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
    )
