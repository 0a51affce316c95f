"""A person, in the same chat: "Ask a person" asks for consent, then hands the user to the help
desk (an `OpenTicket` effect; the adapter opens a topic in the staff group). While the request is
open, typed text goes to the staff (`relay`); commands and buttons still reach the bot, and "Close
my request" (or `/ask …`) gets the bot's answers back. The help desk's side is
`bot.telegram.handoff`."""

from __future__ import annotations

from dataclasses import replace

from bot import callbacks as cb
from bot import stats
from bot.dialogue.core import (
    CloseTicket,
    Dispatcher,
    OpenTicket,
    Outcome,
    RelayToStaff,
    Reply,
    State,
    Turn,
)
from bot.dialogue.faq import help_desk
from bot.dialogue.menus import expired, menu, menu_keyboard, menu_row
from bot.knowledge import CONTACT_TOPIC
from bot.redact import redact

MAX_CANDIDATES = 3  # "Send answer" buttons in the staff's topic
MAX_RELAYED = 3500  # a relayed message stays one Telegram message with its header
# What the adapter tells the user about their request when the help desk (or time) acts on it.
NOTICES = ("answered", "expired", "closed", "unreachable")


def register(d: Dispatcher) -> None:
    d.add_button(cb.HandoffAsk, ask)
    d.add_button(cb.HandoffConsent, consent)
    d.add_button(cb.HandoffClose, close)
    d.add_button(cb.HandoffFeedback, feedback)


def ask(turn: Turn, state: State, action: cb.HandoffAsk) -> Outcome:
    """What would be shown to the staff, and the consent it needs."""
    if not turn.handoff:
        return [expired(turn, state)], state
    if state.ticket is not None:
        return [_already(turn, state)], state
    rows = (
        (turn.button("✅ Yes, ask a person", cb.HandoffConsent(True)),),
        (turn.button("Cancel", cb.HandoffConsent(False)),),
    )
    text = turn.render("handoff_consent.html", question=state.question or "")
    return [Reply(text, rows)], state


def consent(turn: Turn, state: State, action: cb.HandoffConsent) -> Outcome:
    if not turn.handoff:
        return [expired(turn, state)], state
    if not action.confirmed:
        note = turn.gettext("Nothing was sent to the help desk.")
        return [menu(turn, state, edit=True, note=note)], state
    if state.ticket is not None:  # a second press, or a second consent message
        return [_already(turn, state)], state
    turn.effects.append(OpenTicket(state.question, turn.language, candidates(turn, state)))
    new_state = replace(state, ticket="open")
    return [opened(turn, new_state, edit=True)], new_state


def candidates(turn: Turn, state: State) -> tuple[str, ...]:
    """The topics the bot finds closest to the user's last question, best first."""
    if not state.question:
        return ()
    route = turn.router.route(state.question, today=turn.today)
    found = [state.topic] if state.topic in turn.knowledge.faq else []
    found += [route.topic] if route.topic else []
    found += [c.id for c in route.result.candidates]
    unique = [t for i, t in enumerate(found) if t not in found[:i] and t != CONTACT_TOPIC]
    return tuple(t for t in unique if t in turn.knowledge.faq)[:MAX_CANDIDATES]


def opened(turn: Turn, state: State, *, edit: bool = False, again: bool = False) -> Reply:
    """A person will answer here; until then typed text goes to them."""
    contact = turn.knowledge.faq[CONTACT_TOPIC]
    text = turn.render(
        "handoff_opened.html", again=again, contacts=contact.answer[turn.lang].strip()
    )
    rows = ((turn.button("✖️ Close my request", cb.HandoffClose()),), menu_row(turn))
    return Reply(text, rows, edit=edit)


def _already(turn: Turn, state: State) -> Reply:
    if state.ticket == "blocked":
        return help_desk(turn, state, "handoff_blocked.html")
    return opened(turn, state, again=True)


def relay(turn: Turn, state: State, text: str) -> Outcome:
    """Typed text while the request is open: it goes to the staff (redacted), unanswered here;
    the staff's reply is the answer."""
    turn.effects.append(RelayToStaff(redact(text.strip()[:MAX_RELAYED])))
    return [], state


def close(turn: Turn, state: State, action: cb.HandoffClose) -> Outcome:
    if state.ticket != "open":
        note = turn.gettext("You have no open request to the help desk.")
        return [menu(turn, state, note=note)], state
    turn.effects.append(CloseTicket())
    new_state = replace(state, ticket=None)
    note = turn.gettext(
        "Your request is closed: I'm answering your messages again. "
        "You can ask a person again at any time."
    )
    return [menu(turn, new_state, edit=True, note=note)], new_state


def feedback(turn: Turn, state: State, action: cb.HandoffFeedback) -> Outcome:
    """ "Was this helpful?" answered: counted, anonymously, for the help desk's figures."""
    turn.count(stats.HANDOFF_HELPFUL if action.helpful else stats.HANDOFF_UNHELPFUL)
    if action.helpful:
        return [Reply(turn.render("thanks_feedback.html"), (menu_row(turn),))], state
    return [help_desk(turn, state, "handoff_sorry.html")], state


def notice(turn: Turn, state: State, kind: str) -> Reply:
    """What the user is told when the help desk answered and closed their request ("was this
    helpful?"), when it closed by itself after a week, when the help desk closed it, or when the
    help desk could not be reached (the request was not passed on or a reply did not arrive)."""
    if kind == "answered":
        rows = (
            (
                turn.button("👍 Yes", cb.HandoffFeedback(True)),
                turn.button("👎 No", cb.HandoffFeedback(False)),
            ),
        )
        return Reply(turn.render("handoff_answered.html"), rows)
    if kind == "expired":
        return Reply(turn.render("handoff_expired.html"), menu_keyboard(turn, state))
    if kind == "closed":  # the help desk blocked the user: no "Ask a person" again
        return help_desk(turn, replace(state, ticket="blocked"), "handoff_closed.html")
    return help_desk(turn, state, "handoff_unreachable.html")
