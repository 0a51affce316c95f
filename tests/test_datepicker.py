"""The date picker under every date prompt, through the engine and the real storage: the month
grid in the user's language, navigation in place, a day pressed as the date typed, stale and
forged picker buttons, the range a date may have."""

from __future__ import annotations

from datetime import date

import pytest

from bot import callbacks as cb
from bot import deadlines
from bot.dialogue import Button, Reply, State
from bot.dialogue import datepicker as picker_module
from bot.i18n import showing
from tests.test_dialogue import TODAY, Chat

LANGS = pytest.mark.parametrize("lang", ["en", "zh"])
WEEKDAYS = {"en": ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"), "zh": tuple("日一二三四五六")}


@pytest.fixture
def chat(db, engine) -> Chat:
    return Chat(db, engine)


def picker(reply: Reply) -> list[tuple[Button, ...]]:
    """The picker's rows of a prompt: the year row to the last week."""
    rows = list(reply.buttons)
    last_week = max(i for i, row in enumerate(rows) if any(_is_day(b) for b in row))
    return rows[: last_week + 1]


def _is_day(button: Button) -> bool:
    return isinstance(cb.decode(button.data or ""), cb.DatePickerDay)


def days(reply: Reply) -> dict[date, Button]:
    found = {}
    for row in reply.buttons:
        for button in row:
            action = cb.decode(button.data or "")
            if isinstance(action, cb.DatePickerDay):
                found[action.day] = button
    return found


def shown_month(reply: Reply) -> date:
    return min(days(reply)).replace(day=1)


@LANGS
def test_every_date_prompt_shows_a_month_in_the_users_language(chat, lang):
    chat.lang = lang
    chat.start()
    for kind in deadlines.KINDS:
        payload = f"d_{kind}"
        chat.start(payload)
        if kind == "processing":
            chat.press_data(cb.encode(cb.DeadlineKind(kind, "abroad")))
        [prompt] = chat.replies
        years, moves, headers, *weeks = picker(prompt)
        assert tuple(b.label for b in headers) == WEEKDAYS[lang], kind
        month = shown_month(prompt)
        assert [d.day for d in sorted(days(prompt))] == list(range(1, len(days(prompt)) + 1))
        assert all(len(week) == 7 for week in weeks)
        title = {"en": month.strftime("%B %Y"), "zh": f"{month.year}年{month.month}月"}[lang]
        assert title in [b.label for b in moves]
        assert [b.label for b in years][2].strip("·") == (
            str(month.year) if lang == "en" else f"{month.year}年"
        )
        assert all(
            len((b.data or "").encode()) <= cb.MAX_BYTES for row in picker(prompt) for b in row
        )


def test_it_opens_months_ahead_for_an_expiry_and_this_month_for_a_notice(chat):
    chat.start()
    opening = {}
    for kind in ("renewal", "passport", "supplement", "pickup", "address", "password"):
        [prompt] = chat.start(f"d_{kind}")
        opening[kind] = shown_month(prompt)
    assert opening == {
        "renewal": date(2027, 3, 1),  # TODAY is 2026-11-21: the window opens 4 months ahead
        "passport": date(2027, 5, 1),
        "supplement": date(2026, 11, 1),
        "pickup": date(2026, 11, 1),
        "address": date(2026, 11, 1),
        "password": date(2026, 11, 1),
    }
    [notice] = chat.start("d_supplement")
    assert days(notice)[TODAY].label == "[21]"  # today, in Taipei, is marked
    assert {b.label for d, b in days(notice).items() if d != TODAY} == {
        str(n) for n in range(1, 31) if n != 21
    }


@LANGS
def test_a_day_pressed_is_exactly_the_date_typed(db, engine, lang):
    typed, pressed = Chat(db, engine, lang=lang, user_id=1), Chat(db, engine, lang=lang, user_id=2)
    for chat in (typed, pressed):
        chat.start()
        chat.start("d_renewal")
    [by_typing] = typed.say("2027-04-15")
    pressed.press(("4月" if lang == "zh" else "Apr") + " ▶️")  # March is shown first
    [by_pressing] = pressed.press_data(days(pressed.replies[0])[date(2027, 4, 15)].data or "")
    assert by_pressing == by_typing
    assert by_pressing.edit is False  # the result is a new message, the picker stays
    assert pressed.state() == typed.state()
    pressed.press("💾")
    assert pressed.state().saved[0].given == date(2027, 4, 15)


def test_navigation_edits_in_place_and_typing_still_works_after_it(chat):
    chat.start()
    chat.start("d_supplement")
    [later] = chat.press("Dec ▶️")
    assert later.edit and shown_month(later) == date(2026, 12, 1)
    [earlier] = chat.press("◀️ Nov")
    assert earlier.edit and shown_month(earlier) == date(2026, 11, 1)
    [other_year] = chat.press("2028")
    assert shown_month(other_year) == date(2028, 11, 1) and "·2028·" in chat.labels
    [header] = chat.press("Mo")  # a weekday header shows the same month again
    assert shown_month(header) == date(2028, 11, 1)
    assert chat.state().pending == "date:supplement"
    [result] = chat.say("2026-11-02")
    assert "Upload the documents by" in result.text


def test_a_bad_typed_date_re_asks_with_the_picker(chat):
    chat.start()
    chat.start("d_pickup")
    [again] = chat.say("2027-02-30")
    assert "February 2027 has no day 30" in again.text and days(again)


def test_the_picker_keeps_who_renews_and_who_applies(chat):
    chat.start()
    chat.start("d_renewal")
    [hk] = chat.press("🇭🇰🇲🇴")
    assert all(cb.decode(b.data or "").profile == "hk-macau" for b in days(hk).values())
    chat.press_data(days(hk)[date(2027, 3, 31)].data or "")
    chat.press("💾")
    assert chat.state().saved[0].profile == "hk-macau"
    [processing] = chat.press_data(cb.encode(cb.DeadlineKind("processing", "renewal-hk-macau")))
    longest = max(len((b.data or "").encode()) for row in processing.buttons for b in row)
    assert longest <= cb.MAX_BYTES


@pytest.mark.parametrize(
    "data",
    [
        "1:pd:renewal:20270230",  # no such day
        "1:pd:renewal:22000101",  # beyond the years a date may have, like a typed one
        "1:pd:renewal:19110101",
        "1:pm:renewal:20270615",  # a month is its 1st
        "1:pm:renewal:22000101",
        "1:pd:processing:20270101",  # processing needs who applies
        "1:pd:nosuch:20270101",
        "1:pd:renewal:20270101:abroad",  # a renewal is not by a first applicant from abroad
        "0:pd:renewal:20270101",  # another version
        "1:pd:renewal:2027-01-01",
        "1:pd:renewal:20270101:",
    ],
)
def test_stale_or_forged_picker_buttons_expire(chat, data):
    chat.start()
    chat.start("d_renewal")
    [reply] = chat.press_data(data)
    assert "This button has expired" in reply.text
    assert chat.state().pending is None


def test_the_picker_stops_at_the_years_a_date_may_have(chat):
    chat.start()
    [last] = chat.press_data(cb.encode(cb.DatePickerMonth("renewal", date(2199, 12, 1))))
    [first] = chat.press_data(cb.encode(cb.DatePickerMonth("renewal", date(1912, 1, 1))))
    last_labels = [b.label for row in picker(last) for b in row]
    first_labels = [b.label for row in picker(first) for b in row]
    assert not any(label.endswith("▶️") for label in last_labels)
    assert not any(label.startswith("◀️") for label in first_labels)
    assert "2200" not in last_labels and "1911" not in first_labels
    [result] = chat.press_data(days(last)[date(2199, 12, 31)].data or "")
    assert "2199" in result.text


def test_a_third_locale_needs_no_change(engine):
    """Weekday headers, month and year names all come from Babel for the user's locale: 简体
    readers' (`bot.i18n.showing`, as the engine sets it) is zh_Hans_CN."""
    turn = engine._turn(State(), "zh-hans", TODAY)
    with showing("zh-hans"):
        _, moves, headers, *weeks = picker_module.picker_rows(
            turn, "supplement", None, date(2026, 11, 1)
        )
    assert [b.label for b in headers][:2] == ["周一", "周二"]  # mainland weeks start on Monday
    assert "2026年11月" in [b.label for b in moves]
    assert weeks[0][6].label == "1"  # 1 November 2026 is a Sunday
