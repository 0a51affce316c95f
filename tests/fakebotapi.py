"""A fake Telegram Bot API on 127.0.0.1 for end-to-end tests over real HTTP.

The real ``telegram.ext.Application`` and its real HTTP client talk to it (``FakeBotApi.builder``).
It serves injected updates through ``getUpdates`` or posts them to a webhook, records every call,
keeps the messages of each chat (so edits and "message is not modified" behave as on Telegram) and
injects the failures PTB turns into ``Forbidden``, ``RetryAfter``, ``BadRequest`` and ``TimedOut``.

Typical use::

    async with FakeBotApi() as fake:
        application = fake.builder().build()
        application.add_handler(...)
        async with polling(application):
            ada = fake.user("Ada", language_code="en")
            fake.push(fake.message(ada, "hello"))
            reply = await fake.wait_for("sendMessage", chat_id=ada["id"])
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html.parser
import itertools
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any

import aiohttp
from aiohttp import web
from telegram.ext import Application, ApplicationBuilder

JSON = dict[str, Any]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Parameters the Bot API types as String: never JSON-decoded, so a text "123" or "true" stays text.
# Every other form value is JSON-decoded when it parses (PTB JSON-encodes all non-str values).
STRING_PARAMS = frozenset(
    """text caption parse_mode callback_query_id inline_query_id inline_message_id url
    secret_token ip_address action language_code description short_description name
    next_offset switch_pm_text switch_pm_parameter business_connection_id message_effect_id
    file_id emoji title""".split()
)

# Update types Telegram delivers when allowed_updates was never given.
DEFAULT_ALLOWED_UPDATES = frozenset(
    """message edited_message channel_post edited_channel_post business_connection
    business_message edited_business_message deleted_business_messages inline_query
    chosen_inline_result callback_query shipping_query pre_checkout_query purchased_paid_media
    poll poll_answer my_chat_member chat_join_request chat_boost removed_chat_boost""".split()
)

CHAT_ACTIONS = frozenset(
    """typing upload_photo record_video upload_video record_voice upload_voice upload_document
    choose_sticker find_location record_video_note upload_video_note""".split()
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


class BotApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional ``retry_after``."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def blocked() -> BotApiError:
    """403 as Telegram answers for a user who blocked the bot (PTB raises ``Forbidden``)."""
    return BotApiError(403, "Forbidden: bot was blocked by the user")


def flood(retry_after: int) -> BotApiError:
    """429 with ``parameters.retry_after`` (PTB raises ``RetryAfter``)."""
    return BotApiError(
        429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
    )


def not_modified() -> BotApiError:
    """400 for an edit that changes nothing (PTB raises ``BadRequest``)."""
    return BotApiError(
        400,
        "Bad Request: message is not modified: specified new message content and reply markup"
        " are exactly the same as a current content and reply markup of the message",
    )


def bad_request(reason: str) -> BotApiError:
    """400 "Bad Request: <reason>" (PTB raises ``BadRequest``)."""
    return BotApiError(400, f"Bad Request: {reason}")


QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (``sendDocument``)."""

    field: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Call:
    """One recorded Bot API request.

    ``status`` is the HTTP status answered (0 when the client went away first, or when the fake
    dropped the connection); ``result`` is the ``result`` of a successful answer, ``error`` the
    description of a failed one.
    """

    method: str
    params: JSON
    files: dict[str, UploadedFile]
    at: float
    status: int
    result: Any = None
    error: str | None = None

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    @property
    def ok(self) -> bool:
        return self.status == 200

    def matches(self, method: str | None, params: JSON) -> bool:
        if method is not None and self.method != method:
            return False
        return all(
            _same_param(self.params.get(name, _MISSING), value) for name, value in params.items()
        )

    def summary(self) -> str:
        shown = {k: v for k, v in self.params.items() if k in ("chat_id", "text", "message_id")}
        outcome = "ok" if self.ok else f"{self.status} {self.error}"
        return f"{self.method}({shown}) -> {outcome}"


_MISSING = object()


def _same_param(actual: Any, expected: Any) -> bool:
    if actual is _MISSING:
        return False
    # chat ids arrive as ints but tests may hold them either way
    if isinstance(expected, int) and isinstance(actual, str):
        return actual.lstrip("-").isdigit() and int(actual) == expected
    return actual == expected


@dataclass
class Fault:
    """An injected failure, matched by method and/or chat id; ``times=None`` means forever.

    ``delay`` waits before answering; with ``deliver`` the call takes effect *before* the wait
    (the message reaches the user, the client just never hears back in time), otherwise after
    it (a client that gives up first leaves no trace but the recorded call).
    """

    error: BotApiError | None = None
    delay: float = 0.0
    disconnect: bool = False
    deliver: bool = False
    method: str | None = None
    chat_id: int | str | None = None
    times: int | None = None
    hits: int = 0

    def matches(self, method: str, params: JSON) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is None:
            # a blanket fault must not break the polling loop itself
            if method == "getUpdates":
                return False
        elif self.method.lower() != method.lower():
            return False
        if self.chat_id is not None:
            chat_id = params.get("chat_id", _MISSING)
            if chat_id is _MISSING or not _same_param(chat_id, self.chat_id):
                return False
        return True


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


_ENTITY_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}")),
    ("url", re.compile(r"https?://[^\s<>\"]+")),
)


def detect_entities(text: str) -> list[JSON]:
    """Entities Telegram clients attach to a plain text message: commands, mentions, URLs."""
    found = []
    for kind, pattern in _ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            found.append(
                {
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group()),
                    "type": kind,
                }
            )
    return sorted(found, key=lambda e: (e["offset"], -e["length"]))


