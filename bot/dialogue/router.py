"""What a typed message is: the text a feature awaits (a date for a calculator, a yes/no, a step
of the open guide), small talk, or a question routed by `bot.routing.Router` to an answer with the
guide and calculator that go with it, or an honest decline. `message(turn, state, text)` is the
one entry point for free text: plain messages, `/ask <question>` and a day pressed in a date
picker (the date typed)."""

from __future__ import annotations

import re
from dataclasses import replace

from bot import callbacks as cb
from bot import stats
from bot.dialogue.calculators import after_result, awaiting_date, computable, deadline_result
from bot.dialogue.core import (
    Button,
    Dispatcher,
    Outcome,
    RecordUnanswered,
    Reply,
    State,
    Turn,
    in_simplified,
)
from bot.dialogue.faq import answer, did_you_mean, help_desk, topic_rows
from bot.dialogue.guide_flow import typed_navigation
from bot.dialogue.handoff import relay
from bot.dialogue.menus import ask_prompt, expired, menu_keyboard
from bot.i18n import HANS
from bot.redact import redact
from bot.routing import Offer, Route
from bot.simplified import written_in_simplified
from bot.textnorm import CJK_RUN, Lang, detect_lang

MAX_STORED_QUESTION = 500  # the matcher reads no further either


def register(d: Dispatcher) -> None:
    # `/ask <question>` is always for the bot, even while a request to a person is open.
    d.add_command("ask", lambda t, s, arg: message(t, s, arg, to_person=False))
    d.add_button(cb.DatePickerDay, day_picked)


def day_picked(turn: Turn, state: State, action: cb.DatePickerDay) -> Outcome:
    """A day pressed in a calculator's date picker: exactly the date typed at its prompt."""
    if not computable(action.kind, action.profile):
        return [expired(turn, state)], state
    pending = awaiting_date(action.kind, action.profile)
    # As if typed at the prompt: `message` reads what is awaited from the state the turn began in.
    typed_at_prompt = replace(turn, state=replace(turn.state, pending=pending))
    return message(
        typed_at_prompt, replace(state, pending=pending), action.day.isoformat(), to_person=False
    )


def message(turn: Turn, state: State, text: str, *, to_person: bool = True) -> Outcome:
    """Answer typed text: what an awaiting feature takes (see `Dispatcher.add_awaited`), while
    a request to a person is open the help desk's (a photo or file without a caption too),
    a step of the open guide, small talk, else a question for the router."""
    question = text.strip()
    # A message to the bot is counted; a day picked in the date picker is not typed, and what
    # goes to a person is not the bot's.
    counted = turn.in_lang(question_lang(question, turn.lang)) if to_person else None
    awaited = turn.dispatcher.awaited_handler(turn.state.pending) if question else None
    if awaited is not None:
        handler, detail = awaited
        outcome = handler(turn, state, question, detail)
        if outcome is not None:
            if counted is not None:
                counted.count(stats.MESSAGE)
            return outcome
    state = replace(state, pending=None)
    if to_person and state.ticket == "open":
        return relay(turn, state, question)
    if not question:
        return [ask_prompt(turn)], state
    if counted is not None:
        counted.count(stats.MESSAGE)
    moved = typed_navigation(turn, state, question)
    if moved is not None:
        return moved
    outcome = answer_question(turn.in_lang(question_lang(question, turn.lang)), state, question)
    return offer_simplified(turn, outcome, question)


def offer_simplified(turn: Turn, outcome: Outcome, question: str) -> Outcome:
    """`outcome`, and once per user, when the question is written in Simplified characters and
    the user does not read 简体 yet, a one-tap offer to switch (in 简体: it is for them). The
    answer itself stays in the language the user has (not forced); /language changes it."""
    replies, state = outcome
    if turn.hans or state.offered_hans or not written_in_simplified(question):
        return outcome
    hans = turn.in_language(HANS)
    switch = hans.button("Reply in 简体中文", cb.SetLanguage(HANS))
    offer = in_simplified(Reply(hans.render("simplified_offer.html"), ((switch,),)))
    return [*replies, offer], replace(state, offered_hans=True)


