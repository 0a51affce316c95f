"""Deadline reminders (issue 7): turning them on when saving, /reminders in both languages, the
reminder message, and the cron sender against the fake Bot API: once, paced, through flood
control, blocked users, network errors, a killed sender and two senders at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import event
from sqlmodel import Session, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot import schedule
from bot.__main__ import main
from bot.config import Settings
from bot.dates import TAIPEI
from bot.dialogue import Engine, Event
from bot.models import Reminder as ReminderRow
from bot.models import User
from bot.reminders import ReminderSender, Summary, dry_run_lines, make_bot
from bot.storage import (
    SCHEDULED,
    SENDING,
    SENT,
    claim_due_reminders,
    converse,
    create_db_engine,
    finish_reminder,
    mark_inactive,
    migrate,
)
from bot.telegram.app import build_application
from tests.conftest import ROOT
from tests.fakebotapi import FakeBotApi, polling
from tests.test_dialogue import Chat

EXPIRY = date(2027, 6, 30)  # renewal opens 2027-03-01, last day to submit 2027-05-29
SAVED = datetime(2026, 11, 21, 15, 0, tzinfo=TAIPEI)
OPENS = datetime(2027, 3, 1, 10, 0, tzinfo=TAIPEI)  # the first reminder of EXPIRY is due
LANGS = pytest.mark.parametrize("lang", ["en", "zh"])
WORDS = {
    "en": {
        "save": "💾 Save",
        "remind": "🔔 Remind me",
        "abroad": "🔔 Remind me (documents from abroad)",
        "mine": "My reminders",
        "cancel": "✖️ Cancel 2027-03-01",
        "cancelled": "Cancelled the reminder of Monday, 1 March 2027",
        "all": "✖️ Cancel all reminders",
        "none": "No reminders are scheduled",
        "opens": "Monday, 1 March 2027 (in 100 days): Renewal window opens",
        "expired": "This button has expired",
    },
    "zh": {
        "save": "💾 儲存",
        "remind": "🔔 提醒我",
        "abroad": "🔔 提醒我（資料需在國外辦理）",
        "mine": "我的提醒",
        "cancel": "✖️ 取消 2027-03-01",
        "cancelled": "已取消 2027年3月1日 星期一 的提醒",
        "all": "✖️ 取消所有提醒",
        "none": "目前沒有排定的提醒",
        "opens": "2027年3月1日 星期一（100 天後）：延期申請開放",
        "expired": "這個按鈕已失效",
    },
}


@pytest.fixture(autouse=True)
def _retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else reading RetryAfter.retry_after warns


@dataclass
class TimedChat(Chat):
    """A chat at a chosen moment (the engine schedules from it)."""

    now: datetime = SAVED

    def _send(self, event: Event) -> list:
        today = self.now.astimezone(TAIPEI).date()
        self.replies = converse(
            self.db, self.engine, user_id=self.user_id, event=event, today=today, now=self.now
        )
        assert self.replies, event
        self.history += self.replies
        return self.replies

    def save(self, kind: str, typed: str) -> None:
        self.start(f"d_{kind}")
        self.say(typed)
        self.press(WORDS[self.lang]["save"])


@pytest.fixture
def chat(db, engine) -> TimedChat:
    return TimedChat(db, engine)


def reminder_rows(db: Database, **where: object) -> list[ReminderRow]:
    with Session(db) as session:
        statement = select(ReminderRow).order_by(ReminderRow.send_at, ReminderRow.id)  # type: ignore[arg-type]
        for name, value in where.items():
            statement = statement.where(getattr(ReminderRow, name) == value)
        return list(session.exec(statement).all())


def scheduled_days(db: Database) -> list[tuple[str, date]]:
    return [
        (row.key, _aware(row.send_at).astimezone(TAIPEI).date())
        for row in reminder_rows(db, status=SCHEDULED)
    ]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- turning reminders on, /reminders, cancelling ----------------------------------------------


@LANGS
def test_reminders_turned_on_when_saving_then_listed_and_cancelled(chat, lang):
    chat.lang = lang
    chat.save("renewal", "2027-06-30")
    assert WORDS[lang]["remind"] in chat.labels
    [on] = chat.press(WORDS[lang]["remind"])
    assert WORDS[lang]["opens"] in on.text and "/reminders" in on.text
    rows = reminder_rows(chat.db)
    assert [(r.key, r.days_before, r.lang) for r in rows] == [
        ("window_opens", 0, lang),
        ("last_day_to_submit", 30, lang),
        ("last_day_to_submit", 7, lang),
        ("last_day_to_submit", 0, lang),
    ]
    assert _aware(rows[0].send_at) == datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 Taipei

    [listed] = chat.command("reminders")
    assert f"<b>{WORDS[lang]['mine']}</b>" in listed.text and listed.text.count("🔔") == 4
    [pressed] = chat.press_data("1:rl")  # "🔔 My reminders", e.g. on a reminder
    assert pressed.text == listed.text and not pressed.edit  # the reminder stays as it was
    assert sum(label.startswith("✖️") for label in chat.labels) == 5  # four and "all"
    [after] = chat.press(WORDS[lang]["cancel"])
    assert after.edit and WORDS[lang]["cancelled"] in after.text
    assert [key for key, _ in scheduled_days(chat.db)] == ["last_day_to_submit"] * 3
    [none] = chat.press(WORDS[lang]["all"])
    assert none.edit and WORDS[lang]["none"] in none.text
    assert reminder_rows(chat.db) == []
    assert chat.state().reminders == ()


def test_reminders_are_in_the_command_menu_help_and_mydata(chat):
    chat.save("renewal", "2027-06-30")
    chat.press("🔔 Remind me")
    assert "/reminders" in chat.command("help")[0].text
    assert "4 scheduled reminders of your saved dates" in chat.command("mydata")[0].text
    chat.command("deadlines")
    assert "🔔 My reminders" in chat.labels


def test_a_date_saved_again_replaces_its_schedule(chat):
    chat.save("renewal", "2027-06-30")
    chat.press("🔔 Remind me")
    chat.save("renewal", "2027-07-31")  # opens 2027-03-31, last day to submit 2027-06-29
    assert "Your reminders now follow this date" in chat.text
    assert "🔔 Remind me" not in chat.labels  # they are on already
    assert scheduled_days(chat.db) == [
        ("window_opens", date(2027, 3, 31)),
        ("last_day_to_submit", date(2027, 5, 30)),
        ("last_day_to_submit", date(2027, 6, 22)),
        ("last_day_to_submit", date(2027, 6, 29)),
    ]
    assert len(reminder_rows(chat.db)) == 4  # the old schedule is gone, not kept beside it


async def test_a_due_reminder_not_yet_sent_survives_its_date_saved_again(chat, fake):
    """Between 10:00 and the sender's next run the day's reminder is due and unsent: saving the
    same date again keeps it (the sender sends it), and a corrected date moves it."""
    fake.user(id=chat.user_id)
    chat.save("renewal", "2027-06-30")
    chat.press("🔔 Remind me")
    chat.now = OPENS + timedelta(minutes=5)
    chat.save("renewal", "2027-06-30")
    assert "Your reminders now follow this date" in chat.text
    assert scheduled_days(chat.db)[0] == ("window_opens", date(2027, 3, 1))
    assert await send(chat.db, chat.engine, fake, now=chat.now) == Summary(sent=1)
    [call] = fake.calls_to("sendMessage")
    assert "Renewal opens" in call["text"]

    chat.now = datetime(2027, 4, 29, 10, 3, tzinfo=TAIPEI)  # the 30-day one is due, unsent
    chat.save("renewal", "2027-06-29")  # a day earlier: its 30-day reminder day has passed
    assert scheduled_days(chat.db) == [
        ("last_day_to_submit", date(2027, 4, 29)),  # moved to the new date, still due now
        ("last_day_to_submit", date(2027, 5, 21)),
        ("last_day_to_submit", date(2027, 5, 28)),
    ]
    assert await send(chat.db, chat.engine, fake, now=chat.now) == Summary(sent=1)
    assert "Friday, 28 May 2027 (in 29 days)" in fake.calls_to("sendMessage")[-1]["text"]


def test_reminders_already_past_when_saved_are_not_scheduled(chat):
    chat.now = datetime(2027, 4, 29, 12, 0, tzinfo=TAIPEI)  # after the 30-day one's 10:00
    chat.save("renewal", "2027-06-30")
    chat.press("🔔 Remind me")
    assert scheduled_days(chat.db) == [
        ("last_day_to_submit", date(2027, 5, 22)),
        ("last_day_to_submit", date(2027, 5, 29)),
    ]
    # Due and unsent, the 7-day and last-day reminders stay while the deadline is ahead …
    chat.now = datetime(2027, 5, 29, 10, 30, tzinfo=TAIPEI)
    chat.save("renewal", "2027-06-30")
    assert [key for key, _ in scheduled_days(chat.db)] == ["last_day_to_submit"] * 2
    chat.now = datetime(2027, 5, 30, 10, 30, tzinfo=TAIPEI)  # … not once it has passed
    chat.save("renewal", "2027-06-30")
    assert "No reminder day of this date is ahead" in chat.text
    assert scheduled_days(chat.db) == []
    chat.save("password", "2027-05-01")  # change by 2027-07-30: reminder 2027-07-23
    assert "🔔 Remind me" in chat.labels
    chat.save("password", "2027-04-01")  # change by 2027-06-30: its reminder day was 06-23…
    chat.save("domestic-stay", "2027-05-01")  # nothing to do by a date: nothing to offer
    assert "🔔 Remind me" not in chat.labels


@LANGS
def test_supplement_documents_from_abroad_remind_before_the_final_deadline(chat, lang):
    chat.lang = lang
    chat.save("supplement", "2027-01-10")
    assert {WORDS[lang]["remind"], WORDS[lang]["abroad"]} <= set(chat.labels)
    chat.press(WORDS[lang]["abroad"])
    assert [key for key, _ in scheduled_days(chat.db)] == ["due", "due", "final_due", "final_due"]
    chat.save("supplement", "2027-01-12")  # saved again: still from abroad
    assert [key for key, _ in scheduled_days(chat.db)] == ["due", "due", "final_due", "final_due"]
    [old] = chat.press(WORDS[lang]["remind"])  # on the first date's message: not this date's
    assert WORDS[lang]["expired"] in old.text
    assert [key for key, _ in scheduled_days(chat.db)] == ["due", "due", "final_due", "final_due"]


@LANGS
def test_done_stops_that_kinds_reminders_only(chat, lang):
    chat.lang = lang
    chat.save("renewal", "2027-06-30")
    chat.press(WORDS[lang]["remind"])
    chat.save("passport", "2028-08-31")
    chat.press(WORDS[lang]["remind"])
    [done] = chat.press_data("1:rs:renewal")  # the button on a reminder message
    assert {"en": "no more reminders about Gold Card renewal", "zh": "不再提醒您就業金卡延期申請"}[
        lang
    ] in done.text
    assert not done.edit  # the reminder it was pressed on stays readable
    assert [key for key, _ in scheduled_days(chat.db)] == ["apply_by", "apply_by"]
    [again] = chat.press_data("1:rs:renewal")
    assert {"en": "no reminders about", "zh": "已沒有待發送的提醒"}[lang] in again.text


def test_removing_the_date_or_forgetting_removes_its_reminders(chat):
    chat.save("renewal", "2027-06-30")
    chat.press("🔔 Remind me")
    chat.command("deadlines")
    chat.press("🗑")
    assert reminder_rows(chat.db) == []
    chat.save("pickup", "2027-03-01")
    chat.press("🔔 Remind me")
    chat.command("forget")
    chat.press("🗑")
    assert reminder_rows(chat.db) == []


@pytest.mark.parametrize(
    "data",
    ["1:r:renewal:20270101:0", "1:r:renewal:20270630:1", "1:r:processing:20270630:0",
     "1:rx:renewal:9", "1:rx:visa:1", "1:rs:visa", "1:rx:renewal:0", "1:ra:x"],
)  # fmt: skip
def test_stale_or_forged_reminder_buttons_expire(chat, data):
    chat.save("renewal", "2027-06-30")
    [reply] = chat.press_data(data)
    assert "This button has expired" in reply.text
    assert reminder_rows(chat.db) == []


def test_cancelling_a_reminder_already_gone_says_so(chat):
    chat.save("renewal", "2027-06-30")
    chat.press("🔔 Remind me")
    chat.command("reminders")
    chat.press_data("1:rx:renewal:1")
    [reply] = chat.press_data("1:rx:renewal:1")
    assert "no longer scheduled" in reply.text and reply.edit


# --- the reminder message ----------------------------------------------------------------------


@LANGS
def test_a_reminder_after_its_date_says_why_it_comes(engine, lang):
    """A Hong Kong / Macau renewal reminder a week into the window names itself, not "Renewal
    opens … (7 days ago)"."""
    from bot.deadlines import Profile

    reminders = schedule.schedule(
        "renewal", EXPIRY, now=SAVED, lang=lang, profile=Profile.HK_MACAU
    )
    week_in = next(r for r in reminders if r.days_before == -7)
    reply = engine.reminder(week_in, lang, today=date(2027, 3, 8), bot_username="gc_bot")
    assert {"en": "Renewal window open a week", "zh": "延期申請已開放一週"}[lang] in reply.text


