"""PTB's webhook server, guarded: a request is judged on its headers before its body is read.

PTB's Tornado handler read the whole body (Tornado buffers up to 100 MB) before it looked at
the secret header, so anyone who knew the URL could make the process hold 90 MB per request.
Here the handler streams: the method, content type and `X-Telegram-Bot-Api-Secret-Token` are
checked as soon as the headers arrive (403; a body of more than 64 KB is then never read), and
a signed body is refused past `MAX_BODY_BYTES`. PTB builds its Tornado application inside the
Updater, with no setting for this, so `install` swaps in this one where the Updater looks it up.
"""

from __future__ import annotations

import asyncio
from typing import Any

import tornado.web
from telegram import Bot
from telegram.ext import _updater
from telegram.ext._utils.webhookhandler import TelegramHandler, WebhookAppClass

# Telegram's updates are a few kilobytes (a message is at most 4,096 characters, a caption
# 1,024, plus entities and the replied-to message): 1 MB leaves room for any.
MAX_BODY_BYTES = 1024 * 1024
SMALL_BODY_BYTES = 64 * 1024  # a refused body up to this is read (and dropped) to answer 403


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


class GuardedWebhookApp(WebhookAppClass):
    """PTB's Tornado application with the guarded handler and a 404 that reads nothing."""

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
        handlers = [(rf"{webhook_path}/?", GuardedTelegramHandler, self.shared_objects)]
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