_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "span": "spoiler",
}


class _TelegramHtml(html.parser.HTMLParser):
    """Telegram's HTML parse mode: the supported tags only, properly nested, no <br>."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.text: list[str] = []
        self.length = 0
        self.open: list[tuple[str, JSON]] = []
        self.entities: list[JSON] = []

    def _where(self) -> str:
        line, column = self.getpos()
        lines = self.source.splitlines(keepends=True)
        index = sum(len(chunk) for chunk in lines[: line - 1]) + column
        return f"byte offset {len(self.source[:index].encode())}"

    def _fail(self, reason: str) -> BotApiError:
        return bad_request(f"can't parse entities: {reason}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        kind = _HTML_ENTITY_TYPES.get(tag)
        if kind is None or (tag == "span" and values.get("class") != "tg-spoiler"):
            raise self._fail(f'Unsupported start tag "{tag}" at {self._where()}')
        if tag == "blockquote" and any(open_tag == "blockquote" for open_tag, _ in self.open):
            raise self._fail(f"Blockquote entities can't be nested at {self._where()}")
        entity: JSON = {"type": kind, "offset": self.length}
        if tag == "a":
            href = values.get("href") or ""
            if not href:
                raise self._fail(f'Can\'t find attribute "href" at {self._where()}')
            entity["url"] = href
        elif tag == "blockquote" and "expandable" in values:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = values.get("emoji-id") or ""
        elif tag == "code" and self.open and self.open[-1][0] == "pre":
            language = (values.get("class") or "").removeprefix("language-")
            if language:
                self.open[-1][1]["language"] = language
            entity["type"] = "_merged_into_pre"
        self.open.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise self._fail(f'Unsupported start tag "{tag}" at {self._where()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            raise self._fail(f"Unexpected end tag at {self._where()}")
        open_tag, entity = self.open.pop()
        if open_tag != tag:
            raise self._fail(
                f'Can\'t find end tag corresponding to start tag "{open_tag}" at {self._where()}'
            )
        entity["length"] = self.length - entity["offset"]
        if entity["length"] > 0 and entity["type"] != "_merged_into_pre":
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.length += utf16_len(data)

    def parse(self) -> tuple[str, list[JSON]]:
        self.feed(self.source)
        self.close()
        if self.open:
            raise self._fail(
                f'Can\'t find end tag corresponding to start tag "{self.open[-1][0]}"'
            )
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.text), entities


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Plain text and entities of ``source`` in HTML parse mode, or the 400 Telegram answers."""
    return _TelegramHtml(source).parse()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for PTB's webhook server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class _Poll:
    superseded: bool = False


@dataclass
class _Webhook:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    ip_address: str | None = None


@dataclass
class _Request:
    method: str
    params: JSON
    files: dict[str, UploadedFile] = field(default_factory=dict)