@LANGS
def test_a_reminder_says_what_is_due_when_and_what_to_do(engine, lang):
    reminder = schedule.schedule("renewal", EXPIRY, now=SAVED, lang=lang)[2]  # 7 days before
    reply = engine.reminder(reminder, lang, today=date(2027, 5, 22), bot_username="gc_bot")
    expected = {
        "en": ("Reminder: Gold Card renewal", "Last day to submit the renewal: Saturday, 29 May"
               " 2027 (in 7 days)", "Submit your renewal by this day at the latest."),
        "zh": ("提醒：就業金卡延期申請", "延期申請最後提交日：2027年5月29日 星期六（7 天後）",
               "最晚請於這一天完成延期申請的提交。"),
    }[lang]  # fmt: skip
    assert all(part in reply.text for part in expected), reply.text
    [[guide], [done], [mine]] = reply.buttons
    assert guide.url == "https://t.me/gc_bot?start=g_renew_1"
    assert (done.data, mine.data) == ("1:rs:renewal", "1:rl")
    assert (
        done.label
        == {"en": "✅ Done — stop these reminders", "zh": "✅ 已完成，停止這些提醒"}[lang]
    )
    without_username = engine.reminder(reminder, lang, today=date(2027, 5, 22))
    assert without_username.buttons[0][0].data == "1:g:renew:1"


