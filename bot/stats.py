"""The help desk's figures: anonymous counters per day, event, language and key, and the weekly
report `/stats` and `python -m bot stats` show.

Counting: `count(session, event=…, lang=…, key=…)` adds one to a counter in the caller's
transaction (the engine's effects are counted by `storage.converse` in the transaction that stores
the reply's state); `count_now(db, …)` is the same in a transaction of its own, for code that has
none. A counter holds no user id and no question text, only a day (Asia/Taipei), an event, a
language and a key (a topic, guide, calculator kind or reason), so /forget has nothing to delete
here. A counter that cannot be written is logged and left out: counting never fails what it counts.
"""

from __future__ import annotations

import html
import io
import logging
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot.dates import TAIPEI, format_full_date, taipei_today
from bot.i18n import render
from bot.models import Feedback, StatCounter
from bot.textnorm import Lang

log = logging.getLogger(__name__)

# --- the events counted (`StatCounter.event`) and what their key is ----------------------------

MESSAGE = "message"  # a typed message (a question, or text a prompt waited for)
ANSWERED = "answered"  # answered directly; key: the topic
CHOSEN = "chosen"  # answered after "did you mean", the user's choice; key: the topic
DID_YOU_MEAN = "did_you_mean"  # "did you mean" offered
NONE_OF_THESE = "none_of_these"  # "None of these" pressed at "did you mean"
DECLINED = "declined"  # the honest "I don't know"; key: "no-match" or "out-of-scope"
HANDED_OFF = "handed_off"  # handed to a person (a handoff ticket opened)
# The applicant's answer to "was this helpful?" after the help desk closed their request.
HANDOFF_HELPFUL = "handoff_helpful"
HANDOFF_UNHELPFUL = "handoff_unhelpful"
GUIDE_STARTED = "guide_started"  # a guide entered (overview, a step, a deep link); key: guide
GUIDE_FINISHED = "guide_finished"  # a guide's last step done; key: the guide
CALCULATOR = "calculator"  # a deadline computed; key: the kind
REMINDER_SENT = "reminder_sent"  # key: the deadline kind
REMINDER_FAILED = "reminder_failed"  # failed for good; key: the deadline kind
REMINDER_SKIPPED = "reminder_skipped"  # not worth sending (deadline passed, user blocked the bot)
REMINDER_CANCELLED = "reminder_cancelled"  # by the user, or by a block; key: the deadline kind
ACTIVE_USER = "active_user"  # a user's first event of the week (Monday, Asia/Taipei)
EVENTS = (
    MESSAGE,
    ANSWERED,
    CHOSEN,
    DID_YOU_MEAN,
    NONE_OF_THESE,
    DECLINED,
    HANDED_OFF,
    HANDOFF_HELPFUL,
    HANDOFF_UNHELPFUL,
    GUIDE_STARTED,
    GUIDE_FINISHED,
    CALCULATOR,
    REMINDER_SENT,
    REMINDER_FAILED,
    REMINDER_SKIPPED,
    REMINDER_CANCELLED,
    ACTIVE_USER,
)
MAX_KEY = 40
# Rows per counter and day. On PostgreSQL an upsert holds its row until the transaction commits,
# so one row per counter would queue every worker's reply behind it; a random shard of 8 does not.
SHARDS = 8


@dataclass(frozen=True, order=True)
class Tally:
    """One thing to count: `event` (one of EVENTS) in `lang`, per `key` ("" when none)."""

    event: str
    lang: str
    key: str = ""


def count(
    session: Session,
    *,
    event: str,
    lang: str,
    key: str = "",
    day: date | None = None,
    n: int = 1,
) -> None:
    """Add `n` to the counter of `event` in `lang` (per `key`) on `day` (Asia/Taipei; default
    today), in the caller's transaction. Never raises for the database: see `count_all`."""
    count_all(session, [Tally(event, lang, key)] * n, day=day)