class FakeBotApi:
    """The fake Bot API server: start it with ``async with FakeBotApi() as fake``.

    Attributes a test reads: ``token``, ``base_url``, ``base_file_url``, ``bot_user`` (getMe),
    ``calls`` (every request, in order of completion), ``webhook``, ``commands``,
    ``descriptions``, ``short_descriptions``; ``latency`` (seconds added to every method but
    ``getUpdates``) can be set at any time.
    """

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        username: str = "goldcard_test_bot",
        first_name: str = "Gold Card Help Desk",
        latency: float = 0.0,
    ) -> None:
        self.token = f"{bot_id}:AAFakeBotApiTokenForTests_0123456789"
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.latency = latency
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.webhook = _Webhook()
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.files: dict[str, tuple[JSON, UploadedFile]] = {}
        # Forum topics: chat id -> message_thread_id -> {"name", "icon_color", "closed"}.
        self.topics: dict[int, dict[int, JSON]] = {}

        self._host = "127.0.0.1"
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()  # replaced on every recorded call; see _record
        self._poll_wakeup = asyncio.Event()
        self._poll: _Poll | None = None
        self._pending: list[JSON] = []  # updates not yet confirmed by a getUpdates offset
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._chats: dict[int, JSON] = {}
        self._messages: dict[int, dict[int, JSON]] = {}  # chat id -> message id -> message
        self._next_message_id: dict[int, int] = {}
        self._open_callback_queries: set[str] = set()
        self._open_inline_queries: set[str] = set()
        self._update_ids = itertools.count(100_001)
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(1_000_000_001)
        self._query_ids = itertools.count(4_400_000_000_000_001)
        self._file_ids = itertools.count(1)

        self._methods: dict[str, Callable[[_Request], Awaitable[Any]]] = {
            name.lower(): getattr(self, f"_api_{name}")
            for name in (
                "getMe getUpdates deleteWebhook setWebhook getWebhookInfo setMyCommands"
                " getMyCommands deleteMyCommands setMyDescription getMyDescription"
                " setMyShortDescription getMyShortDescription setMyName getMyName sendMessage"
                " editMessageText editMessageReplyMarkup deleteMessage answerCallbackQuery"
                " answerInlineQuery sendDocument sendPhoto getFile sendChatAction close logOut"
                " copyMessage createForumTopic editForumTopic closeForumTopic reopenForumTopic"
                " deleteForumTopic"
            ).split()
        }
        # Telegram matches method names case-insensitively; calls are recorded canonically.
        self._canonical = {
            key: method.__name__.removeprefix("_api_") for key, method in self._methods.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a client that times out or disconnects cancels the handler, as
        # when a long poll is abandoned on shutdown; it is recorded with status 0.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, 0).start()
        self._port = self._runner.addresses[0][1]
        self._client = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Wake every long poll and stalled call so they answer now, then stop serving."""
        self._closing.set()
        self._wake_pollers()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        assert self._port is not None, "the fake Bot API is not started"
        return self._port

    @property
    def base_url(self) -> str:
        """What ``TELEGRAM_API_BASE_URL`` and ``ApplicationBuilder.base_url`` take."""
        return f"http://{self._host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self._host}:{self.port}/file/bot"

    def builder(self) -> ApplicationBuilder:
        """An ``ApplicationBuilder`` with the token and both URLs pointing here."""
        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )

    # ------------------------------------------------------------------ recorded calls

    def calls_to(
        self, method: str | None = None, /, *, since: int = 0, **params: Any
    ) -> list[Call]:
        """Recorded calls of ``method`` (any when None) whose parameters equal ``params``."""
        return [call for call in self.calls[since:] if call.matches(method, params)]

    async def wait_until(self, condition: Callable[[], Any], *, timeout: float = 5.0) -> Any:
        """Wait until ``condition()`` is truthy and return it (None on timeout); it is checked
        after every recorded call and whenever a long poll starts."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_for(
        self,
        method: str | None = None,
        /,
        *,
        where: Callable[[Call], bool] | None = None,
        since: int = 0,
        timeout: float = 5.0,
        **params: Any,
    ) -> Call:
        """The first call from index ``since`` on matching ``method``, ``params`` and ``where``.

        Raises:
            AssertionError: none arrived within ``timeout`` seconds (with the calls seen).
        """
        calls = await self.wait_for_calls(
            method, count=1, where=where, since=since, timeout=timeout, **params
        )
        return calls[0]

    async def wait_for_calls(
        self,
        method: str | None = None,
        /,
        *,
        count: int,
        where: Callable[[Call], bool] | None = None,
        since: int = 0,
        timeout: float = 5.0,
        **params: Any,
    ) -> list[Call]:
        """The first ``count`` matching calls (see ``wait_for``)."""

        def matching() -> list[Call]:
            found = [
                call
                for call in self.calls_to(method, since=since, **params)
                if where is None or where(call)
            ]
            return found[:count] if len(found) >= count else []

        found = await self.wait_until(matching, timeout=timeout)
        if not found:
            seen = "\n  ".join(call.summary() for call in self.calls[since:]) or "(none)"
            wanted = f"{count} x {method or 'any method'} {params or ''}".rstrip()
            raise AssertionError(f"no {wanted} within {timeout}s; calls seen:\n  {seen}")
        return found

    @property
    def long_polling(self) -> bool:
        """True while a ``getUpdates`` call is waiting for updates."""
        return self._poll is not None

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # ------------------------------------------------------------------ faults

    def fail(
        self,
        error: BotApiError,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        times: int | None = None,
    ) -> Fault:
        """Answer matching calls with ``error`` (``times=None``: until removed)."""
        return self._add_fault(Fault(error=error, method=method, chat_id=chat_id, times=times))

    def block(self, chat_id: int) -> Fault:
        """The user ``chat_id`` blocked the bot: every call to that chat gets 403."""
        return self.fail(blocked(), chat_id=chat_id)

    def flood(
        self,
        retry_after: int,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Flood control: 429 with ``retry_after`` seconds (once by default)."""
        return self.fail(flood(retry_after), method=method, chat_id=chat_id, times=times)

    def stall(
        self,
        seconds: float,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        times: int | None = 1,
        deliver: bool = False,
    ) -> Fault:
        """Answer matching calls ``seconds`` late; past the client's read timeout PTB raises
        ``TimedOut``. With ``deliver`` the call takes effect before the wait."""
        return self._add_fault(
            Fault(delay=seconds, deliver=deliver, method=method, chat_id=chat_id, times=times)
        )

    def disconnect(
        self,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        times: int | None = 1,
        deliver: bool = False,
    ) -> Fault:
        """Drop the connection without an answer (PTB raises ``NetworkError``)."""
        return self._add_fault(
            Fault(disconnect=True, deliver=deliver, method=method, chat_id=chat_id, times=times)
        )

    def remove_fault(self, fault: Fault) -> None:
        self.faults.remove(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def _add_fault(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def _fault_for(self, method: str, params: JSON) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, params):
                fault.hits += 1
                return fault
        return None

    # ------------------------------------------------------------------ users, chats, updates

    def user(
        self,
        first_name: str = "Ada",
        *,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
        id: int | None = None,
    ) -> JSON:
        """A Telegram user (and their private chat with the bot), as the Bot API shows it."""
        user: JSON = {"id": id if id is not None else next(self._user_ids), "is_bot": False}
        user["first_name"] = first_name
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        chat = {"id": user["id"], "first_name": first_name, "type": "private"}
        if last_name:
            chat["last_name"] = last_name
        if username:
            chat["username"] = username
        self._chats[user["id"]] = chat
        return user

    def group(
        self,
        title: str = "Gold Card applicants",
        *,
        supergroup: bool = True,
        forum: bool = False,
        id: int | None = None,
    ) -> JSON:
        """A group chat the bot is a member of (supergroup ids look like -100…); a ``forum``
        is a supergroup with topics, where the bot is an admin that may manage them."""
        if id is None:
            number = next(self._group_ids)
            id = -(10**12 + number) if supergroup else -number
        chat = {"id": id, "title": title, "type": "supergroup" if supergroup else "group"}
        if forum:
            assert supergroup, "only supergroups have topics"
            chat["is_forum"] = True
        self._chats[id] = chat
        return chat

    def message(
        self,
        user: JSON,
        text: str,
        *,
        chat: JSON | None = None,
        entities: list[JSON] | None = None,
        reply_to: JSON | None = None,
        thread_id: int | None = None,
        media: JSON | None = None,
    ) -> JSON:
        """An update with a text message from ``user`` (in their private chat by default).

        Entities are detected as a Telegram client would (commands, mentions, URLs) unless given.
        ``thread_id`` posts it in a forum topic of ``chat``; ``media`` (``photo()``,
        ``document()``) makes it a photo or file with ``text`` as its caption (may be empty).
        """
        chat = chat or self._chats[user["id"]]
        message: JSON = {
            "message_id": self._new_message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
        }
        found = detect_entities(text) if entities is None else entities
        if media is None:
            message["text"] = text
            if found:
                message["entities"] = found
        else:
            message.update(copy.deepcopy(media))
            if text:
                message["caption"] = text
                if found:
                    message["caption_entities"] = found
        if thread_id is not None:
            assert thread_id in self.topics.get(chat["id"], {}), "no such topic in that chat"
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self._store(message)
        return {"update_id": next(self._update_ids), "message": copy.deepcopy(message)}

    @staticmethod
    def photo() -> JSON:
        """``media`` for ``message()``: a photo, as a client uploads it."""
        sizes = [(90, 90, "AQADs"), (800, 800, "AQADm")]
        return {
            "photo": [
                {"file_id": f"AgAD{unique}Photo", "file_unique_id": unique, "width": width,
                 "height": height, "file_size": width * height // 10}
                for width, height, unique in sizes
            ]
        }  # fmt: skip

    @staticmethod
    def document(file_name: str = "letter.pdf", mime_type: str = "application/pdf") -> JSON:
        """``media`` for ``message()``: a file."""
        return {
            "document": {"file_id": "BQADAgADFakeUpload", "file_unique_id": "AgADup",
                         "file_name": file_name, "mime_type": mime_type, "file_size": 2048}
        }  # fmt: skip

    def command(
        self,
        user: JSON,
        command: str,
        payload: str | None = None,
        *,
        chat: JSON | None = None,
        addressed: bool = False,
        thread_id: int | None = None,
    ) -> JSON:
        """``/command [payload]`` (a deep link ``t.me/bot?start=P`` arrives as ``/start P``);
        ``addressed`` writes ``/command@botname`` as clients do in groups."""
        text = f"/{command}"
        if addressed:
            text += f"@{self.bot_user['username']}"
        entities = [{"offset": 0, "length": utf16_len(text), "type": "bot_command"}]
        if payload:
            text += f" {payload}"
        return self.message(user, text, chat=chat, entities=entities, thread_id=thread_id)

    def group_message(self, user: JSON, group: JSON, text: str, *, mention: bool = True) -> JSON:
        """A message in ``group``, addressed to the bot with an @mention when ``mention``."""
        if mention:
            text = f"@{self.bot_user['username']} {text}"
        return self.message(user, text, chat=group)

    def callback_query(
        self,
        user: JSON,
        data: str,
        *,
        message: JSON | int | None = None,
        inaccessible: bool = False,
    ) -> JSON:
        """A button press on a bot message: ``message`` is the message JSON (e.g. a
        ``sendMessage`` call's ``result``), its id in the user's chat, or None for the bot's
        latest message there. ``inaccessible`` sends it as Telegram does for messages older
        than 48 hours (date 0, no content)."""
        if message is None:
            message = self.last_bot_message(user["id"])
            assert message is not None, f"the bot sent nothing to {user['id']} yet"
        elif isinstance(message, int):
            message = self._messages[user["id"]][message]
        else:
            message = self._messages.get(message["chat"]["id"], {}).get(
                message["message_id"], message
            )
        if inaccessible:
            message = {"chat": message["chat"], "message_id": message["message_id"], "date": 0}
        message = copy.deepcopy(message)
        query_id = str(next(self._query_ids))
        self._open_callback_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(8_000_000_000_000_000_000 + abs(message["chat"]["id"])),
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def reaction(
        self, user: JSON, message: JSON | int, new: Sequence[str] = (), *, old: Sequence[str] = ()
    ) -> JSON:
        """``user`` changing their reactions on a message of their private chat with the bot
        (``message`` JSON or its id) from the emoji ``old`` to ``new`` (none: removed). Telegram
        sends these only to a bot that asked for ``message_reaction`` in allowed_updates."""
        message_id = message if isinstance(message, int) else message["message_id"]
        changed = {
            "chat": self._chats[user["id"]],
            "message_id": message_id,
            "user": user,
            "date": int(time.time()),
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
        }
        return {"update_id": next(self._update_ids), "message_reaction": changed}

    def inline_query(
        self, user: JSON, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> JSON:
        """``@bot query`` typed in any chat."""
        query_id = str(next(self._query_ids))
        self._open_inline_queries.add(query_id)
        inline = {
            "id": query_id,
            "from": user,
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        return {"update_id": next(self._update_ids), "inline_query": inline}

    def push(self, *updates: JSON) -> JSON:
        """Queue updates for ``getUpdates`` (waking a waiting long poll); returns the last one."""
        assert updates, "push at least one update"
        self._pending.extend(updates)
        self._wake_pollers()
        return updates[-1]

    @property
    def pending_updates(self) -> list[JSON]:
        return list(self._pending)

    async def post_update(
        self,
        update: JSON,
        *,
        url: str | None = None,
        secret_token: str | EllipsisType | None = ...,
    ) -> int:
        """POST ``update`` to the webhook as Telegram does and return the HTTP status.

        ``url`` defaults to the one registered with ``setWebhook``; ``secret_token`` defaults to
        the registered one (``None`` sends no header, any other string a wrong one).
        """
        target = url or self.webhook.url
        assert target, "no webhook URL: the bot never called setWebhook"
        secret = self.webhook.secret_token if secret_token is ... else secret_token
        headers = {SECRET_HEADER: secret} if secret else {}
        assert self._client is not None, "the fake Bot API is not started"
        async with self._client.post(target, json=update, headers=headers) as response:
            await response.read()
            return response.status

    # ------------------------------------------------------------------ chat contents

    def chat_messages(self, chat_id: int) -> list[JSON]:
        """The messages of a chat as they stand (edits applied, deletions gone), oldest first."""
        return [self._messages[chat_id][k] for k in sorted(self._messages.get(chat_id, {}))]

    def bot_messages(self, chat_id: int) -> list[JSON]:
        bot_id = self.bot_user["id"]
        return [m for m in self.chat_messages(chat_id) if m.get("from", {}).get("id") == bot_id]

    def last_bot_message(self, chat_id: int) -> JSON | None:
        sent = self.bot_messages(chat_id)
        return sent[-1] if sent else None

    def _new_message_id(self, chat_id: int) -> int:
        # one counter per chat, shared by both sides, as in private chats
        number = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = number + 1
        return number

    def _store(self, message: JSON) -> None:
        self._messages.setdefault(message["chat"]["id"], {})[message["message_id"]] = message

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        given = request.match_info["method"]
        method = self._canonical.get(given.lower(), given)
        parsed = _Request(method=method, params={})
        status, result, error = 0, None, "client went away"
        try:
            if request.match_info["token"] != self.token:
                raise BotApiError(401, "Unauthorized")
            parsed = await self._read(request, method)
            fault = self._fault_for(method, parsed.params)
            await self._sleep(self.latency if method != "getUpdates" else 0.0)
            if fault is not None and not fault.deliver and await self._strike(fault, request):
                status, error = 0, "connection dropped by the fake"
                return web.Response(status=500)  # never reaches the client
            handler = self._methods.get(method.lower())
            if handler is None:
                raise BotApiError(404, "Not Found: method not found")
            result = await handler(parsed)
            if fault is not None and fault.deliver and await self._strike(fault, request):
                status, error = 0, "connection dropped by the fake"
                return web.Response(status=500)
            status, error = 200, None
            return web.json_response({"ok": True, "result": result})
        except BotApiError as exc:
            status, result, error = exc.status, None, exc.description
            return web.json_response(exc.payload(), status=exc.status)
        except Exception as exc:  # a bug in the fake: aiohttp answers 500
            status, result, error = 500, None, repr(exc)
            raise
        finally:
            self._record(
                Call(
                    method=method,
                    params=parsed.params,
                    files=parsed.files,
                    at=arrived,
                    status=status,
                    # a snapshot: the stored message may be edited later
                    result=copy.deepcopy(result),
                    error=error,
                )
            )

    async def _strike(self, fault: Fault, request: web.Request) -> bool:
        """Wait out the fault's delay, then raise its error or drop the connection (True)."""
        await self._sleep(fault.delay)
        if fault.error is not None:
            raise fault.error
        if fault.disconnect and request.transport is not None:
            request.transport.abort()
        return fault.disconnect

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    async def _read(self, request: web.Request, method: str) -> _Request:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            if request.can_read_body:
                body = await request.json()
                if not isinstance(body, dict):
                    raise bad_request("parameters must be a JSON object")
                raw.update(body)
        elif request.can_read_body:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    with value.file:
                        data = value.file.read()
                    files[name] = UploadedFile(name, value.filename, value.content_type, data)
                else:
                    raw[name] = value
        params = {name: _decode(name, value) for name, value in raw.items()}
        return _Request(method=method, params=params, files=files)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(BotApiError(401, "Unauthorized").payload(), status=401)
        path = request.match_info["path"]
        for described, upload in self.files.values():
            if described.get("file_path") == path:
                return web.Response(body=upload.data, content_type=upload.content_type)
        return web.json_response(BotApiError(404, "Not Found").payload(), status=404)

    # ------------------------------------------------------------------ methods: bot and setup

    async def _api_getMe(self, request: _Request) -> JSON:
        return self.bot_user

    async def _api_close(self, request: _Request) -> bool:
        return True

    async def _api_logOut(self, request: _Request) -> bool:
        return True

    async def _api_setMyCommands(self, request: _Request) -> bool:
        commands = request.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._command_key(request)] = commands
        return True

    async def _api_getMyCommands(self, request: _Request) -> list[JSON]:
        return self.commands.get(self._command_key(request), [])

    async def _api_deleteMyCommands(self, request: _Request) -> bool:
        self.commands.pop(self._command_key(request), None)
        return True

    @staticmethod
    def _command_key(request: _Request) -> tuple[str, str]:
        scope = request.params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), request.params.get("language_code", "")

    async def _api_setMyDescription(self, request: _Request) -> bool:
        return self._set_text(request, self.descriptions, "description", 512)

    async def _api_getMyDescription(self, request: _Request) -> JSON:
        language = request.params.get("language_code", "")
        return {"description": self.descriptions.get(language, "")}

    async def _api_setMyShortDescription(self, request: _Request) -> bool:
        return self._set_text(request, self.short_descriptions, "short_description", 120)

    async def _api_getMyShortDescription(self, request: _Request) -> JSON:
        language = request.params.get("language_code", "")
        return {"short_description": self.short_descriptions.get(language, "")}

    async def _api_setMyName(self, request: _Request) -> bool:
        return self._set_text(request, self.names, "name", 64)

    async def _api_getMyName(self, request: _Request) -> JSON:
        language = request.params.get("language_code", "")
        return {"name": self.names.get(language, self.bot_user["first_name"])}

    @staticmethod
    def _set_text(request: _Request, store: dict[str, str], name: str, limit: int) -> bool:
        text = str(request.params.get(name, ""))
        if len(text) > limit:
            raise bad_request(f"{name.upper()}_INVALID")
        language = request.params.get("language_code", "")
        if text:
            store[language] = text
        else:
            store.pop(language, None)
        return True

    # ------------------------------------------------------------------ methods: updates

    async def _api_getUpdates(self, request: _Request) -> list[JSON]:
        if self.webhook.url:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        params = request.params
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if params.get("allowed_updates") is not None:
            self._allowed_updates = frozenset(params["allowed_updates"]) or DEFAULT_ALLOWED_UPDATES
        self._confirm(offset)

        # A newer getUpdates ends the one waiting, as on Telegram.
        if self._poll is not None:
            self._poll.superseded = True
        poll = self._poll = _Poll()
        self._wake_pollers()
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if poll.superseded:
                    raise BotApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only"
                        " one bot instance is running",
                    )
                ready = self._deliverable(limit)
                remaining = deadline - loop.time()
                if ready or remaining <= 0 or self._closing.is_set():
                    return ready
                wakeup = self._poll_wakeup
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), remaining)
        finally:
            if self._poll is poll:
                self._poll = None

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _deliverable(self, limit: int) -> list[JSON]:
        # Updates of types the bot did not ask for are dropped, not kept for later.
        self._pending = [u for u in self._pending if _update_type(u) in self._allowed_updates]
        return self._pending[:limit]

    def _wake_pollers(self) -> None:
        wakeup, self._poll_wakeup = self._poll_wakeup, asyncio.Event()
        wakeup.set()

    async def _api_setWebhook(self, request: _Request) -> bool:
        params = request.params
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        # Telegram insists on HTTPS on ports 443/80/88/8443; the fake takes any http(s) URL so
        # PTB's own webhook server on loopback can be the target.
        if url and not re.match(r"https?://", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = _Webhook(
            url=url,
            secret_token=str(secret) if secret is not None and url else None,
            allowed_updates=params.get("allowed_updates"),
            max_connections=int(params.get("max_connections") or 40),
            ip_address=params.get("ip_address"),
        )
        if url and self._poll is not None:
            self._poll.superseded = True
            self._wake_pollers()
        return True

    async def _api_deleteWebhook(self, request: _Request) -> bool:
        if request.params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = _Webhook()
        return True

    async def _api_getWebhookInfo(self, request: _Request) -> JSON:
        info: JSON = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections
            if self.webhook.ip_address:
                info["ip_address"] = self.webhook.ip_address
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
        return info

    # ------------------------------------------------------------------ methods: messages

    def _chat(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, int) and chat_id in self._chats:
            return self._chats[chat_id]
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == chat_id[1:].lower():
                    return chat
        raise bad_request("chat not found")

    def _formatted(self, params: JSON, name: str, entities_name: str) -> tuple[str, list[JSON]]:
        source = str(params.get(name, ""))
        parse_mode = str(params.get("parse_mode") or "")
        if parse_mode.upper() == "HTML":
            return parse_html(source)
        # Markdown modes are passed through unparsed: this bot uses HTML.
        entities = params.get(entities_name) or []
        return source, entities if isinstance(entities, list) else []

    def _bot_message(self, chat: JSON, content: JSON, params: JSON) -> JSON:
        thread_id = self._thread(chat, params)
        message: JSON = {
            "message_id": self._new_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        markup = _inline_keyboard(params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        self._store(message)
        return message

    def _thread(self, chat: JSON, params: JSON) -> int | None:
        """The forum topic a message goes to (``message_thread_id``), checked as Telegram does:
        a topic of that chat, not deleted (an admin bot may post in a closed one)."""
        thread_id = params.get("message_thread_id")
        if thread_id is None or not chat.get("is_forum"):
            return None  # Telegram ignores it outside forums
        if not isinstance(thread_id, int) or thread_id not in self.topics.get(chat["id"], {}):
            raise bad_request("message thread not found")
        return thread_id

    def topic_messages(self, chat_id: int, thread_id: int) -> list[JSON]:
        """The messages of one forum topic, oldest first."""
        return [m for m in self.chat_messages(chat_id) if m.get("message_thread_id") == thread_id]

    async def _api_sendMessage(self, request: _Request) -> JSON:
        params = request.params
        chat = self._chat(params)
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._bot_message(chat, content, params)

    async def _api_sendDocument(self, request: _Request) -> JSON:
        params = request.params
        chat = self._chat(params)
        document = params.get("document")
        upload = None
        if isinstance(document, str) and document.startswith("attach://"):
            upload = request.files.get(document.removeprefix("attach://"))
        elif document is None:
            upload = request.files.get("document")
        if upload is not None:
            described = self._save_file(upload)
        elif isinstance(document, str) and document in self.files:
            described = self.files[document][0]
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if utf16_len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        content: JSON = {
            "document": {k: v for k, v in described.items() if k != "file_path"},
        }
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return self._bot_message(chat, content, params)

    async def _api_sendPhoto(self, request: _Request) -> JSON:
        """An uploaded photo (PNG, JPEG, GIF or WebP, as Telegram accepts), kept with the file
        id it is given."""
        params = request.params
        chat = self._chat(params)
        photo = params.get("photo")
        name = photo.removeprefix("attach://") if isinstance(photo, str) else "photo"
        upload = request.files.get(name)
        if upload is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if not upload.data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"RIFF")):
            raise bad_request("IMAGE_PROCESS_FAILED")
        described = self._save_file(upload)
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if utf16_len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        size = {k: described[k] for k in ("file_id", "file_unique_id", "file_size")}
        content: JSON = {"photo": [{**size, "width": 1000, "height": 900}]}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return self._bot_message(chat, content, params)

    def _save_file(self, upload: UploadedFile) -> JSON:
        number = next(self._file_ids)
        file_id = f"BQACAgUAAxkDAAI{number:08d}FakeDocument"
        filename = upload.filename or f"file_{number}"
        described: JSON = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{number:08d}",
            "file_name": filename,
            "mime_type": upload.content_type,
            "file_size": len(upload.data),
            "file_path": f"documents/file_{number}{_suffix(filename)}",
        }
        self.files[file_id] = (described, upload)
        return described

    async def _api_getFile(self, request: _Request) -> JSON:
        file_id = request.params.get("file_id")
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        described = self.files[file_id][0]
        keys = ("file_id", "file_unique_id", "file_size", "file_path")
        return {k: described[k] for k in keys}

    def _editable(self, params: JSON) -> JSON:
        chat = self._chat(params)
        message_id = params.get("message_id")
        message = self._messages.get(chat["id"], {}).get(message_id)  # type: ignore[arg-type]
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return message

    async def _api_editMessageText(self, request: _Request) -> JSON | bool:
        params = request.params
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        markup = _inline_keyboard(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True  # messages sent via inline mode are not kept
        message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        unchanged = (
            message["text"] == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        )
        if unchanged:
            raise not_modified()
        message["text"] = text
        _set_or_drop(message, "entities", entities or None)
        # Editing without reply_markup removes the inline keyboard, as on Telegram.
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    async def _api_editMessageReplyMarkup(self, request: _Request) -> JSON | bool:
        params = request.params
        markup = _inline_keyboard(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        if message.get("reply_markup") == markup:
            raise not_modified()
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    async def _api_deleteMessage(self, request: _Request) -> bool:
        chat = self._chat(request.params)
        message_id = request.params.get("message_id")
        if self._messages.get(chat["id"], {}).pop(message_id, None) is None:  # type: ignore[arg-type]
            raise bad_request("message to delete not found")
        return True

    async def _api_sendChatAction(self, request: _Request) -> bool:
        self._chat(request.params)
        if request.params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _api_copyMessage(self, request: _Request) -> JSON:
        params = request.params
        chat = self._chat(params)
        source_chat = self._chat({"chat_id": params.get("from_chat_id")})
        source = self._messages.get(source_chat["id"], {}).get(params.get("message_id"))  # type: ignore[arg-type]
        if source is None:
            raise bad_request("message to copy not found")
        kinds = ("text", "photo", "document", "sticker", "voice", "video", "audio", "animation")
        content: JSON = {k: copy.deepcopy(source[k]) for k in kinds if k in source}
        if not content:
            raise bad_request("message can't be copied")
        if "text" in content:
            if "entities" in source:
                content["entities"] = copy.deepcopy(source["entities"])
        elif "caption" in params:  # a new caption replaces the original (empty: none)
            caption, entities = self._formatted(params, "caption", "caption_entities")
            if utf16_len(caption) > MAX_CAPTION:
                raise bad_request("message caption is too long")
            if caption:
                content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        else:
            for key in ("caption", "caption_entities"):
                if key in source:
                    content[key] = copy.deepcopy(source[key])
        message = self._bot_message(chat, content, params)
        return {"message_id": message["message_id"]}

    def _forum(self, params: JSON) -> JSON:
        chat = self._chat(params)
        if not chat.get("is_forum"):
            raise bad_request("the chat is not a forum")
        return chat

    def _topic(self, params: JSON) -> tuple[JSON, JSON]:
        chat = self._forum(params)
        topic = self.topics.get(chat["id"], {}).get(params.get("message_thread_id"))  # type: ignore[arg-type]
        if topic is None:
            raise bad_request("message thread not found")
        return chat, topic

    async def _api_createForumTopic(self, request: _Request) -> JSON:
        params = request.params
        chat = self._forum(params)
        name = str(params.get("name", ""))
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_NAME_INVALID" if name else "topic name is empty")
        # The topic's id is the id of its "topic created" service message.
        thread_id = self._new_message_id(chat["id"])
        topic = {"name": name, "icon_color": int(params.get("icon_color") or 7322096)}
        self.topics.setdefault(chat["id"], {})[thread_id] = {**topic, "closed": False}
        self._store(
            {
                "message_id": thread_id,
                "from": self.bot_user,
                "chat": chat,
                "date": int(time.time()),
                "message_thread_id": thread_id,
                "forum_topic_created": topic,
                "is_topic_message": True,
            }
        )
        return {"message_thread_id": thread_id, **topic}

    async def _api_editForumTopic(self, request: _Request) -> bool:
        _, topic = self._topic(request.params)
        name = request.params.get("name")
        if name is not None:
            if not 1 <= len(str(name)) <= 128:
                raise bad_request("TOPIC_NAME_INVALID")
            if name == topic["name"]:
                raise bad_request("TOPIC_NOT_MODIFIED")
            topic["name"] = str(name)
        return True

    async def _api_closeForumTopic(self, request: _Request) -> bool:
        _, topic = self._topic(request.params)
        if topic["closed"]:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = True
        return True

    async def _api_reopenForumTopic(self, request: _Request) -> bool:
        _, topic = self._topic(request.params)
        if not topic["closed"]:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = False
        return True

    async def _api_deleteForumTopic(self, request: _Request) -> bool:
        """Deletes the topic with all its messages, as Telegram does."""
        chat, _ = self._topic(request.params)
        thread_id = request.params["message_thread_id"]
        del self.topics[chat["id"]][thread_id]
        kept = self._messages.get(chat["id"], {})
        for message_id in [k for k, m in kept.items() if m.get("message_thread_id") == thread_id]:
            del kept[message_id]
        return True

    # ------------------------------------------------------------------ methods: queries

    async def _api_answerCallbackQuery(self, request: _Request) -> bool:
        query_id = str(request.params.get("callback_query_id", ""))
        if query_id not in self._open_callback_queries:
            raise bad_request(QUERY_TOO_OLD)
        if len(str(request.params.get("text", ""))) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_callback_queries.discard(query_id)
        return True

    async def _api_answerInlineQuery(self, request: _Request) -> bool:
        params = request.params
        query_id = str(params.get("inline_query_id", ""))
        if query_id not in self._open_inline_queries:
            raise bad_request(QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("results must be an array of InlineQueryResult")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [str(result.get("id", "")) for result in results]
        if any(not 1 <= len(i.encode()) <= 64 for i in ids):
            raise bad_request("RESULT_ID_INVALID")
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        for result in results:
            content = result.get("input_message_content") or {}
            if "message_text" in content:
                self._formatted(content, "message_text", "entities")
            _inline_keyboard(result.get("reply_markup"))
        self._open_inline_queries.discard(query_id)
        return True


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _suffix(filename: str) -> str:
    return filename[filename.rfind(".") :] if "." in filename else ""


def _set_or_drop(message: JSON, key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value


def _inline_keyboard(markup: Any) -> JSON | None:
    """The inline keyboard as Telegram stores it, validated; other markups are not kept."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("inline keyboard must be an array of arrays")
    for row in rows:
        for button in row:
            if not str(button.get("text", "")).strip():
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not re.match(r"(https?|tg)://\S+$", str(url)):
                raise bad_request(f"inline keyboard button URL '{url}' is invalid")
            actions = set(button) - {"text"}
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
    return {"inline_keyboard": rows}


@contextlib.asynccontextmanager
async def polling(
    application: Application, *, timeout: int = 10, allowed_updates: list[str] | None = None
) -> AsyncIterator[Application]:
    """Run ``application`` by long polling as ``run_polling`` does (post_init/post_stop/
    post_shutdown included), without owning the event loop; stop it cleanly on exit."""
    async with _running(application):
        assert application.updater is not None
        try:
            await application.updater.start_polling(
                poll_interval=0.0, timeout=timeout, allowed_updates=allowed_updates
            )
            await application.start()
            yield application
        finally:
            await _stop(application)


@contextlib.asynccontextmanager
async def webhook(
    application: Application,
    *,
    secret_token: str | None = "fake-webhook-secret",
    url_path: str = "telegram",
    port: int | None = None,
    allowed_updates: list[str] | None = None,
) -> AsyncIterator[str]:
    """Run ``application`` behind PTB's webhook server on 127.0.0.1 as ``run_webhook`` does,
    registering the webhook (with ``secret_token``) at the fake; yields the webhook URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/{url_path}"
    async with _running(application):
        assert application.updater is not None
        try:
            await application.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path=url_path,
                secret_token=secret_token,
                webhook_url=url,
                allowed_updates=allowed_updates,
            )
            await application.start()
            yield url
        finally:
            await _stop(application)


@contextlib.asynccontextmanager
async def _running(application: Application) -> AsyncIterator[None]:
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        yield
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


async def _stop(application: Application) -> None:
    assert application.updater is not None
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop:
            await application.post_stop(application)


__all__ = [
    "SECRET_HEADER",
    "BotApiError",
    "Call",
    "FakeBotApi",
    "Fault",
    "UploadedFile",
    "bad_request",
    "blocked",
    "detect_entities",
    "flood",
    "free_port",
    "not_modified",
    "parse_html",
    "polling",
    "utf16_len",
    "webhook",
]


class TimedFake(FakeBotApi):
    """The fake, noting when each chat's next reply arrives (for the benchmarks: no rescans of
    the call log)."""

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self.waiting: dict[int, asyncio.Future[float]] = {}

    def _record(self, call: Call) -> None:
        super()._record(call)
        if call.method == "sendMessage" and call.ok:
            future = self.waiting.pop(int(call["chat_id"]), None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())

    async def exchange(self, update: dict, *, timeout: float = 120) -> float:
        """Push `update` and return the seconds until the bot's reply reached the fake."""
        future = asyncio.get_running_loop().create_future()
        self.waiting[update["message"]["chat"]["id"]] = future
        started = time.perf_counter()
        self.push(update)
        return await asyncio.wait_for(future, timeout) - started
