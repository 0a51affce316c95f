"""Reminders of saved dates: "Remind me", /reminders and cancelling them, "Done — stop these
reminders", and the message a scheduled reminder sends (`Engine.reminder`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from bot import callbacks as cb
from bot import deadlines, links, schedule
from bot.dates import TAIPEI, format_date_and_distance, format_full_date
from bot.dialogue.core import N_, Button, Dispatcher, Outcome, Reply, SavedDate, State, Turn
from bot.dialogue.menus import expired, menu_row
from bot.schedule import Reminder


def register(d: Dispatcher) -> None:
    d.add_command("reminders", lambda t, s, arg: ([my_reminders(t, s)], s))
    d.add_button(cb.RemindMe, remind_me)
    # A new message, not an edit: pressed on a reminder, it must leave the reminder be.
    d.add_button(cb.ReminderList, lambda t, s, a: ([my_reminders(t, s)], s))
    d.add_button(cb.CancelReminder, cancel_reminder)
    d.add_button(cb.CancelAllReminders, cancel_all_reminders)
    d.add_button(cb.StopReminders, stop_reminders)


def remind_rows(turn: Turn, saved: SavedDate) -> list[tuple[Button, ...]]:
    """The "Remind me" button of a saved date with reminder days ahead; a supplement gets a
    second one that also reminds before the final deadline for documents from abroad."""
    rows: list[tuple[Button, ...]] = []
    for abroad in (False, True) if schedule.has_abroad_choice(saved.kind) else (False,):
        planned = schedule.schedule(
            saved.kind, saved.given, now=turn.moment, abroad=abroad, profile=saved.profile
        )
        if not planned or (abroad and all(not schedule.is_abroad_only(r) for r in planned)):
            continue
        label = N_("🔔 Remind me (documents from abroad)") if abroad else N_("🔔 Remind me")
        rows.append((turn.button(label, cb.RemindMe(saved.kind, saved.given, abroad)),))
    return rows


def with_reminders(turn: Turn, state: State, saved: SavedDate, *, abroad: bool) -> State:
    """`state` with the reminders of `saved`'s kind replaced by a schedule of `saved`; one
    already due and not yet sent is kept or moved to the new date (`still_due`), never lost."""
    planned = schedule.schedule(
        saved.kind, saved.given, now=turn.moment, lang=turn.language, abroad=abroad,
        profile=saved.profile,
    )  # fmt: skip
    return reminders_replaced(
        state, saved.kind, [*planned, *still_due(turn, state, saved, planned)]
    )


def still_due(
    turn: Turn, state: State, saved: SavedDate, planned: Sequence[Reminder]
) -> list[Reminder]:
    """The reminders of `saved`'s kind in `state` that are due (their 10:00 has come) and not
    yet sent, for slots `planned` no longer has, each moved to `saved`'s deadline.

    Between 10:00 and the sender's next run a reminder is due but still scheduled, and a new
    schedule leaves out every reminder day already past, so saving the date again (or a
    corrected one) would delete it unsent. The same deadline keeps the very reminder (its row,
    and any sender's claim on it, stay as they are); a moved deadline keeps the slot, due now,
    unless the new deadline itself has passed.
    """
    dates = dict(deadlines.compute(saved.kind, saved.given, today=turn.today).dates())
    taken = {r.slot for r in planned}
    return [
        r if r.due == dates[r.key] else replace(r, due=dates[r.key])
        for r in state.reminders
        if r.kind == saved.kind
        and r.send_at <= turn.moment
        and r.slot not in taken
        and r.key in dates
        and dates[r.key] >= turn.today
    ]


def reminders_replaced(state: State, kind: str, reminders: Sequence[Reminder]) -> State:
    """`state` with the reminders of `kind` replaced by `reminders` (soonest first)."""
    kept = [r for r in state.reminders if r.kind != kind]
    ordered = sorted([*kept, *reminders], key=lambda r: (r.send_at, r.slot))
    return replace(state, reminders=tuple(ordered))


def remind_me(turn: Turn, state: State, action: cb.RemindMe) -> Outcome:
    saved = next((s for s in state.saved if s.kind == action.kind), None)
    if (
        saved is None
        or saved.given != action.given  # a button of a date since replaced or removed
        or not schedule.remindable(action.kind)
        or (action.abroad and not schedule.has_abroad_choice(action.kind))
    ):
        return [expired(turn, state)], state
    new_state = with_reminders(turn, state, saved, abroad=action.abroad)
    kind = deadlines.KINDS[action.kind]
    planned = [
        (send_day(turn, r), schedule.label(r, turn.lang))
        for r in new_state.reminders
        if r.kind == action.kind
    ]
    text = turn.render("reminders_on.html", title=kind.title[turn.lang], planned=planned)
    rows = ((turn.button("🔔 My reminders", cb.ReminderList()), *menu_row(turn)),)
    return [Reply(text, rows)], new_state


def my_reminders(turn: Turn, state: State, *, edit: bool = False, note: str = "") -> Reply:
    listed = [
        (
            send_day(turn, r),
            deadlines.KINDS[r.kind].title[turn.lang],
            schedule.label(r, turn.lang),
            format_full_date(r.due, turn.lang),
        )
        for r in state.reminders
    ]
    text = turn.render("my_reminders.html", reminders=listed, note=note)
    rows = [
        (
            turn.button(
                "✖️ Cancel %(day)s: %(label)s",
                cb.CancelReminder(r.kind, schedule.rule_number(r)),
                day=send_date(r).isoformat(),
                label=schedule.label(r, turn.lang),
            ),
        )
        for r in state.reminders
    ]
    if len(state.reminders) > 1:
        rows.append((turn.button("✖️ Cancel all reminders", cb.CancelAllReminders()),))
    if not state.reminders:
        rows.append((turn.button("📅 My deadlines", cb.MyDeadlines()),))
    rows.append(menu_row(turn))
    return Reply(text, tuple(rows), edit=edit)


def send_day(turn: Turn, reminder: Reminder) -> str:
    return format_date_and_distance(send_date(reminder), turn.lang, today=turn.today)


def send_date(reminder: Reminder) -> date:
    return reminder.send_at.astimezone(TAIPEI).date()


def cancel_reminder(turn: Turn, state: State, action: cb.CancelReminder) -> Outcome:
    rules = schedule.RULES.get(action.kind, ())
    if not 1 <= action.rule <= len(rules):
        return [expired(turn, state)], state
    rule = rules[action.rule - 1]
    slot = (action.kind, rule.key, rule.days_before)
    cancelled = next((r for r in state.reminders if r.slot == slot), None)
    if cancelled is None:  # sent meanwhile, or cancelled from another message
        note = turn.gettext("That reminder is no longer scheduled.")
        return [my_reminders(turn, state, edit=True, note=note)], state
    new_state = replace(state, reminders=tuple(r for r in state.reminders if r.slot != slot))
    note = turn.gettext(
        "Cancelled the reminder of %(day)s: %(label)s.",
        day=format_full_date(send_date(cancelled), turn.lang),
        label=schedule.label(cancelled, turn.lang),
    )
    return [my_reminders(turn, new_state, edit=True, note=note)], new_state


def cancel_all_reminders(turn: Turn, state: State, action: cb.CancelAllReminders) -> Outcome:
    note = (
        turn.gettext("All your reminders are cancelled.")
        if state.reminders
        else turn.gettext("There were no reminders to cancel.")
    )
    new_state = replace(state, reminders=())
    return [my_reminders(turn, new_state, edit=True, note=note)], new_state


def stop_reminders(turn: Turn, state: State, action: cb.StopReminders) -> Outcome:
    if action.kind not in deadlines.KINDS:
        return [expired(turn, state)], state
    title = deadlines.KINDS[action.kind].title[turn.lang]
    note = (
        turn.gettext("✅ Done: no more reminders about %(title)s.", title=title)
        if any(r.kind == action.kind for r in state.reminders)
        else turn.gettext("There are no reminders about %(title)s left.", title=title)
    )
    new_state = reminders_replaced(state, action.kind, ())
    return [my_reminders(turn, new_state, note=note)], new_state


def reminder_message(turn: Turn, reminder: Reminder, *, bot_username: str | None) -> Reply:
    """The message a scheduled reminder sends: what is due and when, what to do, the guide that
    shows how (a deep link to the bot when its username is known, else a button) and "Done —
    stop these reminders"."""
    lang = turn.lang
    kind = deadlines.KINDS[reminder.kind]
    label = kind.output(reminder.key)
    guide_id, step = schedule.GUIDE_STEPS[reminder.kind]
    guide = turn.knowledge.guides[guide_id]
    text = turn.render(
        "reminder.html",
        title=kind.title[lang],
        # After the date ("the window has been open a week"), the reminder's own name says why
        # it comes; before it, the date's name says what is due.
        label=schedule.label(reminder, lang) if reminder.days_before < 0 else label.label[lang],
        when=format_date_and_distance(reminder.due, lang, today=turn.today),
        about=label.about[lang],
    )
    guide_label = turn.gettext("📘 %(guide)s, step %(n)s", guide=guide.title[lang], n=step)
    open_guide = (
        Button(guide_label, url=links.deep_link(bot_username, links.GuideLink(guide_id, step)))
        if bot_username
        else Button(guide_label, data=cb.encode(cb.GuideOpen(guide_id, step)))
    )
    rows = (
        (open_guide,),
        (turn.button("✅ Done — stop these reminders", cb.StopReminders(reminder.kind)),),
        # No menu button: it edits the pressed message, and a reminder should stay readable.
        (turn.button("🔔 My reminders", cb.ReminderList()),),
    )
    return Reply(text, rows)
