"""Announcements (issue 13, part 4): the /settings toggle, the file's validation, and the
reminders' sender sending each announcement once, to opted-in active users only (SQLite and
PostgreSQL, both languages, through the fake Bot API)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine as Database
from sqlmodel import Session, select
from telegram.ext import Application

from bot.__main__ import main
from bot.announcements import AnnouncementError, AnnouncementSender, load_announcement
from bot.config import Settings
from bot.dialogue import Engine, Event
from bot.models import AnnouncementDelivery, User, utcnow
from bot.reminders import Summary, make_bot
from bot.storage import (
    announcement_recipients,
    converse,
    create_db_engine,
    migrate,
    queue_announcement,
    save_announcement,
)
from bot.telegram.app import build_application
from tests.fakebotapi import JSON, Call, FakeBotApi, parse_html, polling
from tests.test_dialogue import TODAY, Chat

LANGS = pytest.mark.parametrize("lang", ["en", "zh"])
WORDS = {
    "en": {"on": "📰 Turn on news", "off": "🔕 Turn off news", "stop": "🔕 Stop news"},
    "zh": {"on": "📰 開啟程序異動通知", "off": "🔕 關閉程序異動通知", "stop": "🔕 停止通知"},
}
FILE = """\
id: renewal-form-2027
en: |
  From 1 March 2027 the renewal form asks for your current address.
zh: |
  自 2027 年 3 月 1 日起，延期申請表需要填寫您目前的地址。
