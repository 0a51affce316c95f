"""The forgiving date parser, its rejections in both languages, and Babel rendering."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from babel import Locale
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dates import (
    MAX_YEAR,
    MIN_YEAR,
    DateInputError,
    DateProblem,
    format_date_and_distance,
    format_full_date,
    format_relative_day,
    parse_date,
    read_date,
    taipei_today,
)
from bot.i18n import babel_locale
from bot.textnorm import CJK_RUN

TODAY = date(2027, 3, 1)
JUNE_30 = date(2027, 6, 30)


@pytest.mark.parametrize(
    "text",
    [
        "2027-06-30",
        "2027-6-30",
        "2027/6/30",
        "2027/06/30",
        "2027.06.30",
        "2027 / 06 / 30",
        "20270630",
        "2027年6月30日",
        "2027 年 6 月 30 日",
        "2027年6月30號",
        "116/06/30",
        "116-6-30",
        "116.06.30",
        "1160630",
        "116年6月30日",
        "民國116年6月30日",
        "民国116年6月30日",
        "中華民國116年6月30日",
        "民國116/6/30",
        "30 June 2027",
        "30 june 2027",
        "30 Jun 2027",
        "30th June 2027",
        "30-Jun-2027",
        "June 30, 2027",
        "June 30 2027",
        "Jun. 30, 2027",
        "2027 June 30",
        "30/06/2027",  # day first: 30 cannot be a month
        "06/30/2027",  # month first: 30 cannot be a month
        "２０２７－０６－３０",
        "２０２７／６／３０",
        "２０２７年６月３０日",
        "１１６年６月３０日",
        "2027–06–30",  # en dash, as pasted from documents
        "  2027-06-30。 ",
        "Wednesday, 30 June 2027",
        "Wed 30 Jun 2027",
        "2027年6月30日 星期三",
        "2027年6月30日（週三）",
        "2027/6/30 (三)",
    ],
)
def test_every_input_form_reads_june_30(text):
    assert parse_date(text, today=TODAY) == JUNE_30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("Today", TODAY),
        ("今天", TODAY),
        ("今日", TODAY),
        ("tomorrow", date(2027, 3, 2)),
        ("明天", date(2027, 3, 2)),
        ("yesterday", date(2027, 2, 28)),
        ("昨天", date(2027, 2, 28)),
    ],
)
def test_relative_words_count_from_the_given_today(text, expected):
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "roc"),
    [("116/06/30", True), ("民國116年6月30日", True), ("1160630", True), ("2027-06-30", False)],
)
def test_reading_remembers_a_roc_year(text, roc):
    assert read_date(text, today=TODAY).roc_year is roc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2028-02-29", date(2028, 2, 29)),  # leap day
        ("03/03/2027", date(2027, 3, 3)),  # both orders agree
        ("13/04/2027", date(2027, 4, 13)),
        ("04/13/2027", date(2027, 4, 13)),
        ("99年1月2日", date(2010, 1, 2)),  # with 年, a short year is an ROC year
        ("1/2/116", None),
    ],
)
def test_edge_forms(text, expected):
    if expected is None:
        with pytest.raises(DateInputError):
            parse_date(text, today=TODAY)
    else:
        assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", DateProblem.EMPTY),
        ("   ", DateProblem.EMPTY),
        ("hello", DateProblem.UNRECOGNISED),
        ("30 Juno 2027", DateProblem.UNRECOGNISED),
        ("2027-06", DateProblem.UNRECOGNISED),
        ("2027/06-30", DateProblem.UNRECOGNISED),  # mixed separators
        ("2027-02-30", DateProblem.IMPOSSIBLE),
        ("2027-02-29", DateProblem.IMPOSSIBLE),  # not a leap year
        ("2027-13-01", DateProblem.IMPOSSIBLE),
        ("2027-04-31", DateProblem.IMPOSSIBLE),
        ("2027-00-10", DateProblem.IMPOSSIBLE),
        ("2027年2月30日", DateProblem.IMPOSSIBLE),
        ("116/02/29", DateProblem.IMPOSSIBLE),
        ("31 April 2027", DateProblem.IMPOSSIBLE),
        ("31/04/2027", DateProblem.IMPOSSIBLE),
        ("13/13/2027", DateProblem.IMPOSSIBLE),
        ("03/04/2027", DateProblem.AMBIGUOUS),
        ("12/11/2027", DateProblem.AMBIGUOUS),
        ("27/06/30", DateProblem.SHORT_YEAR),
        ("6/30/27", DateProblem.SHORT_YEAR),
        ("3027-01-01", DateProblem.OUT_OF_RANGE),
        ("1900-01-01", DateProblem.OUT_OF_RANGE),
        ("民國0年1月1日", DateProblem.OUT_OF_RANGE),
        ("Monday, 30 June 2027", DateProblem.WEEKDAY_MISMATCH),
        ("2027年6月30日 星期一", DateProblem.WEEKDAY_MISMATCH),
    ],
)
def test_rejections_name_their_problem(text, problem):
    with pytest.raises(DateInputError) as caught:
        parse_date(text, today=TODAY)
    assert caught.value.problem == problem


@pytest.mark.parametrize(
    "text",
    ["", "hello", "2027-02-30", "2027-13-01", "03/04/2027", "27/06/30", "3027-01-01",
     "Monday, 30 June 2027", "x" * 200 + "\n2027"],
)  # fmt: skip
def test_rejections_are_one_line_with_a_working_example_in_both_languages(text):
    with pytest.raises(DateInputError) as caught:
        parse_date(text, today=TODAY)
    zh, en = caught.value.message("zh"), caught.value.message("en")
    assert caught.value.messages == {"zh": zh, "en": en}
    for message in (zh, en):
        assert "\n" not in message
        assert len(message) < 200
        example = re.search(r"\d{4}-\d{2}-\d{2}", message)
        assert example is not None, message
        parse_date(example.group(), today=TODAY)  # the example offered really works
    assert CJK_RUN.search(zh.replace(text, ""))
    assert not CJK_RUN.search(en.replace(text, ""))
    assert str(caught.value) == en


def test_impossible_date_messages_say_why():
    with pytest.raises(DateInputError) as caught:
        parse_date("2027-02-30", today=TODAY)
    assert caught.value.message("en") == (
        "February 2027 has no day 30 (it has 28 days); type the date like 2027-06-30 or"
        " 30 June 2027."
    )
    assert caught.value.message("zh") == (
        "2027年2月沒有30日（只有28天）；請輸入例如 2027-06-30 或 2027年6月30日。"
    )


def test_ambiguous_message_offers_both_readings():
    with pytest.raises(DateInputError) as caught:
        parse_date("03/04/2027", today=TODAY)
    assert caught.value.message("en") == (
        "“03/04/2027” could be 3 April or 4 March 2027; write the year first:"
        " 2027-04-03 or 2027-03-04."
    )
    assert caught.value.message("zh") == (
        "「03/04/2027」可能是4月3日，也可能是3月4日；請把年份寫在前面：2027-04-03 或 2027-03-04。"
    )


def test_weekday_mismatch_names_both_weekdays_in_the_users_language():
    with pytest.raises(DateInputError) as caught:
        parse_date("Monday, 30 June 2027", today=TODAY)
    assert "Wednesday, not a Monday" in caught.value.message("en")
    assert "是星期三，不是星期一" in caught.value.message("zh")


# --- Property: every supported form reads back to the date it was written from ---------------

_FULL_WIDTH = str.maketrans("0123456789-/", "０１２３４５６７８９－／")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def _roc(d: date) -> int:
    return d.year - 1911


FORMS: dict[str, Callable[[date], str]] = {
    "iso": date.isoformat,
    "slashes": lambda d: f"{d.year}/{d.month}/{d.day}",
    "dots": lambda d: f"{d:%Y.%m.%d}",
    "compact": lambda d: f"{d:%Y%m%d}",
    "cjk": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "roc-slashes": lambda d: f"{_roc(d):03d}/{d.month:02d}/{d.day:02d}",
    "roc-compact": lambda d: f"{_roc(d):03d}{d:%m%d}",
    "roc-cjk": lambda d: f"{_roc(d)}年{d.month}月{d.day}日",
    "minguo-cjk": lambda d: f"民國{_roc(d)}年{d.month}月{d.day}日",
    "day-month-year": lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
    "month-day-year": lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}",
    "day-mon-year": lambda d: f"{d.day} {_MONTHS[d.month - 1][:3]} {d.year}",
    "full-width-iso": lambda d: d.isoformat().translate(_FULL_WIDTH),
    "full-width-cjk": lambda d: f"{d.year}年{d.month}月{d.day}日".translate(_FULL_WIDTH),
    "bot-en": lambda d: format_full_date(d, "en"),
    "bot-zh": lambda d: format_full_date(d, "zh"),
}

any_date = st.dates(min_value=date(MIN_YEAR, 1, 1), max_value=date(MAX_YEAR, 12, 31))


@pytest.mark.parametrize("form", FORMS)
@settings(deadline=None)  # the first example loads Babel's locale data: slow once, not flaky
@given(day=any_date)
def test_every_form_reads_back_to_its_date(form, day):
    assert parse_date(FORMS[form](day), today=TODAY) == day


@settings(deadline=None)
@given(day=any_date)
def test_day_month_order_is_read_only_when_unambiguous(day):
    for text in (f"{day.day:02d}/{day.month:02d}/{day.year}", f"{day.month}/{day.day}/{day.year}"):
        if day.day > 12 or day.day == day.month:
            assert parse_date(text, today=TODAY) == day
        else:
            with pytest.raises(DateInputError) as caught:
                parse_date(text, today=TODAY)
            assert caught.value.problem == DateProblem.AMBIGUOUS


# --- Rendering ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "2027年5月29日 星期六"),
        ("zh-TW", "2027年5月29日 星期六"),
        ("zh-hant", "2027年5月29日 星期六"),
        ("zh_HK", "2027年5月29日 星期六"),
        ("en", "Saturday, 29 May 2027"),
        ("en-US", "Saturday, 29 May 2027"),
        ("fr", "Saturday, 29 May 2027"),
    ],
)
def test_full_date_in_the_users_locale(lang, expected):
    assert format_full_date(date(2027, 5, 29), lang) == expected


def test_chinese_dates_really_are_chinese():
    # A wrong locale name makes Babel fall back to English without a word.
    rendered = format_full_date(date(2027, 5, 29), "zh")
    assert "星期" in rendered
    assert not any("a" <= c.lower() <= "z" for c in rendered)


def test_roc_year_where_it_helps():
    assert format_full_date(date(2027, 5, 29), "zh", roc_year=True) == (
        "2027年5月29日 星期六（民國116年）"
    )
    assert format_full_date(date(2027, 5, 29), "en", roc_year=True) == (
        "Saturday, 29 May 2027 (ROC year 116)"
    )


@pytest.mark.parametrize(
    ("offset", "en", "zh"),
    [
        (0, "today", "今天"),
        (1, "tomorrow", "明天"),
        (-1, "yesterday", "昨天"),
        (2, "in 2 days", "2 天後"),
        (12, "in 12 days", "12 天後"),
        (-3, "3 days ago", "3 天前"),
        (45, "in 45 days", "45 天後"),  # days, never Babel's rounded "in 2 months"
        (400, "in 400 days", "400 天後"),
    ],
)
def test_relative_days(offset, en, zh):
    day = TODAY + timedelta(days=offset)
    assert format_relative_day(day, "en", today=TODAY) == en
    assert format_relative_day(day, "zh", today=TODAY) == zh


def test_date_and_distance():
    day, today = date(2027, 5, 29), date(2027, 5, 17)
    assert format_date_and_distance(day, "en", today=today) == "Saturday, 29 May 2027 (in 12 days)"
    assert format_date_and_distance(day, "zh", today=today) == "2027年5月29日 星期六（12 天後）"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2027, 5, 28, 15, 59, tzinfo=UTC), date(2027, 5, 28)),
        (datetime(2027, 5, 28, 16, 0, tzinfo=UTC), date(2027, 5, 29)),  # midnight in Taipei
    ],
)
def test_today_is_the_day_in_taipei(now, expected):
    assert taipei_today(now) == expected


def test_today_reads_the_clock_when_not_given():
    assert abs(taipei_today() - datetime.now(UTC).date()) <= timedelta(days=1)


# --- Locale names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh", "zh_Hant_TW"),
        ("zh-hant", "zh_Hant_TW"),
        ("zh-Hant", "zh_Hant_TW"),
        ("zh-tw", "zh_Hant_TW"),
        ("zh-TW", "zh_Hant_TW"),
        ("zh_TW", "zh_Hant_TW"),
        ("zh-hk", "zh_Hant_TW"),
        ("zh-Hans", "zh_Hans_CN"),
        ("zh-CN", "zh_Hans_CN"),
        ("ZH", "zh_Hant_TW"),
        ("en", "en"),
        ("en-GB", "en"),
        ("ja", "en"),
        ("zhx", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_babel_locale(code, expected):
    assert babel_locale(code) == expected


def test_babel_knows_the_chinese_locale():
    locale = Locale.parse(babel_locale("zh"))
    assert (locale.language, locale.script, locale.territory) == ("zh", "Hant", "TW")
