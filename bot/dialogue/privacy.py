"""Your data: /mydata shows what is stored about the user, /forget deletes it after a confirmation
(`state.pending` is "forget" while it waits; the confirmation is a button, or a typed yes/no)."""

from __future__ import annotations

from dataclasses import replace

from bot import callbacks as cb
from bot import deadlines, guides
from bot.dates import format_full_date
from bot.dialogue.core import Dispatcher, ForgetUser, Outcome, Reply, State, Turn, as_new
from bot.dialogue.guide_flow import QUESTION_PROMPTS
from bot.dialogue.menus import LANGUAGE_NAMES, expired, menu, menu_row, place
from bot.understanding import yes_or_no


def register(d: Dispatcher) -> None:
    d.add_command("mydata", lambda t, s, arg: ([my_data(t, s)], s))
    d.add_command("forget", lambda t, s, arg: forget_ask(t, s))
    d.add_button(cb.ForgetAsk, lambda t, s, a: forget_ask(t, s))
    d.add_button(cb.Forget, forget)
    d.add_awaited("forget", forget_typed)


def my_data(turn: Turn, state: State) -> Reply:
    profile = [
        (turn.gettext(QUESTION_PROMPTS[q.id]), getattr(state.profile, q.id))
        for q in guides.QUESTIONS
        if getattr(state.profile, q.id) is not None
    ]
    saved = [
        (
            deadlines.KINDS[s.kind].title[turn.lang],
            deadlines.KINDS[s.kind].given_label[turn.lang],
            format_full_date(s.given, turn.lang),
        )
        for s in state.saved
    ]
    text = turn.render(
        "my_data.html",
        language=LANGUAGE_NAMES[turn.language],
        chosen=state.lang is not None,
        since=format_full_date(state.since or turn.today, turn.lang),
        place=place(turn, state),
        profile=profile,
        question=state.question or "",
        saved=saved,
        reminders=len(state.reminders),
        ticket=state.ticket or "",
        answers=len(state.answers),
        news=state.news is not None,
    )
    rows = ((turn.button("🗑 Delete all my data", cb.ForgetAsk()),), menu_row(turn))
    return Reply(text, rows)


def forget_ask(turn: Turn, state: State) -> Outcome:
    rows = (
        (turn.button("🗑 Yes, delete everything", cb.Forget(True)),),
        (turn.button("Keep my data", cb.Forget(False)),),
    )
    reply = Reply(turn.render("forget_confirm.html"), rows)
    return [reply], replace(state, pending="forget")


def forget(turn: Turn, state: State, action: cb.Forget) -> Outcome:
    if not action.confirmed:
        note = turn.gettext("Nothing was deleted.")
        return [menu(turn, state, edit=True, note=note)], state
    if turn.state.pending != "forget":
        return [expired(turn, state)], state
    turn.effects.append(ForgetUser())
    return [Reply(turn.render("forgotten.html"), edit=True)], State()


def forget_typed(turn: Turn, state: State, text: str, rest: str) -> Outcome | None:
    """是 / yes / 不要 / no typed at the confirmation, as if the button were pressed; None for
    anything else (a question is answered, and nothing is deleted)."""
    answer = yes_or_no(text)
    if answer is None:
        return None
    return as_new(forget(turn, replace(state, pending=None), cb.Forget(answer)))