def count_all(session: Session, tallies: Iterable[Tally], *, day: date | None = None) -> None:
    """Count each of `tallies` once, in the caller's transaction, under a savepoint.

    A database error while counting rolls back to the savepoint and is logged: the caller's own
    writes and its commit go on. Counters are written in one order (sorted), so two transactions
    counting the same events never wait for each other in a cycle. Call it last in a
    transaction: the counter rows stay locked until the commit.
    """
    totals: dict[Tally, int] = {}
    for tally in tallies:
        if tally.event not in EVENTS:
            raise ValueError(f"unknown event {tally.event!r}")
        totals[tally] = totals.get(tally, 0) + 1
    if not totals:
        return
    day = day or taipei_today()
    session.flush()  # the caller's pending rows: their errors are the caller's, not ours
    shard = random.randrange(SHARDS)
    try:
        with session.begin_nested():
            for tally, n in sorted(totals.items()):
                session.execute(_upsert(session, tally, day=day, shard=shard, n=n))
    except DBAPIError as exc:
        log.warning("counting %s failed (nothing else is affected): %s", sorted(totals), exc.orig)


def count_now(
    db: Engine, *, event: str, lang: str, key: str = "", day: date | None = None, n: int = 1
) -> None:
    """`count` in a transaction of its own, for code that has none; logs and never raises for
    the database."""
    try:
        with Session(db) as session:
            count(session, event=event, lang=lang, key=key, day=day, n=n)
            session.commit()
    except DBAPIError as exc:
        log.warning("counting %s failed: %s", event, exc.orig)


def _upsert(session: Session, tally: Tally, *, day: date, shard: int, n: int):  # type: ignore[no-untyped-def]
    """INSERT the counter, or add to it if it exists (one statement on both databases)."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert(StatCounter).values(
        day=day, event=tally.event, lang=tally.lang, key=tally.key[:MAX_KEY], shard=shard, n=n
    )
    return statement.on_conflict_do_update(
        index_elements=["day", "event", "lang", "key", "shard"],
        set_={"n": StatCounter.n + statement.excluded.n},
    )


# --- reading -----------------------------------------------------------------------------------


def totals(
    db: Engine, *, since: date | None = None, until: date | None = None
) -> dict[tuple[date, str, str, str], int]:
    """The counters from `since` up to and including `until` (both optional), their shards
    added up: {(day, event, lang, key): n}."""
    statement = select(
        StatCounter.day,
        StatCounter.event,
        StatCounter.lang,
        StatCounter.key,
        func.sum(StatCounter.n),
    ).group_by(StatCounter.day, StatCounter.event, StatCounter.lang, StatCounter.key)
    if since is not None:
        statement = statement.where(StatCounter.day >= since)
    if until is not None:
        statement = statement.where(StatCounter.day <= until)
    with Session(db) as session:
        return {
            (day, event, lang, key): int(n) for day, event, lang, key, n in session.exec(statement)
        }


# --- the weekly report -------------------------------------------------------------------------

DEFAULT_WEEKS = 8  # what `/stats` and `python -m bot stats` cover without --since
TOP_TOPICS = 10
LANGS_SHOWN = ("en", "zh")  # always shown, each apart, even in a week without a message


@dataclass
class Figures:
    """One week's figures in one language."""

    messages: int = 0
    answered: int = 0  # directly
    chosen: int = 0  # answered after "did you mean"
    did_you_mean: int = 0
    none_of_these: int = 0
    declined: dict[str, int] = field(default_factory=dict)  # by reason
    handed_off: int = 0
    handoff_helpful: int = 0  # "was this helpful?" after a person answered: yes
    handoff_unhelpful: int = 0  # …: no
    active_users: int = 0
    feedback: dict[str, dict[str, int]] = field(default_factory=dict)  # topic: {"up", "down"}
    topics: dict[str, int] = field(default_factory=dict)  # answered + chosen, by topic
    guides: dict[str, dict[str, int]] = field(default_factory=dict)  # {"started", "finished"}
    calculators: dict[str, int] = field(default_factory=dict)
    reminders: dict[str, int] = field(
        default_factory=lambda: {"sent": 0, "failed": 0, "skipped": 0, "cancelled": 0}
    )

    @property
    def declined_total(self) -> int:
        return sum(self.declined.values())

    @property
    def top_topics(self) -> list[tuple[str, int]]:
        return sorted(self.topics.items(), key=lambda item: (-item[1], item[0]))[:TOP_TOPICS]

    def as_json(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "answered": self.answered,
            "answered_after_did_you_mean": self.chosen,
            "did_you_mean": self.did_you_mean,
            "none_of_these": self.none_of_these,
            "declined": self.declined_total,
            "declined_by_reason": dict(sorted(self.declined.items())),
            "handed_off": self.handed_off,
            "handoff_helpful": self.handoff_helpful,
            "handoff_unhelpful": self.handoff_unhelpful,
            "active_users": self.active_users,
            "feedback": dict(sorted(self.feedback.items())),
            "top_topics": [{"topic": t, "count": n} for t, n in self.top_topics],
            "guides": dict(sorted(self.guides.items())),
            "calculators": dict(sorted(self.calculators.items())),
            "reminders": self.reminders,
        }


