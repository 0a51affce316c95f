"""The help desk's figures (issue 13, part 3): anonymous counters written with the reply's state,
never failing it (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from bot import callbacks as cb
from bot import stats
from bot.__main__ import main
from bot.config import Settings
from bot.dates import TAIPEI, taipei_today
from bot.dialogue import Engine, Event
from bot.models import Reminder as ReminderRow
from bot.models import StatCounter
from bot.storage import (
    block_user,
    converse,
    create_db_engine,
    finish_reminder,
    load_state,
    migrate,
    record_feedback,
)
from bot.telegram.app import build_application
from tests.conftest import ROOT
from tests.fakebotapi import JSON, Call, FakeBotApi, parse_html, polling
from tests.test_dialogue import TODAY, Chat, ScriptedMatcher

LANGS = pytest.mark.parametrize("lang", ["en", "zh"])


def counted(db, *, day: date | None = None) -> dict[tuple[str, str, str], int]:
    """{(event, lang, key): n} of every day (or of `day`), shards added up."""
    found: dict[tuple[str, str, str], int] = {}
    for (on, event, lang, key), n in stats.totals(db).items():
        if day is None or on == day:
            found[event, lang, key] = found.get((event, lang, key), 0) + n
    return found


@LANGS
def test_the_engine_counts_what_it_answers_by_language_and_topic(db, engine, lang):
    chat = Chat(db, engine, lang=lang)
    chat.start()
    chat.say({"en": "how do I renew my gold card", "zh": "金卡要怎麼延期"}[lang])
    chat.say({"en": "qwzx plorb vennit", "zh": "嗶嗶啵啵咕嚕嚕"}[lang])
    chat.say({"en": "what is the weather on mars today", "zh": "今天火星的天氣如何"}[lang])
    chat.start("g_renew")
    chat.press({"en": "▶️ Start", "zh": "▶️ 開始"}[lang])  # moving inside the guide: no start
    chat.press_data(cb.encode(cb.GuideDone("renew")))
    chat.press_data(cb.encode(cb.GuideDone("renew")))  # pressed again on the old message
    chat.start("d_renewal")
    chat.say("2027-06-30")
    assert counted(db, day=TODAY) == {
        ("active_user", lang, ""): 1,
        ("message", lang, ""): 4,
        ("answered", lang, "renewal-how"): 1,
        ("declined", lang, "no-match"): 1,
        ("declined", lang, "out-of-scope"): 1,
        ("guide_started", lang, "renew"): 1,
        ("guide_finished", lang, "renew"): 1,
        ("calculator", lang, "renewal"): 1,
    }


@LANGS
def test_did_you_mean_its_choice_and_none_of_these_are_counted(db, knowledge, matcher, lang):
    question = {"en": "address?", "zh": "地址"}[lang]
    scripted = ScriptedMatcher(matcher, {question: ("address-change", "residence-address")})
    chat = Chat(db, Engine(knowledge, scripted), lang=lang)  # type: ignore[arg-type]
    chat.start()
    chat.say(question)
    chat.press(knowledge.faq["residence-address"].title[lang])
    chat.press(knowledge.faq["address-change"].title[lang])  # a second choice: not counted
    chat.say(question)
    chat.press({"en": "None of these", "zh": "都不是"}[lang])
    found = counted(db)
    assert found[("did_you_mean", lang, "")] == 2
    assert found[("chosen", lang, "residence-address")] == 1
    assert ("chosen", lang, "address-change") not in found
    assert found[("none_of_these", lang, "")] == 1


def test_a_user_is_an_active_user_once_a_week(db, engine):
    chat = Chat(db, engine)
    monday = date(2026, 11, 23)  # TODAY is a Saturday
    for day in (TODAY, TODAY, monday, monday + timedelta(days=6)):
        converse(db, engine, user_id=chat.user_id, event=_hello(), today=day)
    assert counted(db, day=TODAY)[("active_user", "en", "")] == 1
    assert counted(db, day=monday)[("active_user", "en", "")] == 1
    assert ("active_user", "en", "") not in counted(db, day=monday + timedelta(days=6))


def _hello() -> Event:
    return Event.message("hello", language="en-GB")


def test_cancelled_reminders_are_counted_by_kind_moved_ones_are_not(db, engine):
    chat = Chat(db, engine)
    chat.start("d_renewal")
    chat.say("2027-06-30")
    chat.press("💾 Save")
    chat.press("🔔 Remind me")
    scheduled = len(chat.state().reminders)
    assert scheduled > 1
    chat.start("d_renewal")
    chat.say("2027-07-31")  # saved again: its reminders move, none is cancelled
    chat.press("💾 Save")
    assert ("reminder_cancelled", "en", "renewal") not in counted(db)
    moved = len(chat.state().reminders)
    assert moved > 1
    chat.command("reminders")
    chat.press("✖️ Cancel all reminders")
    assert counted(db)[("reminder_cancelled", "en", "renewal")] == moved


def test_a_counter_that_cannot_be_written_loses_neither_the_reply_nor_the_state(
    db, engine, monkeypatch
):
    monkeypatch.setattr(
        stats, "_upsert", lambda *args, **kwargs: text("INSERT INTO no_such_table VALUES (1)")
    )
    chat = Chat(db, engine)
    chat.start()
    [reply] = chat.say("how do I renew my gold card")
    assert "How to renew" in reply.text
    with Session(db) as session:
        assert load_state(session, user_id=chat.user_id)[0].topic == "renewal-how"
    assert counted(db) == {}


def test_the_sender_counts_sent_failed_and_skipped_and_a_block_cancels(db, engine):
    chat = Chat(db, engine, lang="zh")
    chat.start("d_renewal")
    chat.say("2027-06-30")
    chat.press("💾 儲存")
    chat.press("🔔 提醒我")
    with Session(db) as session:
        ids = list(session.exec(select(ReminderRow.id).order_by(ReminderRow.id)))  # type: ignore[arg-type]
        for reminder_id in ids:
            row = session.get(ReminderRow, reminder_id)
            row.claimed_by = "me"
            session.add(row)
        session.commit()
    at = datetime(2027, 3, 1, 10, 0, tzinfo=TAIPEI)
    assert finish_reminder(db, reminder_id=ids[0], claimant="me", status="sent", at=at)
    assert finish_reminder(db, reminder_id=ids[1], claimant="me", status="failed", at=at)
    assert not finish_reminder(db, reminder_id=ids[1], claimant="other", status="sent", at=at)
    assert block_user(db, user_id=chat.user_id, reason="Forbidden") == len(ids) - 2
    assert counted(db, day=date(2027, 3, 1)) == {
        ("reminder_sent", "zh", "renewal"): 1,
        ("reminder_failed", "zh", "renewal"): 1,
    }
    assert counted(db)[("reminder_cancelled", "zh", "renewal")] == len(ids) - 2


def test_counters_hold_no_user_id_and_no_text():
    columns = {c.name for c in StatCounter.__table__.columns}  # type: ignore[attr-defined]
    assert columns == {"day", "event", "lang", "key", "shard", "n"}


def test_an_unknown_event_is_a_programming_error(db):
    with Session(db) as session, pytest.raises(ValueError, match="unknown event"):
        stats.count(session, event="answerd", lang="en")


def test_concurrent_counting_loses_nothing(shared_db):
    def work() -> None:
        for _ in range(50):
            stats.count_now(shared_db, event=stats.MESSAGE, lang="en", day=TODAY)
            stats.count_now(shared_db, event=stats.ANSWERED, lang="en", key="t", day=TODAY)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counted(shared_db) == {("message", "en", ""): 200, ("answered", "en", "t"): 200}
    assert inspect(shared_db).has_table("stat_counters")


@LANGS
def test_mydata_says_the_figures_hold_nothing_about_the_user(db, engine, lang):
    chat = Chat(db, engine, lang=lang)
    chat.start()
    [reply] = chat.command("mydata")
    assert {"en": "no user id and no question text", "zh": "不含使用者 ID"}[lang] in reply.text


def test_a_ticket_opened_is_counted_as_handed_off_once(db, engine):
    helpful = engine.with_handoff(True)
    for _ in range(2):  # the second "yes" finds the ticket open: nothing more is handed off
        converse(db, helpful, user_id=1, event=Event.message("qwzx plorb vennit"), today=TODAY)
        converse(db, helpful, user_id=1, event=Event.button("1:hc:1"), today=TODAY)
    assert counted(db)[("handed_off", "en", "")] == 1
    assert counted(db)[("message", "en", "")] == 1  # the second went to the person


# --- /stats through the real Telegram adapter, against the fake Bot API ------------------------

STAFF_ID = 4_242_424
SENT = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText")


async def _said(fake: FakeBotApi, update: JSON, *, count: int = 1) -> list[Call]:
    """Push an update and wait for `count` messages sent in its chat."""
    chat_id = update["message"]["chat"]["id"]
    mark = len(fake.calls)
    fake.push(update)
    return await fake.wait_for_calls(
        where=lambda call: call.method in SENT and call.get("chat_id") == chat_id,
        count=count,
        since=mark,
    )


async def test_stats_in_the_staff_group_is_a_chart_then_the_numbers_both_languages_apart(
    fake: FakeBotApi, shared_db, engine
):
    desk_group = fake.group("Gold Card help desk", forum=True)
    figures = {"name": "Figures", "icon_color": 7322096, "closed": False}
    fake.topics[desk_group["id"]] = {77: figures}  # a topic the staff made
    settings = Settings.from_mapping(
        {
            "BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "STAFF_IDS": str(STAFF_ID),
            "STAFF_CHAT_ID": str(desk_group["id"]),
        }
    )
    application = build_application(settings, db=shared_db, engine=engine)
    ada = fake.user("Ada", language_code="en")
    mei = fake.user("美玲", language_code="zh-hant")
    colleague = fake.user("Colleague", language_code="en")  # in the staff group, not in STAFF_IDS
    staff_zh = fake.user("客服", language_code="zh-hant", id=STAFF_ID)
    async with polling(application):
        # A first message gets the welcome, then the answer.
        await _said(fake, fake.message(ada, "how do I renew my gold card"), count=2)
        await _said(fake, fake.message(mei, "金卡要怎麼延期"), count=2)
        await _said(fake, fake.message(mei, "嗶嗶啵啵咕嚕嚕"))
        photo, *numbers = await _said(
            fake, fake.command(colleague, "stats", chat=desk_group, thread_id=77), count=2
        )
        (private_zh, *_) = await _said(fake, fake.command(staff_zh, "stats"), count=2)
        (bad_date,) = await _said(fake, fake.command(staff_zh, "stats", "2026-13-01"))
        (not_staff,) = await _said(fake, fake.command(ada, "stats"))

    assert photo.method == "sendPhoto" and photo.get("chat_id") == desk_group["id"]
    assert photo.files["photo"].data.startswith(b"\x89PNG\r\n\x1a\n")
    assert {call.get("message_thread_id") for call in (photo, *numbers)} == {77}  # its topic
    assert "each language apart" in photo["caption"]
    text = "\n".join(parse_html(call["text"])[0] for call in numbers)
    week = text.split("Week of", 2)[1]  # the newest week first: this one
    english, chinese = week.split("English", 1)[1].split("中文", 1)
    assert "active users 1 · messages 1" in english and "answered 1 " in english
    assert "renewal-how 1" in english
    assert "active users 1 · messages 2" in chinese and "declined 1" in chinese
    assert private_zh.method == "sendPhoto" and "每週" in private_zh["caption"]
    assert bad_date["text"] == (
        "沒有13月；請輸入例如 2027-06-30 或 2027年6月30日。\n"
        "/stats 顯示最近 8 週；/stats 2026-10-01 則從該日期所在的那一週開始。"
    )
    assert "don't know the command /stats" in parse_html(not_staff["text"])[0]


# --- the weekly report and `python -m bot stats` -------------------------------------------------


def _seed(db) -> None:
    with Session(db) as session:
        for n, topic in enumerate(f"topic-{i:02d}" for i in range(12)):
            stats.count(session, event=stats.ANSWERED, lang="en", key=topic, day=TODAY, n=n + 1)
        stats.count(session, event=stats.CHOSEN, lang="en", key="topic-00", day=TODAY, n=20)
        stats.count(session, event=stats.DECLINED, lang="zh", key="no-match", day=TODAY)
        stats.count(session, event=stats.DECLINED, lang="zh", key="out-of-scope", day=TODAY)
        stats.count(session, event=stats.GUIDE_STARTED, lang="zh", key="apply", day=TODAY)
        stats.count(session, event=stats.REMINDER_SENT, lang="zh", key="renewal", day=TODAY)
        stats.count(session, event=stats.ANSWERED, lang="zh", key="old", day=date(2026, 11, 1))
        record_feedback(session, topic="renewal-how", helpful=False, lang="zh", question="q")
        session.commit()


def test_the_weekly_report_keeps_weeks_and_languages_apart(db):
    _seed(db)
    report = stats.weekly(db, since=date(2026, 11, 18), until=date(2026, 11, 24))
    assert [w.monday for w in report.weeks] == [date(2026, 11, 16), date(2026, 11, 23)]
    week = report.weeks[0]
    en, zh = week.languages["en"], week.languages["zh"]
    assert en.top_topics[0] == ("topic-00", 21)  # directly and after "did you mean"
    assert len(en.top_topics) == 10 and ("topic-01", 2) not in en.top_topics
    assert (en.answered, en.chosen) == (sum(range(1, 13)), 20)
    assert zh.declined == {"no-match": 1, "out-of-scope": 1} and zh.declined_total == 2
    assert zh.guides == {"apply": {"started": 1, "finished": 0}}
    assert zh.reminders["sent"] == 1 and zh.answered == 0  # 1 November is before `since`
    assert report.weeks[1].languages["en"] == stats.Figures()
    assert chart_is_png(stats.chart_png(report))


@LANGS
def test_was_a_persons_answer_helpful_is_in_the_report(db, lang):
    with Session(db) as session:
        stats.count(session, event=stats.HANDED_OFF, lang=lang, day=TODAY, n=3)
        stats.count(session, event=stats.HANDOFF_HELPFUL, lang=lang, day=TODAY, n=2)
        stats.count(session, event=stats.HANDOFF_UNHELPFUL, lang=lang, day=TODAY)
        session.commit()
    report = stats.weekly(db, since=TODAY, until=TODAY)
    figures = report.weeks[0].languages[lang]
    assert (figures.handoff_helpful, figures.handoff_unhelpful) == (2, 1)
    assert report.as_json()["weeks"][0]["languages"][lang]["handoff_helpful"] == 2
    text = stats.report_html(report, lang)
    assert {"en": "A person's answers, helpful 👍/👎: 2/1", "zh": "真人回覆是否有幫助 👍/👎：2/1"}[
        lang
    ] in text.replace("&#39;", "'")


def test_thumbs_come_from_the_anonymous_feedback_by_topic(db):
    _seed(db)
    today = taipei_today()
    report = stats.weekly(db, until=today)
    assert report.weeks[-1].languages["zh"].feedback == {"renewal-how": {"up": 0, "down": 1}}
    assert len(report.weeks) == stats.DEFAULT_WEEKS


def chart_is_png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


def test_the_stats_command_prints_text_or_json_and_refuses_a_bad_date(
    tmp_path, monkeypatch, capsys
):
    url = f"sqlite:///{tmp_path / 'stats.sqlite3'}"
    db = create_db_engine(url)
    migrate(db)
    _seed(db)
    db.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    chart = tmp_path / "chart.png"
    assert main(["stats", "--since", "2026-11-16", "--chart", str(chart)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("📊 Help desk figures, Monday, 16 November 2026")
    assert "Top topics: topic-00 21, topic-11 12" in printed
    assert chart_is_png(chart.read_bytes())
    assert main(["stats", "--since", "2026-11-16", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    first = found["weeks"][0]
    assert first["week"] == "2026-11-16"
    assert first["languages"]["zh"]["declined_by_reason"] == {"no-match": 1, "out-of-scope": 1}
    assert first["languages"]["zh"]["feedback"] == {}  # the 👎 was given today
    assert main(["stats", "--since", "16/11/2026x"]) == 2
    assert capsys.readouterr().err == "--since: '16/11/2026x' is not a date (2026-11-30)\n"


def test_the_bot_starts_without_importing_matplotlib():
    code = "import sys, bot.telegram.app, bot.__main__; print('matplotlib' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert found.stdout == "False\n"


async def test_link_in_the_staff_group_answers_in_its_topic(fake: FakeBotApi, shared_db, engine):
    """STAFF_IDS may use staff commands where staff work: /link in a topic of the staff group is
    answered in that topic; outside the staff group it stays an unknown command."""
    desk_group = fake.group("Gold Card help desk", forum=True)
    fake.topics[desk_group["id"]] = {78: {"name": "Links", "icon_color": 7322096, "closed": False}}
    other_group = fake.group("Applicants' chat")
    settings = Settings.from_mapping(
        {
            "BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "STAFF_IDS": str(STAFF_ID),
            "STAFF_CHAT_ID": str(desk_group["id"]),
        }
    )
    application = build_application(settings, db=shared_db, engine=engine)
    staff = fake.user("Staff", language_code="en", id=STAFF_ID)
    async with polling(application):
        (found,) = await _said(
            fake, fake.command(staff, "link", "renew gold card", chat=desk_group, thread_id=78)
        )
        *_welcome, elsewhere = await _said(
            fake, fake.command(staff, "link", "renew", chat=other_group), count=2
        )

    assert found.get("message_thread_id") == 78
    assert "?start=t_renewal-how" in found["text"]
    assert "don't know the command /link" in parse_html(elsewhere["text"])[0]


async def test_a_bad_stats_date_is_explained_in_the_staff_members_simplified(
    fake: FakeBotApi, shared_db, engine
):
    settings = Settings.from_mapping(
        {"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url, "STAFF_IDS": "7"}
    )
    application = build_application(settings, db=shared_db, engine=engine)
    staff = fake.user("客服", language_code="zh-hans", id=7)
    async with polling(application):
        (bad_date,) = await _said(fake, fake.command(staff, "stats", "2026-13-01"))
    reason, usage = bad_date["text"].split("\n", 1)
    assert reason.startswith("没有13月") and "请输入" in reason  # 简体, like the usage below it
    assert usage.startswith("/stats 显示最近 8 周")
