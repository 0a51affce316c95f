"""PTB's webhook server, guarded: a request is judged on its headers before its body is read.

PTB's Tornado handler read the whole body (Tornado buffers up to 100 MB) before it looked at
the secret header, so anyone who knew the URL could make the process hold 90 MB per request.
Here the handler streams: the method, content type and `X-Telegram-Bot-Api-Secret-Token` are
checked as soon as the headers arrive (403; a body of more than 64 KB is then never read), and
a signed body is refused past `MAX_BODY_BYTES`. PTB builds its Tornado application inside the
Updater, with no setting for this, so `install` swaps in this one where the Updater looks it up.
The same server answers a load balancer's `GET /healthz` (`serve_health`), reading no body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from weakref import WeakKeyDictionary

import tornado.web
from telegram import Bot
from telegram.ext import _updater
from telegram.ext._utils.webhookhandler import TelegramHandler, WebhookAppClass

# Telegram's updates are a few kilobytes (a message is at most 4,096 characters, a caption
# 1,024, plus entities and the replied-to message): 1 MB leaves room for any.
MAX_BODY_BYTES = 1024 * 1024
SMALL_BODY_BYTES = 64 * 1024  # a refused body up to this is read (and dropped) to answer 403
HEALTH_PATH = "/healthz"

# (healthy, a small JSON report): what `GET /healthz` answers, 200 when healthy, else 503.
HealthCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
# The Updater builds the server with only the bot, the update queue and the secret; the queue is
# the one object it shares with its Application, so each application's check is kept by it.
_health_checks: WeakKeyDictionary[asyncio.Queue, HealthCheck] = WeakKeyDictionary()  # type: ignore[type-arg]


def serve_health(update_queue: asyncio.Queue, check: HealthCheck) -> None:  # type: ignore[type-arg]
    """Answer `GET /healthz` with `check` on the webhook server of the application whose update
    queue this is (without a check, /healthz is a 404 like any other path)."""
    _health_checks[update_queue] = check


@tornado.web.stream_request_body
class GuardedTelegramHandler(TelegramHandler):
    """PTB's handler, deciding on the headers; the body is collected only once admitted."""

    def initialize(self, bot: Bot, update_queue: asyncio.Queue, secret_token: str) -> None:  # type: ignore[type-arg]
        super().initialize(bot, update_queue, secret_token)
        self._body = bytearray()
        self._refusal: tornado.web.HTTPError | None = None

    def prepare(self) -> None:
        """Judge the headers (PTB's checks: JSON, the secret) and cap the body that may follow.

        A refused request with a small body has it read and dropped, so the client hears the
        403 (closing on unread data would reset the connection first); a larger or unannounced
        body is refused at once, unread.
        """
        self.request.connection.set_max_body_size(MAX_BODY_BYTES)  # type: ignore[union-attr]
        try:
            self._validate_post()
        except tornado.web.HTTPError as refusal:
            length = self.request.headers.get("Content-Length", "")
            if not (length.isdigit() and int(length) <= SMALL_BODY_BYTES):
                raise  # Tornado answers and closes the connection: the body is never read
            self._refusal = refusal

    def data_received(self, chunk: bytes) -> None:
        if self._refusal is None:
            self._body += chunk

    async def post(self) -> None:
        """PTB's: the update onto the queue."""
        if self._refusal is not None:
            raise self._refusal
        self.request.body = bytes(self._body)
        await super().post()


@tornado.web.stream_request_body
class NotTheWebhook(tornado.web.RequestHandler):
    """Any other path: 404 on the headers (Tornado's default handler would read the body)."""

    def prepare(self) -> None:
        raise tornado.web.HTTPError(404)


@tornado.web.stream_request_body
class Health(tornado.web.RequestHandler):
    """`GET /healthz`: the application's health check as JSON, 200 or 503. Any other method is
    refused on the headers (405, body unread); a GET's body, if any, is capped and dropped."""

    def initialize(self, update_queue: asyncio.Queue) -> None:  # type: ignore[type-arg]
        self._check = _health_checks.get(update_queue)

    def prepare(self) -> None:
        self.request.connection.set_max_body_size(SMALL_BODY_BYTES)  # type: ignore[union-attr]
        if self._check is None:
            raise tornado.web.HTTPError(404)
        if self.request.method != "GET":
            raise tornado.web.HTTPError(405)

    def data_received(self, chunk: bytes) -> None:
        """Dropped: a health check has nothing to read."""

    async def get(self) -> None:
        assert self._check is not None  # prepare refused the request otherwise
        healthy, report = await self._check()
        self.set_status(200 if healthy else 503)
        self.set_header("Cache-Control", "no-store")
        self.finish(report)  # a dict goes out as JSON


class GuardedWebhookApp(WebhookAppClass):
    """PTB's Tornado application with the guarded handler, the health check and a 404 that
    reads nothing."""

    def __init__(
        self,
        webhook_path: str,
        bot: Bot,
        update_queue: asyncio.Queue,  # type: ignore[type-arg]
        secret_token: str | None = None,
    ) -> None:
        # As PTB's __init__, with our handlers (it takes no handler class).
        self.shared_objects: dict[str, Any] = {
            "bot": bot,
            "update_queue": update_queue,
            "secret_token": secret_token,
        }
        handlers = [
            (rf"{webhook_path}/?", GuardedTelegramHandler, self.shared_objects),
            (HEALTH_PATH, Health, {"update_queue": update_queue}),
        ]
        tornado.web.Application.__init__(self, handlers, default_handler_class=NotTheWebhook)


def install() -> None:
    """Make PTB's Updater build the guarded application for `start_webhook`/`run_webhook`.

    Raises:
        RuntimeError: PTB no longer builds its server this way (check this module).
    """
    if getattr(_updater, "WebhookAppClass", None) not in (WebhookAppClass, GuardedWebhookApp):
        raise RuntimeError(
            "PTB's Updater no longer uses WebhookAppClass: see bot/telegram/webhook.py"
        )
    _updater.WebhookAppClass = GuardedWebhookApp  # type: ignore[misc]
