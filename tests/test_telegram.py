"""The Telegram bot end to end: the real Application, its real HTTP client and the real engine
and database, against the fake Bot API on loopback (polling and webhook)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import Engine as Database
from sqlmodel import Session, select
from telegram.error import NetworkError
from telegram.ext import Application

from bot import links
from bot.config import Settings
from bot.dialogue import Button, Document, Engine, Reply, command_menu
from bot.models import Feedback, HandledUpdate, UnansweredQuestion, User
from bot.storage import create_db_engine
from bot.telegram.app import (
    ALLOWED_UPDATES,
    MAX_BACKLOG,
    MAX_CONCURRENT_UPDATES,
    SetupError,
    api_urls,
    bot_token,
    build_application,
    description,
    short_description,
)
from bot.telegram.sending import send_replies, split_html, utf16_len
from tests.conftest import ROOT
from tests.fakebotapi import (
    JSON,
    SECRET_HEADER,
    Call,
    FakeBotApi,
    free_port,
    parse_html,
    polling,
    webhook,
)

STAFF_ID = 4_242_424


@pytest.fixture
def db(shared_db: Database) -> Database:
    """The bot's database: one a test can read while the bot writes it."""
    return shared_db


def settings_for(fake: FakeBotApi, **environ: str) -> Settings:
    return Settings.from_mapping(
        {"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url, **environ}
    )


@pytest.fixture
def application(fake: FakeBotApi, db: Database, engine: Engine) -> Application:
    return build_application(settings_for(fake, STAFF_IDS=str(STAFF_ID)), db=db, engine=engine)


@pytest.fixture
async def bot(application: Application) -> AsyncIterator[Application]:
    async with polling(application, allowed_updates=ALLOWED_UPDATES):  # as run_polling asks
        yield application


# --- helpers -----------------------------------------------------------------------------------

SENT = ("sendMessage", "editMessageText", "sendDocument")


async def say(fake: FakeBotApi, update: JSON, *, count: int = 1) -> list[Call]:
    """Push an update and wait for `count` messages sent or edited in its chat."""
    chat_id = _chat_of(update)
    mark = len(fake.calls)
    fake.push(update)
    return await fake.wait_for_calls(
        where=lambda call: call.method in SENT and call.get("chat_id") == chat_id,
        count=count,
        since=mark,
    )


async def press(
    fake: FakeBotApi, user: JSON, label: str, *, count: int = 1, message: JSON | None = None
) -> list[Call]:
    """Press the button labelled `label` (a prefix) on `message`, else the bot's latest one."""
    message = message or fake.last_bot_message(user["id"])
    assert message is not None
    update = fake.callback_query(user, button_data(message, label), message=message)
    mark = len(fake.calls)
    calls = await say(fake, update, count=count)
    await fake.wait_for("answerCallbackQuery", since=mark)
    return calls


def button_data(message: JSON, label: str) -> str:
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    found = [b for b in buttons if b["text"].startswith(label)]
    assert found, f"no button {label!r} in {[b['text'] for b in buttons]}"
    return found[0]["callback_data"]


def labels(call: Call) -> list[str]:
    markup = call.get("reply_markup") or {"inline_keyboard": []}
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


def _chat_of(update: JSON) -> int:
    if "callback_query" in update:
        return update["callback_query"]["message"]["chat"]["id"]
    return update["message"]["chat"]["id"]


def text_of(call: Call) -> str:
    return parse_html(call["text"])[0]


# --- conversations -------------------------------------------------------------------------------


async def test_start_in_english_and_in_chinese(fake: FakeBotApi, bot: Application) -> None:
    ada = fake.user("Ada", language_code="en")
    mei = fake.user("美玲", language_code="zh-hant")

    (english,) = await say(fake, fake.command(ada, "start"))
    (chinese,) = await say(fake, fake.command(mei, "start"))

    assert english["parse_mode"] == "HTML"
    assert text_of(english).startswith("Hi! 👋")
    assert "切換成中文" in labels(english)
    assert text_of(chinese).startswith("您好！👋")
    assert "Switch to English" in labels(chinese)


async def test_a_question_in_each_language(fake: FakeBotApi, bot: Application, knowledge) -> None:
    ada = fake.user("Ada", language_code="en")
    mei = fake.user("美玲", language_code="zh-hant")
    await say(fake, fake.command(ada, "start"))
    await say(fake, fake.command(mei, "start"))

    (english,) = await say(fake, fake.message(ada, "how do I renew my gold card?"))
    (chinese,) = await say(fake, fake.message(mei, "金卡要怎麼延期"))

    title = knowledge.faq["renewal-how"].title
    assert text_of(english).startswith(title.en)
    assert text_of(chinese).startswith(title.zh)
    assert "👍 Helpful" in labels(english)


async def test_a_dated_question_answers_and_computes_in_two_messages(
    fake: FakeBotApi, bot: Application, knowledge
) -> None:
    """The router through the real adapter: the answer with its offers, then the deadlines of the
    date in the question with Save and Calendar file, and a guide step offered as a button."""
    ada = fake.user("Ada", language_code="en")
    await say(fake, fake.command(ada, "start"))

    answer, deadlines = await say(
        fake, fake.message(ada, "my card expires on 15 April 2099, when can I renew?"), count=2
    )
    assert text_of(answer).startswith(knowledge.faq["renewal-window"].title.en)
    assert "Renewal opens" in text_of(deadlines) and "15 December 2098" in text_of(deadlines)
    assert {"💾 Save", "📅 Calendar file"} <= set(labels(deadlines))

    (upload,) = await say(fake, fake.message(ada, "how do I upload my supplement documents?"))
    assert any(label.endswith(": step 11") for label in labels(upload))


async def test_a_first_question_gets_the_welcome_first(fake: FakeBotApi, bot: Application) -> None:
    ada = fake.user("Ada", language_code="en")

    welcome, answer = await say(fake, fake.message(ada, "how do I renew my gold card?"), count=2)

    assert text_of(welcome).startswith("Hi! 👋")
    assert "renew" in text_of(answer).lower()


async def test_did_you_mean_then_a_choice(
    fake: FakeBotApi, bot: Application, knowledge, matcher
) -> None:
    result = matcher.match("address")
    assert result.answer is None and len(result.candidates) >= 2  # the premise
    ada = fake.user("Ada")
    await say(fake, fake.command(ada, "start"))

    (offer,) = await say(fake, fake.message(ada, "address"))
    chosen = knowledge.faq[result.candidates[1].id].title.en
    (answer,) = await press(fake, ada, chosen)

    assert chosen in labels(offer) and "None of these" in labels(offer)
    assert text_of(answer).startswith(chosen)


async def test_a_guide_walked_with_next_and_back_edits_one_message(
    fake: FakeBotApi, bot: Application, knowledge
) -> None:
    ada = fake.user("Ada")
    await say(fake, fake.command(ada, "start"))
    guide = knowledge.guides["renew"]

    (listed,) = await say(fake, fake.command(ada, "guides"))
    (overview,) = await press(fake, ada, guide.title.en)
    (first,) = await press(fake, ada, "▶️ Start")
    (second,) = await press(fake, ada, "Next ▶️")
    (back,) = await press(fake, ada, "◀️ Back")

    edits = [overview, first, second, back]
    assert [c.method for c in edits] == ["editMessageText"] * 4
    assert {c["message_id"] for c in edits} == {listed.result["message_id"]}
    assert guide.step(2).title.en in text_of(second)
    assert text_of(back) == text_of(first)
    assert len(fake.bot_messages(ada["id"])) == 2  # the welcome and the one guide message
    assert all(c.ok for c in fake.calls_to("answerCallbackQuery"))


async def test_deep_links_open_an_answer_a_step_or_the_welcome(
    fake: FakeBotApi, bot: Application, knowledge
) -> None:
    ada = fake.user("Ada")
    topic = links.payload(links.TopicLink("renewal-how"))
    step = links.payload(links.GuideLink("renew", 3))

    _, answer = await say(fake, fake.command(ada, "start", topic), count=2)  # first contact
    (shown,) = await say(fake, fake.command(ada, "start", step))
    (welcome,) = await say(fake, fake.command(ada, "start", "no_such_payload"))

    assert text_of(answer).startswith(knowledge.faq["renewal-how"].title.en)
    assert knowledge.guides["renew"].step(3).title.en in text_of(shown)
    assert text_of(welcome).startswith("Welcome back!")


async def test_the_deadline_flow_ends_in_a_calendar_file(
    fake: FakeBotApi, bot: Application
) -> None:
    ada = fake.user("Ada")
    await say(
        fake, fake.command(ada, "start", links.payload(links.DeadlineLink("renewal"))), count=2
    )

    (result,) = await say(fake, fake.message(ada, "2027-06-30"))
    (calendar,) = await press(fake, ada, "📅 Calendar file")
    (saved,) = await press(fake, ada, "💾 Save", message=result.result)

    assert "2027" in text_of(result)
    assert calendar.method == "sendDocument"
    upload = calendar.files["document"]
    assert upload.filename == "goldcard-renewal.ics"
    assert upload.data.startswith(b"BEGIN:VCALENDAR")
    assert calendar.result["caption"]
    assert saved.method == "sendMessage"


async def test_a_date_picked_in_the_calendar_is_computed_after_navigating_in_place(
    fake: FakeBotApi, bot: Application
) -> None:
    ada = fake.user("Ada", language_code="zh-hant")
    supplement = links.payload(links.DeadlineLink("supplement"))
    _, prompt = await say(fake, fake.command(ada, "start", supplement), count=2)
    assert "日 一 二 三 四 五 六" in " ".join(labels(prompt))

    forward = next(label for label in labels(prompt) if label.endswith("▶️"))
    (later,) = await press(fake, ada, forward)
    (typed_year,) = await say(fake, fake.message(ada, "2027-01-15"))  # typing still works
    day_15 = next(
        b["callback_data"]
        for row in later["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"].strip("[]") == "15"
    )
    mark = len(fake.calls)
    (picked,) = await say(fake, fake.callback_query(ada, day_15, message=later.result))

    assert later.method == "editMessageText"
    assert later["message_id"] == prompt.result["message_id"]
    assert "補件期限" in text_of(typed_year)
    assert picked.method == "sendMessage" and "補件期限" in text_of(picked)
    assert (await fake.wait_for("answerCallbackQuery", since=mark)).ok
    stale = fake.callback_query(ada, day_15.replace(":pd:", ":pd:x"), message=later.result)
    (expired,) = await say(fake, stale)
    assert text_of(expired).startswith("這個按鈕已失效")


async def test_a_thumbs_reaction_on_an_answer_counts_once_as_its_feedback(
    fake: FakeBotApi, bot: Application, db: Database
) -> None:
    ada = fake.user("Ada")
    await say(fake, fake.command(ada, "start"))
    (renew,) = await say(fake, fake.message(ada, "how do I renew my gold card"))
    (fees,) = await say(fake, fake.message(ada, "how much is the fee"))

    async def react(message: Call, new: list[str], old: list[str]) -> None:
        mark = len(fake.calls)
        update = fake.push(fake.reaction(ada, message.result, new, old=old))
        await handled(db, update["update_id"])
        assert not [c for c in fake.calls[mark:] if c.method in SENT]

    await react(renew, ["👍"], [])
    await react(renew, ["👎"], ["👍"])  # changed: not counted again
    await react(renew, [], ["👎"])  # removed: neither
    await react(fees, ["❤"], [])  # not feedback
    mark = len(fake.calls)
    fake.push(fake.reaction(ada, fees.result, ["👎"], old=["❤"]))
    (sorry,) = await fake.wait_for_calls("sendMessage", since=mark, count=1)

    with Session(db) as session:
        rows = session.exec(select(Feedback).order_by(Feedback.id)).all()
    assert [(r.topic, r.helpful) for r in rows] == [
        ("renewal-how", True),
        (fees_topic(fees), False),
    ]
    # As with the buttons: the question is kept with the latest answer's feedback only.
    assert [r.question for r in rows] == [None, "how much is the fee"]
    assert "+886-2-7733-7660" in text_of(sorry)
    assert "message_reaction" in fake.calls_to("getUpdates")[-1]["allowed_updates"]


async def handled(db: Database, update_id: int, *, timeout: float = 5.0) -> None:
    """Wait until the bot has handled an update that sends nothing (its id is recorded)."""
    for _ in range(int(timeout / 0.02)):
        with Session(db) as session:
            if session.get(HandledUpdate, update_id) is not None:
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"update {update_id} was not handled in {timeout} s")