# --- the sender --------------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


def seed(
    db: Database,
    user_ids: list[int],
    *,
    lang: str = "en",
    chosen: str | None = None,
    kind: str = "renewal",
    given: date = EXPIRY,
) -> None:
    """Users who saved `given` for `kind` on SAVED and turned its reminders on."""
    with Session(db) as session:
        session.add_all(User(id=user_id, language=chosen) for user_id in user_ids)
        session.flush()
        for user_id in user_ids:
            for r in schedule.schedule(kind, given, now=SAVED, lang=lang):  # type: ignore[arg-type]
                session.add(
                    ReminderRow(
                        user_id=user_id,
                        kind=r.kind,
                        key=r.key,
                        days_before=r.days_before,
                        due_on=r.due,
                        send_at=r.send_at,
                        lang=r.lang,
                    )
                )
        session.commit()


async def send(
    db: Database,
    engine: Engine,
    fake: FakeBotApi,
    *,
    now: datetime = OPENS,
    bot: Bot | None = None,
    **options: object,
) -> Summary:
    """One sender run at `now` (fast: 1,000 messages a second unless `rate` is given)."""
    options.setdefault("rate", 1000.0)
    async with bot or make_bot(fake.token, base_url=fake.base_url) as running:
        sender = ReminderSender(db, engine, running, now=lambda: now, **options)  # type: ignore[arg-type]
        return await sender.run()


