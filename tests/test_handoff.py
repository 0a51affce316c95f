"""A person, in the same chat (issue 13, part 1): "Ask a person" opens a ticket in a forum topic
of the staff group, the staff answer there, and it closes; end to end through the real
Application against the fake Bot API, on a SQLite file and PostgreSQL, in both languages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import update
from sqlmodel import Session, select
from telegram.ext import Application

from bot import tickets
from bot.config import Settings
from bot.dialogue import Engine, Event, State
from bot.models import StatCounter, Ticket, User, utcnow
from bot.reminders import make_bot, send_due
from bot.simplified import to_simplified
from bot.storage import converse
from bot.telegram.app import api_urls, build_application
from tests.fakebotapi import JSON, Call, FakeBotApi, parse_html, polling
from tests.test_reminders import remind_process

STAFF_MEMBER = 5_151_515

ASK = {"en": "🙋 Ask a person", "zh": "🙋 請真人協助"}
YES = {"en": "✅ Yes, ask a person", "zh": "✅ 好，請真人協助"}
RENEW = {"en": "How do I renew my gold card?", "zh": "金卡要怎麼延期？"}
UNKNOWN = {"en": "Does xyzzy plugh frobnicate quux?", "zh": "企鵝喜歡吃什麼魚？"}
LANGUAGE = {"en": "English", "zh": "繁體中文（台灣）"}  # menus.LANGUAGE_NAMES
CODE = {"en": "en", "zh": "zh-hant"}


@pytest.fixture
def staff(fake: FakeBotApi) -> JSON:
    """The help desk's forum supergroup."""
    return fake.group("Gold Card help desk", forum=True)


def application_for(fake: FakeBotApi, db: Database, engine: Engine, staff: JSON) -> Application:
    settings = Settings.from_mapping(
        {
            "BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "STAFF_CHAT_ID": str(staff["id"]),
        }
    )
    return build_application(settings, db=db, engine=engine)


@pytest.fixture
async def bot(
    fake: FakeBotApi, shared_db: Database, engine: Engine, staff: JSON
) -> AsyncIterator[Application]:
    async with polling(application_for(fake, shared_db, engine, staff)) as application:
        yield application


# --- helpers -----------------------------------------------------------------------------------

SENT = ("sendMessage", "editMessageText", "sendDocument", "copyMessage")


async def to_chat(fake: FakeBotApi, update: JSON, chat_id: int, *, count: int = 1) -> list[Call]:
    """Push `update`; the first `count` messages then sent, edited or copied into `chat_id`."""
    mark = len(fake.calls)
    fake.push(update)
    return await fake.wait_for_calls(
        where=lambda call: call.method in SENT and call.get("chat_id") == chat_id,
        count=count,
        since=mark,
    )


def data_of(message: JSON, label: str) -> str:
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    found = [b["callback_data"] for b in buttons if b["text"].startswith(label)]
    assert found, f"no button {label!r} in {[b['text'] for b in buttons]}"
    return found[0]


def labels(message: JSON) -> list[str]:
    markup = message.get("reply_markup") or {"inline_keyboard": []}
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


async def press(
    fake: FakeBotApi, user: JSON, label: str, chat_id: int, *, message: JSON | None = None
) -> list[Call]:
    message = message or fake.last_bot_message(chat_id)
    assert message is not None
    return await to_chat(
        fake, fake.callback_query(user, data_of(message, label), message=message), chat_id
    )


def title(bot: Application, lang: str, topic: str = "renewal-how") -> str:
    return bot.bot_data["desk"].engine.knowledge.faq[topic].title[lang]


def text_of(call: Call) -> str:
    return parse_html(call["text"])[0]


def staff_calls(fake: FakeBotApi, staff: JSON, since: int = 0) -> list[Call]:
    return [c for c in fake.calls[since:] if c.get("chat_id") == staff["id"]]


async def hello(fake: FakeBotApi, user: JSON) -> None:
    """/start: the welcome, so the user's next message gets one reply."""
    await to_chat(fake, fake.command(user, "start"), user["id"])


