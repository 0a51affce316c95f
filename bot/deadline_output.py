"""Computed deadlines as an applicant takes them away: a readable summary and an iCalendar file.

Both are pure: dates and the moment of export come in as arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from bot.dates import format_date_and_distance, format_full_date
from bot.deadlines import (
    KINDS,
    PROFILE_NAMES,
    Deadlines,
    Duration,
    ProcessingEstimate,
    Profile,
    RenewalStatus,
    RenewalWindow,
)
from bot.knowledge import cite_all
from bot.simplified import to_simplified
from bot.textnorm import Lang

PRODID = "-//Taiwan Gold Card help desk bot//Deadlines//EN"
UID_DOMAIN = "goldcard-helpdesk"
REMIND_DAYS_BEFORE = 3
_ICS_LANGUAGE = {"zh": "zh-Hant-TW", "en": "en"}
_ICS_HANS = "zh-Hans-CN"


# --- Text ------------------------------------------------------------------------------------


def summary_text(
    result: Deadlines,
    lang: Lang,
    *,
    today: date,
    roc_year: bool = False,
    given_as: str | None = None,
) -> str:
    """A few lines for the terminal or a chat message: every date in full, with how far off it is;
    a deadline already passed says so plainly, with what follows.

    Args:
        result: computed deadlines of any kind.
        lang: 'zh' or 'en'.
        today: the day distances are counted from (Asia/Taipei).
        roc_year: the date was given with a Republic of China year: show those years too.
        given_as: the option the input date came as (processing: `submitted`); default the kind's.
    """
    kind, colon = KINDS[result.kind], _colon(lang)

    def when(day: date) -> str:
        return format_date_and_distance(day, lang, today=today, roc_year=roc_year)

    given_label = kind.given_as(given_as or kind.given)[lang]
    lines = [kind.title[lang], f"{given_label[:1].upper()}{given_label[1:]}{colon}"
             f"{when(result.given)}"]  # fmt: skip
    for key, day in result.dates():
        if key == "expires_on":
            continue  # the card expiry is the input line already
        label = kind.output(key)
        if label.deadline and day < today:
            full = format_full_date(day, lang, roc_year=roc_year)
            lines.append(f"• {label.label[lang]}{colon}{full}{_PASSED[lang]}")
            lines.append(f"  {(label.passed or label.about)[lang]}")
            continue
        lines.append(f"• {label.label[lang]}{colon}{when(day)}")
        lines.append(f"  {label.about[lang]}")
    if isinstance(result, RenewalWindow):
        lines.append(_renewal_status_line(result, lang, roc_year=roc_year))
    if isinstance(result, ProcessingEstimate):
        lines.extend(_stage_lines(result, lang))
    lines.append(f"{'來源' if lang == 'zh' else 'Source'}{colon}{cite_all(kind.sources, lang)}")
    return "\n".join(lines)


_PASSED: dict[Lang, str] = {"en": " — this deadline has passed.", "zh": "——這個期限已經過了。"}

# The help desk, as the contact-help-desk answer gives it (a test keeps the two the same).
HELP_DESK = {
    "en": "the Taiwan Gold Card Office (phone +886-2-7733-7660, email help@taiwangoldcard.tw,"
    " https://goldcard.nat.gov.tw/zh/help-desk/)",
    "zh": "台灣就業金卡辦公室（電話 +886-2-7733-7660，電子郵件 help@taiwangoldcard.tw，"
    "https://goldcard.nat.gov.tw/zh/help-desk/）",
}
# Tutorial 002: locked from 1 month before expiry, no extension after; an expired card applies
# again (「重新申請」) through 就業金卡申請或重新申請 — the apply guide's flow.
_APPLY_AGAIN = {
    "en": "apply again through Online Application (線上申辦) > Gold Card application or"
    " re-application (就業金卡申請或重新申請); the apply guide shows each step."
    " With questions, contact {desk}.",
    "zh": "請於「線上申辦」>「就業金卡申請或重新申請」重新申請，申請指南有每一步的說明。"
    "如有疑問，請洽{desk}。",
}
_RENEWAL_STATUS_TEXT: dict[Lang, dict[RenewalStatus, str]] = {
    "en": {
        RenewalStatus.TOO_EARLY: "Status today: too early; renewal opens on {opens}.",
        RenewalStatus.OPEN: "Status today: open; submit by {last}.",
        RenewalStatus.LOCKED: (
            "Status today: locked. Once locked, a renewal can no longer be submitted and the card"
            " cannot be extended. After it expires on {expires}, " + _APPLY_AGAIN["en"]
        ),
        RenewalStatus.EXPIRED: (
            "Status today: expired; the card cannot be extended, so " + _APPLY_AGAIN["en"]
        ),
    },
    "zh": {
        RenewalStatus.TOO_EARLY: "今天的狀態：尚未開放，{opens}起可申請延期。",
        RenewalStatus.OPEN: "今天的狀態：可以申請延期，最晚請於{last}提交。",
        RenewalStatus.LOCKED: (
            "今天的狀態：系統已鎖定，無法再提交延期申請；鎖定後就無法再延期。金卡於{expires}到期後，"
            + _APPLY_AGAIN["zh"]
        ),
        RenewalStatus.EXPIRED: "今天的狀態：金卡已到期，無法延期。" + _APPLY_AGAIN["zh"],
    },
}
# Tutorial 002: Hong Kong and Macau cases cannot be expedited; the review takes 1–2 months at
# least, so they apply as soon as the window opens.
_HK_MACAU_TEXT: dict[Lang, str] = {
    "en": "Hong Kong or Macau resident: apply as soon as the window opens ({opens}). Hong Kong and"
    " Macau cases cannot be expedited, and the review takes at least 1–2 months.",
    "zh": "港澳人士：請在開放申請後盡快申請（{opens}起）。港澳申請案無法加速審核，整個過程至少需要"
    "1–2個月。",
}


def _renewal_status_line(window: RenewalWindow, lang: Lang, *, roc_year: bool = False) -> str:
    dates = {
        "opens": format_full_date(window.window_opens, lang, roc_year=roc_year),
        "last": format_full_date(window.last_day_to_submit, lang, roc_year=roc_year),
        "expires": format_full_date(window.expires_on, lang, roc_year=roc_year),
        "desk": HELP_DESK[lang],
    }
    line = _RENEWAL_STATUS_TEXT[lang][window.status].format(**dates)
    early = window.status in (RenewalStatus.TOO_EARLY, RenewalStatus.OPEN)
    if window.profile is Profile.HK_MACAU and early:
        line += "\n" + _HK_MACAU_TEXT[lang].format(**dates)
    return line


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
    hans: bool = False,
) -> bytes:
    """An iCalendar file with one all-day event, and a reminder alarm, per computed date.

    Args:
        results: computed deadlines, of one or several kinds.
        lang: the language of summaries and descriptions ('zh' or 'en').
        generated_at: the export time (DTSTAMP), timezone-aware.
        remind_days_before: when the alarm fires, in days before the event.
        hans: Chinese texts in 简体, derived from the Traditional (`bot.simplified`).
    """
    shown = to_simplified if hans and lang == "zh" else str
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", shown("就業金卡期限") if lang == "zh" else "Gold Card deadlines")
    for result in results:
        for key, day in result.dates():
            event = _event(result.kind, key, day, lang, generated_at, remind_days_before, shown)
            cal.add_component(event)
    return cal.to_ical()


def _event(
    kind_name: str,
    key: str,
    day: date,
    lang: Lang,
    stamp: datetime,
    remind_days_before: int,
    shown: Callable[[str], str],
) -> Event:
    code = _ICS_LANGUAGE[lang] if shown is str else _ICS_HANS
    kind, language = KINDS[kind_name], {"LANGUAGE": code}
    label = kind.output(key)
    summary = shown(f"{kind.title[lang]}{_colon(lang)}{label.label[lang]}")
    sources = shown("\n".join(source.cite(lang) for source in kind.sources))
    event = Event()
    event.add("uid", event_uid(kind_name, key, day))
    event.add("dtstamp", stamp)
    event.add("dtstart", day)  # a date, not a datetime: an all-day event
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary, parameters=language)
    event.add("description", f"{shown(label.about[lang])}\n{sources}", parameters=language)
    event.add("transp", "TRANSPARENT")  # a deadline does not make the day busy
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", timedelta(days=-remind_days_before))
    event.add_component(alarm)
    return event