def answer_question(turn: Turn, state: State, question: str) -> Outcome:
    """Answer a question: the answer with its guide and calculator (run when the message gives
    the date), "did you mean", a short reply to thanks, or an honest decline."""
    route = turn.router.route(question, today=turn.today)
    if route.kind == "ack":  # greeting.html, thanks.html or ack.html
        return [Reply(turn.render(f"{route.talk}.html"), menu_keyboard(turn, state))], state
    if route.kind == "command" and route.command is not None:
        handler = turn.dispatcher.command_handler(route.command)
        if handler is not None:  # "switch to English", 「取消提醒」: as if the command were sent
            return handler(turn, state, "")
    stored = redact(question[:MAX_STORED_QUESTION])
    if route.kind == "answer" and route.topic is not None:
        return _answered(turn, replace(state, question=stored, topic=route.topic), route)
    new_state = replace(state, question=stored, topic=None)
    if route.kind == "candidates":
        turn.count(stats.DID_YOU_MEAN)
        return [did_you_mean(turn, new_state, [c.id for c in route.result.candidates])], new_state
    about = turn.knowledge.not_covered(route.declined_as, turn.lang)
    if about is not None:
        turn.effects.append(RecordUnanswered(stored, turn.lang, "out-of-scope"))
        turn.count(stats.DECLINED, "out-of-scope")
        reply = help_desk(turn, new_state, "out_of_scope.html", about=about)
        near = topic_rows(turn, [c.id for c in route.result.candidates])  # if it was the card
        return [replace(reply, buttons=(*near, *reply.buttons))], new_state
    turn.effects.append(RecordUnanswered(stored, turn.lang, "no-match"))
    turn.count(stats.DECLINED, "no-match")
    return [help_desk(turn, new_state, "dont_know.html")], new_state


def _answered(turn: Turn, state: State, route: Route) -> Outcome:
    """The FAQ answer, its offers as the first buttons, and the deadlines when a date was read."""
    assert route.topic is not None
    turn.count(stats.ANSWERED, route.topic)
    reply = answer(turn, state, route.topic)
    rows = [row for offer in route.offers if (row := _offer_row(turn, offer))]
    if route.also is not None:
        title = turn.knowledge.faq[route.also].title[turn.lang]
        rows.append(
            (turn.button("❓ You also asked: %(title)s", cb.Topic(route.also), title=title),)
        )
    replies = [replace(reply, buttons=(*rows, *reply.buttons))]
    for offer in route.offers:
        if offer.kind == "deadline" and offer.date is not None:
            replies.append(deadline_result(turn, offer.id, offer.date, offer.profile))
            state = after_result(state, offer.id, offer.profile, turn.lang)
    return replies, state


def _offer_row(turn: Turn, offer: Offer) -> tuple[Button, ...] | None:
    """The button that opens an offered guide (or its step) or calculator; None for a
    calculator the answer already ran."""
    if offer.kind == "guide":
        title = turn.knowledge.guides[offer.id].title[turn.lang]
        if offer.step is not None:
            label = turn.gettext("📘 %(guide)s: step %(n)s", guide=title, n=offer.step)
        else:
            label = turn.gettext("📘 Step by step: %(guide)s", guide=title)
        return (Button(label, data=cb.encode(cb.GuideOpen(offer.id, offer.step))),)
    if offer.date is not None:
        return None
    return (turn.button("📅 Work out my dates", cb.DeadlineKind(offer.id, offer.profile)),)


def question_lang(text: str, ui: Lang) -> Lang:
    """The language to answer in: the question's, when it is clearly written in one."""
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    words = len(re.findall(r"[A-Za-z]{2,}", text))
    if cjk >= 2 and detect_lang(text) == "zh":
        return "zh"
    if cjk == 0 and words >= 2 and latin >= 8:  # "hello" or "ok" alone says little
        return "en"
    return ui