async def open_ticket(
    fake: FakeBotApi, user: JSON, staff: JSON, lang: str, question: str
) -> tuple[int, JSON]:
    """Ask `question`, press "Ask a person" and consent: the ticket's topic and its post."""
    await hello(fake, user)
    (declined,) = await to_chat(fake, fake.message(user, question), user["id"])
    assert ASK[lang] in [b["text"] for row in declined["reply_markup"]["inline_keyboard"]
                         for b in row]  # fmt: skip
    await press(fake, user, ASK[lang], user["id"])
    mark = len(fake.calls)
    (opened,) = await press(fake, user, YES[lang], user["id"])
    assert opened.method == "editMessageText"  # the consent becomes the confirmation
    posted = await fake.wait_for("sendMessage", chat_id=staff["id"], since=mark)
    thread = posted["message_thread_id"]
    return thread, fake.topic_messages(staff["id"], thread)[-1]


# --- the whole way ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_ticket_opened_replied_to_from_the_staff_group_and_closed(
    fake: FakeBotApi, bot: Application, staff: JSON, shared_db: Database, lang: str
) -> None:
    ada = fake.user("Ada", language_code=CODE[lang])
    lin = fake.user("Lin", id=STAFF_MEMBER, language_code="zh-hant")
    await hello(fake, ada)
    (answer,) = await to_chat(fake, fake.message(ada, RENEW[lang]), ada["id"])
    await press(fake, ada, "👎", ada["id"])  # "Ask a person" after 👎
    (consent,) = await press(fake, ada, ASK[lang], ada["id"])
    consent_text = text_of(consent)
    assert RENEW[lang] in consent_text  # what will be shown, before it is
    assert ("Telegram first name" in consent_text) == (lang == "en")
    assert ("名字" in consent_text) == (lang == "zh")
    assert not fake.calls_to("createForumTopic")  # nothing reaches the staff before consent

    mark = len(fake.calls)
    (opened,) = await press(fake, ada, YES[lang], ada["id"])
    created = fake.calls_to("createForumTopic", since=mark)[0]
    assert created["name"] == f"Ada · {LANGUAGE[lang]} · #1"
    thread = created.result["message_thread_id"]
    post = fake.topic_messages(staff["id"], thread)[1]
    assert RENEW[lang] in post["text"]
    assert ("+886-2-7733-7660" in text_of(opened)) and ("help@taiwangoldcard.tw" in opened["text"])
    assert ("office hours" in text_of(opened)) == (lang == "en")  # none invented
    buttons = labels(post)
    assert buttons[-2:] == (
        ["Answered ✔", "⛔ Block"] if lang == "en" else ["已回答 ✔", "⛔ 封鎖"]
    )
    sends = [b for b in buttons if b.startswith("📨")]
    assert 1 <= len(sends) <= 3
    assert sends[0] == {"en": "📨 Send answer: ", "zh": "📨 傳送答案："}[lang] + title(bot, lang)
    links = [e["url"] for e in post.get("entities", []) if e["type"] == "text_link"]
    assert len(links) == len(sends)
    assert all(link.startswith("https://t.me/goldcard_test_bot?start=t_") for link in links)
    with Session(shared_db) as session:
        row = session.exec(select(Ticket)).one()
        assert (row.thread_id, row.status, row.question) == (thread, "open", None)  # posted

    # The applicant's next messages go to the topic, not to the bot's answers.
    mark = len(fake.calls)
    (relayed,) = await to_chat(fake, fake.message(ada, "It is about my renewal."), staff["id"])
    assert relayed["message_thread_id"] == thread
    assert text_of(relayed) == "👤 It is about my renewal."
    assert not [c for c in fake.calls[mark:] if c.get("chat_id") == ada["id"]]
    photo = fake.message(ada, "my letter", media=fake.photo())
    (copied,) = await to_chat(fake, photo, staff["id"])
    assert (copied.method, copied["from_chat_id"], copied["message_thread_id"]) == (
        "copyMessage", ada["id"], thread
    )  # fmt: skip
    assert fake.topic_messages(staff["id"], thread)[-1]["photo"]

    # The staff's replies reach the applicant as the bot: copied, not forwarded.
    (reply,) = await to_chat(
        fake, fake.message(lin, "Hi Ada, send the form — Mei", chat=staff, thread_id=thread),
        ada["id"],
    )  # fmt: skip
    assert (reply.method, reply["from_chat_id"]) == ("copyMessage", staff["id"])
    received = fake.last_bot_message(ada["id"])
    assert received["text"] == "Hi Ada, send the form — Mei"
    assert received["from"]["id"] == fake.bot_user["id"] and "forward_origin" not in received
    document = fake.message(lin, "", chat=staff, thread_id=thread, media=fake.document())
    await to_chat(fake, document, ada["id"])
    assert fake.last_bot_message(ada["id"])["document"]["file_name"] == "letter.pdf"

    # "Send answer: …" sends the knowledge base's answer in the applicant's language.
    (answer,) = await press(fake, lin, "📨", ada["id"], message=post)
    topic = data_of(post, "📨").rsplit(":", 1)[1]
    assert bot.bot_data["desk"].engine.knowledge.faq[topic].title[lang] in text_of(answer)
    note = await fake.wait_until(
        lambda: fake.topic_messages(staff["id"], thread)[-1].get("text", "").startswith("📨")
    )
    assert note, "the staff see what was sent"

    # "Answered ✔" closes it; the applicant is asked whether it helped.
    await press(fake, lin, buttons[-2], ada["id"], message=post)
    assert labels(fake.last_bot_message(ada["id"])) == (
        ["👍 Yes", "👎 No"] if lang == "en" else ["👍 有", "👎 沒有"]
    )
    await fake.wait_for("closeForumTopic", message_thread_id=thread)
    assert fake.topics[staff["id"]][thread]["closed"]
    assert "reply_markup" not in fake.topic_messages(staff["id"], thread)[1]  # buttons spent
    (thanks,) = await press(fake, ada, "👍", ada["id"])
    assert "🙂" in thanks["text"]
    with Session(shared_db) as session:  # anonymous figures: no user id, no text
        counted: dict[tuple[str, str], int] = {}
        for row in session.exec(select(StatCounter)):
            counted[row.event, row.lang] = counted.get((row.event, row.lang), 0) + row.n
        assert counted[("handed_off", lang)] == 1 and counted[("handoff_helpful", lang)] == 1
    mark = len(fake.calls)
    await to_chat(fake, fake.message(ada, UNKNOWN[lang]), ada["id"])  # the bot answers again
    assert not staff_calls(fake, staff, mark)
    with Session(shared_db) as session:
        assert session.exec(select(Ticket.status)).one() == "closed"


