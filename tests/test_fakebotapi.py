"""The fake Bot API against a bare PTB echo bot: polling, webhook, failures PTB must surface."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from tests.fakebotapi import FakeBotApi, bad_request, not_modified, polling, webhook

# ---------------------------------------------------------------- the bare echo bot


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet with the deep-link payload and a button carrying it."""
    payload = context.args[0] if context.args else "none"
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Open", callback_data=f"open:{payload}")]]
    )
    await update.effective_message.reply_text(f"payload {payload}", reply_markup=keyboard)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    await update.effective_message.reply_text(update.effective_message.text)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button and edit its message in place."""
    query = update.callback_query
    await query.answer("opened")
    await query.edit_message_text(f"<b>opened</b> {query.data}", parse_mode=ParseMode.HTML)


async def inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the query back as one shareable article."""
    query = update.inline_query
    article = InlineQueryResultArticle(
        id="echo",
        title=f"Echo {query.query}",
        input_message_content=InputTextMessageContent(query.query),
    )
    await query.answer([article], cache_time=0)


def echo_bot(fake: FakeBotApi) -> tuple[Application, asyncio.Queue[BaseException]]:
    """A bare echo bot wired to the fake; errors raised in handlers land in the queue."""
    application = fake.builder().build()
    errors: asyncio.Queue[BaseException] = asyncio.Queue()

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        errors.put_nowait(context.error)

    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    application.add_handler(InlineQueryHandler(inline))
    application.add_error_handler(on_error)
    return application, errors


@pytest.fixture
async def running(fake: FakeBotApi) -> AsyncIterator[asyncio.Queue[BaseException]]:
    application, errors = echo_bot(fake)
    async with polling(application):
        yield errors


@pytest.fixture
async def bot_app(fake: FakeBotApi) -> AsyncIterator[Application]:
    """An initialised application (bot usable) that is not polling."""
    async with fake.builder().build() as application:
        yield application


# ---------------------------------------------------------------- polling end to end


async def test_text_is_echoed(fake: FakeBotApi, running: asyncio.Queue) -> None:
    ada = fake.user("Ada", language_code="zh-hant")
    fake.push(fake.message(ada, "金卡 renewal?"))

    reply = await fake.wait_for("sendMessage", chat_id=ada["id"])

    assert reply["text"] == "金卡 renewal?"
    assert [m["text"] for m in fake.chat_messages(ada["id"])] == ["金卡 renewal?"] * 2
    assert reply.result["message_id"] == 2
    assert fake.calls_to("getMe") and fake.calls_to("deleteWebhook")
    assert running.empty()


async def test_start_payload_then_button_answered_and_edited(
    fake: FakeBotApi, running: asyncio.Queue
) -> None:
    ada = fake.user("Ada")
    fake.push(fake.command(ada, "start", "guide_renew_3"))
    greeting = await fake.wait_for("sendMessage", chat_id=ada["id"])
    assert greeting["text"] == "payload guide_renew_3"
    button = greeting["reply_markup"]["inline_keyboard"][0][0]
    assert button == {"text": "Open", "callback_data": "open:guide_renew_3"}

    mark = len(fake.calls)
    fake.push(fake.callback_query(ada, button["callback_data"], message=greeting.result))

    answer = await fake.wait_for("answerCallbackQuery", since=mark)
    edit = await fake.wait_for("editMessageText", since=mark)
    assert answer["text"] == "opened"
    assert edit["message_id"] == greeting.result["message_id"]
    (shown,) = fake.bot_messages(ada["id"])
    assert shown["text"] == "opened open:guide_renew_3"
    assert shown["entities"] == [{"type": "bold", "offset": 0, "length": 6}]
    assert "reply_markup" not in shown  # edited without one: the keyboard is gone
    assert running.empty()


async def test_inline_query_is_answered(fake: FakeBotApi, running: asyncio.Queue) -> None:
    ada = fake.user("Ada")
    fake.push(fake.inline_query(ada, "renewal"))

    answer = await fake.wait_for("answerInlineQuery")

    (article,) = answer["results"]
    assert article["title"] == "Echo renewal"
    assert article["input_message_content"] == {"message_text": "renewal"}
    assert answer.ok


async def test_blocked_user_surfaces_as_forbidden(
    fake: FakeBotApi, running: asyncio.Queue
) -> None:
    ada, bob = fake.user("Ada"), fake.user("Bob")
    fake.block(ada["id"])
    fake.push(fake.message(ada, "hello"), fake.message(bob, "hello"))

    error = await asyncio.wait_for(running.get(), 5)
    await fake.wait_for("sendMessage", chat_id=bob["id"], where=lambda call: call.ok)

    assert isinstance(error, Forbidden)
    assert error.message == "Forbidden: bot was blocked by the user"
    (refused,) = fake.calls_to("sendMessage", chat_id=ada["id"])
    assert (refused.status, refused.result) == (403, None)


