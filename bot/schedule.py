"""Reminder schedules: on which days before each kind of deadline a reminder goes out (10:00
Asia/Taipei), and which guide step a reminder opens. Pure: the moment it counts from comes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot import deadlines
from bot.dates import TAIPEI
from bot.i18n import Language
from bot.knowledge import Text
from bot.textnorm import Lang

REMIND_AT = time(10, 0)  # Asia/Taipei: office hours, when something can still be done that day


@dataclass(frozen=True)
class Rule:
    """Remind `days_before` days before the kind's date `key` (0: on the day itself; below 0:
    that many days after it), under `name` when the date's own label would not tell it apart."""

    key: str
    days_before: int
    abroad_only: bool = False  # supplement: only when the documents come from abroad
    profile: deadlines.Profile | None = None  # only for this profile (renewal: hk-macau)
    name: Text | None = None


_HK = deadlines.Profile.HK_MACAU
# New rules go at the end of a kind's list: a rule's number names it in buttons already sent.
RULES: dict[str, tuple[Rule, ...]] = {
    "renewal": (
        Rule("window_opens", 0, name=Text(en="Renewal window opens", zh="延期申請開放")),
        Rule("last_day_to_submit", 30, name=Text(
            en="A month left to submit the renewal", zh="延期申請只剩一個月")),
        Rule("last_day_to_submit", 7, name=Text(
            en="A week left to submit the renewal", zh="延期申請只剩一週")),
        Rule("last_day_to_submit", 0),
        # Tutorial 002: Hong Kong and Macau residents apply as soon as the window opens.
        Rule("window_opens", -7, profile=_HK, name=Text(
            en="Renewal window open a week (Hong Kong / Macau: apply early)",
            zh="延期申請已開放一週（港澳居民請盡早申請）")),
        Rule("window_opens", -14, profile=_HK, name=Text(
            en="Renewal window open two weeks (Hong Kong / Macau: apply early)",
            zh="延期申請已開放兩週（港澳居民請盡早申請）")),
    ),
    "supplement": (
        Rule("due", 7),
        Rule("due", 1),
        Rule("final_due", 7, abroad_only=True),
        Rule("final_due", 1, abroad_only=True),
    ),
    "pickup": (Rule("collect_by", 7), Rule("collect_by", 1)),
    "address": (Rule("update_by", 7), Rule("update_by", 1)),
    "passport": (Rule("apply_by", 60), Rule("apply_by", 30)),
    "password": (Rule("change_by", 7),),
}  # fmt: skip
# domestic-stay and processing have nothing to do by a date: no reminders

# The guide (and step) a reminder's button opens: where the thing due is done on the platform.
GUIDE_STEPS: dict[str, tuple[str, int]] = {
    "renewal": ("renew", 1),
    "supplement": ("supplement", 1),
    "pickup": ("progress", 5),  # "Approved — collect your Gold Card"
    "address": ("change", 1),
    "passport": ("change", 1),  # a new passport is a data change
    "password": ("apply", 5),  # the login step, which carries the 90-day rule
}


@dataclass(frozen=True)
class Reminder:
    """One reminder of a saved deadline: `days_before` the kind's date `key` (on `due`).

    (kind, key, days_before) names it among a user's reminders; `lang` is the language of the
    chat when it was scheduled (a language the user chose later wins).
    """

    kind: str
    key: str
    days_before: int
    due: date
    send_at: datetime  # timezone-aware
    lang: Language = "en"

    @property
    def slot(self) -> tuple[str, str, int]:
        return self.kind, self.key, self.days_before


def remindable(kind: str) -> bool:
    """Whether a kind of deadline has reminders at all."""
    return kind in RULES


def has_abroad_choice(kind: str) -> bool:
    """Whether a kind has reminders only for documents that come from abroad (supplement)."""
    return any(rule.abroad_only for rule in RULES.get(kind, ()))


def label(reminder: Reminder, lang: Lang) -> str:
    """What a reminder is about, told apart from the kind's other reminders of the same date
    ("A month left to submit the renewal"); the date's own label where it is the only one."""
    rule = RULES[reminder.kind][rule_number(reminder) - 1]
    name = rule.name or deadlines.KINDS[reminder.kind].output(reminder.key).label
    return name[lang]


def send_time(day: date) -> datetime:
    """The moment reminders go out on `day`, in UTC (how the database stores and compares it)."""
    return datetime.combine(day, REMIND_AT, tzinfo=TAIPEI).astimezone(UTC)


def schedule(
    kind: str,
    given: date,
    *,
    now: datetime,
    lang: Language = "en",
    abroad: bool = False,
    profile: deadlines.Profile | str | None = None,
) -> tuple[Reminder, ...]:
    """The reminders of a saved date still ahead of `now`, soonest first.

    Args:
        kind: a key of `deadlines.KINDS`; kinds without rules get none.
        given: the date the user saved (the kind's input date).
        now: the moment of saving (timezone-aware); reminders at or before it are not scheduled.
        lang: the language to remind in ("en", "zh" or "zh-hans").
        abroad: supplement: the documents come from abroad, so also remind before `final_due`.
        profile: who it is for (renewal: hk-macau adds reminders early in the window).
    """
    rules = RULES.get(kind, ())
    if not rules:
        return ()
    who = deadlines.Profile(profile) if profile else None
    today = now.astimezone(TAIPEI).date()
    dates = dict(deadlines.compute(kind, given, today=today, profile=who).dates())
    reminders = []
    for rule in rules:
        if (rule.abroad_only and not abroad) or (rule.profile is not None and rule.profile != who):
            continue
        due = dates[rule.key]
        send_at = send_time(due - timedelta(days=rule.days_before))
        if send_at > now:
            reminders.append(Reminder(kind, rule.key, rule.days_before, due, send_at, lang))
    return tuple(sorted(reminders, key=lambda r: (r.send_at, r.slot)))


def rule_number(reminder: Reminder) -> int:
    """The 1-based number of the rule that made `reminder` among its kind's rules."""
    rules = RULES[reminder.kind]
    return 1 + next(
        n for n, rule in enumerate(rules) if (rule.key, rule.days_before) == reminder.slot[1:]
    )


def is_abroad_only(reminder: Reminder) -> bool:
    """Whether `reminder` exists only because the documents come from abroad."""
    return RULES[reminder.kind][rule_number(reminder) - 1].abroad_only