def fees_topic(message: Call) -> str:
    """The topic of an answer message, from its 👍 button."""
    data = next(
        b["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"].startswith("👍")
    )
    return data.split(":")[2]


async def test_inline_query_offers_shareable_answers(
    fake: FakeBotApi, bot: Application, knowledge
) -> None:
    ada = fake.user("Ada", language_code="en")
    fake.push(fake.inline_query(ada, "how do I renew"), fake.inline_query(ada, "金卡延期"))

    english, chinese = await fake.wait_for_calls("answerInlineQuery", count=2)

    assert english.ok and chinese.ok
    first = english["results"][0]
    assert first["id"] == "renewal-how"
    assert first["title"] == knowledge.faq["renewal-how"].title.en
    (button,) = first["reply_markup"]["inline_keyboard"][0]
    assert button["url"] == f"https://t.me/{fake.bot_user['username']}?start=t_renewal-how"
    assert first["input_message_content"]["parse_mode"] == "HTML"
    assert chinese["results"][0]["title"] == knowledge.faq["renewal-how"].title.zh
    assert english["button"]["start_parameter"] == "inline"


async def test_a_forged_button_has_expired(fake: FakeBotApi, bot: Application) -> None:
    ada = fake.user("Ada")
    (welcome,) = await say(fake, fake.command(ada, "start"))

    mark = len(fake.calls)
    forged = fake.callback_query(ada, "9:zz:forged", message=welcome.result)
    (expired,) = await say(fake, forged)

    assert (await fake.wait_for("answerCallbackQuery", since=mark)).ok
    assert text_of(expired).startswith("This button has expired")
    assert "☰ Main menu" in labels(expired) or "❓ Ask a question" in labels(expired)


