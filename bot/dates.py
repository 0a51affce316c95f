"""Dates as applicants type them (a forgiving parser) and as the bot shows them (Babel, in locale).

"Today" is the calendar day in Asia/Taipei: functions take it as an argument, and `taipei_today`
is the one place that reads the clock.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_timedelta, get_month_names

from bot.i18n import date_locale
from bot.textnorm import Lang

TAIPEI = ZoneInfo("Asia/Taipei")
ROC_YEAR_OFFSET = 1911  # Republic of China (民國) year 1 = 1912
MIN_YEAR = 1912  # ROC year 1: nothing about the card predates it
MAX_YEAR = 2199  # far beyond any card, passport or notice; larger years are typos

EXAMPLE_EN = "2027-06-30 or 30 June 2027"
EXAMPLE_ZH = "2027-06-30 或 2027年6月30日"


def taipei_today(now: datetime | None = None) -> date:
    """Today's date in Taiwan; the clock is read only when `now` (timezone-aware) is not given."""
    moment = now if now is not None else datetime.now(TAIPEI)
    return moment.astimezone(TAIPEI).date()


# --- Rejections ------------------------------------------------------------------------------


class DateProblem(StrEnum):
    """Why a typed date was rejected; each renders to one line in either language."""

    EMPTY = "empty"
    UNRECOGNISED = "unrecognised"
    IMPOSSIBLE = "impossible"  # no such month or day: 2027-02-30, 2027-13-01
    AMBIGUOUS = "ambiguous"  # 03/04/2027: 3 April or 4 March?
    SHORT_YEAR = "short-year"  # 27/06/30: which year?
    OUT_OF_RANGE = "out-of-range"
    WEEKDAY_MISMATCH = "weekday-mismatch"  # "Monday, 29 May 2027" (it is a Saturday)


class DateInputError(ValueError):
    """A typed date the bot cannot use; `message(lang)` gives the reason and a form that works."""

    def __init__(self, problem: DateProblem, text: str, **params: int | str) -> None:
        self.problem = problem
        self.text = _echo(text)
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: Lang) -> str:
        """The one-line reason in `lang` ('zh' or 'en'), with an example of a working form."""
        render = _ZH_MESSAGES if lang == "zh" else _EN_MESSAGES
        return render[self.problem](self.text, self.params)

    @property
    def messages(self) -> dict[Lang, str]:
        return {"zh": self.message("zh"), "en": self.message("en")}