def sent_to(fake: FakeBotApi) -> list[int]:
    return sorted(int(call["chat_id"]) for call in fake.calls_to("sendMessage") if call.ok)


async def test_the_sender_sends_each_due_reminder_once_with_its_buttons(db, engine, fake):
    users = [101, 102, 103]
    for user_id in users:
        fake.user(id=user_id)
    seed(db, users[:2])
    seed(db, users[2:], lang="en", chosen="zh")  # chose Chinese after scheduling in English
    summary = await send(db, engine, fake)
    assert summary == Summary(sent=3)
    assert sent_to(fake) == users
    english = fake.calls_to("sendMessage", chat_id=101)[0]
    assert "Reminder: Gold Card renewal" in english["text"]
    assert english["parse_mode"] == "HTML"
    buttons = [b for row in english["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[0]["url"] == "https://t.me/goldcard_test_bot?start=g_renew_1"
    assert buttons[1]["callback_data"] == "1:rs:renewal"
    assert "提醒：就業金卡延期申請" in fake.calls_to("sendMessage", chat_id=103)[0]["text"]
    sent = reminder_rows(db, status=SENT)
    assert [(r.key, r.attempts, r.lease_until) for r in sent] == [("window_opens", 1, None)] * 3
    assert all(r.sent_at is not None for r in sent)

    assert await send(db, engine, fake) == Summary()  # nothing due twice
    later = datetime(2027, 4, 29, 10, 0, tzinfo=TAIPEI)  # the 30-day reminders' moment
    assert await send(db, engine, fake, now=later) == Summary(sent=3)
    assert len(fake.calls_to("sendMessage")) == 6


async def test_after_an_outage_only_the_latest_reminder_of_a_deadline_goes_out(db, engine, fake):
    fake.user(id=101)
    seed(db, [101])
    late = datetime(2027, 5, 23, 10, 0, tzinfo=TAIPEI)  # the sender was down for months
    assert await send(db, engine, fake, now=late) == Summary(sent=1, skipped=2)
    [call] = fake.calls_to("sendMessage")
    assert "(in 6 days)" in call["text"]  # the 7-day one, a day late: counted from today
    skipped = {r.key + f"-{r.days_before}": r.last_error for r in reminder_rows(db)}
    assert skipped["window_opens-0"] == "the deadline has passed"
    assert skipped["last_day_to_submit-30"] == "a later reminder of the same deadline is due too"


async def test_a_blocked_user_is_marked_inactive_and_their_reminders_cancelled(db, engine, fake):
    fake.user(id=101)
    fake.user(id=102)
    fake.block(101)
    seed(db, [101, 102])
    assert await send(db, engine, fake) == Summary(sent=1, skipped=1)
    with Session(db) as session:
        assert session.get(User, 101).active is False  # type: ignore[union-attr]
        assert session.get(User, 102).active is True  # type: ignore[union-attr]
    cancelled = reminder_rows(db, user_id=101)
    assert {r.status for r in cancelled} == {"cancelled"}
    assert cancelled[0].last_error == "Forbidden: Forbidden: bot was blocked by the user"
    later = datetime(2027, 5, 29, 10, 0, tzinfo=TAIPEI)
    assert await send(db, engine, fake, now=later) == Summary(sent=1, skipped=2)  # 102's backlog
    assert len(fake.calls_to("sendMessage", chat_id=101)) == 1  # never retried


async def test_flood_control_is_waited_out(db, engine, fake):
    for user_id in (101, 102, 103):
        fake.user(id=user_id)
    seed(db, [101, 102, 103])
    fake.flood(1, method="sendMessage")
    started = time.monotonic()
    assert await send(db, engine, fake) == Summary(sent=3)
    assert time.monotonic() - started >= 1.0
    assert sent_to(fake) == [101, 102, 103]
    assert [call.status for call in fake.calls_to("sendMessage")].count(429) == 1


async def test_network_errors_are_retried_on_later_runs_then_marked_failed(db, engine, fake):
    fake.user(id=101)
    fake.user(id=102)
    seed(db, [101, 102])
    fault = fake.disconnect(chat_id=101, times=None)
    assert await send(db, engine, fake, max_attempts=3) == Summary(sent=1, retrying=1)
    [row] = reminder_rows(db, user_id=101, key="window_opens")
    assert (row.status, row.attempts) == (SCHEDULED, 1)
    assert row.last_error is not None and row.last_error.startswith("NetworkError")
    assert await send(db, engine, fake, max_attempts=3) == Summary()  # not in the same minute
    in_two = OPENS + timedelta(minutes=2)
    assert await send(db, engine, fake, now=in_two, max_attempts=3) == Summary(retrying=1)
    in_four = OPENS + timedelta(minutes=4)
    assert await send(db, engine, fake, now=in_four, max_attempts=3) == Summary(failed=1)
    [row] = reminder_rows(db, user_id=101, key="window_opens")
    assert row.status == "failed" and "gave up after 3 attempts" in (row.last_error or "")
    fake.remove_fault(fault)
    in_six = OPENS + timedelta(minutes=6)
    assert await send(db, engine, fake, now=in_six, max_attempts=3) == Summary()  # final


async def test_a_timeout_is_retried_on_the_next_run(db, engine, fake):
    fake.user(id=101)
    seed(db, [101])
    fake.stall(2, chat_id=101)
    impatient = Bot(fake.token, base_url=fake.base_url, request=HTTPXRequest(read_timeout=0.3))
    assert await send(db, engine, fake, bot=impatient) == Summary(retrying=1)
    assert (reminder_rows(db, key="window_opens")[0].last_error or "").startswith("TimedOut")
    assert await send(db, engine, fake, now=OPENS + timedelta(minutes=2)) == Summary(sent=1)
    assert len([c for c in fake.calls_to("sendMessage") if c.ok]) == 1


async def test_a_request_telegram_rejects_fails_at_once_with_the_reason(db, engine, fake):
    seed(db, [404])  # a chat the Bot API does not know
    assert await send(db, engine, fake) == Summary(failed=1)
    [row] = reminder_rows(db, key="window_opens")
    assert (row.status, row.last_error) == ("failed", "BadRequest: Chat not found")


async def test_a_sender_killed_mid_run_leaves_its_claims_to_the_next_run(db, engine, fake):
    users = [101, 102, 103]
    for user_id in users:
        fake.user(id=user_id)
    seed(db, users)
    # The killed sender claimed all three and got one out before it died.
    claims = claim_due_reminders(
        db, now=OPENS, lease=timedelta(minutes=5), claimant="killed", limit=10
    )
    assert [c.user_id for c in claims] == users
    assert finish_reminder(db, reminder_id=claims[0].id, claimant="killed", status=SENT)
    assert await send(db, engine, fake, now=OPENS + timedelta(minutes=1)) == Summary()  # leased
    after = OPENS + timedelta(minutes=5, seconds=1)
    assert await send(db, engine, fake, now=after) == Summary(sent=2)
    assert sent_to(fake) == [102, 103]
    assert not finish_reminder(db, reminder_id=claims[1].id, claimant="killed", status=SENT)


async def test_pacing_stays_under_the_broadcast_rate(db, engine, fake):
    users = list(range(101, 131))
    for user_id in users:
        fake.user(id=user_id)
    seed(db, users)
    started = time.monotonic()
    assert await send(db, engine, fake, rate=20.0) == Summary(sent=30)
    assert time.monotonic() - started >= 29 / 20
    arrivals = [call.at for call in fake.calls_to("sendMessage")]
    # Sends start ≥ 1/20 s apart; 30 ms allow for loopback jitter between start and arrival.
    assert max(sum(a <= b < a + 0.97 for b in arrivals) for a in arrivals) <= 20


# --- exactly once with concurrent and killed senders ---------------------------------------


async def test_a_held_batch_sends_nothing_the_user_stopped_meanwhile(db, engine, fake):
    """A sender holds a claimed batch while users /forget, cancel all their reminders, press
    "Done", or are found to have blocked the bot: each reminder is checked right before its
    send."""
    chats = {user_id: TimedChat(db, engine, user_id=user_id) for user_id in (1, 2, 3, 4, 5)}
    for user_id, chat in chats.items():
        fake.user(id=user_id)
        chat.save("renewal", "2027-06-30")
        chat.press("🔔 Remind me")
    bot = make_bot(fake.token, base_url=fake.base_url)
    async with bot:
        sender = ReminderSender(db, engine, bot, now=lambda: OPENS, rate=1000.0)
        batch = claim_due_reminders(
            db, now=OPENS, lease=timedelta(minutes=5), claimant=sender.claimant, limit=50
        )
        assert [item.user_id for item in batch] == [1, 2, 3, 4, 5]
        for chat in chats.values():
            chat.now = OPENS + timedelta(seconds=30)
        chats[1].command("forget")
        chats[1].press("🗑")
        chats[2].command("reminders")
        chats[2].press("✖️ Cancel all reminders")
        chats[3].press_data("1:rs:renewal")  # "Done" on an earlier message
        with Session(db) as session:
            mark_inactive(session, user_id=4)  # blocked: found out by the bot meanwhile
            session.commit()
        await sender.send_batch(batch)
    assert sent_to(fake) == [5]
    assert sender.summary == Summary(sent=1, skipped=4)
    assert [r.status for r in reminder_rows(db, user_id=4, key="window_opens")] == ["skipped"]


def test_concurrent_claims_never_overlap(shared_db):
    seed(shared_db, list(range(1, 201)))
    claimed: list[list[int]] = [[] for _ in range(4)]

    def claimer(n: int) -> None:
        while batch := claim_due_reminders(
            shared_db, now=OPENS, lease=timedelta(minutes=5), claimant=f"c{n}", limit=7
        ):
            claimed[n] += [item.id for item in batch]

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for ids in claimed for i in ids]
    assert len(everything) == len(set(everything)) == 200


async def test_two_senders_at_once_send_every_reminder_exactly_once(shared_db, engine, fake):
    users = list(range(1, 301))
    for user_id in users:
        fake.user(id=user_id)
    seed(shared_db, users)

    def sender() -> Summary:
        async def one_run() -> Summary:
            bot = make_bot(fake.token, base_url=fake.base_url)
            async with bot:
                run = ReminderSender(
                    shared_db, engine, bot, now=lambda: OPENS, rate=2000.0, batch_size=10
                )
                return await run.run()

        return asyncio.run(one_run())

    first, second = await asyncio.gather(asyncio.to_thread(sender), asyncio.to_thread(sender))
    assert first.sent + second.sent == 300 and first.sent and second.sent  # both took part
    assert sent_to(fake) == users  # each user exactly once
    assert len(reminder_rows(shared_db, status=SENT)) == 300


async def remind_process(
    fake: FakeBotApi, database: str, *options: str
) -> asyncio.subprocess.Process:
    """`python -m bot remind OPTIONS` as a real process on `database` against the fake Bot API."""
    environment = {
        **os.environ,
        "DATABASE_URL": database,
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "remind", *options,
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


async def test_a_sender_process_killed_mid_run_then_rerun_loses_and_repeats_nothing(
    tmp_path, fake
):
    database = f"sqlite:///{tmp_path / 'killed.sqlite3'}"
    db = create_db_engine(database)
    migrate(db)
    users = list(range(1, 11))
    for user_id in users:
        fake.user(id=user_id)
    seed(db, users)
    stuck = fake.stall(60, chat_id=6)  # the sender will hang on user 6 …

    async def remind(*options: str) -> asyncio.subprocess.Process:
        return await remind_process(fake, database, "--now", "2027-03-01T10:00", *options)

    process = await remind("--rate", "5")  # a send every 0.2 s: a kill between two is clean
    deadline = time.monotonic() + 30
    while stuck.hits == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert stuck.hits == 1, "the sender never reached user 6"
    await asyncio.sleep(0.05)
    process.kill()  # … and is killed there, users 7-10 claimed but not sent
    await process.wait()
    fake.remove_fault(stuck)
    assert sent_to(fake) == [1, 2, 3, 4, 5]
    statuses = [row.status for row in reminder_rows(db, key="window_opens")]
    assert statuses == [SENT] * 5 + [SENDING] + [SCHEDULED] * 4  # 6 never reached the user

    again = await remind()  # within the lease: the claims still hold
    out, err = await again.communicate()
    assert (again.returncode, out.decode().strip()) == (
        0,
        "reminders: 0 sent, 0 skipped, 0 failed",
    ), err.decode()
    later = await remind_process(fake, database, "--now", "2027-03-01T10:06")
    out, err = await later.communicate()
    assert out.decode().strip() == "reminders: 5 sent, 0 skipped, 0 failed", err.decode()
    assert sent_to(fake) == users  # nobody lost, nobody twice
    db.dispose()


async def test_a_sender_killed_with_sends_in_flight_repeats_at_most_one(tmp_path, fake):
    """`kill -9` while Telegram has accepted messages the sender has not yet heard back about:
    at most one message is accepted and not marked sent, so the rerun repeats at most one."""
    database = f"sqlite:///{tmp_path / 'in-flight.sqlite3'}"
    db = create_db_engine(database)
    migrate(db)
    users = list(range(1, 21))
    for user_id in users:
        fake.user(id=user_id)
    seed(db, users)
    # Every message reaches its user at once; Telegram's answer comes 0.3 s later.
    slow = fake.stall(0.3, method="sendMessage", times=None, deliver=True)

    def delivered() -> list[int]:
        return [u for u in users for _ in fake.bot_messages(u)]

    async def remind(now: str) -> asyncio.subprocess.Process:
        return await remind_process(fake, database, "--now", now, "--rate", "1000")

    process = await remind("2027-03-01T10:00")
    deadline = time.monotonic() + 30
    while len(delivered()) < 4 and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    process.kill()
    await process.wait()
    accepted = delivered()
    assert len(accepted) >= 4, "the sender never got going"
    marked = [r.user_id for r in reminder_rows(db, key="window_opens", status=SENT)]
    assert len(set(accepted) - set(marked)) <= 1, (accepted, marked)

    fake.remove_fault(slow)
    later = await remind("2027-03-01T10:06")  # the lease has expired
    _, err = await later.communicate()
    assert later.returncode == 0, err.decode()
    every = delivered()
    assert sorted(set(every)) == users  # nobody lost
    assert len(every) - len(users) <= 1  # at most the one in flight repeated
    db.dispose()


@contextmanager
def connection_killed(
    db: Database, statement: str, *, times: int = 1, **params: object
) -> Iterator[list[str]]:
    """PostgreSQL terminates the connection running a statement that starts with `statement`
    with `params` among its parameters (its first `times` runs), as a server restart or a
    network cut would; yields the statements hit."""
    from sqlalchemy import create_engine

    admin = create_engine(str(db.url.set(query={})))
    hits: list[str] = []

    def kill(connection, cursor, sql, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if (
            sql.lstrip().startswith(statement)
            and all(parameters.get(name) == value for name, value in params.items())
            and len(hits) < times
        ):
            hits.append(sql)
            pid = connection.connection.driver_connection.info.backend_pid
            with admin.begin() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")

    event.listen(db, "before_cursor_execute", kill)
    try:
        yield hits
    finally:
        event.remove(db, "before_cursor_execute", kill)
        admin.dispose()


@pytest.fixture
def postgres(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    if db.dialect.name != "postgresql":
        pytest.skip("a connection killed under the sender: PostgreSQL's failure")
    monkeypatch.setattr("bot.reminders.DB_RETRY_PAUSE", 0.05)
    return db


@pytest.mark.parametrize(
    "statement",
    ["WITH candidates", "SELECT users.active", "UPDATE reminders SET lease_until"],
    ids=["claim", "check before sending", "lease renewal"],
)
async def test_a_connection_killed_under_the_sender_is_retried_once(
    postgres, engine, fake, caplog, statement
):
    users = [101, 102, 103]
    for user_id in users:
        fake.user(id=user_id)
    seed(postgres, users)
    with connection_killed(postgres, statement) as hits:
        # A lease of 0 s renews before every send: the renewal is hit too.
        lease = {"lease": timedelta(0)} if "lease_until" in statement else {}
        summary = await send(postgres, engine, fake, **lease)
    assert len(hits) == 1
    assert (summary, summary.line()) == (Summary(sent=3), "reminders: 3 sent, 0 skipped, 0 failed")
    assert sent_to(fake) == users
    assert "Task exception was never retrieved" not in caplog.text


async def test_a_connection_killed_while_marking_sent_keeps_true_counts(
    postgres, engine, fake, caplog
):
    users = [101, 102, 103]
    for user_id in users:
        fake.user(id=user_id)
    seed(postgres, users)
    with connection_killed(postgres, "UPDATE reminders SET status", status=SENT) as hits:
        summary = await send(postgres, engine, fake)
    assert len(hits) == 1 and summary == Summary(sent=3)
    assert sent_to(fake) == users
    assert len(reminder_rows(postgres, status=SENT)) == 3
    assert "Task exception was never retrieved" not in caplog.text


async def test_a_database_down_for_good_stops_the_run_with_what_is_left(postgres, engine, fake):
    users = [101, 102, 103]
    for user_id in users:
        fake.user(id=user_id)
    seed(postgres, users)
    with connection_killed(postgres, "WITH candidates", times=2):
        summary = await send(postgres, engine, fake)
    assert summary.undone and "stopped by a database error" in summary.line()
    assert sent_to(fake) == []
    assert await send(postgres, engine, fake) == Summary(sent=3)  # the next run sends them
    # A "sent" that cannot be written: sent, and said so; a later run may repeat it.
    seed(postgres, [104])
    fake.user(id=104)
    with connection_killed(postgres, "UPDATE reminders SET status", times=2, status=SENT):
        summary = await send(postgres, engine, fake)
    assert summary == Summary(sent=1, unrecorded=1, stopped=True)
    assert "1 sent but not recorded" in summary.line()
    [row] = reminder_rows(postgres, user_id=104, key="window_opens")
    assert row.status == SENDING  # the next run after the lease repeats it: the one duplicate


# --- end to end: the real Telegram adapter and the sender ---------------------------------------


async def test_from_saving_in_telegram_to_done_on_the_reminder(shared_db, engine, fake):
    """A Chinese user turns reminders on in the real bot, the sender reminds them, and "Done" on
    the reminder stops that kind's reminders (the clock is real: the card expires in 2099)."""
    application = build_application(
        Settings.from_mapping({"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}),
        db=shared_db,
        engine=engine,
    )
    ada = fake.user("Ada", language_code="zh-hant")
    chat = ada["id"]

    async def replies_to(update: dict, *, count: int = 1) -> dict:
        mark = len(fake.calls)
        fake.push(update)
        sent = await fake.wait_for_calls("sendMessage", count=count, since=mark, chat_id=chat)
        return sent[-1].result

    def data(message: dict, label: str) -> str:
        rows = message["reply_markup"]["inline_keyboard"]
        return next(b["callback_data"] for row in rows for b in row if b["text"] == label)

    async with polling(application):
        await replies_to(fake.command(ada, "start", "d_renewal"), count=2)  # welcome, question
        result = await replies_to(fake.message(ada, "2099-06-30"))
        saved = await replies_to(fake.callback_query(ada, data(result, "💾 儲存"), message=result))
        on = await replies_to(fake.callback_query(ada, data(saved, "🔔 提醒我"), message=saved))
        assert "已開啟就業金卡延期申請的提醒" in on["text"]
        assert len(reminder_rows(shared_db, status=SCHEDULED)) == 4

        opens = datetime(2099, 3, 1, 10, 0, tzinfo=TAIPEI)
        assert await send(shared_db, engine, fake, now=opens) == Summary(sent=1)
        reminder = fake.last_bot_message(ada["id"])
        assert reminder is not None and reminder["text"].startswith("🔔 提醒：就業金卡延期申請")
        done = await replies_to(
            fake.callback_query(ada, data(reminder, "✅ 已完成，停止這些提醒"), message=reminder)
        )
    assert "不再提醒您就業金卡延期申請" in done["text"]
    assert reminder_rows(shared_db, status=SCHEDULED) == []
    assert [r.status for r in reminder_rows(shared_db)] == [SENT]


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def sqlite_file(tmp_path, monkeypatch) -> Database:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the project's
    db = create_db_engine(url)
    migrate(db)
    yield db
    db.dispose()


def test_dry_run_lists_what_is_due_and_sends_nothing(sqlite_file, capsys):
    seed(sqlite_file, [101, 102])
    with Session(sqlite_file) as session:
        session.get(User, 102).active = False  # type: ignore[union-attr]
        session.commit()
    assert main(["remind", "--dry-run", "--now", "2027-03-01T10:00"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "#1 user 101 renewal/window_opens -0d due 2027-03-01 at 2027-03-01 10:00 [en]: send",
        "#5 user 102 renewal/window_opens -0d due 2027-03-01 at 2027-03-01 10:00 [en]: "
        "skip (user inactive (blocked the bot))",
        "reminders (dry run): 1 to send, 1 to skip, nothing sent",
    ]
    assert {r.status for r in reminder_rows(sqlite_file)} == {SCHEDULED}
    assert all(r.claimed_by is None for r in reminder_rows(sqlite_file))
    assert main(["remind", "--dry-run", "--now", "2027-03-01T09:59"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "reminders (dry run): 0 to send, 0 to skip, nothing sent"
    ]


def test_dry_run_lines_name_the_sending_time_in_taipei(db):
    seed(db, [7])
    [line, summary] = dry_run_lines(db, now=datetime(2027, 3, 1, 2, 0, tzinfo=UTC))
    assert "at 2027-03-01 10:00" in line and summary.endswith("1 to send, 0 to skip, nothing sent")


@pytest.mark.parametrize(("failures", "status"), [(1, 0), (2, 1)])
async def test_remind_exits_non_zero_only_when_the_database_left_work_undone(
    sqlite_file, fake, monkeypatch, capsys, failures, status
):
    """A claim whose connection fails is retried once: one failure, the run ends as usual; two,
    the run stops, says so and exits 1 (the next run sends what is left)."""
    from sqlalchemy.exc import OperationalError

    from bot import storage

    fake.user(id=101)
    seed(sqlite_file, [101])
    monkeypatch.setenv("BOT_TOKEN", fake.token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.base_url)
    monkeypatch.setattr("bot.reminders.DB_RETRY_PAUSE", 0.01)
    claim, calls = storage.claim_due_reminders, []

    def flaky(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError("claim", {}, Exception("server closed the connection"))
        return claim(*args, **kwargs)

    monkeypatch.setattr(storage, "claim_due_reminders", flaky)
    argv = ["remind", "--now", "2027-04-29T10:00"]  # a month before the last day to submit
    assert await asyncio.to_thread(main, argv) == status
    expected = {
        0: "reminders: 1 sent, 1 skipped, 0 failed",  # the window's opening has passed
        1: "reminders: 0 sent, 0 skipped, 0 failed, stopped by a database error (a later run "
        "sends what is left)",
    }[status]
    assert capsys.readouterr().out.strip() == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["remind"], "BOT_TOKEN is not set"),
        (["remind", "--now", "yesterday"], "--now: 'yesterday' is not an ISO date-time"),
        (["remind", "--dry-run", "--rate", "0"], "must be positive"),
    ],
)
def test_remind_refuses_what_it_cannot_run_with(sqlite_file, capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_remind_refuses_a_read_only_database_in_one_line(sqlite_file, monkeypatch, capsys):
    """A database it cannot write is one line and exit status 2, as at the bot's start (a
    read-only connection: a read-only file does not stop root)."""
    path = sqlite_file.url.database
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///file:{path}?mode=ro&uri=true")
    assert main(["remind"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write the SQLite database file:{path}: ")
    assert err.count("\n") == 1


async def test_forbidden_in_the_adapter_cancels_the_users_reminders(shared_db, engine, fake):
    """A user who blocked the bot is found out by a reply: marked inactive and their reminders
    cancelled, as the sender does; writing again reactivates them but schedules nothing."""
    application = build_application(
        Settings.from_mapping({"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}),
        db=shared_db,
        engine=engine,
    )
    ada = fake.user("Ada")
    seed(shared_db, [ada["id"]])
    async with polling(application):
        fake.block(ada["id"])
        mark = len(fake.calls)
        fake.push(fake.message(ada, "how do I renew?"))
        await fake.wait_for("sendMessage", since=mark, where=lambda c: c.status == 403)
        deadline = time.monotonic() + 5
        while reminder_rows(shared_db, status=SCHEDULED) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert {r.status for r in reminder_rows(shared_db)} == {"cancelled"}
        with Session(shared_db) as session:
            assert session.get(User, ada["id"]).active is False  # type: ignore[union-attr]
        assert await send(shared_db, engine, fake) == Summary()  # nothing left to send

        fake.clear_faults()  # unblocked, and writes again: active, nothing rescheduled
        mark = len(fake.calls)
        fake.push(fake.message(ada, "hello again"))
        await fake.wait_for("sendMessage", since=mark, where=lambda c: c.ok)
    with Session(shared_db) as session:
        assert session.get(User, ada["id"]).active is True  # type: ignore[union-attr]
    assert {r.status for r in reminder_rows(shared_db)} == {"cancelled"}