async def test_a_user_who_blocked_the_bot_is_marked_inactive(
    fake: FakeBotApi, bot: Application, db: Database
) -> None:
    ada = fake.user("Ada")
    await say(fake, fake.command(ada, "start"))
    fake.block(ada["id"])

    fake.push(fake.message(ada, "how do I renew?"))
    await fake.wait_for("sendMessage", where=lambda c: c.status == 403)

    def inactive() -> bool:
        with Session(db) as session:
            return session.get(User, ada["id"]).active is False

    assert await _eventually(inactive)
    assert len(fake.calls_to("sendMessage", chat_id=ada["id"])) == 2  # no "sorry" attempted


async def test_retry_after_is_waited_out(fake: FakeBotApi, bot: Application) -> None:
    ada = fake.user("Ada")
    fake.flood(1, method="sendMessage")

    mark = len(fake.calls)
    fake.push(fake.command(ada, "start"))
    await fake.wait_for("sendMessage", since=mark, where=lambda c: c.ok, timeout=5)

    statuses = [c.status for c in fake.calls_to("sendMessage", since=mark)]
    assert statuses == [429, 200]


async def test_an_error_is_logged_redacted_and_the_user_told(
    fake: FakeBotApi, bot: Application, engine: Engine, monkeypatch, caplog
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(engine, "handle", broken)
    ada = fake.user("Ada")
    with caplog.at_level(logging.ERROR, logger="bot.telegram.handlers"):
        (sorry,) = await say(fake, fake.message(ada, "my passport is E12345678"))

    assert sorry["text"].startswith("Sorry, something went wrong")
    (record,) = [r for r in caplog.records if r.name == "bot.telegram.handlers"]
    assert "[passport number]" in record.getMessage()
    assert "E12345678" not in record.getMessage() and "Ada" not in record.getMessage()


# --- concurrency ---------------------------------------------------------------------------------


async def test_one_users_burst_does_not_stall_other_users(
    fake: FakeBotApi, bot: Application
) -> None:
    """PTB took one of the 16 slots before an update waited for its user's turn, so one user's
    queued updates filled every slot and everyone else waited behind them."""
    ada, bob = fake.user("Ada"), fake.user("Bob")
    await say(fake, fake.command(bob, "start"))
    fake.stall(1.0, method="sendMessage", chat_id=ada["id"], times=None)  # Ada's replies crawl
    burst = [fake.message(ada, f"how do I renew? ({n})") for n in range(MAX_CONCURRENT_UPDATES)]

    loop = asyncio.get_running_loop()
    try:
        fake.push(*burst)
        started = loop.time()
        (answer,) = await say(fake, fake.message(bob, "how do I renew my gold card?"))
        waited = loop.time() - started
    finally:
        fake.clear_faults()  # let Ada's backlog drain quickly at shutdown

    assert "renew" in text_of(answer).lower()
    assert waited < 0.9, f"Bob waited {waited:.2f}s behind Ada's burst"


async def test_a_users_backlog_is_capped_with_one_slow_down_in_their_language(
    fake: FakeBotApi, bot: Application
) -> None:
    mei = fake.user("美玲", language_code="zh-hant")
    await say(fake, fake.command(mei, "start"))
    fake.stall(0.5, method="sendMessage", chat_id=mei["id"])  # the first answer: a queue forms

    mark = len(fake.calls)
    fake.push(*(fake.message(mei, "金卡要怎麼延期") for _ in range(MAX_BACKLOG + 5)))
    sent = await fake.wait_for_calls(
        "sendMessage", chat_id=mei["id"], count=MAX_BACKLOG + 1, since=mark, timeout=10
    )
    await asyncio.sleep(0.3)  # and nothing more comes

    texts = [text_of(call) for call in fake.calls_to("sendMessage", chat_id=mei["id"], since=mark)]
    slow_downs = [t for t in texts if "一次" in t and "略過" in t]
    assert len(texts) == len(sent) == MAX_BACKLOG + 1
    assert len(slow_downs) == 1, texts


# --- bad input at the edge -----------------------------------------------------------------------


async def test_control_characters_never_get_past_the_edge(
    fake: FakeBotApi, bot: Application, db: Database
) -> None:
    """NUL made PostgreSQL refuse the write and was echoed in replies: every text a user sends
    (message, button data, inline query) loses its control characters first."""
    ada = fake.user("Ada")
    await say(fake, fake.command(ada, "start"))

    (answer,) = await say(fake, fake.message(ada, "how do I\x00 renew my\x1b gold card?\x00"))
    await say(fake, fake.message(ada, "zqxv\x00 wobble\x07 frumpish\x00"))
    (menu,) = await say(fake, fake.callback_query(ada, "1:m\x00", message=answer.result))
    fake.push(fake.inline_query(ada, "renew\x00"))
    inline = await fake.wait_for("answerInlineQuery")

    assert "renew" in text_of(answer).lower()
    assert not text_of(menu).startswith("This button has expired")
    assert inline.ok and inline["results"]
    sent = json.dumps([call.params for call in fake.calls], ensure_ascii=True)
    assert "\\u0000" not in sent and "\\u001b" not in sent and "\\u0007" not in sent
    assert "something went wrong" not in sent
    with Session(db) as session:
        questions = [q.question for q in session.exec(select(UnansweredQuestion))]
    assert all("\x00" not in question for question in questions)


def _with_attachment(update: JSON, kind: str) -> JSON:
    """`update`'s text message turned into a photo or document with that text as caption."""
    message = update["message"]
    message["caption"] = message.pop("text")
    if "entities" in message:
        message["caption_entities"] = message.pop("entities")
    if kind == "photo":
        message["photo"] = [{"file_id": "AgADphoto", "file_unique_id": "AQAD", "width": 90,
                             "height": 90}]  # fmt: skip
    else:
        message["document"] = {"file_id": "BQADdoc", "file_unique_id": "AgAD",
                               "file_name": "passport.pdf"}  # fmt: skip
    return update


@pytest.mark.parametrize("kind", ["photo", "document"])
async def test_a_caption_that_is_a_question_is_answered(
    fake: FakeBotApi, bot: Application, knowledge, kind: str
) -> None:
    ada = fake.user("Ada")
    await say(fake, fake.command(ada, "start"))

    (answer,) = await say(
        fake, _with_attachment(fake.message(ada, "how do I renew my gold card?"), kind)
    )
    (prompt,) = await say(fake, _with_attachment(fake.message(ada, ""), kind))

    assert text_of(answer).startswith(knowledge.faq["renewal-how"].title.en)
    assert "something went wrong" not in text_of(prompt)


async def test_a_forged_command_entity_is_read_as_text(fake: FakeBotApi, bot: Application) -> None:
    """A "/" entity on a message that is not a command raised ValueError in the handler."""
    ada = fake.user("Ada")
    await say(fake, fake.command(ada, "start"))

    def forged(text: str, length: int) -> JSON:
        entity = {"offset": 0, "length": length, "type": "bot_command"}
        return fake.message(ada, text, entities=[entity])

    (answer,) = await say(fake, forged("how do I renew my gold card?", 3))
    (bare,) = await say(fake, forged("/", 1))
    (spaced,) = await say(fake, forged("/ help", 1))

    assert "renew" in text_of(answer).lower()
    assert not text_of(answer).startswith("I don't know the command")
    assert all("something went wrong" not in text_of(c) for c in (bare, spaced))


async def test_a_polling_error_is_logged_with_the_error(
    application: Application, caplog: pytest.LogCaptureFixture
) -> None:
    """PTB hands a failed getUpdates to the error handler without an update ("failed: None")."""
    async with application:
        with caplog.at_level(logging.WARNING, logger="bot.telegram.handlers"):
            await application.process_error(update=None, error=NetworkError("Bad Gateway"))

    (record,) = [r for r in caplog.records if r.name == "bot.telegram.handlers"]
    assert "Bad Gateway" in record.getMessage()
    assert "None" not in record.getMessage()


PERSONAL = ["mydata", "deadlines", "reminders", "forget"]


@pytest.mark.parametrize("command", PERSONAL)
async def test_personal_commands_in_a_group_are_answered_only_in_private(
    fake: FakeBotApi, bot: Application, command: str
) -> None:
    ada = fake.user("Ada")
    group = fake.group()
    await say(fake, fake.command(ada, "start"))  # known, with a private chat
    mark = len(fake.calls)

    (pointer,) = await say(fake, fake.command(ada, command, chat=group))

    assert pointer["chat_id"] == group["id"]
    assert "private chat" in text_of(pointer)
    (button,) = [b for row in pointer["reply_markup"]["inline_keyboard"] for b in row]
    assert button["url"] == f"https://t.me/{fake.bot_user['username']}"
    assert fake.calls_to("sendMessage", chat_id=ada["id"], since=mark) == []


async def test_personal_buttons_and_requests_in_a_group_stay_out_of_it(
    fake: FakeBotApi, bot: Application
) -> None:
    mei = fake.user("美玲", language_code="zh-hant")
    group = fake.group()
    await say(fake, fake.command(mei, "start"))
    (pointer,) = await say(fake, fake.command(mei, "mydata", chat=group))

    mark = len(fake.calls)
    fake.push(fake.callback_query(mei, "1:dl", message=pointer.result))
    answered = await fake.wait_for("answerCallbackQuery", since=mark)
    (asked,) = await say(fake, fake.group_message(mei, group, "my deadlines"))

    assert answered.ok and "私訊" in answered["text"]
    edits = [c for c in fake.calls[mark:] if c.method in SENT and c.get("chat_id") == group["id"]]
    assert edits == [asked]
    assert "私訊" in text_of(asked)


# --- groups, staff, start-up ---------------------------------------------------------------------


async def test_groups_are_answered_only_when_addressed(fake: FakeBotApi, bot: Application) -> None:
    ada = fake.user("Ada")
    group = fake.group()
    fake.push(
        fake.group_message(ada, group, "how do I renew my gold card?", mention=False),
        fake.message(ada, "/help@another_bot", chat=group),
    )
    # One user's updates are handled in order: these come after the two above.
    welcome, help_text = await say(fake, fake.command(ada, "help", chat=group), count=2)
    (answer,) = await say(fake, fake.group_message(ada, group, "how do I renew my gold card?"))

    assert len(fake.calls_to("sendMessage", chat_id=group["id"])) == 3
    assert text_of(welcome).startswith("Hi! 👋")
    assert text_of(help_text).startswith("What I can do")
    assert "renew" in text_of(answer).lower()


async def test_staff_get_deep_links_and_others_an_unknown_command(
    fake: FakeBotApi, bot: Application
) -> None:
    staff = fake.user("Staff", id=STAFF_ID)
    ada = fake.user("Ada")
    await say(fake, fake.command(ada, "start"))

    (found,) = await say(fake, fake.command(staff, "link", "renew gold card"))
    (refused,) = await say(fake, fake.command(ada, "link", "renew"))
    (usage,) = await say(fake, fake.command(staff, "link"))

    found_text = text_of(found)
    assert found_text.startswith("Deep links for “renew gold card”")
    assert "https://t.me/goldcard_test_bot?start=t_renewal-how" in found_text
    assert "?start=g_renew_" in found_text
    assert "don't know the command /link" in text_of(refused)
    assert text_of(usage).startswith("Usage: /link")


async def test_start_up_publishes_commands_and_descriptions_per_language(
    fake: FakeBotApi, bot: Application
) -> None:
    default = fake.commands[('{"type": "default"}', "")]
    chinese = fake.commands[('{"type": "default"}', "zh")]

    assert default == [{"command": c, "description": d} for c, d in command_menu("en")]
    assert chinese == [{"command": c, "description": d} for c, d in command_menu("zh")]
    assert fake.descriptions == {"": description("en"), "zh": description("zh")}
    assert fake.short_descriptions == {"": short_description("en"), "zh": short_description("zh")}
    assert "/start" not in description("en") and "Answer questions" in description("en")
    assert short_description("zh").startswith("我是")


# --- webhook -------------------------------------------------------------------------------------


async def test_webhook_takes_the_right_secret_and_refuses_a_wrong_one(
    fake: FakeBotApi, application: Application
) -> None:
    ada = fake.user("Ada")
    async with webhook(application, secret_token="the-right-secret"):
        accepted = await fake.post_update(fake.command(ada, "start"))
        reply = await fake.wait_for("sendMessage", chat_id=ada["id"])
        refused = await fake.post_update(fake.command(ada, "help"), secret_token="wrong")
        unsigned = await fake.post_update(fake.command(ada, "help"), secret_token=None)

    assert (accepted, refused, unsigned) == (200, 403, 403)
    assert text_of(reply).startswith("Hi! 👋")
    assert len(fake.calls_to("sendMessage")) == 1


async def _raw_post(port: int, path: str, *, length: int, secret: str | None) -> bytes:
    """POST headers announcing a `length`-byte body and the first 64 KiB of it; the status line
    the server answers within 3 s (b"" if it waits for the rest)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
            f"Content-Length: {length}"]  # fmt: skip
    if secret is not None:
        head.append(f"{SECRET_HEADER}: {secret}")
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + b"{" * 65536)
        with suppress(ConnectionError):
            await writer.drain()
        with suppress(TimeoutError):
            return await asyncio.wait_for(reader.readline(), 3)
        return b""
    finally:
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()


async def test_webhook_refuses_unsigned_and_oversized_posts_before_reading_the_body(
    fake: FakeBotApi, application: Application
) -> None:
    """Tornado buffered up to 100 MB before PTB looked at the secret: 10 unsigned 90 MB POSTs
    took the process to 1.3 GB. Now the secret is checked on the headers, and a body is at most
    1 MB (Telegram's updates are a few KB)."""
    ada = fake.user("Ada")
    huge = 90 * 2**20
    async with webhook(application, secret_token="the-right-secret") as url:
        port = urlsplit(url).port
        assert port is not None
        unsigned = await _raw_post(port, "/telegram", length=huge, secret=None)
        wrong = await _raw_post(port, "/telegram", length=huge, secret="wrong")
        oversized = await _raw_post(port, "/telegram", length=huge, secret="the-right-secret")
        elsewhere = await _raw_post(port, "/elsewhere", length=huge, secret=None)
        accepted = await fake.post_update(fake.command(ada, "start"))
        await fake.wait_for("sendMessage", chat_id=ada["id"])

    assert unsigned.startswith(b"HTTP/1.1 403"), unsigned
    assert wrong.startswith(b"HTTP/1.1 403"), wrong
    assert oversized.startswith((b"HTTP/1.1 400", b"HTTP/1.1 413")), oversized
    assert elsewhere.startswith(b"HTTP/1.1 404"), elsewhere
    assert accepted == 200


async def _get(url: str) -> tuple[int, JSON]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json(content_type=None)


async def test_webhook_answers_a_health_check_on_its_port(
    fake: FakeBotApi, application: Application, engine: Engine
) -> None:
    """GET /healthz for a load balancer: 200 and a small JSON while the database answers and
    the knowledge is loaded, 503 when the database does not; it reads no body, and the
    webhook's own path still wants its secret."""
    ada = fake.user("Ada")
    async with webhook(application, secret_token="the-right-secret") as url:
        healthy = await _get(url.replace("/telegram", "/healthz"))
        port = urlsplit(url).port
        assert port is not None
        posted = await _raw_post(port, "/healthz", length=90 * 2**20, secret=None)
        unsigned = await fake.post_update(fake.command(ada, "help"), secret_token=None)
    # Nothing listens on port 1: the connection is refused at once.
    unreachable = create_db_engine("postgresql+psycopg://postgres@127.0.0.1:1/test")
    down = build_application(settings_for(fake), db=unreachable, engine=engine)
    async with webhook(down) as url:
        sick = await _get(url.replace("/telegram", "/healthz"))

    answers, guides = len(engine.knowledge.faq), len(engine.knowledge.guides)
    assert healthy == (
        200,
        {"status": "ok", "database": "ok", "knowledge": {"answers": answers, "guides": guides}},
    )
    assert sick == (
        503,
        {
            "status": "unavailable",
            "database": "unreachable",
            "knowledge": {"answers": answers, "guides": guides},
        },
    )
    assert posted.startswith(b"HTTP/1.1 405"), posted
    assert unsigned == 403


# --- sending -----------------------------------------------------------------------------------


async def test_long_replies_are_split_at_paragraphs_with_buttons_last(
    fake: FakeBotApi, application: Application
) -> None:
    ada = fake.user("Ada")
    paragraphs = [f"<b>Part {n}</b> " + "金卡 renewal " * 150 for n in range(1, 6)]
    reply = Reply("\n\n".join(paragraphs), ((Button("☰ Main menu", data="1:m"),),))

    async with application:
        await send_replies(application.bot, ada["id"], [reply])

    sent = fake.calls_to("sendMessage", chat_id=ada["id"])
    assert len(sent) > 1 and all(c.ok for c in sent)
    assert all(utf16_len(c.result["text"]) <= 4096 for c in sent)
    assert [c.result["text"].startswith("Part ") for c in sent] == [True] * len(sent)
    assert [bool(c.get("reply_markup")) for c in sent] == [False] * (len(sent) - 1) + [True]
    joined = " ".join(c.result["text"] for c in sent)
    assert joined.split() == parse_html(reply.text)[0].split()


async def test_a_long_answer_is_split_before_its_expandable_quote_never_inside_it(
    fake: FakeBotApi, application: Application
) -> None:
    ada = fake.user("Ada")
    essentials = "\n".join(f"• step {n} " + "apply " * 40 for n in range(1, 14))
    tail = "\n\n".join("note " * 60 for _ in range(5))
    folded = Reply(f"<b>Title</b>\n\n{essentials}\n\n<blockquote expandable>{tail}</blockquote>")
    huge = Reply("<b>Title</b>\n\n<blockquote expandable>" + "\n".join(["tail " * 60] * 40))
    huge = replace(huge, text=huge.text + "</blockquote>")

    async with application:
        await send_replies(application.bot, ada["id"], [folded])
        mark = len(fake.calls)
        await send_replies(application.bot, ada["id"], [huge])

    first, second = fake.calls_to("sendMessage", chat_id=ada["id"])[:2]
    assert utf16_len(parse_html(folded.text)[0]) > 4096 and first.ok and second.ok
    assert "blockquote" not in first["text"]
    assert second["text"] == f"<blockquote expandable>{tail}</blockquote>"
    assert [e["type"] for e in second.result["entities"]] == ["expandable_blockquote"]
    parts = [c for c in fake.calls[mark:] if c.method == "sendMessage"]
    assert len(parts) > 1 and all(c.ok for c in parts)  # too long for one: each part quoted
    for part in parts[1:]:
        assert [e["type"] for e in part.result["entities"]] == ["expandable_blockquote"]


async def test_a_document_with_a_long_text_comes_after_it(
    fake: FakeBotApi, application: Application
) -> None:
    ada = fake.user("Ada")
    reply = Reply("x " * 700, document=Document("d.ics", b"BEGIN:VCALENDAR\r\n"))

    async with application:
        await send_replies(application.bot, ada["id"], [reply])

    assert [c.method for c in fake.calls if c.method in SENT] == ["sendMessage", "sendDocument"]


def test_split_html_closes_and_reopens_tags_at_a_cut() -> None:
    link = '<a href="https://gold-card.nat.gov.tw">'
    text = "<b>" + "金" * 5000 + "</b>\n" + link + "a " * 50 + "</a>"

    chunks = split_html(text, limit=4096)

    assert len(chunks) == 2
    assert all(utf16_len(c) <= 4096 for c in chunks)
    assert chunks[0].startswith("<b>") and chunks[0].endswith("</b>")
    assert chunks[1].startswith("<b>") and f"</b>\n{link}" in chunks[1]
    plain = ["".join(parse_html(c)[0].split()) for c in chunks]  # parse_html: balanced tags
    assert "".join(plain) == "".join(parse_html(text)[0].split())


def test_split_html_prefers_paragraphs_then_lines_then_words() -> None:
    assert split_html("one\n\ntwo three", limit=9) == ["one", "two three"]
    assert split_html("one two\nthree", limit=9) == ["one two", "three"]
    assert split_html("one two three", limit=9) == ["one two", "three"]
    assert split_html("short") == ["short"]
    assert split_html("   ") == []


# --- settings and the command line ---------------------------------------------------------------


def test_token_and_api_address_checks() -> None:
    assert api_urls("http://127.0.0.1:8081/bot") == (
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/file/bot",
    )
    assert api_urls("http://127.0.0.1:8081/") == (
        "http://127.0.0.1:8081/bot",
        "http://127.0.0.1:8081/file/bot",
    )
    with pytest.raises(SetupError, match="not set"):
        bot_token(Settings.from_mapping({}))
    with pytest.raises(SetupError, match="malformed") as raised:
        bot_token(Settings.from_mapping({"BOT_TOKEN": "123:secret ish"}))
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize(
    "token",
    ["123:abc", "7000000001:" + "A" * 35, "1:" + "x_-9" * 20, " 42:short-token "],
)
def test_a_token_is_checked_for_its_shape_not_its_length(token: str) -> None:
    """Telegram promises no length for the part after the colon (local Bot API servers and
    emulators hand out others): `<digits>:<token characters>` is all we check."""
    assert bot_token(Settings.from_mapping({"BOT_TOKEN": token})) == token.strip()


@pytest.mark.parametrize(
    "token", ["no-colon", "abc:def", "123:", ":abc", "123:abc:def", "123:with space", "12 3:abc"]
)
def test_a_token_not_shaped_digits_colon_token_is_malformed(token: str) -> None:
    with pytest.raises(SetupError, match="malformed"):
        bot_token(Settings.from_mapping({"BOT_TOKEN": token}))


async def test_a_short_token_is_left_to_telegrams_get_me(
    fake: FakeBotApi, db: Database, engine: Engine
) -> None:
    """A Bot API server that hands out short tokens: the bot starts and answers."""
    fake.token = "42:short_token"
    application = build_application(settings_for(fake), db=db, engine=engine)
    async with polling(application):
        (welcome,) = await say(fake, fake.command(fake.user("Ada"), "start"))
    assert text_of(welcome).startswith("Hi! 👋")


def _run_cli(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "WEBHOOK_SECRET")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, **environ},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("command", "environ", "expected"),
    [
        (["run"], {"BOT_TOKEN": ""}, "error: BOT_TOKEN is not set"),
        (["run"], {"BOT_TOKEN": "12345:not-a-real-token!"}, "error: BOT_TOKEN is malformed"),
        (["webhook"], {"BOT_TOKEN": "1" * 9 + ":" + "a" * 35}, "error: WEBHOOK_URL must be set"),
    ],
)
def test_a_bad_setting_is_one_line_not_a_traceback(
    command: list[str], environ: dict[str, str], expected: str
) -> None:
    done = _run_cli(*command, **environ)

    assert done.returncode == 2
    assert done.stderr.startswith(expected)
    assert done.stderr.count("\n") == 1
    assert "not-a-real-token" not in done.stderr


