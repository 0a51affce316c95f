"""FAQ answers: an answer with its related topics and 👍/👎, "did you mean", "None of these", the
help desk's contacts when nothing fits, /contact and `t_<topic>` deep links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import callbacks as cb
from bot import links
from bot.dialogue.core import (
    Button,
    Dispatcher,
    Outcome,
    RecordFeedback,
    RecordUnanswered,
    Reply,
    State,
    Turn,
)
from bot.dialogue.menus import ask_person_row, expired, menu_row, place
from bot.knowledge import CONTACT_TOPIC, cite_all

MAX_RELATED = 3


def register(d: Dispatcher) -> None:
    d.add_command("contact", lambda t, s, arg: ([answer(t, s, CONTACT_TOPIC)], s))
    d.add_button(cb.Contact, lambda t, s, a: ([answer(t, s, CONTACT_TOPIC)], s))
    d.add_button(cb.Topic, on_topic)
    d.add_button(cb.NoneOfThese, none_of_these)
    d.add_button(cb.Feedback, feedback)
    d.add_link(links.TopicLink, lambda t, s, link: ([answer(t, s, link.topic)], s))


def answer(turn: Turn, state: State, topic: str, *, edit: bool = False) -> Reply:
    entry = turn.knowledge.faq[topic]
    text = turn.render(
        "answer.html",
        title=entry.title[turn.lang],
        answer=entry.answer[turn.lang].strip(),
        links=[(link.title[turn.lang], link.url) for link in entry.links],
        sources=cite_all(entry.source, turn.lang),
    )
    rows = topic_rows(turn, entry.related[:MAX_RELATED])
    rows.append(
        (
            turn.button("👍 Helpful", cb.Feedback(topic, True)),
            turn.button("👎 Not helpful", cb.Feedback(topic, False)),
        )
    )
    rows.append(back_to_guide_row(turn, state) + menu_row(turn))
    return Reply(text, tuple(rows), edit=edit)


def back_to_guide_row(turn: Turn, state: State) -> tuple[Button, ...]:
    if not place(turn, state):
        return ()
    return (turn.button("↩️ Back to step %(n)s", cb.GuideContinue(), n=state.step),)


def did_you_mean(turn: Turn, state: State, topics: Sequence[str]) -> Reply:
    rows = topic_rows(turn, topics)
    rows.append((turn.button("None of these", cb.NoneOfThese()),))
    return Reply(turn.render("did_you_mean.html"), tuple(rows))


def topic_rows(turn: Turn, topics: Sequence[str]) -> list[tuple[Button, ...]]:
    """One button per FAQ topic, titled in the turn's language, that opens its answer."""
    return [
        (Button(turn.knowledge.faq[t].title[turn.lang], data=cb.encode(cb.Topic(t))),)
        for t in topics
    ]


def help_desk(
    turn: Turn, state: State, template: str, *, edit: bool = False, **context: object
) -> Reply:
    """`template` ("I don't know", "sorry it didn't help") with the Gold Card Office's contacts
    from the contact-help-desk answer, so they are written down once."""
    contact = turn.knowledge.faq[CONTACT_TOPIC]
    text = turn.render(template, contacts=contact.answer[turn.lang].strip(), **context)
    url_row = tuple(Button(link.title[turn.lang], url=link.url) for link in contact.links[:1])
    rows = (url_row, ask_person_row(turn, state), back_to_guide_row(turn, state) + menu_row(turn))
    return Reply(text, tuple(row for row in rows if row), edit=edit)


def on_topic(turn: Turn, state: State, action: cb.Topic) -> Outcome:
    if action.topic not in turn.knowledge.faq:
        return [expired(turn, state)], state
    # A "did you mean" choice answers the question that was asked.
    new_state = replace(state, topic=action.topic) if state.topic is None else state
    return [answer(turn, new_state, action.topic)], new_state


def none_of_these(turn: Turn, state: State, action: cb.NoneOfThese) -> Outcome:
    if state.question is not None and state.topic is None:
        turn.effects.append(RecordUnanswered(state.question, turn.lang, "none-of-these"))
    new_state = replace(state, question=None)
    return [help_desk(turn, new_state, "dont_know.html", edit=True)], new_state


def feedback(turn: Turn, state: State, action: cb.Feedback) -> Outcome:
    if action.topic not in turn.knowledge.faq:
        return [expired(turn, state)], state
    question = state.question if state.topic == action.topic else None
    turn.effects.append(RecordFeedback(action.topic, action.helpful, turn.lang, question))
    if action.helpful:
        return [Reply(turn.render("thanks_feedback.html"))], state
    return [help_desk(turn, state, "sorry_feedback.html")], state