def _echo(text: str) -> str:
    """The user's input, shortened to one line for quoting back."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 30 else one_line[:29] + "…"


def _en_month(month: int) -> str:
    return str(get_month_names("wide", locale="en")[month])


def _en_impossible(text: str, p: dict) -> str:
    if not 1 <= int(p["month"]) <= 12:
        return f"There is no month {p['month']}; type the date like {EXAMPLE_EN}."
    return (
        f"{_en_month(int(p['month']))} {p['year']} has no day {p['day']} (it has {p['days']}"
        f" days); type the date like {EXAMPLE_EN}."
    )


def _zh_impossible(text: str, p: dict) -> str:
    if not 1 <= int(p["month"]) <= 12:
        return f"沒有{p['month']}月；請輸入例如 {EXAMPLE_ZH}。"
    return (
        f"{p['year']}年{p['month']}月沒有{p['day']}日（只有{p['days']}天）；"
        f"請輸入例如 {EXAMPLE_ZH}。"
    )


def _readings(p: dict) -> tuple[date, date]:
    """The two dates an ambiguous a/b/yyyy could mean: day first, then month first."""
    return date.fromisoformat(p["day_first"]), date.fromisoformat(p["month_first"])


def _en_ambiguous(text: str, p: dict) -> str:
    day_first, month_first = _readings(p)
    return (
        f"“{text}” could be {day_first.day} {_en_month(day_first.month)} or"
        f" {month_first.day} {_en_month(month_first.month)} {day_first.year};"
        f" write the year first: {day_first} or {month_first}."
    )


def _zh_ambiguous(text: str, p: dict) -> str:
    day_first, month_first = _readings(p)
    return (
        f"「{text}」可能是{day_first.month}月{day_first.day}日，也可能是{month_first.month}月"
        f"{month_first.day}日；請把年份寫在前面：{day_first} 或 {month_first}。"
    )


def _en_weekday(text: str, p: dict) -> str:
    day = date.fromisoformat(p["date"])
    return (
        f"{format_date(day, 'd MMMM y', locale='en')} is a {_weekday_name(day, 'en')}, not a"
        f" {_EN_WEEKDAY_NAMES[int(p['typed'])].capitalize()}; check the date, or type it"
        f" without the weekday: {day}."
    )


def _zh_weekday(text: str, p: dict) -> str:
    day = date.fromisoformat(p["date"])
    return (
        f"{format_date(day, 'long', locale=date_locale('zh'))}是{_weekday_name(day, 'zh')}，"
        f"不是{_ZH_WEEKDAY_NAMES[int(p['typed'])]}；請確認日期，或不寫星期：{day}。"
    )


_EN_MESSAGES = {
    DateProblem.EMPTY: lambda t, p: f"Please type a date, for example {EXAMPLE_EN}.",
    DateProblem.UNRECOGNISED: lambda t, p: (
        f"I can't read “{t}” as a date; type it like {EXAMPLE_EN}."
    ),
    DateProblem.IMPOSSIBLE: _en_impossible,
    DateProblem.AMBIGUOUS: _en_ambiguous,
    DateProblem.SHORT_YEAR: lambda t, p: (
        f"Which year is “{t}”? Write the year in full, like 2027-06-30"
        " (or 116/06/30 for a Republic of China year)."
    ),
    DateProblem.OUT_OF_RANGE: lambda t, p: (
        f"The year {p['year']} is out of range; type the date like {EXAMPLE_EN}."
    ),
    DateProblem.WEEKDAY_MISMATCH: _en_weekday,
}

_ZH_MESSAGES = {
    DateProblem.EMPTY: lambda t, p: f"請輸入日期，例如 {EXAMPLE_ZH}。",
    DateProblem.UNRECOGNISED: lambda t, p: f"無法辨識「{t}」這個日期；請輸入例如 {EXAMPLE_ZH}。",
    DateProblem.IMPOSSIBLE: _zh_impossible,
    DateProblem.AMBIGUOUS: _zh_ambiguous,
    DateProblem.SHORT_YEAR: lambda t, p: (
        f"「{t}」的年份不清楚；請寫完整年份，例如 2027-06-30，或民國年 116/06/30。"
    ),
    DateProblem.OUT_OF_RANGE: lambda t, p: f"{p['year']}年超出範圍；請輸入例如 {EXAMPLE_ZH}。",
    DateProblem.WEEKDAY_MISMATCH: _zh_weekday,
}


# --- Parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateReading:
    """A parsed date and whether the user wrote it with a Republic of China (民國) year."""

    value: date
    roc_year: bool = False


_RELATIVE_DAYS = {
    "today": 0, "今天": 0, "今日": 0,
    "tomorrow": 1, "明天": 1, "明日": 1,
    "yesterday": -1, "昨天": -1, "昨日": -1,
}  # fmt: skip

# Spelled out: the `calendar` module's names follow the process locale.
_EN_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_EN_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EN_MONTHS = {
    name: n for n, full in enumerate(_EN_MONTH_NAMES, start=1) for name in (full, full[:3])
} | {"sept": 9}
_EN_WEEKDAYS = {name: n for n, full in enumerate(_EN_WEEKDAY_NAMES) for name in (full, full[:3])}
_EN_WEEKDAYS |= {"tues": 1, "thur": 3, "thurs": 3}
_ZH_WEEKDAYS = {c: n for n, c in enumerate("一二三四五六日")} | {"天": 6}
_ZH_WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

_LEADING_EN_WEEKDAY = re.compile(r"^(?P<wd>[a-z]+)\.?,?\s+(?=\w)")
_TRAILING_ZH_WEEKDAY = re.compile(
    r"\s*(?:\((?:星期|週|周|禮拜|礼拜)?(?P<a>[一二三四五六日天])\)"
    r"|(?:星期|週|周|禮拜|礼拜)(?P<b>[一二三四五六日天]))$"
)
_ROC_PREFIX = r"(?P<roc>民國|民国|中華民國|中华民国)?\s*"
_CJK_DATE = re.compile(
    rf"^{_ROC_PREFIX}(?P<y>\d{{1,4}})\s*年\s*(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*[日號号]?$"
)
_NUMERIC_DATE = re.compile(  # one separator throughout: 2027/06-30 is more likely a typo
    rf"^{_ROC_PREFIX}(?P<a>\d{{1,4}})\s*(?P<sep>[-/.])\s*(?P<b>\d{{1,2}})"
    r"\s*(?P=sep)\s*(?P<c>\d{1,4})$"
)
_COMPACT_DATE = re.compile(rf"^{_ROC_PREFIX}(?P<digits>\d{{7,8}})$")
_ORDINAL = r"(?:st|nd|rd|th)?"
_GAP = r"[\s\-/.,]*"
_EN_DATES = (
    re.compile(rf"^(?P<d>\d{{1,2}}){_ORDINAL}{_GAP}(?P<mon>[a-z]+)\.?{_GAP}(?P<y>\d{{4}})$"),
    re.compile(rf"^(?P<mon>[a-z]+)\.?{_GAP}(?P<d>\d{{1,2}}){_ORDINAL}{_GAP}(?P<y>\d{{4}})$"),
    re.compile(rf"^(?P<y>\d{{4}}){_GAP}(?P<mon>[a-z]+)\.?{_GAP}(?P<d>\d{{1,2}}){_ORDINAL}$"),
)


def parse_date(text: str, *, today: date) -> date:
    """Read a date typed in any of the forms applicants use (see `read_date`)."""
    return read_date(text, today=today).value


def read_date(text: str, *, today: date) -> DateReading:
    """Read a date typed in any common form, or explain in both languages why it cannot be read.

    Accepts ISO `2027-06-30`, `2027/6/30`, `2027.06.30`, `20270630`, `2027年6月30日`,
    Republic of China years (`116/06/30`, `116年6月30日`, `民國116年6月30日`, `1160630`),
    English (`30 June 2027`, `June 30, 2027`, `30 Jun 2027`), unambiguous day/month orders
    (`30/06/2027`, `06/30/2027`), full-width digits, an optional weekday (checked), and
    today/今天, tomorrow/明天, yesterday/昨天 relative to `today`.

    Raises:
        DateInputError: empty, unreadable, impossible (2027-02-30), ambiguous (03/04/2027),
            two-digit year, out of range, or a weekday that does not match the date.
    """
    folded = _fold(text)
    if not folded:
        raise DateInputError(DateProblem.EMPTY, text)
    if folded in _RELATIVE_DAYS:
        return DateReading(today + timedelta(days=_RELATIVE_DAYS[folded]))
    core, weekday = _split_weekday(folded)
    reading = _read_core(core, text)
    if weekday is not None and reading.value.weekday() != weekday:
        raise DateInputError(
            DateProblem.WEEKDAY_MISMATCH, text, date=reading.value.isoformat(), typed=weekday
        )
    return reading


# Dashes NFKC leaves alone (en dash, minus sign…) but people paste between date parts.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\u30fc", "-"))


def _fold(text: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII), lower case, one space, no end stop."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(_DASHES)
    return " ".join(folded.split()).rstrip("。.!").strip()


def _split_weekday(folded: str) -> tuple[str, int | None]:
    """Separate a leading English or trailing Chinese weekday (as the bot itself prints dates)."""
    lead = _LEADING_EN_WEEKDAY.match(folded)
    if lead and lead["wd"] in _EN_WEEKDAYS:
        return folded[lead.end() :], _EN_WEEKDAYS[lead["wd"]]
    trail = _TRAILING_ZH_WEEKDAY.search(folded)
    if trail:
        return folded[: trail.start()], _ZH_WEEKDAYS[trail["a"] or trail["b"]]
    return folded, None


def _read_core(core: str, text: str) -> DateReading:
    if m := _CJK_DATE.match(core):
        # With 年, a year of up to three digits is the Taiwanese ROC convention (116年 = 2027).
        roc = bool(m["roc"]) or len(m["y"]) <= 3
        return _reading(int(m["y"]), int(m["m"]), int(m["d"]), text, roc=roc)
    if m := _NUMERIC_DATE.match(core):
        return _read_numeric(m, text)
    if m := _COMPACT_DATE.match(core):
        digits = m["digits"]
        if len(digits) == 7:  # 1160630: the compact ROC form of government forms
            return _reading(int(digits[:3]), int(digits[3:5]), int(digits[5:]), text, roc=True)
        if m["roc"]:
            raise DateInputError(DateProblem.UNRECOGNISED, text)
        return _reading(int(digits[:4]), int(digits[4:6]), int(digits[6:]), text, roc=False)
    for pattern in _EN_DATES:
        if (m := pattern.match(core)) and m["mon"] in _EN_MONTHS:
            return _reading(int(m["y"]), _EN_MONTHS[m["mon"]], int(m["d"]), text, roc=False)
    raise DateInputError(DateProblem.UNRECOGNISED, text)


def _read_numeric(m: re.Match[str], text: str) -> DateReading:
    a, b, c = m["a"], int(m["b"]), m["c"]
    if (len(c) > 2 and len(a) > 2) or (m["roc"] and len(c) > 2):
        raise DateInputError(DateProblem.UNRECOGNISED, text)
    if len(a) == 4 or (len(a) == 3 and len(c) <= 2) or (m["roc"] and len(c) <= 2):
        return _reading(int(a), b, int(c), text, roc=bool(m["roc"]) or len(a) <= 3)
    if len(c) == 4 and len(a) <= 2:
        return _day_month_order(int(c), int(a), b, text)
    raise DateInputError(DateProblem.SHORT_YEAR, text)


def _day_month_order(year: int, first: int, second: int, text: str) -> DateReading:
    """`first/second/year`: accept it only when just one reading is a real date (or both agree)."""
    day_first, month_first = _valid(year, second, first), _valid(year, first, second)
    if day_first and month_first and day_first != month_first:
        raise DateInputError(
            DateProblem.AMBIGUOUS,
            text,
            day_first=day_first.isoformat(),
            month_first=month_first.isoformat(),
        )
    if agreed := day_first or month_first:
        return DateReading(agreed)
    # Neither is real: explain the reading whose month exists (31/04/2027: April has 30 days).
    month, day = (second, first) if 1 <= second <= 12 else (first, second)
    return _reading(year, month, day, text, roc=False)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day) if MIN_YEAR <= year <= MAX_YEAR else None
    except ValueError:
        return None


def _reading(year: int, month: int, day: int, text: str, *, roc: bool) -> DateReading:
    """Build the date, turning each impossibility into its own explanation."""
    if roc:
        year += ROC_YEAR_OFFSET
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateInputError(DateProblem.OUT_OF_RANGE, text, year=year)
    if not 1 <= month <= 12:
        raise DateInputError(DateProblem.IMPOSSIBLE, text, year=year, month=month, day=day)
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise DateInputError(
            DateProblem.IMPOSSIBLE, text, year=year, month=month, day=day, days=days
        )
    return DateReading(date(year, month, day), roc_year=roc)


# --- Rendering -----------------------------------------------------------------------------

# Babel's `en` full date is American (Saturday, May 29, 2027); day-first reads the same to every
# English reader and matches how the help desk writes dates.
_EN_FULL_PATTERN = "EEEE, d MMMM y"
# Deadlines are counted in days: "in 45 days", never Babel's rounded "in 2 months".
_DAYS_ONLY = float("inf")
_NEAR_DAYS = {
    "en": {0: "today", 1: "tomorrow", -1: "yesterday"},
    "zh": {0: "今天", 1: "明天", -1: "昨天"},
}


def format_full_date(day: date, lang: str, *, roc_year: bool = False) -> str:
    """The date in full in the user's locale: `2027年5月29日 星期六` / `Saturday, 29 May 2027`.

    Args:
        day: the date.
        lang: a language code ('zh', 'en', 'zh-hans', 'zh-TW'…); see `bot.i18n.date_locale`.
        roc_year: add the Republic of China year, for users who wrote one (`（民國116年）`).
    """
    locale = date_locale(lang)
    chinese = locale != "en"
    text = format_date(day, "full" if chinese else _EN_FULL_PATTERN, locale=locale)
    if roc_year:
        roc = day.year - ROC_YEAR_OFFSET
        text += f"（民國{roc}年）" if chinese else f" (ROC year {roc})"
    return text


def format_relative_day(day: date, lang: str, *, today: date) -> str:
    """How far `day` is from `today`: today, tomorrow, in 12 days, 3 days ago (今天、12 天後…)."""
    locale = date_locale(lang)
    offset = (day - today).days
    near = _NEAR_DAYS["en" if locale == "en" else "zh"]
    if offset in near:
        return near[offset]
    return format_timedelta(
        timedelta(days=offset),
        granularity="day",
        threshold=_DAYS_ONLY,
        add_direction=True,
        locale=locale,
    )


def format_date_and_distance(day: date, lang: str, *, today: date, roc_year: bool = False) -> str:
    """`Saturday, 29 May 2027 (in 12 days)` / `2027年5月29日 星期六（12 天後）` (with the ROC year
    after the date when `roc_year`)."""
    full = format_full_date(day, lang, roc_year=roc_year)
    relative = format_relative_day(day, lang, today=today)
    return f"{full} ({relative})" if date_locale(lang) == "en" else f"{full}（{relative}）"


def _weekday_name(day: date, lang: Lang) -> str:
    return format_date(day, "EEEE", locale=date_locale(lang))