async def test_replies_find_their_applicant_after_a_restart(
    fake: FakeBotApi, shared_db: Database, engine: Engine, staff: JSON
) -> None:
    ada = fake.user("Ada")
    lin = fake.user("Lin", id=STAFF_MEMBER)
    async with polling(application_for(fake, shared_db, engine, staff)):
        thread, _ = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    # A new process: nothing in memory, the ticket's row routes both ways.
    async with polling(application_for(fake, shared_db, engine, staff)):
        await to_chat(fake, fake.message(lin, "Answer", chat=staff, thread_id=thread), ada["id"])
        assert fake.last_bot_message(ada["id"])["text"] == "Answer"
        (relayed,) = await to_chat(fake, fake.message(ada, "Thank you"), staff["id"])
        assert relayed["message_thread_id"] == thread


async def test_an_applicant_asking_again_gets_their_topic_back_and_a_new_one_if_it_is_gone(
    fake: FakeBotApi, bot: Application, staff: JSON
) -> None:
    ada = fake.user("Ada")
    lin = fake.user("Lin", id=STAFF_MEMBER)
    thread, post = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    await press(fake, lin, "Answered", ada["id"], message=post)
    await fake.wait_for("closeForumTopic", message_thread_id=thread)

    again, _ = await open_ticket(fake, ada, staff, "en", "Is plugh xyzzy?")
    assert again == thread and not fake.topics[staff["id"]][thread]["closed"]
    assert fake.topics[staff["id"]][thread]["name"] == "Ada · English · #2"
    assert len(fake.calls_to("createForumTopic")) == 1
    second_post = [
        m for m in fake.topic_messages(staff["id"], thread) if "#2" in m.get("text", "")
    ]
    assert second_post and "Is plugh xyzzy?" in second_post[0]["text"]
    await to_chat(
        fake, fake.message(lin, "Second answer", chat=staff, thread_id=thread), ada["id"]
    )
    mark = len(fake.calls)
    await press(fake, lin, "Answered", ada["id"], message=second_post[0])
    await fake.wait_for("closeForumTopic", message_thread_id=thread, since=mark)

    del fake.topics[staff["id"]][thread]  # the staff deleted it
    third, _ = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    assert third != thread and len(fake.calls_to("createForumTopic")) == 2

    await to_chat(fake, fake.command(ada, "forget"), ada["id"])  # each of her topics, once
    await press(fake, ada, "🗑 Yes", ada["id"])
    await fake.wait_for_calls("deleteForumTopic", count=2)
    await fake.wait_until(lambda: False, timeout=0.3)
    deleted = fake.calls_to("deleteForumTopic")
    assert sorted(c["message_thread_id"] for c in deleted) == sorted([thread, third])
    assert third not in fake.topics[staff["id"]]