async def test_a_refused_token_is_one_line(fake: FakeBotApi, tmp_path) -> None:
    process = await _start_bot(fake, tmp_path, "run", BOT_TOKEN="123456789:" + "x" * 35)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 2
    assert stderr.decode().startswith("error: Telegram refused BOT_TOKEN")
    assert stderr.decode().count("\n") == 1


def test_links_lists_every_deep_link_with_its_titles(knowledge) -> None:
    done = _run_cli("links", "--bot-username", "@goldcard_bot")

    rows = [line.split("\t") for line in done.stdout.splitlines()]
    targets = list(links.all_targets(knowledge))
    assert done.returncode == 0
    assert len(rows) == len(targets)
    assert rows[0] == [
        links.deep_link("goldcard_bot", targets[0]),
        links.title(targets[0], knowledge, "en"),
        links.title(targets[0], knowledge, "zh"),
    ]
    for url, *_ in rows:
        payload = url.removeprefix("https://t.me/goldcard_bot?start=")
        target = links.parse_payload(payload)
        assert target is not None and links.exists(target, knowledge), url


async def test_main_polls_when_a_token_is_set(fake: FakeBotApi, tmp_path) -> None:
    """`python -m bot main` (what `make run` starts) as a process, against the fake."""
    process = await _start_bot(fake, tmp_path, "main")
    try:
        assert await fake.wait_until(lambda: fake.long_polling, timeout=20), "never polled"
        ada = fake.user("Ada")
        (welcome,) = await say(fake, fake.command(ada, "start"))
        stderr = await _interrupt(process)
    finally:
        await _kill(process)
    assert text_of(welcome).startswith("Hi! 👋")
    assert process.returncode == 0, stderr
    assert fake.descriptions  # post_init ran in the real run_polling


