"""The inbox through the real Telegram adapter against the fake Bot API, on SQLite and
PostgreSQL: applicants' questions the bot cannot answer, /inbox in the staff group, a group
assigned (by a candidate, by a search, out of scope), and the same questions answered after;
in both languages, across a restart, and closed to everyone but staff."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine as Database
from sqlmodel import Session, select
from telegram.ext import Application

from bot.dialogue import Engine
from bot.learning import LiveMatcher
from bot.models import LearnedQuestion
from bot.telegram.app import build_application
from tests.fakebotapi import JSON, FakeBotApi, polling
from tests.test_telegram import STAFF_ID, button_data, labels, press, say, settings_for, text_of

STAFF_CHAT = -1_009_999_999_999


@pytest.fixture
def db(shared_db: Database) -> Database:
    return shared_db


@pytest.fixture
def live(db: Database, knowledge) -> LiveMatcher:
    return LiveMatcher(knowledge, db)


def desk_application(fake: FakeBotApi, db: Database, live: LiveMatcher) -> Application:
    settings = settings_for(fake, STAFF_IDS=str(STAFF_ID), STAFF_CHAT_ID=str(STAFF_CHAT))
    return build_application(settings, db=db, engine=Engine(live.knowledge, live))  # type: ignore[arg-type]


@pytest.fixture
async def bot(fake: FakeBotApi, db: Database, live: LiveMatcher) -> AsyncIterator[Application]:
    async with polling(desk_application(fake, db, live)) as application:
        yield application


@pytest.fixture
def staff_chat(fake: FakeBotApi) -> JSON:
    return fake.group("Gold Card help desk", id=STAFF_CHAT)


async def inbox(fake: FakeBotApi, staff: JSON, chat: JSON, *, groups: int, arg: str = "") -> list:
    """Send /inbox in `chat`; the summary and one message per group."""
    calls = await say(fake, fake.command(staff, "inbox", arg or None, chat=chat), count=1 + groups)
    return calls


def group_message(fake: FakeBotApi, chat: JSON, containing: str) -> JSON:
    """The latest group message of the inbox in `chat` that lists `containing`."""
    found = [m for m in fake.bot_messages(chat["id"]) if containing in m.get("text", "")]
    assert found, f"no inbox message with {containing!r}"
    return found[-1]


async def test_a_group_assigned_in_the_staff_chat_is_answered_afterwards(
    fake: FakeBotApi, bot: Application, staff_chat: JSON, knowledge
) -> None:
    ada = fake.user("Ada")
    staff = fake.user("Mei", id=STAFF_ID + 1)  # any member of the staff group
    await say(fake, fake.command(ada, "start"))
    questions = ["the card went through the washing machine", "dog ate my card"]
    for question in questions:
        (declined,) = await say(fake, fake.message(ada, question))
        assert "don't know" in text_of(declined) or "Sorry" in text_of(declined)

    summary, *_ = await inbox(fake, staff, staff_chat, groups=2)

    assert text_of(summary).startswith("📥 Inbox since")
    assert "2 questions" in text_of(summary)
    washing = group_message(fake, staff_chat, "washing machine")
    assert "1 question" in washing["text"] and "English 1" in washing["text"]
    assert "ada" not in washing["text"].lower()  # nothing says who asked
    await press(fake, staff, "🔎", message=washing)
    prompt = fake.last_bot_message(staff_chat["id"])
    assert prompt is not None and prompt["text"].startswith("🔎 #")
    assert "Mei, reply to this message" in prompt["text"]
    (found,) = await say(fake, fake.message(staff, "lost damaged card", chat=staff_chat,
                                            reply_to=prompt))  # fmt: skip
    title = knowledge.faq["replacement-card"].title["en"]
    assert f"✅ This is about: {title}" in labels(found)
    (learned,) = await press(fake, staff, f"✅ This is about: {title}", message=found.result)
    assert text_of(learned).startswith("✅ #") and "learned as “" in text_of(learned)
    assert "by Mei" in text_of(learned)
    dog = group_message(fake, staff_chat, "dog ate my card")
    if title in "".join(labels_of(dog)):  # a candidate already: press it
        await press(fake, staff, f"✅ This is about: {title}", message=dog)
    else:
        await press(fake, staff, "🔎", message=dog)
        prompt = fake.last_bot_message(staff_chat["id"])
        (found,) = await say(fake, fake.message(staff, "damaged card", chat=staff_chat,
                                                reply_to=prompt))  # fmt: skip
        await press(fake, staff, f"✅ This is about: {title}", message=found.result)

    for question in [*questions, "my gold card went through the washing machine"]:
        (answer, *_) = await say(fake, fake.message(ada, question))
        assert text_of(answer).startswith(title), question
    (empty,) = await inbox(fake, staff, staff_chat, groups=0)
    assert "Nothing to do" in text_of(empty)
    with Session(bot.bot_data["desk"].db) as session:
        rows = session.exec(select(LearnedQuestion)).all()
    assert {(r.question, r.topic, r.learned_by) for r in rows} == {
        (q, "replacement-card", staff["id"]) for q in questions
    }


def labels_of(message: JSON) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def test_out_of_scope_in_chinese_and_a_button_pressed_after_a_restart(
    fake: FakeBotApi, db: Database, live: LiveMatcher, staff_chat: JSON, knowledge
) -> None:
    mei = fake.user("美", language_code="zh-hant")
    lin = fake.user("林", id=STAFF_ID + 2, language_code="zh-hant")
    question, paraphrase = "金卡可以護貝嗎", "金卡能不能拿去護貝"
    async with polling(desk_application(fake, db, live)):
        await say(fake, fake.command(mei, "start"))
        (before, *_) = await say(fake, fake.message(mei, question))
        summary, group = await inbox(fake, lin, staff_chat, groups=1)
    assert text_of(summary).startswith("📥 收件匣")
    assert "中文 1" in text_of(group)

    restarted = LiveMatcher(knowledge, db)  # another process, or the same one restarted
    async with polling(desk_application(fake, db, restarted)):
        message = group_message(fake, staff_chat, question)
        (scopes,) = await press(fake, lin, "🚫", message=message)
        assert "超出範圍：屬於哪一類？" in text_of(scopes)
        (done,) = await press(fake, lin, "🚫 gold-card-gaps", message=message)
        assert text_of(done).startswith("🚫 #") and "超出範圍（gold-card-gaps）" in text_of(done)
        declined = [(await say(fake, fake.message(mei, q)))[0] for q in (question, paraphrase)]
    about = knowledge.not_covered("gold-card-gaps", "zh")
    assert about is not None
    assert about[:12] not in text_of(before)  # declined before, but not knowing why
    assert all(about[:12] in text_of(d) for d in declined)


async def test_only_staff_reach_the_inbox(
    fake: FakeBotApi, bot: Application, staff_chat: JSON
) -> None:
    ada = fake.user("Ada")
    staff = fake.user("Staff", id=STAFF_ID)
    await say(fake, fake.command(ada, "start"))
    await say(fake, fake.message(ada, "the card went through the washing machine"))

    (refused,) = await say(fake, fake.command(ada, "inbox"))
    other_group = fake.group("Applicants")
    (elsewhere,) = await say(fake, fake.command(ada, "inbox", chat=other_group))
    (usage,) = await say(fake, fake.command(staff, "inbox", "soon"))
    _, group = await say(fake, fake.command(staff, "inbox"), count=2)  # staff in private
    message = fake.last_bot_message(staff["id"])
    data = button_data(message, "🗑")
    (forged,) = await say(fake, fake.callback_query(ada, data, message=fake.last_bot_message(
        ada["id"])))  # fmt: skip
    (ignored,) = await press(fake, staff, "🗑", message=message)
    (stale,) = await say(fake, fake.callback_query(staff, data, message=message))

    assert "don't know the command /inbox" in text_of(refused)
    assert "don't know the command /inbox" in text_of(elsewhere)
    assert text_of(usage).startswith("Usage: /inbox")
    assert "1 question" in text_of(group)
    assert text_of(forged).startswith("This button has expired")
    assert "ignored by Staff" in text_of(ignored)
    assert "already handled" in text_of(stale)


async def test_the_inbox_answers_in_the_forum_topic_it_was_asked_in(
    fake: FakeBotApi, bot: Application
) -> None:
    desk_group = fake.group("Gold Card help desk", id=STAFF_CHAT, forum=True)
    thread = 77
    fake.topics.setdefault(STAFF_CHAT, {})[thread] = {"name": "Inbox", "closed": False}
    ada = fake.user("Ada")
    mei = fake.user("Mei", id=STAFF_ID + 1)
    await say(fake, fake.command(ada, "start"))
    await say(fake, fake.message(ada, "the card went through the washing machine"))

    summary, group = await say(
        fake, fake.message(mei, "/inbox", chat=desk_group, thread_id=thread), count=2
    )
    message = group_message(fake, desk_group, "washing machine")
    await press(fake, mei, "🔎", message=message)
    prompt = fake.last_bot_message(STAFF_CHAT)
    assert prompt is not None
    (found,) = await say(fake, fake.message(mei, "damaged card", chat=desk_group,
                                            thread_id=thread, reply_to=prompt))  # fmt: skip

    for call in (summary, group, found):
        assert call.get("message_thread_id") == thread
    assert prompt.get("message_thread_id") == thread
    assert "topics for “damaged card”" in text_of(found)
    assert fake.bot_messages(ada["id"])[-1]["text"].startswith("Sorry")  # nothing relayed
