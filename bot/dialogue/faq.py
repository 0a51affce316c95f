"""FAQ answers: an answer with its related topics and 👍/👎, "did you mean", "None of these", the
help desk's contacts when nothing fits, /contact and `t_<topic>` deep links."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from bot import callbacks as cb
from bot import links, stats
from bot.dialogue.core import (
    Button,
    Dispatcher,
    Outcome,
    RecordFeedback,
    RecordUnanswered,
    Reply,
    SentAnswer,
    State,
    Turn,
)
from bot.dialogue.menus import ask_person_row, expired, menu_row, place
from bot.knowledge import CONTACT_TOPIC, cite_all

MAX_RELATED = 3
# An answer wider than this (in columns: a Chinese character counts two) is long: about a phone
# screen. Its first IN_VIEW columns, with the list of steps they begin, stay in view.
LONG_ANSWER = 700
IN_VIEW = 450
BULLET = "•"
THUMBS = {"👍": True, "👎": False}  # the reactions that are feedback on an answer


def register(d: Dispatcher) -> None:
    d.add_command("contact", lambda t, s, arg: ([answer(t, s, CONTACT_TOPIC)], s))
    d.add_button(cb.Contact, lambda t, s, a: ([answer(t, s, CONTACT_TOPIC)], s))
    d.add_button(cb.Topic, on_topic)
    d.add_button(cb.NoneOfThese, none_of_these)
    d.add_button(cb.Feedback, feedback)
    d.add_link(links.TopicLink, lambda t, s, link: ([answer(t, s, link.topic)], s))


def answer(turn: Turn, state: State, topic: str, *, edit: bool = False) -> Reply:
    """The answer to `topic`: a long one keeps its essentials in view and folds the rest, its
    links and its source into an expandable quote (`essentials`)."""
    entry = turn.knowledge.faq[topic]
    text = entry.answer[turn.lang].strip()
    folded = columns(text) > LONG_ANSWER
    shown, tail = essentials(text) if folded else (text, "")
    text = turn.render(
        "answer.html",
        title=entry.title[turn.lang],
        answer=shown,
        tail=tail,
        folded=folded,
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
    return Reply(text, tuple(rows), edit=edit, answers=topic)


def essentials(text: str) -> tuple[str, str]:
    """A long answer as (what stays in view, the long tail): its lines while they start within
    the first `IN_VIEW` columns, and a list of steps begun there to its end (a procedure is not
    cut); what follows (notes, the platform's address) is the tail."""
    lines = text.splitlines()
    shown: list[str] = []
    used = 0
    for line in lines:
        in_list = bool(shown) and shown[-1].startswith(BULLET) and line.startswith(BULLET)
        if shown and used >= IN_VIEW and not in_list:
            break
        shown.append(line)
        used += columns(line)
    return "\n".join(shown), "\n".join(lines[len(shown) :])


def columns(text: str) -> int:
    """How wide `text` reads: a Chinese character takes the room of two Latin letters."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


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
    if state.topic is not None:
        return [answer(turn, state, action.topic)], state
    if state.question is not None:
        turn.count(stats.CHOSEN, action.topic)
    new_state = replace(state, topic=action.topic)
    return [answer(turn, new_state, action.topic)], new_state


def none_of_these(turn: Turn, state: State, action: cb.NoneOfThese) -> Outcome:
    if state.question is not None and state.topic is None:
        turn.effects.append(RecordUnanswered(state.question, turn.lang, "none-of-these"))
        turn.count(stats.NONE_OF_THESE)
    new_state = replace(state, question=None)
    return [help_desk(turn, new_state, "dont_know.html", edit=True)], new_state


def feedback(turn: Turn, state: State, action: cb.Feedback) -> Outcome:
    if action.topic not in turn.knowledge.faq:
        return [expired(turn, state)], state
    # On an answer message the user still has (the latest ones): counted once, whether by
    # button or reaction; pressed again, thanked again but not counted again.
    sent = _sent_answer(state, turn.pressed)
    if sent is not None and sent.topic != action.topic:
        sent = None  # not the message this button is on after all
    new_state = state
    if sent is None or not sent.counted:
        new_state = state if sent is None else _counted(state, sent)
        _record_feedback(turn, new_state, action.topic, action.helpful)
    if action.helpful:
        return [Reply(turn.render("thanks_feedback.html"))], new_state
    return [help_desk(turn, new_state, "sorry_feedback.html")], new_state


def reaction(turn: Turn, state: State, message_id: int, emoji: str) -> Outcome:
    """The user's reactions on a message changed to `emoji`: on an answer, the first 👍 or 👎
    counts as the feedback buttons do (the same anonymous record; a 👎 offers the help desk, a
    👍 needs no reply). Once counted, changing or removing it counts nothing: the record is
    anonymous, so nothing could take it back. Other reactions and other messages: nothing."""
    sent = _sent_answer(state, message_id)
    verdicts = {THUMBS[e] for e in emoji.split() if e in THUMBS}
    if sent is None or sent.counted or len(verdicts) != 1 or sent.topic not in turn.knowledge.faq:
        return [], state
    helpful = verdicts.pop()
    new_state = _counted(state, sent)
    _record_feedback(turn, new_state, sent.topic, helpful)
    if helpful:
        return [], new_state
    return [help_desk(turn, new_state, "sorry_feedback.html")], new_state


def _sent_answer(state: State, message_id: int | None) -> SentAnswer | None:
    """The answer message `message_id` among the latest the user got, if it is one."""
    return next((a for a in state.answers if a.message_id == message_id), None)


def _counted(state: State, sent: SentAnswer) -> State:
    """`state` with feedback on the answer message `sent` counted."""
    answers = tuple(replace(a, counted=True) if a is sent else a for a in state.answers)
    return replace(state, answers=answers)


def _record_feedback(turn: Turn, state: State, topic: str, helpful: bool) -> None:
    """👍/👎 on `topic`'s answer, anonymous, with the question it answered when it was the last."""
    question = state.question if state.topic == topic else None
    turn.effects.append(RecordFeedback(topic, helpful, turn.lang, question))