# --- privacy ---------------------------------------------------------------------------------


async def test_staff_see_the_first_name_and_the_redacted_question_only(
    fake: FakeBotApi, bot: Application, staff: JSON
) -> None:
    ada = fake.user("A123456789", last_name="Lovelace", username="ada_l", language_code="en")
    question = "My passport E12345678 and ada@example.com: does xyzzy plugh frobnicate?"
    thread, post = await open_ticket(fake, ada, staff, "en", question)
    await to_chat(fake, fake.message(ada, "call me on 0912-345-678"), staff["id"])
    shown = " ".join(str(call.params) for call in staff_calls(fake, staff))
    for secret in ("A123456789", "Lovelace", "ada_l", str(ada["id"]), "E12345678",
                   "ada@example.com", "0912-345-678"):  # fmt: skip
        assert secret not in shown, secret
    assert "frobnicate" in post["text"]
    assert fake.topics[staff["id"]][thread]["name"].endswith("· English · #1")


async def test_nothing_from_the_staff_group_reaches_anyone_but_the_tickets_applicant(
    fake: FakeBotApi, bot: Application, staff: JSON
) -> None:
    ada, bob, eve = fake.user("Ada"), fake.user("Bob"), fake.user("Eve")
    lin = fake.user("Lin", id=STAFF_MEMBER)
    ada_thread, _ = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    bob_thread, bob_post = await open_ticket(fake, bob, staff, "en", UNKNOWN["en"])
    other = fake.group("Another forum", forum=True)
    await hello(fake, eve)
    mark = len(fake.calls)
    # Eve has no ticket: nothing she writes reaches the staff group.
    await to_chat(fake, fake.message(eve, "hello staff"), eve["id"])
    assert not staff_calls(fake, staff, mark)

    await to_chat(fake, fake.message(lin, "For Ada", chat=staff, thread_id=ada_thread), ada["id"])
    await fake.wait_until(lambda: False, timeout=0.3)
    delivered = {c["chat_id"] for c in fake.calls_to("copyMessage", since=mark)}
    assert delivered == {ada["id"]}

    mark = len(fake.calls)
    fake.push(fake.message(lin, "General chat", chat=staff))  # not a ticket's topic
    fake.push(fake.message(lin, "/stats", chat=staff, thread_id=bob_thread))  # a staff command
    fake.topics.setdefault(other["id"], {})[ada_thread] = {"name": "x", "closed": False}
    fake.push(fake.message(lin, "Elsewhere", chat=other, thread_id=ada_thread))
    await fake.wait_until(lambda: False, timeout=0.5)
    # /stats answers in its own topic (the chart, then the figures) and reaches no applicant.
    await fake.wait_for_calls(
        "sendMessage",
        count=1,
        where=lambda c: "Help desk figures" in str(c.get("text")),
        since=mark,
    )
    assert not fake.calls_to("copyMessage", since=mark)

    # A staff button pressed outside the staff group is an expired button.
    forged = fake.callback_query(eve, data_of(bob_post, "Answered"), message=None)
    (expired,) = await to_chat(fake, forged, eve["id"])
    assert "expired" in expired["text"]

    # A closed ticket's topic reaches nobody; the staff are told.
    await press(fake, bob, "✖️", bob["id"], message=fake.last_bot_message(bob["id"]))
    await fake.wait_for("closeForumTopic", message_thread_id=bob_thread)
    mark = len(fake.calls)
    late = fake.message(lin, "Still there?", chat=staff, thread_id=bob_thread)
    (note,) = await to_chat(fake, late, staff["id"])
    assert "closed" in note["text"] and not fake.calls_to("copyMessage", since=mark)