@dataclass
class Week:
    monday: date
    languages: dict[str, Figures]


@dataclass
class Report:
    """The figures per week (Monday to Sunday, Asia/Taipei) from `since`'s week to `until`'s."""

    since: date
    until: date
    weeks: list[Week]

    def as_json(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "weeks": [
                {
                    "week": week.monday.isoformat(),
                    "languages": {lang: f.as_json() for lang, f in week.languages.items()},
                }
                for week in self.weeks
            ],
        }


def monday(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def default_since(today: date) -> date:
    return monday(today) - timedelta(weeks=DEFAULT_WEEKS - 1)


def weekly(db: Engine, *, since: date | None = None, until: date | None = None) -> Report:
    """The weekly report from the counters and the anonymous 👍/👎 (`feedback`) rows: every
    week from `since`'s (default: the last DEFAULT_WEEKS weeks) to `until`'s (default: today)."""
    until = until or taipei_today()
    first = monday(since or default_since(until))
    weeks = {
        first + timedelta(weeks=n): Week(first + timedelta(weeks=n), {})
        for n in range((monday(until) - first).days // 7 + 1)
    }

    def figures(day: date, lang: str) -> Figures:
        week = weeks[monday(day)]
        return week.languages.setdefault(lang, Figures())

    for week in weeks.values():
        for lang in LANGS_SHOWN:
            week.languages[lang] = Figures()
    last = monday(until) + timedelta(days=6)
    for (day, event, lang, key), n in totals(db, since=first, until=last).items():
        _add(figures(day, lang), event, key, n)
    for day, topic, helpful, lang in _feedback(db, since=first, until=last):
        votes = figures(day, lang).feedback.setdefault(topic, {"up": 0, "down": 0})
        votes["up" if helpful else "down"] += 1
    return Report(first, until, list(weeks.values()))


def _add(f: Figures, event: str, key: str, n: int) -> None:
    """Add a counter of `event` (per `key`) to one week's figures in one language."""
    if event == MESSAGE:
        f.messages += n
    elif event in (ANSWERED, CHOSEN):
        if event == ANSWERED:
            f.answered += n
        else:
            f.chosen += n
        f.topics[key] = f.topics.get(key, 0) + n
    elif event == DID_YOU_MEAN:
        f.did_you_mean += n
    elif event == NONE_OF_THESE:
        f.none_of_these += n
    elif event == DECLINED:
        f.declined[key] = f.declined.get(key, 0) + n
    elif event == HANDED_OFF:
        f.handed_off += n
    elif event == HANDOFF_HELPFUL:
        f.handoff_helpful += n
    elif event == HANDOFF_UNHELPFUL:
        f.handoff_unhelpful += n
    elif event == ACTIVE_USER:
        f.active_users += n
    elif event in (GUIDE_STARTED, GUIDE_FINISHED):
        guide = f.guides.setdefault(key, {"started": 0, "finished": 0})
        guide["started" if event == GUIDE_STARTED else "finished"] += n
    elif event == CALCULATOR:
        f.calculators[key] = f.calculators.get(key, 0) + n
    elif event.startswith("reminder_"):
        outcome = event.removeprefix("reminder_")
        f.reminders[outcome] = f.reminders.get(outcome, 0) + n


def _feedback(db: Engine, *, since: date, until: date) -> list[tuple[date, str, bool, str]]:
    """(day, topic, helpful, lang) of every 👍/👎 from `since` to `until` (Asia/Taipei days);
    the redacted question is not read."""
    start = datetime.combine(since, time(), tzinfo=TAIPEI)
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=TAIPEI)
    statement = select(Feedback.created_at, Feedback.topic, Feedback.helpful, Feedback.lang).where(
        Feedback.created_at >= start,  # type: ignore[operator]
        Feedback.created_at < end,  # type: ignore[operator]
    )
    with Session(db) as session:
        return [
            (_taipei_day(at), topic, helpful, lang)
            for at, topic, helpful, lang in session.exec(statement)
        ]


def _taipei_day(moment: datetime) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: stored in UTC
    return aware.astimezone(TAIPEI).date()


# --- the report as text and as a chart ---------------------------------------------------------


def report_html(report: Report, lang: Lang) -> str:
    """The report as Telegram HTML in `lang` (the staff member's), newest week first; a week
    without any figure is one line."""
    return render(
        "stats.html",
        lang,
        since=format_full_date(report.since, lang),
        until=format_full_date(report.until, lang),
        weeks=[
            (
                format_full_date(week.monday, lang),
                [
                    (LANGUAGE_LABELS.get(code, code), f)
                    for code, f in week.languages.items()
                    if _any(f)
                ],
            )
            for week in reversed(report.weeks)
        ],
    )


def report_text(report: Report) -> str:
    """The report as plain English text (`python -m bot stats`)."""
    return html.unescape(re.sub(r"<[^>]+>", "", report_html(report, "en"))).strip()


LANGUAGE_LABELS = {"en": "English", "zh": "中文"}


def _any(f: Figures) -> bool:
    return f != Figures()


# Series the chart plots per week: (label, how it is read off a week's figures).
CHART_SERIES = (
    ("answered", lambda f: f.answered),
    ("after did-you-mean", lambda f: f.chosen),
    ("did-you-mean", lambda f: f.did_you_mean),
    ("declined", lambda f: f.declined_total),
    ("handed off", lambda f: f.handed_off),
)


def chart_png(report: Report) -> bytes:
    """The report as a PNG chart: per week and language, answered / after did-you-mean /
    did-you-mean / declined / handed off; and the topics with the most 👎 over the period.

    matplotlib is imported here, not at start-up: most processes never draw a chart. Labels are
    ASCII (language codes, topic ids): the default fonts have no CJK or emoji glyphs.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 9), dpi=100, layout="constrained")
    axes = figure.subplots(3, 1)
    labels = [f"{week.monday:%m-%d}" for week in report.weeks]
    positions = range(len(report.weeks))
    for ax, lang in zip(axes[:2], LANGS_SHOWN, strict=True):
        width = 0.8 / len(CHART_SERIES)
        highest = 0
        for n, (name, read) in enumerate(CHART_SERIES):
            values = [read(week.languages[lang]) for week in report.weeks]
            highest = max(highest, *values)
            offset = (n - (len(CHART_SERIES) - 1) / 2) * width
            ax.bar([p + offset for p in positions], values, width, label=name)
        ax.set_ylim(0, highest * 1.3 + 1)  # room for the legend above the bars
        ax.set_title(f"{lang}: questions per week (week starting)")
        ax.set_xticks(list(positions), labels)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="upper left", fontsize="small", ncols=len(CHART_SERIES))
    down: dict[str, dict[str, int]] = {}
    for week in report.weeks:
        for lang, f in week.languages.items():
            for topic, votes in f.feedback.items():
                by_lang = down.setdefault(topic, {})
                by_lang[lang] = by_lang.get(lang, 0) + votes["down"]
    worst = sorted(
        (t for t in down if sum(down[t].values())), key=lambda t: (-sum(down[t].values()), t)
    )[:TOP_TOPICS]
    ax = axes[2]
    ax.set_title("not helpful (thumbs down) by topic, whole period")
    if worst:
        left = [0] * len(worst)
        for lang in LANGS_SHOWN:
            values = [down[t].get(lang, 0) for t in worst]
            ax.barh(list(reversed(worst)), list(reversed(values)), left=list(reversed(left)),
                    label=lang)  # fmt: skip
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="lower right", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no thumbs down in this period", ha="center", va="center")
        ax.set_axis_off()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
