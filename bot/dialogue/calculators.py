"""Deadline calculators: pick a kind (and who applies, for processing times), type the date it
counts from or pick it in the date picker under the prompt, see the deadlines, save them or get
a calendar file; /deadlines lists the saved ones. `d_<kind>` deep links open a calculator."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time

from bot import callbacks as cb
from bot import deadlines, links, schedule, stats
from bot.dates import (
    EXAMPLE_EN,
    EXAMPLE_ZH,
    TAIPEI,
    DateInputError,
    format_full_date,
    read_date,
)
from bot.deadline_output import deadlines_ics, summary_text
from bot.dialogue import datepicker
from bot.dialogue.core import (
    Button,
    Dispatcher,
    Document,
    Outcome,
    Reply,
    SavedDate,
    State,
    Turn,
)
from bot.dialogue.menus import expired, menu_row
from bot.dialogue.reminders import remind_rows, reminders_replaced, with_reminders
from bot.textnorm import LANGS, Lang

_DIGIT = re.compile(r"\d")


def register(d: Dispatcher) -> None:
    d.add_command("deadlines", lambda t, s, arg: ([my_deadlines(t, s)], s))
    d.add_button(cb.MyDeadlines, lambda t, s, a: ([my_deadlines(t, s, edit=True)], s))
    d.add_button(cb.DeadlineKinds, lambda t, s, a: ([deadline_kinds(t, edit=True)], s))
    d.add_button(cb.DeadlineKind, on_deadline_kind)
    d.add_button(cb.SaveDeadline, save_deadline)
    d.add_button(cb.CalendarFile, calendar_file)
    d.add_button(cb.SavedCalendarFile, saved_calendar_file)
    d.add_button(cb.DeleteDeadline, delete_deadline)
    d.add_button(cb.DatePickerMonth, picker_month)
    d.add_link(links.DeadlineLink, lambda t, s, link: deadline_start(t, s, link.kind, None))
    d.add_awaited("date", date_typed)
    d.add_awaited("again", another_date)


def my_deadlines(turn: Turn, state: State, *, edit: bool = False, note: str = "") -> Reply:
    saved = [summary(turn, s).partition("\n")[::2] for s in state.saved]
    text = turn.render("my_deadlines.html", saved=saved, note=note)
    rows: list[tuple[Button, ...]] = []
    if not state.saved:
        rows += kind_rows(turn)
    else:
        rows.append((turn.button("➕ Work out another deadline", cb.DeadlineKinds()),))
        rows.append((turn.button("📅 Calendar file with all of them", cb.SavedCalendarFile()),))
        if state.reminders:
            rows.append((turn.button("🔔 My reminders", cb.ReminderList()),))
        rows += [
            (
                turn.button(
                    "🗑 Remove: %(kind)s",
                    cb.DeleteDeadline(s.kind),
                    kind=deadlines.KINDS[s.kind].title[turn.lang],
                ),
            )
            for s in state.saved
        ]
    rows.append(menu_row(turn))
    return Reply(text, tuple(rows), edit=edit)


def summary(turn: Turn, saved: SavedDate) -> str:
    return summary_text(compute(saved, turn.today), turn.lang, today=turn.today)


def kind_rows(turn: Turn) -> list[tuple[Button, ...]]:
    return [
        (Button(kind.title[turn.lang], data=cb.encode(cb.DeadlineKind(kind.name))),)
        for kind in deadlines.KINDS.values()
    ]


def deadline_kinds(turn: Turn, *, edit: bool = False) -> Reply:
    rows = (*kind_rows(turn), menu_row(turn))
    return Reply(turn.render("deadline_kinds.html"), rows, edit=edit)


def on_deadline_kind(turn: Turn, state: State, action: cb.DeadlineKind) -> Outcome:
    if not known_kind(action.kind, action.profile):
        return [expired(turn, state)], state
    return deadline_start(turn, state, action.kind, action.profile, edit=True)


def deadline_start(
    turn: Turn, state: State, kind: str, profile: str | None, *, edit: bool = False
) -> Outcome:
    """Ask for the date the kind counts from (first who applies, for processing times)."""
    if kind == "processing" and profile is None:
        rows = [
            (Button(name[turn.lang], data=cb.encode(cb.DeadlineKind(kind, p.value))),)
            for p, name in deadlines.PROFILE_NAMES.items()
        ]
        rows.append(menu_row(turn))
        return [Reply(turn.render("deadline_profile.html"), tuple(rows), edit=edit)], state
    new_state = replace(state, pending=awaiting_date(kind, profile))
    return [ask_date(turn, kind, profile, error="", edit=edit)], new_state


def awaiting_date(kind: str, profile: str | None) -> str:
    """`State.pending` while the calculator of `kind` waits for its date."""
    return f"date:{kind}" + (f":{profile}" if profile else "")


def ask_date(
    turn: Turn,
    kind: str,
    profile: str | None = None,
    *,
    error: str,
    edit: bool = False,
    month: date | None = None,
) -> Reply:
    """Ask for the kind's date, with the date picker on `month` (by default the kind's likeliest,
    `datepicker.opening_month`); a renewal offers the choice of who renews (Hong Kong / Macau
    residents should apply as soon as the window opens), and the title shows a choice made."""
    month = month or datepicker.opening_month(kind, turn.today)
    title = deadlines.KINDS[kind].title[turn.lang]
    if profile and kind == "renewal":
        name = deadlines.RENEWAL_PROFILE_NAMES[deadlines.Profile(profile)][turn.lang]
        title += f"（{name}）" if turn.lang == "zh" else f" ({name})"
    text = turn.render(
        "deadline_ask.html",
        title=title,
        given=deadlines.KINDS[kind].given_label[turn.lang],
        example=EXAMPLE_ZH if turn.lang == "zh" else EXAMPLE_EN,
        error=error,
    )
    rows = datepicker.picker_rows(turn, kind, profile, month)
    if kind == "renewal" and profile is None:
        rows += [
            (Button(f"🇭🇰🇲🇴 {name[turn.lang]}", data=cb.encode(cb.DeadlineKind(kind, p.value))),)
            for p, name in deadlines.RENEWAL_PROFILE_NAMES.items()
        ]
    rows.append((turn.button("◀️ Back", cb.DeadlineKinds()), *menu_row(turn)))
    return Reply(text, tuple(rows), edit=edit)


def picker_month(turn: Turn, state: State, action: cb.DatePickerMonth) -> Outcome:
    """Another month in the date picker: the prompt again, in place, still waiting for a date
    (a press leaves a prompt, so the wait is set again: typing keeps working)."""
    month = action.month
    if not computable(action.kind, action.profile) or month.day != 1:
        return [expired(turn, state)], state
    new_state = replace(state, pending=awaiting_date(action.kind, action.profile))
    reply = ask_date(turn, action.kind, action.profile, error="", edit=True, month=month)
    return [reply], new_state


def date_typed(turn: Turn, state: State, text: str, awaited: str) -> Outcome | None:
    """The deadlines for a date typed while `awaited` ("<kind>[:<profile>]") waits for one; a
    re-ask if it is no date; None for a question, or a calculator that no longer exists."""
    return _typed(turn, state, text, awaited, reask=True)


def another_date(turn: Turn, state: State, text: str, awaited: str) -> Outcome | None:
    """Right after a result, a date typed alone is a new date for the same calculator
    (anything else is read as usual: no re-ask)."""
    return _typed(turn, state, text, awaited, reask=False)


def _typed(turn: Turn, state: State, text: str, awaited: str, *, reask: bool) -> Outcome | None:
    kind, _, rest = awaited.partition(":")
    profile_text, _, lang = rest.partition(":")
    profile = profile_text or None
    if lang in LANGS and lang != turn.lang:
        turn = turn.in_lang(lang)  # the language the result was just given in
    if not computable(kind, profile):
        return None
    try:
        reading = read_date(text, today=turn.today)
    except DateInputError as exc:
        if not reask or (not _DIGIT.search(text) and turn.matcher.match(text).answer is not None):
            return None  # "how do I renew?" while we wait for a date: a question, answer it
        return [ask_date(turn, kind, profile, error=exc.message(turn.lang))], state
    result = deadline_result(turn, kind, reading.value, profile, roc_year=reading.roc_year)
    return [result], after_result(state, kind, profile, turn.lang)


def after_result(state: State, kind: str, profile: str | None, lang: Lang) -> State:
    """The state after a calculator answered in `lang`: a date typed next is another date for
    it, answered in the same language ("again:<kind>:<profile>:<lang>")."""
    return replace(state, pending=f"again:{kind}:{profile or ''}:{lang}")


def deadline_result(
    turn: Turn, kind: str, given: date, profile: str | None, *, roc_year: bool = False
) -> Reply:
    """The deadlines of `kind` counted from `given`, with Save, Calendar file, Another date; a
    renewal too late to submit also opens the apply guide (an expired card applies again)."""
    result = compute(SavedDate(kind, given, profile), turn.today)
    turn.count(stats.CALCULATOR, kind)
    summary = summary_text(result, turn.lang, today=turn.today, roc_year=roc_year)
    title, _, body = summary.partition("\n")
    text_html = turn.render("deadline_result.html", title=title, body=body)
    rows: list[tuple[Button, ...]] = [
        (
            turn.button("💾 Save", cb.SaveDeadline(kind, given, profile)),
            turn.button("📅 Calendar file", cb.CalendarFile(kind, given, profile)),
        ),
    ]
    if isinstance(result, deadlines.RenewalWindow) and result.status in _TOO_LATE:
        guide = turn.knowledge.guides[_APPLY_GUIDE]
        open_guide = cb.encode(cb.GuideOpen(_APPLY_GUIDE))
        rows.append((Button(f"📘 {guide.title[turn.lang]}", data=open_guide),))
    rows.append((turn.button("🔁 Another date", cb.DeadlineKind(kind, profile)), *menu_row(turn)))
    return Reply(text_html, tuple(rows))


_TOO_LATE = (deadlines.RenewalStatus.LOCKED, deadlines.RenewalStatus.EXPIRED)
_APPLY_GUIDE = "apply"  # 「就業金卡申請或重新申請」: where an expired card applies again


def compute(saved: SavedDate, today: date) -> deadlines.Deadlines:
    profile = deadlines.Profile(saved.profile) if saved.profile else None
    return deadlines.compute(saved.kind, saved.given, today=today, profile=profile)


def save_deadline(turn: Turn, state: State, action: cb.SaveDeadline) -> Outcome:
    if not computable(action.kind, action.profile):
        return [expired(turn, state)], state
    saved_date = SavedDate(action.kind, action.given, action.profile)
    kept = {s.kind: s for s in state.saved} | {action.kind: saved_date}
    saved = tuple(kept[k] for k in deadlines.KINDS if k in kept)
    new_state = replace(state, saved=saved)
    rows: list[tuple[Button, ...]] = []
    note = ""
    had = [r for r in state.reminders if r.kind == action.kind]
    if had:  # a date saved again takes its reminders along: the old schedule goes
        abroad = any(schedule.is_abroad_only(r) for r in had)
        new_state = with_reminders(turn, new_state, saved_date, abroad=abroad)
        note = (
            turn.gettext("🔔 Your reminders now follow this date: see /reminders.")
            if any(r.kind == action.kind for r in new_state.reminders)
            else turn.gettext("🔔 No reminder day of this date is ahead: none are scheduled.")
        )
    else:
        rows += remind_rows(turn, saved_date)
    kind = deadlines.KINDS[action.kind]
    text = turn.render(
        "saved.html",
        title=kind.title[turn.lang],
        label=kind.given_label[turn.lang],
        given=format_full_date(action.given, turn.lang),
        note=note,
    )
    rows.append((turn.button("📅 My deadlines", cb.MyDeadlines()), *menu_row(turn)))
    return [Reply(text, tuple(rows))], new_state


def calendar_file(turn: Turn, state: State, action: cb.CalendarFile) -> Outcome:
    if not computable(action.kind, action.profile):
        return [expired(turn, state)], state
    saved = SavedDate(action.kind, action.given, action.profile)
    return [ics_reply(turn, [saved], f"goldcard-{action.kind}.ics")], state


def saved_calendar_file(turn: Turn, state: State, action: cb.SavedCalendarFile) -> Outcome:
    if not state.saved:
        return [my_deadlines(turn, state)], state
    return [ics_reply(turn, list(state.saved), "goldcard-deadlines.ics")], state


def ics_reply(turn: Turn, saved: list[SavedDate], filename: str) -> Reply:
    stamp = datetime.combine(turn.today, time(), tzinfo=TAIPEI)  # pure: no clock in here
    results = [compute(s, turn.today) for s in saved]
    content = deadlines_ics(results, turn.lang, generated_at=stamp, hans=turn.hans)
    text = turn.render("calendar.html", count=len(saved))
    return Reply(text, (menu_row(turn),), document=Document(filename, content))


def delete_deadline(turn: Turn, state: State, action: cb.DeleteDeadline) -> Outcome:
    if action.kind not in {s.kind for s in state.saved}:
        return [my_deadlines(turn, state, edit=True)], state
    new_state = replace(state, saved=tuple(s for s in state.saved if s.kind != action.kind))
    new_state = reminders_replaced(new_state, action.kind, ())  # they remind of it no more
    note = turn.gettext("Removed: %(kind)s.", kind=deadlines.KINDS[action.kind].title[turn.lang])
    return [my_deadlines(turn, new_state, edit=True, note=note)], new_state


def known_kind(kind: str, profile: str | None) -> bool:
    """A deadline kind, with a profile (who applies) only where one belongs: processing, and
    renewal by a Hong Kong or Macau resident."""
    if kind not in deadlines.KINDS:
        return False
    return profile is None or profile in {p.value for p in deadlines.KINDS[kind].profiles}


def computable(kind: str, profile: str | None) -> bool:
    """Enough to compute the deadlines: a processing time also needs who applies."""
    return known_kind(kind, profile) and (kind != "processing" or profile is not None)