async def test_forget_closes_and_deletes_the_applicants_tickets(
    fake: FakeBotApi, bot: Application, staff: JSON, shared_db: Database
) -> None:
    ada = fake.user("Ada")
    thread, _ = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    (mydata,) = await to_chat(fake, fake.command(ada, "mydata"), ada["id"])
    assert "open request to the help desk" in text_of(mydata)
    await to_chat(fake, fake.command(ada, "forget"), ada["id"])
    await press(fake, ada, "🗑 Yes", ada["id"])
    await fake.wait_for("deleteForumTopic", message_thread_id=thread)
    assert thread not in fake.topics[staff["id"]]
    assert not fake.topic_messages(staff["id"], thread)
    with Session(shared_db) as session:
        assert not session.exec(select(Ticket)).all()
        assert session.get(User, ada["id"]) is None


# --- the applicant's way back, blocking, expiry, failures ------------------------------------


async def test_while_a_ticket_is_open_commands_and_ask_reach_the_bot_and_close_ends_it(
    fake: FakeBotApi, bot: Application, staff: JSON
) -> None:
    mei = fake.user("美玲", language_code="zh-hant")
    thread, _ = await open_ticket(fake, mei, staff, "zh", UNKNOWN["zh"])
    mark = len(fake.calls)
    (answer,) = await to_chat(fake, fake.command(mei, "ask", "金卡怎麼延期"), mei["id"])
    assert "延期" in text_of(answer) and not staff_calls(fake, staff, mark)
    (help_text,) = await to_chat(fake, fake.command(mei, "help"), mei["id"])
    assert "把您的問題轉給客服真人" in text_of(help_text) and "您的請求" in text_of(help_text)
    assert "🙋 請真人協助" not in labels(fake.last_bot_message(mei["id"]))  # one at a time
    assert "✖️ 關閉我的請求" in labels(fake.last_bot_message(mei["id"]))  # the way back
    opened = [m for m in fake.bot_messages(mei["id"]) if "✖️ 關閉我的請求" in labels(m)][-1]
    (closed,) = await press(fake, mei, "✖️", mei["id"], message=opened)
    assert "已關閉" in text_of(closed)
    await fake.wait_for("closeForumTopic", message_thread_id=thread)
    assert "申請人已關閉" in fake.topic_messages(staff["id"], thread)[-1]["text"]
    mark = len(fake.calls)
    await to_chat(fake, fake.message(mei, "金卡怎麼延期"), mei["id"])
    assert not staff_calls(fake, staff, mark)


async def test_in_a_group_the_bot_answers_and_a_person_is_asked_only_in_private(
    fake: FakeBotApi, bot: Application, staff: JSON
) -> None:
    ada = fake.user("Ada")
    thread, _ = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    applicants = fake.group("Gold Card applicants")
    mark = len(fake.calls)
    asked = fake.group_message(ada, applicants, "How do I renew my gold card?")
    (answer,) = await to_chat(fake, asked, applicants["id"])
    assert title(bot, "en") in text_of(answer)  # a question for the bot, not the help desk
    assert not staff_calls(fake, staff, mark)
    declined = fake.group_message(ada, applicants, UNKNOWN["en"])
    await to_chat(fake, declined, applicants["id"])
    pressed = fake.callback_query(ada, "1:h", message=fake.last_bot_message(applicants["id"]))
    fake.push(pressed)
    alert = await fake.wait_for("answerCallbackQuery", since=mark)
    assert "private chat" in alert["text"]
    assert len(fake.calls_to("createForumTopic")) == 1 and thread


