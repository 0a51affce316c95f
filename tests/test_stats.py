"""The help desk's figures (issue 13, part 3): anonymous counters written with the reply's state,
never failing it (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from bot import callbacks as cb
from bot import stats
from bot.dates import TAIPEI
from bot.dialogue import Engine, Event
from bot.models import Reminder as ReminderRow
from bot.models import StatCounter
from bot.storage import block_user, converse, finish_reminder, load_state
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