async def test_getupdates_confirms_by_offset_and_skips_unwanted_types(
    fake: FakeBotApi, bot_app: Application
) -> None:
    ada = fake.user("Ada")
    first = fake.push(fake.message(ada, "one"))
    fake.push(fake.inline_query(ada, "two"))

    both = await bot_app.bot.get_updates(timeout=0)
    again = await bot_app.bot.get_updates(timeout=0)
    messages_only = await bot_app.bot.get_updates(
        offset=first["update_id"] + 1, timeout=0, allowed_updates=["message"]
    )

    assert [u.update_id for u in both] == [first["update_id"], first["update_id"] + 1]
    assert [u.update_id for u in again] == [u.update_id for u in both]  # not confirmed yet
    assert messages_only == ()
    assert fake.pending_updates == []


async def test_long_poll_wakes_on_push_and_on_shutdown(fake: FakeBotApi) -> None:
    ada = fake.user("Ada")
    async with fake.builder().build() as application:
        waiting = asyncio.create_task(application.bot.get_updates(timeout=30))
        assert await fake.wait_until(lambda: fake.long_polling)
        fake.push(fake.message(ada, "now"))
        (update,) = await asyncio.wait_for(waiting, 2)
        assert update.message.text == "now"

        waiting = asyncio.create_task(
            application.bot.get_updates(offset=update.update_id + 1, timeout=30)
        )
        assert await fake.wait_until(lambda: fake.long_polling)
        await fake.stop()
        assert await asyncio.wait_for(waiting, 2) == ()


# ---------------------------------------------------------------- failures PTB must raise