async def test_a_blocked_applicant_cannot_ask_a_person_again(
    fake: FakeBotApi, bot: Application, staff: JSON
) -> None:
    ada = fake.user("Ada")
    lin = fake.user("Lin", id=STAFF_MEMBER)
    thread, post = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    (confirm,) = await press(fake, lin, "⛔", staff["id"], message=post)  # not at once
    assert "Block this applicant?" in text_of(confirm) and confirm["message_thread_id"] == thread
    assert not fake.calls_to("closeForumTopic")
    (told,) = await press(
        fake, lin, "⛔ Yes", ada["id"], message=fake.last_bot_message(staff["id"])
    )
    assert "closed your request" in text_of(told) and "🙋 Ask a person" not in labels(
        fake.last_bot_message(ada["id"])
    )
    await fake.wait_for("closeForumTopic", message_thread_id=thread)
    await to_chat(fake, fake.command(ada, "menu"), ada["id"])
    assert "🙋 Ask a person" not in labels(fake.last_bot_message(ada["id"]))
    (again,) = await to_chat(fake, fake.callback_query(ada, "1:h"), ada["id"])
    assert "no longer takes requests" in text_of(again)
    assert len(fake.calls_to("createForumTopic")) == 1


async def test_a_ticket_closes_itself_after_7_days_without_a_message(
    fake: FakeBotApi, bot: Application, staff: JSON, shared_db: Database, engine: Engine
) -> None:
    ada = fake.user("Ada")
    thread, _ = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    sender = make_bot(fake.token, base_url=api_urls(fake.base_url)[0])
    early = await send_due(shared_db, engine, sender, now=utcnow() + timedelta(days=6), rate=50)
    assert early.tickets_closed == 0
    sender = make_bot(fake.token, base_url=api_urls(fake.base_url)[0])
    late = await send_due(shared_db, engine, sender, now=utcnow() + timedelta(days=7), rate=50)
    assert late.tickets_closed == 1 and "closed after 7 days: 1" in late.line()
    assert fake.topics[staff["id"]][thread]["closed"]
    assert "7 days" in fake.last_bot_message(ada["id"])["text"]
    assert "7 days" in fake.topic_messages(staff["id"], thread)[-1]["text"]


async def test_the_remind_cron_job_closes_a_ticket_idle_for_7_days_with_nothing_else_due(
    fake: FakeBotApi, shared_db: Database, engine: Engine, staff: JSON
) -> None:
    ada = fake.user("Ada")
    async with polling(application_for(fake, shared_db, engine, staff)):
        thread, _ = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    with Session(shared_db) as session:  # a week and a day without a message
        session.exec(update(Ticket).values(last_message_at=utcnow() - timedelta(days=8)))
        session.commit()
    url = shared_db.url.render_as_string(hide_password=False)
    process = await remind_process(fake, url)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == (
        "reminders: 0 sent, 0 skipped, 0 failed; requests to a person closed after 7 days: 1"
    )
    assert fake.topics[staff["id"]][thread]["closed"]
    assert "7 days" in fake.last_bot_message(ada["id"])["text"]


async def test_a_staff_group_that_cannot_take_topics_closes_the_request_and_says_so(
    fake: FakeBotApi, shared_db: Database, engine: Engine
) -> None:
    not_a_forum = fake.group("Help desk without topics")
    async with polling(application_for(fake, shared_db, engine, not_a_forum)):
        ada = fake.user("Ada")
        await hello(fake, ada)
        await to_chat(fake, fake.message(ada, UNKNOWN["en"]), ada["id"])
        await press(fake, ada, ASK["en"], ada["id"])
        (sorry,) = await press(fake, ada, YES["en"], ada["id"])
        assert "couldn't reach the help desk" in text_of(sorry)
        with Session(shared_db) as session:
            assert session.exec(select(Ticket.status)).one() == "closed"


