"""Deadlines taken away: the localized text summary and the iCalendar file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.deadline_output import deadlines_ics, duration_text, event_uid, summary_text
from bot.deadlines import KINDS, Duration, Profile, compute

TODAY = date(2027, 3, 1)
STAMP = datetime(2027, 3, 1, 1, 2, 3, tzinfo=UTC)


def _events(ics: bytes) -> list:
    return Calendar.from_ical(ics).walk("VEVENT")


def test_ics_has_one_all_day_event_with_an_alarm_per_date():
    renewal = compute("renewal", date(2027, 6, 30), today=TODAY)
    events = _events(deadlines_ics([renewal], "en", generated_at=STAMP))
    assert [e.decoded("dtstart") for e in events] == [
        date(2027, 3, 1),
        date(2027, 5, 30),
        date(2027, 5, 29),
        date(2027, 6, 30),
    ]
    for event in events:
        start = event.decoded("dtstart")
        assert type(start) is date  # a date, not a datetime: all day
        assert event.decoded("dtend") == start + timedelta(days=1)
        assert event.decoded("dtstamp") == STAMP
        (alarm,) = event.walk("VALARM")
        assert str(alarm["action"]) == "DISPLAY"
        assert alarm.decoded("trigger") == timedelta(days=-3)
        assert str(alarm["description"]) == str(event["summary"])
    assert str(events[2]["summary"]) == "Gold Card renewal: Last day to submit the renewal"


def test_ics_uids_are_stable_across_exports_and_languages():
    results = [
        compute("renewal", date(2027, 6, 30), today=TODAY),
        compute("supplement", date(2027, 8, 31), today=TODAY),
        compute("processing", date(2027, 1, 31), today=TODAY, profile=Profile.ABROAD),
    ]
    first = [str(e["uid"]) for e in _events(deadlines_ics(results, "en", generated_at=STAMP))]
    later = STAMP + timedelta(days=30)
    again = [str(e["uid"]) for e in _events(deadlines_ics(results, "zh", generated_at=later))]
    assert first == again
    assert len(set(first)) == len(first) == 4 + 2 + 2
    assert "supplement-final_due-20280229@goldcard-helpdesk" in first
    assert event_uid("renewal", "locks_on", date(2027, 5, 30)) == (
        "renewal-locks_on-20270530@goldcard-helpdesk"
    )


def test_ics_summaries_in_the_chosen_language():
    supplement = compute("supplement", date(2027, 8, 31), today=TODAY)
    zh = _events(deadlines_ics([supplement], "zh", generated_at=STAMP))
    en = _events(deadlines_ics([supplement], "en", generated_at=STAMP))
    assert str(zh[0]["summary"]) == "補正(件)上傳：補件期限"
    assert zh[0]["summary"].params["LANGUAGE"] == "zh-Hant-TW"
    assert "30天內" in str(zh[0]["description"])
    assert "教學 5" in str(zh[0]["description"])
    assert str(en[0]["summary"]) == "Supplementing documents: Upload the documents by"
    assert "Tutorial 5" in str(en[0]["description"])


def test_ics_reminder_lead_time_is_configurable():
    pickup = compute("pickup", date(2027, 5, 31), today=TODAY)
    (event,) = _events(deadlines_ics([pickup], "en", generated_at=STAMP, remind_days_before=7))
    assert event.walk("VALARM")[0].decoded("trigger") == timedelta(days=-7)


def test_ics_is_a_valid_calendar():
    password = compute("password", date(2027, 1, 1), today=TODAY)
    ics = deadlines_ics([password], "en", generated_at=STAMP)
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n")
    calendar = Calendar.from_ical(ics)
    assert str(calendar["version"]) == "2.0"
    assert "Gold Card help desk" in str(calendar["prodid"])


def test_summary_in_english():
    text = summary_text(compute("renewal", date(2027, 6, 30), today=TODAY), "en", today=TODAY)
    assert text.splitlines()[:2] == [
        "Gold Card renewal",
        "Card expiry date: Wednesday, 30 June 2027 (in 121 days)",
    ]
    assert "• Renewal opens: Monday, 1 March 2027 (today)" in text
    assert "• Last day to submit the renewal: Saturday, 29 May 2027 (in 89 days)" in text
    assert "Status today: open; submit by Saturday, 29 May 2027." in text
    assert "Source: Tutorial 7 (Renewal (extension)), introduction" in text


def test_summary_in_chinese():
    text = summary_text(compute("renewal", date(2027, 6, 30), today=TODAY), "zh", today=TODAY)
    assert text.splitlines()[:2] == [
        "就業金卡延期申請",
        "金卡到期日：2027年6月30日 星期三（121 天後）",
    ]
    assert "• 延期申請最後提交日：2027年5月29日 星期六（89 天後）" in text
    assert "今天的狀態：可以申請延期" in text
    assert "來源：教學 7「延期申請教學」說明" in text


@pytest.mark.parametrize(
    ("today", "en", "zh"),
    [
        (date(2027, 1, 1), "too early; renewal opens on Monday, 1 March 2027", "尚未開放"),
        (
            date(2027, 5, 30),
            "locked. Once locked, a renewal can no longer be submitted",
            "系統已鎖定",
        ),
        (date(2027, 7, 1), "expired; the card cannot be extended, so apply again", "重新申請"),
    ],
)
def test_summary_states_the_renewal_status(today, en, zh):
    window = compute("renewal", date(2027, 6, 30), today=today)
    assert en in summary_text(window, "en", today=today)
    assert zh in summary_text(window, "zh", today=today)


def test_summary_of_processing_lists_the_stages_counted():
    estimate = compute("processing", date(2027, 1, 31), today=TODAY, profile=Profile.RENEWAL)
    text = summary_text(estimate, "en", today=TODAY)
    assert "Stages counted (renewal):" in text
    assert "  – WDA review: 1–2 months" in text
    assert "NIA first/second review" not in text
    assert "  – 勞發署審查：1–2個月" in summary_text(estimate, "zh", today=TODAY)


@pytest.mark.parametrize("kind", KINDS)
def test_summary_of_every_kind_renders_in_both_languages(kind):
    profile = Profile.ABROAD if kind == "processing" else None
    result = compute(kind, date(2027, 6, 30), today=TODAY, profile=profile)
    for lang in ("en", "zh"):
        text = summary_text(result, lang, today=TODAY)
        assert KINDS[kind].title[lang] in text
        for key, _ in result.dates():
            if key != "expires_on":
                assert KINDS[kind].output(key).label[lang] in text


@pytest.mark.parametrize(
    ("duration", "en", "zh"),
    [
        (Duration(1, 2, "week"), "1–2 weeks", "1–2週"),
        (Duration(1, 1, "week"), "about 1 week", "約1週"),
        (Duration(1, 2, "month"), "1–2 months", "1–2個月"),
        (Duration(1, 2, "day"), "1–2 days", "1–2天"),
    ],
)
def test_duration_text(duration, en, zh):
    assert (duration_text(duration, "en"), duration_text(duration, "zh")) == (en, zh)


# --- Issue 12 --------------------------------------------------------------------------------

HELP_DESK = (
    "+886-2-7733-7660",
    "help@taiwangoldcard.tw",
    "https://goldcard.nat.gov.tw/zh/help-desk/",
)


def test_hk_macau_renewal_says_apply_as_soon_as_the_window_opens():
    window = compute("renewal", date(2027, 6, 30), today=TODAY, profile=Profile.HK_MACAU)
    en, zh = (summary_text(window, lang, today=TODAY) for lang in ("en", "zh"))
    assert "Hong Kong or Macau resident: apply as soon as the window opens" in en
    assert "cannot be expedited" in en and "at least 1–2 months" in en
    assert "港澳人士：請在開放申請後盡快申請" in zh and "無法加速審核" in zh
    plain = summary_text(compute("renewal", date(2027, 6, 30), today=TODAY), "en", today=TODAY)
    assert "Hong Kong" not in plain


@pytest.mark.parametrize("today", [date(2027, 5, 30), date(2027, 7, 1)])
def test_locked_or_expired_renewal_says_what_the_tutorial_says_with_contacts(today):
    window = compute("renewal", date(2027, 6, 30), today=today)
    en, zh = (summary_text(window, lang, today=today) for lang in ("en", "zh"))
    assert "online" not in en.split("Status today")[1]  # no hint of an offline way
    assert "cannot be extended" in en and "apply again" in en
    assert "就業金卡申請或重新申請" in en and "就業金卡申請或重新申請" in zh
    assert "apply guide" in en and "申請指南" in zh
    for contact in HELP_DESK:
        assert contact in en and contact in zh
    if today < window.expires_on:
        assert "Once locked" in en and "鎖定後就無法再延期" in zh


def test_help_desk_contacts_match_the_contact_answer(knowledge):
    answer = knowledge.faq["contact-help-desk"].answer
    for contact in HELP_DESK:
        assert contact in answer["en"] and contact in answer["zh"]


def test_a_passed_deadline_says_so_plainly_and_a_later_conditional_one_is_no_extra_time():
    today = date(2027, 3, 2)
    result = compute("supplement", date(2027, 1, 1), today=today)  # due 31 Jan, final 1 Jul
    en = summary_text(result, "en", today=today)
    zh = summary_text(result, "zh", today=today)
    assert "• Upload the documents by: Sunday, 31 January 2027 — this deadline has passed." in en
    assert not [line for line in en.splitlines() if line.startswith("•") and "ago" in line]
    assert "only if" in en and "not extra time" in en
    assert "• 補件期限：2027年1月31日 星期日——這個期限已經過了。" in zh
    assert not [line for line in zh.splitlines() if line.startswith("•") and "天前" in line]
    assert "不是延長" in zh


def test_passed_renewal_deadlines_say_so():
    today = date(2027, 6, 2)
    text = summary_text(compute("renewal", date(2027, 6, 30), today=today), "en", today=today)
    assert (
        "Last day to submit the renewal: Saturday, 29 May 2027 — this deadline has passed." in text
    )
    assert (
        "Renewal opens: Monday, 1 March 2027 (93 days ago)" in text
    )  # an opening, not a deadline


def test_a_result_from_an_roc_date_shows_roc_years():
    window = compute("renewal", date(2027, 6, 30), today=TODAY)
    en = summary_text(window, "en", today=TODAY, roc_year=True)
    assert "Wednesday, 30 June 2027 (ROC year 116) (in 121 days)" in en
    assert "Saturday, 29 May 2027 (ROC year 116)" in en
    zh = summary_text(window, "zh", today=TODAY, roc_year=True)
    assert "2027年5月29日 星期六（民國116年）" in zh


def test_processing_labels_a_submission_date_as_one():
    estimate = compute("processing", date(2027, 1, 4), today=TODAY, profile=Profile.DOMESTIC)
    assert "Payment date: " in summary_text(estimate, "en", today=TODAY)
    submitted = KINDS["processing"].given_as("submitted")
    text = summary_text(estimate, "en", today=TODAY, given_as="submitted")
    assert "Payment date" not in text
    assert text.splitlines()[1].startswith(submitted["en"][:1].upper() + submitted["en"][1:])
    assert "submitted" in submitted["en"] and "遞件" in submitted["zh"]