async def test_flood_control_raises_retry_after_once(
    fake: FakeBotApi, bot_app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else reading retry_after warns (PTB 22.2+)
    ada = fake.user("Ada")
    fake.flood(7, method="sendMessage")

    with pytest.raises(RetryAfter) as raised:
        await bot_app.bot.send_message(ada["id"], "first")
    sent = await bot_app.bot.send_message(ada["id"], "second")

    assert raised.value.retry_after == dtm.timedelta(seconds=7)
    assert sent.text == "second"
    assert [c.status for c in fake.calls_to("sendMessage")] == [429, 200]


async def test_edit_without_change_is_not_modified(fake: FakeBotApi, bot_app: Application) -> None:
    ada = fake.user("Ada")
    sent = await bot_app.bot.send_message(ada["id"], "step 1")

    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot_app.bot.edit_message_text("step 1", chat_id=ada["id"], message_id=sent.id)
    fake.fail(not_modified(), method="editMessageText", times=1)
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot_app.bot.edit_message_text("step 2", chat_id=ada["id"], message_id=sent.id)
    edited = await bot_app.bot.edit_message_text("step 2", chat_id=ada["id"], message_id=sent.id)

    assert edited.text == "step 2"
    assert edited.edit_date is not None


async def test_latency_past_read_timeout_is_timed_out(
    fake: FakeBotApi, bot_app: Application
) -> None:
    ada = fake.user("Ada")
    fake.stall(2, method="sendMessage")
    fake.stall(2, method="sendMessage", deliver=True)

    with pytest.raises(TimedOut):
        await bot_app.bot.send_message(ada["id"], "lost", read_timeout=0.2)
    with pytest.raises(TimedOut):
        await bot_app.bot.send_message(ada["id"], "delivered late", read_timeout=0.2)
    await fake.wait_for_calls("sendMessage", count=2)

    assert [m["text"] for m in fake.chat_messages(ada["id"])] == ["delivered late"]
    assert [c.status for c in fake.calls_to("sendMessage")] == [0, 0]


async def test_dropped_connection_is_network_error(fake: FakeBotApi, bot_app: Application) -> None:
    ada = fake.user("Ada")
    fake.disconnect(chat_id=ada["id"])

    with pytest.raises(NetworkError):
        await bot_app.bot.send_chat_action(ada["id"], "typing")
    assert await bot_app.bot.send_chat_action(ada["id"], "typing")


async def test_bad_requests_as_telegram_words_them(fake: FakeBotApi, bot_app: Application) -> None:
    ada = fake.user("Ada")
    bot = bot_app.bot

    # PTB drops Telegram's "Bad Request: " prefix and str.capitalize()s the rest (lower-casing
    # all but the first letter): compare such messages case-insensitively.
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(424242, "hi")
    with pytest.raises(BadRequest, match=r'^Can\'t parse entities: unsupported start tag "br"'):
        await bot.send_message(ada["id"], "a<br>b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="can't find end tag"):
        await bot.send_message(ada["id"], "<b>a", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ada["id"], "x" * 4097)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        too_long = InlineKeyboardButton("x", callback_data="d" * 65)
        await bot.send_message(ada["id"], "hi", reply_markup=InlineKeyboardMarkup([[too_long]]))
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("no-such-query")
    fake.fail(bad_request("not enough rights to send text messages to the chat"), times=1)
    with pytest.raises(BadRequest, match="Not enough rights"):
        await bot.send_message(ada["id"], "hi")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("frobnicate")

    (unknown,) = fake.calls_to("frobnicate")
    assert (unknown.status, unknown.error) == (404, "Not Found: method not found")


async def test_html_becomes_text_and_utf16_entities(
    fake: FakeBotApi, bot_app: Application
) -> None:
    ada = fake.user("Ada")

    sent = await bot_app.bot.send_message(
        ada["id"],
        '🇹🇼 <b>金卡</b> &amp; <a href="https://goldcard.nat.gov.tw">site</a>',
        parse_mode=ParseMode.HTML,
    )

    assert sent.text == "🇹🇼 金卡 & site"
    assert sent.parse_entities() == {
        sent.entities[0]: "金卡",
        sent.entities[1]: "site",
    }
    assert sent.entities[1].url == "https://goldcard.nat.gov.tw"


async def test_an_expandable_blockquote_is_its_own_entity_and_quotes_do_not_nest(
    fake: FakeBotApi, bot_app: Application
) -> None:
    ada = fake.user("Ada")

    sent = await bot_app.bot.send_message(
        ada["id"],
        "Essentials\n\n<blockquote expandable>Tail <i>Source</i></blockquote>",
        parse_mode=ParseMode.HTML,
    )
    with pytest.raises(BadRequest, match="can't be nested"):
        await bot_app.bot.send_message(
            ada["id"],
            "<blockquote>a <blockquote expandable>b</blockquote></blockquote>",
            parse_mode=ParseMode.HTML,
        )

    quote = sent.entities[0]
    assert (quote.type, sent.parse_entity(quote)) == ("expandable_blockquote", "Tail Source")


async def test_document_upload_and_download(fake: FakeBotApi, bot_app: Application) -> None:
    ada = fake.user("Ada")
    calendar = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"

    sent = await bot_app.bot.send_document(
        ada["id"], calendar, filename="deadlines.ics", caption="Your deadlines"
    )
    downloaded = await (await bot_app.bot.get_file(sent.document.file_id)).download_as_bytearray()

    (call,) = fake.calls_to("sendDocument")
    assert call.files["document"].filename == "deadlines.ics"
    assert call.files["document"].data == calendar
    assert (sent.document.file_name, sent.document.file_size) == ("deadlines.ics", len(calendar))
    assert bytes(downloaded) == calendar


async def test_start_up_settings_are_kept_per_language(
    fake: FakeBotApi, bot_app: Application
) -> None:
    bot = bot_app.bot
    await bot.set_my_commands([("help", "Help")])
    await bot.set_my_commands([("help", "說明")], language_code="zh")
    await bot.set_my_description("Answers about the Gold Card")
    await bot.set_my_short_description("金卡小幫手", language_code="zh")

    assert [c.description for c in await bot.get_my_commands(language_code="zh")] == ["說明"]
    assert fake.commands[('{"type": "default"}', "")] == [
        {"command": "help", "description": "Help"}
    ]
    assert fake.descriptions == {"": "Answers about the Gold Card"}
    assert fake.short_descriptions == {"zh": "金卡小幫手"}


async def test_built_updates_parse_as_ptb_updates(fake: FakeBotApi) -> None:
    ada = fake.user("Ada", language_code="zh-hant", username="ada_tw")
    group = fake.group("Gold Card TW")

    deep_link = Update.de_json(fake.command(ada, "start", "faq_renewal"), None)
    addressed = Update.de_json(fake.command(ada, "help", chat=group, addressed=True), None)
    mention = Update.de_json(fake.group_message(ada, group, "how to renew?"), None)
    first = fake.message(ada, "hi")["message"]["message_id"]
    second = fake.message(ada, "hi again")["message"]["message_id"]

    assert deep_link.message.text == "/start faq_renewal"
    assert deep_link.message.parse_entities() == {deep_link.message.entities[0]: "/start"}
    assert deep_link.effective_user.language_code == "zh-hant"
    assert addressed.message.text == f"/help@{fake.bot_user['username']}"
    assert addressed.message.entities[0].length == len(addressed.message.text)
    assert mention.effective_chat.type == "supergroup"
    assert list(mention.message.parse_entities().values()) == ["@goldcard_test_bot"]
    assert second == first + 1
    assert deep_link.update_id < addressed.update_id < mention.update_id


# ---------------------------------------------------------------- webhook mode


async def test_webhook_takes_the_right_secret_and_refuses_a_wrong_one(fake: FakeBotApi) -> None:
    application, errors = echo_bot(fake)
    ada = fake.user("Ada")
    async with webhook(application, secret_token="s3cret-token") as url:
        assert (fake.webhook.url, fake.webhook.secret_token) == (url, "s3cret-token")

        accepted = await fake.post_update(fake.message(ada, "via webhook"))
        reply = await fake.wait_for("sendMessage", chat_id=ada["id"])
        refused = await fake.post_update(fake.message(ada, "forged"), secret_token="wrong")
        unsigned = await fake.post_update(fake.message(ada, "unsigned"), secret_token=None)
        with pytest.raises(Conflict, match="webhook is active"):
            await application.bot.get_updates(timeout=0)

    assert (accepted, refused, unsigned) == (200, 403, 403)
    assert reply["text"] == "via webhook"
    assert len(fake.calls_to("sendMessage")) == 1
    assert errors.empty()