async def test_the_webhook_command_serves_updates(fake: FakeBotApi, tmp_path) -> None:
    """`python -m bot webhook` (the Procfile's web) as a process: registers the webhook with its
    secret, answers what Telegram posts, refuses what it does not sign."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-updates"
    process = await _start_bot(
        fake,
        tmp_path,
        "webhook",
        "--port",
        str(port),
        "--listen",
        "127.0.0.1",
        WEBHOOK_URL=url,
        WEBHOOK_SECRET="a-secret_0123",
    )
    try:
        assert await fake.wait_until(lambda: fake.webhook.url == url, timeout=20), "no webhook"
        ada = fake.user("Ada")
        accepted = await _post_when_listening(fake, fake.command(ada, "start"))
        reply = await fake.wait_for("sendMessage", chat_id=ada["id"])
        refused = await fake.post_update(fake.command(ada, "help"), secret_token="wrong")
        mark = len(fake.calls)
        await fake.post_update(fake.message(ada, "how do I renew my gold card"))
        answer = await fake.wait_for("sendMessage", chat_id=ada["id"], since=mark)
        mark = len(fake.calls)
        await fake.post_update(fake.reaction(ada, answer.result, ["👎"]))
        sorry = await fake.wait_for("sendMessage", chat_id=ada["id"], since=mark)
        stderr = await _interrupt(process)
    finally:
        await _kill(process)
    assert (accepted, refused) == (200, 403)
    assert fake.webhook.secret_token == "a-secret_0123"
    assert text_of(reply).startswith("Hi! 👋")
    assert "message_reaction" in (fake.webhook.allowed_updates or [])
    assert "+886-2-7733-7660" in text_of(sorry)  # a 👎 reaction on the answer, by webhook
    assert process.returncode == 0, stderr


async def _start_bot(
    fake: FakeBotApi, tmp_path, *args: str, **environ: str
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k not in ("STAFF_IDS", "WEBHOOK_URL")}
    env |= {
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "LOG_LEVEL": "WARNING",
        **environ,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )


async def _post_when_listening(fake: FakeBotApi, update: JSON) -> int:
    """PTB registers the webhook just before its server accepts connections: retry briefly."""
    for _ in range(50):
        try:
            return await fake.post_update(update)
        except OSError:
            await asyncio.sleep(0.1)
    return await fake.post_update(update)


async def _interrupt(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGINT)  # Ctrl-C: PTB stops and shuts down cleanly
    _, stderr = await asyncio.wait_for(process.communicate(), 20)
    return stderr.decode()


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def _eventually(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if value := await asyncio.to_thread(condition):
            return value
        await asyncio.sleep(0.05)
    return None


# --- replayed updates and database faults ------------------------------------------------------


async def test_an_update_posted_again_is_answered_once(
    fake: FakeBotApi, db: Database, engine: Engine
) -> None:
    """Telegram redelivers an update it thinks was lost, and a replayed POST is one again: the
    same update posted 5 times to each of two webhook workers over one database gets one reply."""
    workers = [build_application(settings_for(fake), db=db, engine=engine) for _ in range(2)]
    ada = fake.user("Ada")
    update = fake.command(ada, "start")
    async with webhook(workers[0]) as first, webhook(workers[1]) as second:
        statuses = await asyncio.gather(
            *(fake.post_update(update, url=url) for url in (first, second) * 5)
        )
        await fake.wait_for("sendMessage", chat_id=ada["id"])
        await asyncio.sleep(0.5)  # the replays' replies, were there any, come within ms

    assert statuses == [200] * 10
    assert len(fake.calls_to("sendMessage", chat_id=ada["id"])) == 1


async def test_a_reply_that_changes_nothing_is_not_repeated_for_a_replay_either(
    fake: FakeBotApi, application: Application
) -> None:
    """Replies made without the unit of work (a group's "ask me in private", a staff /link)
    are sent once per update too."""
    ada, staff = fake.user("Ada"), fake.user("Staff", id=STAFF_ID)
    group = fake.group()
    updates = [fake.command(ada, "mydata", chat=group), fake.command(staff, "link", "renew")]
    async with webhook(application):
        for update in updates:
            for _ in range(3):
                assert await fake.post_update(update) == 200
        await fake.wait_for("sendMessage", chat_id=group["id"])
        await fake.wait_for("sendMessage", chat_id=staff["id"])
        await asyncio.sleep(0.5)  # the replays' replies, were there any, come within ms

    assert len(fake.calls_to("sendMessage", chat_id=group["id"])) == 1
    assert len(fake.calls_to("sendMessage", chat_id=staff["id"])) == 1


async def test_a_connection_killed_mid_update_is_answered_once_not_sorry(
    fake: FakeBotApi, application: Application, db: Database
) -> None:
    """A kill storm on PostgreSQL failed 58 of 500 updates with "sorry": the unit of work is
    pure, so an update whose connection dropped is handled again on a new one, once."""
    from tests.test_reminders import connection_killed

    if db.dialect.name != "postgresql":
        pytest.skip("a connection killed under the bot: PostgreSQL's failure")
    ada = fake.user("Ada")
    async with polling(application):
        await say(fake, fake.command(ada, "start"))
        with connection_killed(db, "UPDATE users") as hits:
            (answer,) = await say(fake, fake.command(ada, "help"))
            await asyncio.sleep(0.3)  # a "sorry" would come right after

    assert len(hits) == 1
    assert not text_of(answer).startswith("Sorry")
    assert len(fake.calls_to("sendMessage", chat_id=ada["id"])) == 2


@pytest.fixture
def open_folder() -> Any:
    """A folder a process run as nobody can reach (pytest's tmp_path is root's alone)."""
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="goldcard-"))
    folder.chmod(0o777)
    yield folder
    folder.chmod(0o700)
    shutil.rmtree(folder)


def _unprivileged() -> list[str]:
    """The command prefix that runs a process as nobody when the tests run as root (CI), whom
    permissions never stop."""
    if os.geteuid() != 0:
        return []
    import shutil

    if shutil.which("setpriv") is None:
        pytest.skip("as root without setpriv, file permissions cannot be tried")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.mark.parametrize(
    "fault", ["read-only file", "read-only folder", "file in a read-only folder"]
)
async def test_an_unwritable_database_stops_the_bot_at_start_in_one_line(
    fake: FakeBotApi, open_folder, fault: str
) -> None:
    """A read-only SQLite file started the bot, which then answered every update "sorry"; a
    read-only folder was a traceback. Both are one line and exit status 2, like a bad setting."""
    from bot.storage import create_db_engine, prepare

    path = open_folder / "bot.sqlite3"
    if fault != "read-only folder":
        db = create_db_engine(f"sqlite:///{path}")
        prepare(db)
        db.dispose()
        path.chmod(0o444 if fault == "read-only file" else 0o666)
    if fault != "read-only file":
        open_folder.chmod(0o555)
    env = {k: v for k, v in os.environ.items() if k not in ("STAFF_IDS", "WEBHOOK_URL")}
    env |= {"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING"}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *_unprivileged(), sys.executable, "-m", "bot", "run",
        cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        await _kill(process)

    assert process.returncode == 2, stderr.decode()
    assert stderr.decode().startswith(f"error: cannot write the SQLite database {path}: ")
    assert stderr.decode().count("\n") == 1
    assert not fake.calls_to("getUpdates")  # it never started


async def test_a_database_file_deleted_under_the_running_bot_stops_it(
    fake: FakeBotApi, tmp_path
) -> None:
    """A deleted SQLite file took every write since to an unlinked inode, all of it gone at the
    next start: the bot now tells the user something went wrong, stops, and says why."""
    process = await _start_bot(fake, tmp_path, "run")
    try:
        assert await fake.wait_until(lambda: fake.long_polling, timeout=20), "never polled"
        ada = fake.user("Ada")
        (welcome,) = await say(fake, fake.command(ada, "start"))
        for file in tmp_path.glob("bot.sqlite3*"):
            file.unlink()
        (sorry,) = await say(fake, fake.command(ada, "help"))
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        await _kill(process)

    assert text_of(welcome).startswith("Hi! 👋")
    assert text_of(sorry).startswith("Sorry, something went wrong")
    assert process.returncode == 1
    *_, last = stderr.decode().splitlines()
    database = tmp_path / "bot.sqlite3"
    assert last.startswith(f"error: the database file {database} was deleted or replaced")
    assert not database.exists()  # nothing was written to a new, empty one