guide: renew
step: 3
"""


def write(tmp_path: Path, text: str, name: str = "news.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- /settings ---------------------------------------------------------------------------------


@LANGS
def test_news_is_off_by_default_and_settings_turns_it_on_and_off(db, engine, lang):
    chat = Chat(db, engine, lang=lang)
    chat.start()
    [settings] = chat.command("settings")
    assert any(b.label.startswith(WORDS[lang]["on"]) for row in settings.buttons for b in row)
    assert chat.state().news is None
    [mydata] = chat.command("mydata")
    assert {"en": "News about procedure changes: off", "zh": "程序異動通知：關閉"}[
        lang
    ] in mydata.text
    [turned_on] = chat.press(WORDS[lang]["on"])
    assert turned_on.edit
    assert any(b.label.startswith(WORDS[lang]["off"]) for row in turned_on.buttons for b in row)
    assert chat.state().news == lang
    [mydata] = chat.command("mydata")
    assert {"en": "News about procedure changes: on", "zh": "程序異動通知：開啟"}[
        lang
    ] in mydata.text
    chat.press(WORDS[lang]["off"])
    assert chat.state().news is None


def test_news_keeps_the_language_it_was_turned_on_in(db, engine):
    chat = Chat(db, engine, lang="zh")
    chat.start()
    chat.command("settings")
    chat.press("📰 開啟程序異動通知")
    chat.press("English")  # the reply language, chosen: it wins when sending
    with Session(db) as session:
        user = session.get(User, chat.user_id)
        assert (user.news, user.language) == ("zh", "en")


# --- the file ----------------------------------------------------------------------------------


def test_a_valid_file_is_read_with_its_button(tmp_path, knowledge):
    found = load_announcement(write(tmp_path, FILE), knowledge)
    assert (found.key, found.button) == ("renewal-form-2027", "guide:renew:3")
    assert found.zh.startswith("自 2027 年")
    unnamed = load_announcement(
        write(tmp_path, "en: Hello\nzh: 你好\ntopic: renewal-how\n", "b.yaml"), knowledge
    )
    assert unnamed.key.startswith("sha256-") and unnamed.button == "topic:renewal-how"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("en: Hello\n", [":1: zh: Field required"]),
        ("en: Hello\nzh: 你好\ncolour: red\n", [":3: colour: unknown key"]),
        ("en: Hello\nzh: 你好\nguide: renewing\n", [":3: guide: no guide 'renewing'"]),
        ("en: Hello\nzh: 你好\nguide: renew\nstep: 99\n", [":4: step: the renew guide has no"]),
        ("en: Hello\nzh: 你好\nstep: 2\n", [":3: step: a step needs its guide"]),
        ("en: Hello\nzh: 你好\ntopic: nope\n", [":3: topic: no FAQ topic 'nope'"]),
        ("en: Hello\nzh: Hello\n", [":2: zh: the Chinese text has no Chinese"]),
        ("en: Hello\nzh: 你好\nguide: renew\ntopic: renewal-how\n", [":4: topic: one button"]),
        ("en: Hello\nzh: '   '\n", [":2: zh: Value error, the text is blank"]),
        ("id: Not An Id\nen: Hello\nzh: 你好\n", [":1: id: String should match pattern"]),
        ("en: [unclosed\nzh: 你好\n", [":2: invalid YAML"]),
        ("- en\n", [":1: expected a mapping"]),
    ],
)
def test_a_bad_file_is_refused_with_file_and_line(tmp_path, knowledge, text, problems):
    path = write(tmp_path, text)
    with pytest.raises(AnnouncementError) as raised:
        load_announcement(path, knowledge)
    shown = [str(p) for p in raised.value.problems]
    assert len(shown) == len(problems)
    for line, expected in zip(shown, problems, strict=True):
        assert line.startswith(f"{path}{expected}"), line


# --- the recipients and the sender -------------------------------------------------------------


def users(db: Database, rows: list[tuple[int, str | None, str | None, bool]]) -> None:
    """(id, chosen language, news, active) users."""
    with Session(db) as session:
        for user_id, language, news, active in rows:
            session.add(User(id=user_id, language=language, news=news, active=active))
        session.commit()


async def send(db: Database, engine: Engine, fake: FakeBotApi) -> Summary:
    async with make_bot(fake.token, base_url=fake.base_url) as bot:
        return await AnnouncementSender(db, engine, bot, rate=1000.0).run()


def announce(db: Database, knowledge, tmp_path: Path, text: str = FILE) -> str:
    found = load_announcement(write(tmp_path, text), knowledge)
    announcement_id = save_announcement(
        db, key=found.key, text_en=found.en, text_zh=found.zh, button=found.button
    )
    queue_announcement(db, announcement_id=announcement_id, now=utcnow())
    return found.key


async def test_an_announcement_goes_once_to_active_opted_in_users_in_their_language(
    shared_db, engine, knowledge, fake, tmp_path
):
    for user_id in (101, 102, 103, 104, 105, 106):
        fake.user(id=user_id)
    fake.block(105)
    users(
        shared_db,
        [
            (101, None, "en", True),  # opted in, English
            (102, None, "zh", True),  # opted in in Chinese
            (103, "zh", "en", True),  # opted in, then chose Chinese: Chinese
            (104, "en", None, True),  # never opted in
            (105, None, "en", True),  # opted in, has blocked the bot since
            (106, None, "zh", False),  # opted in, known to have blocked the bot
        ],
    )
    key = announce(shared_db, knowledge, tmp_path)
    assert await send(shared_db, engine, fake) == Summary(sent=3, skipped=1)
    texts = {c.get("chat_id"): parse_html(c["text"])[0] for c in fake.calls_to("sendMessage")}
    assert sorted(texts) == [101, 102, 103, 105]  # 105 was tried: Telegram refused
    assert "renewal form asks for your current address" in texts[101]
    assert "延期申請表需要填寫您目前的地址" in texts[102] and "程序異動通知" in texts[103]
    sent = fake.calls_to("sendMessage", chat_id=102)[0]
    buttons = [b["text"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["📘 就業金卡延期申請：第 3 步", "🔕 停止通知"]
    with Session(shared_db) as session:
        assert session.get(User, 105).active is False
        statuses = {
            row.user_id: row.status for row in session.exec(select(AnnouncementDelivery)).all()
        }
    assert statuses == {101: "sent", 102: "sent", 103: "sent", 105: "cancelled"}

    # The same file again: nobody gets it twice; a user who opted in since gets it.
    users(shared_db, [(107, None, "en", True)])
    fake.user(id=107)
    assert announcement_recipients(shared_db, key=key).by_lang == {"en": 1}
    announce(shared_db, knowledge, tmp_path)
    assert await send(shared_db, engine, fake) == Summary(sent=1)
    assert [c.get("chat_id") for c in fake.calls_to("sendMessage")] == [101, 102, 103, 105, 107]


async def test_turning_news_off_before_the_send_stops_it(
    shared_db, engine, knowledge, fake, tmp_path
):
    fake.user(id=101)
    users(shared_db, [(101, None, "en", True)])
    announce(shared_db, knowledge, tmp_path)
    converse(shared_db, engine, user_id=101, event=Event.button("1:nw:0"), today=TODAY)
    assert await send(shared_db, engine, fake) == Summary(skipped=1)
    assert fake.calls_to("sendMessage") == []


def test_forget_deletes_the_users_deliveries(db, engine, knowledge, tmp_path):
    chat = Chat(db, engine)
    chat.start()
    chat.command("settings")
    chat.press("📰 Turn on news")
    announce(db, knowledge, tmp_path)
    with Session(db) as session:
        assert len(session.exec(select(AnnouncementDelivery)).all()) == 1
    chat.command("forget")
    chat.press("🗑 Yes, delete everything")
    with Session(db) as session:
        assert session.exec(select(AnnouncementDelivery)).all() == []


# --- end to end: /settings in Telegram, the announcement, "Stop news" ---------------------------


async def _said(fake: FakeBotApi, update: JSON, *, count: int = 1) -> list[Call]:
    chat = update.get("message", update.get("callback_query", {}).get("message", {}))["chat"]
    mark = len(fake.calls)
    fake.push(update)
    return await fake.wait_for_calls(
        where=lambda c: (
            c.method in ("sendMessage", "editMessageText") and c.get("chat_id") == chat["id"]
        ),
        count=count,
        since=mark,
    )


def _press(fake: FakeBotApi, user: JSON, label: str, message: JSON) -> JSON:
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    [data] = [b["callback_data"] for b in buttons if b["text"].startswith(label)]
    return fake.callback_query(user, data, message=message)


@LANGS
async def test_opted_in_in_telegram_then_announced_once_then_stopped(
    fake, shared_db, engine, knowledge, tmp_path, lang
):
    settings = Settings.from_mapping(
        {"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}
    )
    application: Application = build_application(settings, db=shared_db, engine=engine)
    code = {"en": "en", "zh": "zh-hant"}[lang]
    reader = fake.user("Ada", language_code=code)
    other = fake.user("Bo", language_code=code)
    async with polling(application):
        await _said(fake, fake.command(reader, "start"))
        await _said(fake, fake.command(other, "start"))
        (settings_call,) = await _said(fake, fake.command(reader, "settings"))
        await _said(fake, _press(fake, reader, WORDS[lang]["on"], settings_call.result))
        announce(shared_db, knowledge, tmp_path)
        assert await send(shared_db, engine, fake) == Summary(sent=1)
        assert await send(shared_db, engine, fake) == Summary()  # nothing left, nothing twice
        news = fake.last_bot_message(reader["id"])
        assert fake.last_bot_message(other["id"])["text"] != news["text"]
        (stopped,) = await _said(fake, _press(fake, reader, WORDS[lang]["stop"], news))
    assert {"en": "News is off", "zh": "已關閉通知"}[lang] in stopped["text"]
    assert fake.last_bot_message(reader["id"]) != news  # a new message: the news stays
    with Session(shared_db) as session:
        assert session.get(User, reader["id"]).news is None


# --- python -m bot announce ----------------------------------------------------------------------


def test_announce_dry_run_counts_and_a_bad_file_is_one_line_per_problem(
    tmp_path, monkeypatch, capsys
):
    url = f"sqlite:///{tmp_path / 'news.sqlite3'}"
    db = create_db_engine(url)
    migrate(db)
    users(db, [(1, None, "en", True), (2, "zh", "en", True), (3, None, None, True)])
    db.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["announce", str(write(tmp_path, FILE)), "--dry-run"]) == 0
    assert capsys.readouterr().out == (
        "announcement renewal-form-2027 (dry run): 2 to send (en 1, zh 1), 0 sent before; "
        "nothing sent\n"
    )
    bad = write(tmp_path, "en: Hello\nzh: Hello\nguide: nope\n", "bad.yaml")
    assert main(["announce", str(bad), "--dry-run"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{bad}:2: zh: the Chinese text has no Chinese in it",
        f"{bad}:3: guide: no guide 'nope' (one of apply, progress, supplement, change, renew)",
    ]
    assert main(["announce", str(write(tmp_path, FILE))]) == 2  # no BOT_TOKEN: nothing sent
    assert "BOT_TOKEN" in capsys.readouterr().err


async def test_a_simplified_reader_gets_the_news_in_simplified(
    shared_db, engine, knowledge, fake, tmp_path
):
    fake.user(id=201)
    users(shared_db, [(201, None, "zh-hans", True)])  # turned on while reading 简体
    announce(shared_db, knowledge, tmp_path)
    assert await send(shared_db, engine, fake) == Summary(sent=1)
    (sent,) = fake.calls_to("sendMessage", chat_id=201)
    text = parse_html(sent["text"])[0]
    assert "程序异动通知" in text and "延期申请表需要填写您目前的地址" in text


def test_news_turned_on_in_simplified_keeps_simplified(db, engine):
    chat = Chat(db, engine, lang="zh")
    chat.start()
    chat.command("language")
    chat.press("简体中文")
    chat.command("settings")
    chat.press("📰 打开程序异动通知")
    assert chat.state().news == "zh-hans"


async def test_announce_sends_once_and_says_so_then_a_second_run_sends_nothing(
    tmp_path, fake, monkeypatch, capsys
):
    url = f"sqlite:///{tmp_path / 'news.sqlite3'}"
    db = create_db_engine(url)
    migrate(db)
    users(db, [(101, None, "en", True), (102, None, None, True)])
    db.dispose()
    fake.user(id=101)
    fake.user(id=102)
    for name, value in (
        ("DATABASE_URL", url),
        ("BOT_TOKEN", fake.token),
        ("TELEGRAM_API_BASE_URL", fake.base_url),
    ):
        monkeypatch.setenv(name, value)
    path = str(write(tmp_path, FILE))
    assert await asyncio.to_thread(main, ["announce", path]) == 0
    assert await asyncio.to_thread(main, ["announce", path]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "announcement renewal-form-2027: 1 sent, 0 skipped, 0 failed",
        "announcement renewal-form-2027: 0 sent, 0 skipped, 0 failed",
    ]
    assert [c.get("chat_id") for c in fake.calls_to("sendMessage")] == [101]
