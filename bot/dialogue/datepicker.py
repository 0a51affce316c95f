"""The date picker under every date prompt: a month as an inline keyboard (a year row, the month's
neighbours, weekday headers, the days with today marked). Its texts come from Babel for the
user's locale, so a new display language needs no change here; pressing a day is answered by
`router` as the typed date, navigating by `calculators`, which owns the prompt."""

from __future__ import annotations

import calendar
from datetime import date

from babel import Locale
from babel.dates import format_skeleton, get_day_names

from bot import callbacks as cb
from bot.dates import MAX_YEAR, MIN_YEAR
from bot.deadlines import add_months
from bot.dialogue.core import Button, Turn
from bot.i18n import date_locale

# Months from today the picker opens on, by kind: an expiry date is ahead, when a user asks;
# every other kind counts from a day just past (a notice, an entry, a move, a payment).
OPENS_AHEAD = {
    "renewal": 4,  # the renewal window opens 4 months before the card expires
    "passport": 6,  # a passport must keep 6 months' validity
}
YEARS_SHOWN = 5  # the year row: the shown year in the middle, two either side
TODAY_MARK = "[{day}]"
BLANK = "·"  # Telegram refuses an empty button; the cells before the 1st and after the last


def opening_month(kind: str, today: date) -> date:
    """The 1st of the month the picker opens on for `kind`."""
    return add_months(today.replace(day=1), OPENS_AHEAD.get(kind, 0))


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def in_range(month: date) -> bool:
    """A month the picker may show: the years a date may have (`bot.dates`)."""
    return MIN_YEAR <= month.year <= MAX_YEAR


def title(month: date, lang: str) -> str:
    """`June 2027` / `2027年6月`, as the user's locale writes a month."""
    return format_skeleton("yMMMM", month, locale=date_locale(lang))


def picker_rows(
    turn: Turn, kind: str, profile: str | None, month: date
) -> list[tuple[Button, ...]]:
    """The keyboard of `month` (its 1st) for a calculator of `kind` waiting for its date."""
    locale = date_locale(turn.lang)  # zh_Hans_CN for a 简体 reader (`bot.i18n.showing`)

    def show(target: date) -> str:
        return cb.encode(cb.DatePickerMonth(kind, target, profile))

    here = show(month)
    years = []
    for year in range(month.year - YEARS_SHOWN // 2, month.year + YEARS_SHOWN // 2 + 1):
        if not MIN_YEAR <= year <= MAX_YEAR:
            continue
        label = format_skeleton("y", date(year, 1, 1), locale=locale)
        shown = month.replace(year=year)
        years.append(Button(f"·{label}·" if year == month.year else label, data=show(shown)))
    earlier, later = add_months(month, -1), add_months(month, 1)
    moves = [Button(title(month, turn.lang), data=here)]
    if in_range(earlier):
        moves.insert(0, Button("◀️ " + _short_month(earlier, locale), data=show(earlier)))
    if in_range(later):
        moves.append(Button(_short_month(later, locale) + " ▶️", data=show(later)))
    first_weekday = Locale.parse(locale).first_week_day  # Monday 0 … Sunday 6
    names = get_day_names("short", locale=locale)
    headers = tuple(Button(str(names[(first_weekday + i) % 7]), data=here) for i in range(7))
    weeks = calendar.Calendar(first_weekday).monthdayscalendar(month.year, month.month)
    days = [
        tuple(
            Button(BLANK, data=here) if day == 0 else _day(turn, kind, profile, month, day)
            for day in week
        )
        for week in weeks
    ]
    return [tuple(years), tuple(moves), headers, *days]


def _short_month(month: date, locale: str) -> str:
    return format_skeleton("MMM", month, locale=locale)


def _day(turn: Turn, kind: str, profile: str | None, month: date, number: int) -> Button:
    day = month.replace(day=number)
    label = TODAY_MARK.format(day=number) if day == turn.today else str(number)
    return Button(label, data=cb.encode(cb.DatePickerDay(kind, day, profile)))
