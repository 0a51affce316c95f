"""The help desk's inbox (`bot.inbox`) and what it teaches the bot (`bot.learning`): grouping,
handling once, learned questions in the matcher, and the measured effect, on SQLite and
PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot import callbacks as cb
from bot import inbox
from bot.dialogue import Engine, Event, RecordUnanswered, State
from bot.learning import LiveMatcher
from bot.models import Feedback, InboxGroup, LearnedQuestion, UnansweredQuestion
from bot.routing import Router
from bot.storage import record_feedback, record_unanswered

TODAY = date(2026, 12, 3)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def ask(db, questions: list[tuple[str, str]], *, reason: str = "no-match") -> None:
    """Log questions the bot could not answer, as the chat does."""
    with Session(db) as session:
        for question, lang in questions:
            record_unanswered(session, question=question, lang=lang, reason=reason)
        session.commit()


def decision(router: Router, question: str) -> tuple[str, str | None]:
    """What the chat would do with `question`: ("answer", topic), ("decline", class), …"""
    route = router.route(question, today=TODAY)
    if route.kind == "answer":
        return "answer", route.result.answer.id  # type: ignore[union-attr]
    return route.kind, route.declined_as


# --- grouping ----------------------------------------------------------------------------------


def test_similar_questions_are_grouped_with_counts_candidates_and_languages(db, matcher):
    ask(db, [("the card went through the washing machine", "en"),
             ("my gold card went through the washing machine", "en"),
             ("金卡被洗衣機洗壞了", "zh"),
             ("can I bring my cat to Taiwan", "en")])  # fmt: skip
    with Session(db) as session:
        record_feedback(session, topic="renewal-how", helpful=False, lang="en",
                        question="my cat chewed my gold card")  # fmt: skip
        record_feedback(session, topic="renewal-how", helpful=True, lang="en", question="thanks")
        record_feedback(session, topic="renewal-how", helpful=False, lang="en", question=None)
        session.commit()

    groups = inbox.open_inbox(db, matcher, since=LONG_AGO)

    texts = sorted(sorted(i.text for i in g.items) for g in groups)
    assert ["my gold card went through the washing machine",
            "the card went through the washing machine"] in texts  # fmt: skip
    assert sum(g.count for g in groups) == 5  # 👍 and a 👎 without its question stay out
    washing = next(g for g in groups if "the card went through the washing machine" in
                   [i.text for i in g.items])  # fmt: skip
    counts = [g.count for g in groups]
    assert counts == sorted(counts, reverse=True)  # the largest first
    assert washing.langs == {"en": 2}
    assert "replacement-card" in [c.id for c in washing.candidates]
    chewed = next(g for g in groups if g.items[0].source == inbox.THUMBS_DOWN)
    assert chewed.items[0].topic == "renewal-how"
    assert {s for g in groups for s in g.scopes} == {g.id for g in matcher.knowledge.out_of_scope}


def test_a_group_keeps_its_id_and_new_questions_join_it(db, matcher):
    ask(db, [("the card went through the washing machine", "en")])
    (first,) = inbox.open_inbox(db, matcher, since=LONG_AGO)
    ask(db, [("my gold card went through the washing machine", "en"),
             ("how do I open a bank account", "en")])  # fmt: skip

    groups = inbox.open_inbox(db, matcher, since=LONG_AGO)

    washing = next(g for g in groups if g.id == first.id)
    assert washing.count == 2
    assert len(groups) == 2
    assert inbox.open_inbox(db, matcher, since=LONG_AGO) == groups  # stable when asked again


def test_since_leaves_out_older_questions(db, matcher):
    ask(db, [("the card went through the washing machine", "en")])
    with Session(db) as session:
        old = session.exec(select(UnansweredQuestion)).one()
        old.created_at = datetime(2026, 10, 1, tzinfo=UTC)
        session.add(old)
        session.commit()
    ask(db, [("can I bring my cat to Taiwan", "en")])

    recent = inbox.open_inbox(db, matcher, since=datetime(2026, 11, 1, tzinfo=UTC))
    everything = inbox.open_inbox(db, matcher, since=LONG_AGO)

    assert [g.items[0].text for g in recent] == ["can I bring my cat to Taiwan"]
    assert len(everything) == 2


# --- handling ----------------------------------------------------------------------------------


def test_assigning_a_group_learns_its_questions_redacted_once_and_it_leaves_the_inbox(db, matcher):
    ask(db, [("the card went through the washing machine", "en")])
    with Session(db) as session:  # stored as an older version might have: not redacted
        session.add(UnansweredQuestion(
            question="my card E12345678 went through the washing machine", lang="en",
            reason="no-match"))  # fmt: skip
        session.add(
            UnansweredQuestion(
                question="the card went through the washing machine", lang="en", reason="no-match"
            )
        )
        session.commit()
    (group,) = inbox.open_inbox(db, matcher, since=LONG_AGO)

    handled = inbox.handle_group(db, group_id=group.id, outcome="replacement-card", staff_id=42)

    assert (handled.status, handled.count, handled.learned) == (inbox.DONE, 3, 2)
    with Session(db) as session:
        learned = session.exec(select(LearnedQuestion).order_by(LearnedQuestion.id)).all()
        row = session.get(InboxGroup, group.id)
    assert [(q.question, q.topic, q.lang, q.learned_by) for q in learned] == [
        ("the card went through the washing machine", "replacement-card", "en", 42),
        ("my card went through the washing machine", "replacement-card", "en", 42),
    ]
    assert row is not None and row.handled_as == "replacement-card" and row.handled_by == 42
    assert inbox.open_inbox(db, matcher, since=LONG_AGO) == []
    assert inbox.open_group(db, matcher, group.id) is None


def test_a_group_is_handled_once_and_a_missing_one_is_said_so(db, matcher):
    ask(db, [("the card went through the washing machine", "en")])
    (group,) = inbox.open_inbox(db, matcher, since=LONG_AGO)

    first = inbox.handle_group(db, group_id=group.id, outcome=inbox.IGNORED, staff_id=1)
    second = inbox.handle_group(db, group_id=group.id, outcome="replacement-card", staff_id=2)
    missing = inbox.handle_group(db, group_id=group.id + 100, outcome=inbox.IGNORED, staff_id=1)

    assert (first.status, first.learned) == (inbox.DONE, 0)
    assert (second.status, second.handled_as) == (inbox.ALREADY, inbox.IGNORED)
    assert missing.status == inbox.MISSING
    with Session(db) as session:
        assert session.exec(select(LearnedQuestion)).all() == []


def test_thumbs_down_questions_are_learned_and_leave_the_inbox(db, matcher):
    with Session(db) as session:
        record_feedback(session, topic="renewal-how", helpful=False, lang="zh",
                        question="延期可以打折嗎")  # fmt: skip
        session.commit()
    (group,) = inbox.open_inbox(db, matcher, since=LONG_AGO)

    inbox.handle_group(db, group_id=group.id, outcome="oos:gold-card-gaps", staff_id=7)

    with Session(db) as session:
        learned = session.exec(select(LearnedQuestion)).one()
        assert session.exec(select(Feedback)).one().question == "延期可以打折嗎"  # kept
    assert (learned.question, learned.topic, learned.lang) == (
        "延期可以打折嗎",
        "oos:gold-card-gaps",
        "zh",
    )
    assert inbox.open_inbox(db, matcher, since=LONG_AGO) == []


def test_the_inbox_buttons_fit_and_refuse_other_spellings():
    longest = "x" * 40
    for action in (inbox.InboxAbout(10**17, longest), inbox.InboxOutOfScope(10**17, longest),
                   inbox.InboxIgnore(1), inbox.InboxSearch(1), inbox.InboxScopes(1),
                   inbox.InboxBack(1)):  # fmt: skip
        data = cb.encode(action)
        assert len(data.encode()) <= cb.MAX_BYTES
        assert cb.decode(data) == action
    assert cb.decode("1:ia:0:renewal-how") is None
    assert cb.decode("1:ia:012:renewal-how") is None
    assert cb.decode("1:ii:-3") is None
    assert cb.decode("2:ii:3") is None


# --- the effect, measured --------------------------------------------------------------------

# Questions the bot declined or got wrong (checked below), and paraphrases nobody taught it.
DAMAGED = [
    ("the card went through the washing machine", "en"),
    ("my cat chewed my gold card", "en"),
    ("dog ate my card", "en"),
    ("my card got nicked on the bus, what now", "en"),
]
DAMAGED_PARAPHRASES = [
    "my gold card went through the washing machine",
    "the dog chewed my card",
    "someone nicked my gold card on the MRT, what now",
]
NOT_COVERED = [("what colour is the card", "en"), ("is there a discount for renewing early", "en")]
NOT_COVERED_PARAPHRASES = ["what color is the gold card"]


def test_assigned_questions_and_their_paraphrases_are_answered_afterwards(shared_db, knowledge):
    live = LiveMatcher(knowledge, shared_db)
    router = Router(knowledge, live)  # type: ignore[arg-type]
    before = {q: decision(router, q) for q, _ in DAMAGED + NOT_COVERED}
    before_paraphrases = {q: decision(router, q) for q in DAMAGED_PARAPHRASES}
    assert all(kind != "answer" or topic != "replacement-card" for kind, topic in
               [*before.values(), *before_paraphrases.values()])  # fmt: skip
    # (both answered wrongly when this was written: approval-letter, renewal-hk-macau)
    assert all(before[q] != ("decline", "gold-card-gaps") for q, _ in NOT_COVERED)
    assert decision(router, NOT_COVERED_PARAPHRASES[0]) != ("decline", "gold-card-gaps")
    ask(shared_db, DAMAGED + NOT_COVERED)
    groups = inbox.open_inbox(shared_db, live, since=LONG_AGO)
    for group in groups:
        texts = {item.text for item in group.items}
        outcome = "replacement-card" if texts <= {q for q, _ in DAMAGED} else "oos:gold-card-gaps"
        inbox.handle_group(shared_db, group_id=group.id, outcome=outcome, staff_id=1)

    assert live.refresh()

    assert {q: decision(router, q) for q, _ in DAMAGED} == {
        q: ("answer", "replacement-card") for q, _ in DAMAGED
    }
    assert {q: decision(router, q) for q in DAMAGED_PARAPHRASES} == {
        q: ("answer", "replacement-card") for q in DAMAGED_PARAPHRASES
    }
    assert {q: decision(router, q) for q, _ in NOT_COVERED} == {
        q: ("decline", "gold-card-gaps") for q, _ in NOT_COVERED
    }
    assert {q: decision(router, q) for q in NOT_COVERED_PARAPHRASES} == {
        q: ("decline", "gold-card-gaps") for q in NOT_COVERED_PARAPHRASES
    }
    # and what it answered before is still answered
    assert decision(router, "how do I renew my gold card") == ("answer", "renewal-how")


def test_the_chat_answers_a_learned_question_in_chinese_too(db, knowledge):
    live = LiveMatcher(knowledge, db)
    engine = Engine(knowledge, live)  # type: ignore[arg-type]
    state = State(lang="zh", since=TODAY)
    question, paraphrase = "金卡被狗咬爛了還能用嗎", "狗把金卡咬爛了"
    title = knowledge.faq["replacement-card"].title["zh"]
    for asked in (question, paraphrase):
        (before,), _, effects = engine.handle(Event.message(asked), state, today=TODAY)
        assert title not in before.text
        assert [e.reason for e in effects if isinstance(e, RecordUnanswered)] == ["no-match"]
    ask(db, [(question, "zh")])
    (group,) = inbox.open_inbox(db, live, since=LONG_AGO)
    inbox.handle_group(db, group_id=group.id, outcome="replacement-card", staff_id=1)
    live.refresh()

    for asked in (question, paraphrase):
        (after, *_), _, effects = engine.handle(Event.message(asked), state, today=TODAY)
        assert title in after.text
        assert not any(isinstance(e, RecordUnanswered) for e in effects)


# --- every process picks them up ---------------------------------------------------------------


def test_a_process_picks_up_what_another_learned_within_its_interval(shared_db, knowledge):
    live = LiveMatcher(knowledge, shared_db, interval=0.2)
    question = "the card went through the washing machine"
    assert live.match(question).answer is None
    assert not live.refresh()  # nothing learned: no rebuild
    live.watch()
    try:
        with Session(shared_db) as session:  # another process's staff assigned it
            session.add(LearnedQuestion(question=question, topic="replacement-card", lang="en"))
            session.commit()
        deadline = time.monotonic() + 10
        while live.match(question).answer is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        live.close()
    assert live.match(question).answer is not None
    assert live.match(question).answer.id == "replacement-card"  # type: ignore[union-attr]


def test_learned_questions_for_topics_that_are_gone_are_left_out(db, knowledge):
    with Session(db) as session:
        session.add(LearnedQuestion(question="anything at all", topic="no-such-topic", lang="en"))
        session.add(LearnedQuestion(question="how to renew my gold card", topic="renewal-how",
                                    lang="en"))  # fmt: skip
        session.commit()
    live = LiveMatcher(knowledge, db)
    assert live.match("how to renew my gold card").answer.id == "renewal-how"  # type: ignore[union-attr]


@pytest.mark.parametrize("days", [0, 40])
def test_open_inbox_since_a_day_counts_the_questions_of_that_window(db, matcher, days):
    ask(db, [("the card went through the washing machine", "en")])
    since = datetime.now(UTC) - timedelta(days=days) + timedelta(hours=1 if days == 0 else 0)
    groups = inbox.open_inbox(db, matcher, since=since)
    assert sum(g.count for g in groups) == (0 if days == 0 else 1)


def test_two_staff_at_once_group_and_handle_each_question_once(shared_db, matcher):
    """Two /inbox at the same moment put each question in one group; two presses on one group
    at the same moment handle it once (the other is told it was handled already)."""
    from concurrent.futures import ThreadPoolExecutor

    ask(shared_db, [("the card went through the washing machine", "en"),
                    ("my gold card went through the washing machine", "en"),
                    ("can I bring my cat to Taiwan", "en")])  # fmt: skip
    with ThreadPoolExecutor(2) as pool:
        listed = list(pool.map(lambda _: inbox.open_inbox(shared_db, matcher, since=LONG_AGO),
                               range(2)))  # fmt: skip
    assert listed[0] == listed[1]
    assert sorted(g.count for g in listed[0]) == [1, 2]
    washing = next(g for g in listed[0] if g.count == 2)

    def press(staff: int) -> inbox.Handled:
        return inbox.handle_group(
            shared_db, group_id=washing.id, outcome="replacement-card", staff_id=staff
        )

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(press, [1, 2]))

    assert sorted(r.status for r in results) == [inbox.ALREADY, inbox.DONE]
    with Session(shared_db) as session:
        learned = session.exec(select(LearnedQuestion)).all()
    assert len(learned) == 2 and len({q.learned_by for q in learned}) == 1
