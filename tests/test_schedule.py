"""Reminder schedules per kind (issue 7): the days, 10:00 Asia/Taipei, past reminders left out,
the guide each kind's reminder opens."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot import deadlines, schedule
from bot.dates import TAIPEI
from bot.schedule import RULES, Reminder, rule_number, send_time

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=TAIPEI)


def _days(reminders: tuple[Reminder, ...]) -> list[tuple[str, int, date]]:
    return [(r.key, r.days_before, r.send_at.astimezone(TAIPEI).date()) for r in reminders]


@pytest.mark.parametrize(
    ("kind", "given", "expected"),
    [
        # expiry 2027-06-30: opens 2027-03-01, last day to submit 2027-05-29
        ("renewal", date(2027, 6, 30), [
            ("window_opens", 0, date(2027, 3, 1)),
            ("last_day_to_submit", 30, date(2027, 4, 29)),
            ("last_day_to_submit", 7, date(2027, 5, 22)),
            ("last_day_to_submit", 0, date(2027, 5, 29)),
        ]),
        # notice 2027-01-10: due 2027-02-09 (final_due only for documents from abroad)
        ("supplement", date(2027, 1, 10), [
            ("due", 7, date(2027, 2, 2)),
            ("due", 1, date(2027, 2, 8)),
        ]),
        ("pickup", date(2027, 3, 1), [  # collect by 2027-03-31
            ("collect_by", 7, date(2027, 3, 24)),
            ("collect_by", 1, date(2027, 3, 30)),
        ]),
        ("address", date(2027, 3, 1), [  # update by 2027-03-31
            ("update_by", 7, date(2027, 3, 24)),
            ("update_by", 1, date(2027, 3, 30)),
        ]),
        ("passport", date(2028, 8, 31), [  # apply by 2028-02-29
            ("apply_by", 60, date(2027, 12, 31)),
            ("apply_by", 30, date(2028, 1, 30)),
        ]),
        ("password", date(2027, 1, 1), [("change_by", 7, date(2027, 3, 25))]),  # by 2027-04-01
        ("domestic-stay", date(2027, 1, 1), []),
        ("processing", date(2027, 1, 1), []),
    ],
)  # fmt: skip
def test_the_default_schedule_of_each_kind(kind, given, expected):
    reminders = schedule.schedule(kind, given, now=NOW, lang="zh")
    assert _days(reminders) == expected
    assert all(r.send_at.astimezone(TAIPEI).time() == schedule.REMIND_AT for r in reminders)
    assert all(r.send_at.tzinfo is UTC and r.lang == "zh" for r in reminders)
    assert schedule.remindable(kind) == bool(expected)


def test_documents_from_abroad_also_remind_before_the_final_deadline():
    reminders = schedule.schedule("supplement", date(2027, 1, 10), now=NOW, abroad=True)
    assert _days(reminders) == [  # final_due 2027-07-10
        ("due", 7, date(2027, 2, 2)),
        ("due", 1, date(2027, 2, 8)),
        ("final_due", 7, date(2027, 7, 3)),
        ("final_due", 1, date(2027, 7, 9)),
    ]
    assert [schedule.is_abroad_only(r) for r in reminders] == [False, False, True, True]
    assert schedule.has_abroad_choice("supplement") and not schedule.has_abroad_choice("renewal")


def test_reminders_already_past_are_not_scheduled():
    expiry = date(2027, 6, 30)
    at_ten = datetime(2027, 4, 29, 10, 0, tzinfo=TAIPEI)  # the 30-day reminder's moment
    just_before = datetime(2027, 4, 29, 9, 59, tzinfo=TAIPEI)
    assert [r.days_before for r in schedule.schedule("renewal", expiry, now=just_before)] == [
        30,
        7,
        0,
    ]
    assert [r.days_before for r in schedule.schedule("renewal", expiry, now=at_ten)] == [7, 0]
    late = datetime(2027, 5, 29, 10, 0, 1, tzinfo=TAIPEI)
    assert schedule.schedule("renewal", expiry, now=late) == ()


def test_send_time_is_ten_in_taipei_stored_in_utc():
    assert send_time(date(2027, 2, 28)) == datetime(2027, 2, 28, 2, 0, tzinfo=UTC)


def test_every_rule_names_a_date_of_its_kind_and_every_kind_opens_a_real_guide_step(knowledge):
    for kind, rules in RULES.items():
        keys = {label.key for label in deadlines.KINDS[kind].outputs}
        assert {rule.key for rule in rules} <= keys, kind
        assert len({(r.key, r.days_before) for r in rules}) == len(rules), kind
        guide, step = schedule.GUIDE_STEPS[kind]
        assert knowledge.guides[guide].has_step(step), kind
    assert set(schedule.GUIDE_STEPS) == set(RULES)


def test_rule_numbers_name_each_reminder():
    reminders = schedule.schedule("renewal", date(2027, 6, 30), now=NOW)
    assert [rule_number(r) for r in reminders] == [1, 2, 3, 4]
    for r in reminders:
        rule = RULES[r.kind][rule_number(r) - 1]
        assert (rule.key, rule.days_before) == (r.key, r.days_before)


# --- Issue 12 --------------------------------------------------------------------------------


def test_each_renewal_reminder_is_named_for_what_it_is():
    reminders = schedule.schedule("renewal", date(2027, 6, 30), now=NOW)
    assert [schedule.label(r, "en") for r in reminders] == [
        "Renewal window opens",
        "A month left to submit the renewal",
        "A week left to submit the renewal",
        "Last day to submit the renewal",
    ]
    zh = [schedule.label(r, "zh") for r in reminders]
    assert len(set(zh)) == 4 and zh[-1] == "延期申請最後提交日"
    passport = schedule.schedule("passport", date(2030, 1, 1), now=NOW)
    assert schedule.label(passport[0], "en") == "Last day with 6 months' passport validity"


def test_hk_macau_renewal_reminds_at_the_opening_and_early_in_the_window():
    hk = deadlines.Profile.HK_MACAU
    reminders = schedule.schedule("renewal", date(2027, 6, 30), now=NOW, profile=hk)
    assert _days(reminders)[:3] == [
        ("window_opens", 0, date(2027, 3, 1)),
        ("window_opens", -7, date(2027, 3, 8)),
        ("window_opens", -14, date(2027, 3, 15)),
    ]
    assert "Hong Kong" in schedule.label(reminders[1], "en")
    assert "港澳" in schedule.label(reminders[1], "zh")
    assert [rule_number(r) for r in reminders] == [1, 5, 6, 2, 3, 4]
    plain = schedule.schedule("renewal", date(2027, 6, 30), now=NOW)
    assert [r.days_before for r in plain] == [0, 30, 7, 0]