async def test_a_reply_to_an_applicant_who_blocked_the_bot_closes_the_ticket(
    fake: FakeBotApi, bot: Application, staff: JSON, shared_db: Database
) -> None:
    ada = fake.user("Ada")
    lin = fake.user("Lin", id=STAFF_MEMBER)
    thread, _ = await open_ticket(fake, ada, staff, "en", UNKNOWN["en"])
    fake.block(ada["id"])
    (note,) = await to_chat(fake, fake.message(lin, "Hi", chat=staff, thread_id=thread),
                            staff["id"])  # fmt: skip
    assert "blocked the bot" in note["text"]
    await fake.wait_for("closeForumTopic", message_thread_id=thread)
    with Session(shared_db) as session:
        assert session.exec(select(Ticket.status)).one() == "closed"
        assert session.get(User, ada["id"]).active is False


# --- the engine and the storage alone --------------------------------------------------------


def test_without_a_staff_group_no_one_is_offered_a_person(engine: Engine, db: Database) -> None:
    today = utcnow().date()
    replies = converse(db, engine, user_id=1, event=Event.message(UNKNOWN["en"]),
                       today=utcnow().date())  # fmt: skip
    assert not any(b.data == "1:h" for r in replies for row in r.buttons for b in row)
    (expired,) = converse(db, engine, user_id=1, event=Event.button("1:hc:1"),
                          today=utcnow().date())  # fmt: skip
    assert "expired" in expired.text
    (help_text,) = converse(db, engine, user_id=1, event=Event.command("help"), today=today)
    assert "person" not in help_text.text
    with Session(db) as session:
        assert not session.exec(select(Ticket)).all()


def test_one_open_ticket_per_applicant_and_its_state(engine: Engine, db: Database) -> None:
    helpful = engine.with_handoff(True)
    today = utcnow().date()
    converse(db, helpful, user_id=1, event=Event.message(UNKNOWN["en"]), today=today)
    converse(db, helpful, user_id=1, event=Event.button("1:hc:1"), today=today)
    (again,) = converse(db, helpful, user_id=1, event=Event.button("1:hc:1"), today=today)
    assert "already have an open request" in again.text
    with Session(db) as session:
        (row,) = session.exec(select(Ticket)).all()
        assert (row.status, row.lang, row.question) == ("open", "en", UNKNOWN["en"])
        assert tickets.ticket_state(session, user_id=1) == "open"
    _, _, effects = helpful.handle(Event.message("more"), State(ticket="open"), today=today)
    assert [type(e).__name__ for e in effects] == ["RelayToStaff"]


async def test_a_simplified_applicant_is_answered_in_simplified_and_staff_read_traditional(
    fake: FakeBotApi, bot: Application, staff: JSON
) -> None:
    """A 简体 reader's request: the topic says 简体中文, the staff's post and buttons stay 繁體
    (the staff's language), what reaches the applicant is 简体 (the answer sent, the notice)."""
    mei = fake.user("Mei", language_code="zh-hans")
    lin = fake.user("Lin", id=STAFF_MEMBER, language_code="zh-hant")
    await hello(fake, mei)
    await to_chat(fake, fake.message(mei, "金卡要怎么延期？"), mei["id"])
    (asked,) = await press(fake, mei, "👎", mei["id"])  # "Ask a person" after 👎
    assert "🙋 请真人协助" in labels(asked)
    await press(fake, mei, "🙋 请真人协助", mei["id"])
    mark = len(fake.calls)
    await press(fake, mei, "✅ 好，请真人协助", mei["id"])
    created = fake.calls_to("createForumTopic", since=mark)[0]
    assert created["name"] == "Mei · 简体中文 · #1"
    thread = created.result["message_thread_id"]
    post = fake.topic_messages(staff["id"], thread)[1]
    assert labels(post)[-2:] == ["已回答 ✔", "⛔ 封鎖"]
    (answer,) = await press(fake, lin, "📨", mei["id"], message=post)
    topic = data_of(post, "📨").rsplit(":", 1)[1]
    assert to_simplified(title(bot, "zh", topic)) in text_of(answer)
    await press(fake, lin, "已回答 ✔", mei["id"], message=post)
    assert labels(fake.last_bot_message(mei["id"])) == ["👍 有", "👎 没有"]
