"""Computed deadlines as an applicant takes them away: a readable summary and an iCalendar file.

Both are pure: dates and the moment of export come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from bot.dates import format_date_and_distance, format_full_date
from bot.deadlines import (
    KINDS,
    PROFILE_NAMES,
    Deadlines,
    Duration,
    ProcessingEstimate,
    RenewalStatus,
    RenewalWindow,
)
from bot.knowledge import cite_all
from bot.textnorm import Lang

PRODID = "-//Taiwan Gold Card help desk bot//Deadlines//EN"
UID_DOMAIN = "goldcard-helpdesk"
REMIND_DAYS_BEFORE = 3
_ICS_LANGUAGE = {"zh": "zh-Hant-TW", "en": "en"}


# --- Text ------------------------------------------------------------------------------------


def summary_text(result: Deadlines, lang: Lang, *, today: date) -> str:
    """A few lines for the terminal or a chat message: every date in full, with how far off it is.

    Args:
        result: computed deadlines of any kind.
        lang: 'zh' or 'en'.
        today: the day distances are counted from (Asia/Taipei).
    """
    kind, colon = KINDS[result.kind], _colon(lang)
    given = format_date_and_distance(result.given, lang, today=today)
    given_label = kind.given_label[lang]
    lines = [kind.title[lang], f"{given_label[:1].upper()}{given_label[1:]}{colon}{given}"]
    for key, day in result.dates():
        if key == "expires_on":
            continue  # the card expiry is the input line already
        label = kind.output(key)
        lines.append(
            f"• {label.label[lang]}{colon}{format_date_and_distance(day, lang, today=today)}"
        )
        lines.append(f"  {label.about[lang]}")
    if isinstance(result, RenewalWindow):
        lines.append(_renewal_status_line(result, lang))
    if isinstance(result, ProcessingEstimate):
        lines.extend(_stage_lines(result, lang))
    lines.append(f"{'來源' if lang == 'zh' else 'Source'}{colon}{cite_all(kind.sources, lang)}")
    return "\n".join(lines)


_RENEWAL_STATUS_TEXT: dict[Lang, dict[RenewalStatus, str]] = {
    "en": {
        RenewalStatus.TOO_EARLY: "Status today: too early; renewal opens on {opens}.",
        RenewalStatus.OPEN: "Status today: open; submit by {last}.",
        RenewalStatus.LOCKED: (
            "Status today: locked; too late to renew online (the card expires {expires})."
        ),
        RenewalStatus.EXPIRED: "Status today: expired; the card cannot be renewed, apply again.",
    },
    "zh": {
        RenewalStatus.TOO_EARLY: "今天的狀態：尚未開放，{opens}起可申請延期。",
        RenewalStatus.OPEN: "今天的狀態：可以申請延期，最晚請於{last}提交。",
        RenewalStatus.LOCKED: "今天的狀態：系統已鎖定，無法再線上申請延期；金卡於{expires}到期。",
        RenewalStatus.EXPIRED: "今天的狀態：金卡已到期，無法延期，請重新申請。",
    },
}


def _renewal_status_line(window: RenewalWindow, lang: Lang) -> str:
    return _RENEWAL_STATUS_TEXT[lang][window.status].format(
        opens=format_full_date(window.window_opens, lang),
        last=format_full_date(window.last_day_to_submit, lang),
        expires=format_full_date(window.expires_on, lang),
    )


def _stage_lines(estimate: ProcessingEstimate, lang: Lang) -> list[str]:
    profile = PROFILE_NAMES[estimate.profile][lang]
    head = f"計入的審查階段（{profile}）：" if lang == "zh" else f"Stages counted ({profile}):"
    return [head] + [
        f"  – {s.stage.name[lang]}{_colon(lang)}{duration_text(s.stage.duration, lang)}"
        for s in estimate.stages
    ]


def _colon(lang: Lang) -> str:
    return "：" if lang == "zh" else ": "


def duration_text(duration: Duration, lang: Lang) -> str:
    """`1–2 weeks` / `about 1 week` / `1–2個月` / `約1週`."""
    if lang == "zh":
        unit = {"day": "天", "week": "週", "month": "個月"}[duration.unit]
        if duration.low == duration.high:
            return f"約{duration.low}{unit}"
        return f"{duration.low}–{duration.high}{unit}"
    plural = "" if duration.high == 1 else "s"
    if duration.low == duration.high:
        return f"about {duration.low} {duration.unit}{plural}"
    return f"{duration.low}–{duration.high} {duration.unit}{plural}"


# --- iCalendar -------------------------------------------------------------------------------


def event_uid(kind: str, key: str, day: date) -> str:
    """Stable per deadline in any language: re-importing updates events, never duplicates them."""
    return f"{kind}-{key}-{day:%Y%m%d}@{UID_DOMAIN}"


def deadlines_ics(
    results: Iterable[Deadlines],
    lang: Lang,
    *,
    generated_at: datetime,
    remind_days_before: int = REMIND_DAYS_BEFORE,
) -> bytes:
    """An iCalendar file with one all-day event, and a reminder alarm, per computed date.

    Args:
        results: computed deadlines, of one or several kinds.
        lang: the language of summaries and descriptions ('zh' or 'en').
        generated_at: the export time (DTSTAMP), timezone-aware.
        remind_days_before: when the alarm fires, in days before the event.
    """
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "就業金卡期限" if lang == "zh" else "Gold Card deadlines")
    for result in results:
        for key, day in result.dates():
            cal.add_component(
                _event(result.kind, key, day, lang, generated_at, remind_days_before)
            )
    return cal.to_ical()


def _event(
    kind_name: str, key: str, day: date, lang: Lang, stamp: datetime, remind_days_before: int
) -> Event:
    kind, language = KINDS[kind_name], {"LANGUAGE": _ICS_LANGUAGE[lang]}
    label = kind.output(key)
    summary = f"{kind.title[lang]}{_colon(lang)}{label.label[lang]}"
    sources = "\n".join(source.cite(lang) for source in kind.sources)
    event = Event()
    event.add("uid", event_uid(kind_name, key, day))
    event.add("dtstamp", stamp)
    event.add("dtstart", day)  # a date, not a datetime: an all-day event
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary, parameters=language)
    event.add("description", f"{label.about[lang]}\n{sources}", parameters=language)
    event.add("transp", "TRANSPARENT")  # a deadline does not make the day busy
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", timedelta(days=-remind_days_before))
    event.add_component(alarm)
    return event
