"""Answers: a long one (and a long guide step) keeps its essentials in view and folds the long
tail, links, notes and sources into an expandable quote, as valid Telegram HTML in both
languages; a 👍/👎 reaction on an answer is the feedback its buttons give, counted once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from bot.dialogue import MAX_SENT_ANSWERS, Engine, Event, Reply, SentAnswer, State
from bot.dialogue.faq import IN_VIEW, LONG_ANSWER, columns, essentials
from bot.models import Feedback
from bot.storage import converse, remember_answers
from tests.fakebotapi import parse_html
from tests.test_dialogue import RENEW, TELEGRAM, TODAY, Chat

QUOTE = "<blockquote expandable>"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_answer_is_valid_html_and_only_long_ones_fold(engine: Engine, lang):
    folded = 0
    for topic, entry in engine.knowledge.faq.items():
        text = engine.answer(topic, lang).text
        _, entities = parse_html(text)  # what Telegram would refuse raises here
        quotes = [e for e in entities if e["type"] == "expandable_blockquote"]
        long = columns(entry.answer[lang]) > LONG_ANSWER
        assert len(quotes) == (1 if long else 0), topic
        if long:
            folded += 1
            assert text.endswith("</i></blockquote>")  # the source is folded, last
            assert text.count(QUOTE) == 1 and "blockquote" not in text.split(QUOTE)[0]
    assert folded  # the long ones (about a screenful) fold; most stay whole


def test_a_long_answer_keeps_its_lead_and_whole_procedure_in_view(engine: Engine):
    text = engine.answer("how-to-apply", "en").text
    shown, quoted = text.split(QUOTE)
    answer = engine.knowledge.faq["how-to-apply"].answer["en"]
    steps = [line for line in answer.splitlines() if line.startswith("•")]
    assert all(step.split("(")[0].strip() in shown.replace("&#39;", "'") for step in steps)
    assert "Platform: https://coa.immigration.gov.tw" in quoted
    assert '<a href="https://goldcard.nat.gov.tw/zh/application/">' in quoted
    assert "Source: Tutorial 2" in quoted and "Source:" not in shown


def test_essentials_stop_at_the_budget_but_never_inside_a_list():
    lead, bullets, after = "x" * 100, [f"• step {n} " + "y" * 200 for n in range(4)], "z" * 50
    shown, tail = essentials("\n".join([lead, *bullets, after, "• " + "w" * 300]))
    assert shown == "\n".join([lead, *bullets])  # the list begun in view goes to its end
    assert tail == "\n".join([after, "• " + "w" * 300])
    shown, tail = essentials("\n".join(["a" * IN_VIEW, "b" * 20]))
    assert (shown, tail) == ("a" * IN_VIEW, "b" * 20)
    assert columns("金卡") == 4


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_long_step_folds_its_notes_and_links_and_a_short_one_does_not(engine: Engine, lang):
    def step(payload: str) -> str:
        replies, _, _ = engine.handle(
            Event.start(payload, language=lang),
            State(since=date(2026, 1, 1)),
            today=date(2026, 12, 3),
        )
        parse_html(replies[-1].text)
        return replies[-1].text

    long, short = step("g_progress_4"), step("g_apply_1")
    body, quoted = long.split(QUOTE)
    assert "⚠️" not in body and "🔗" not in body
    assert quoted.startswith("⚠️") and "🔗 <a href=" in quoted
    assert QUOTE not in short


# --- 👍/👎 reactions on an answer -----------------------------------------------------------


@pytest.fixture
def chat(db, engine) -> Chat:
    return Chat(db, engine)


def react(chat: Chat, message_id: int, *emoji: str) -> list[Reply]:
    chat.replies = converse(
        chat.db,
        chat.engine,
        user_id=chat.user_id,
        event=Event.reaction(message_id, emoji, language=TELEGRAM[chat.lang]),
        today=TODAY,
    )
    return chat.replies


def feedback_rows(db) -> list[tuple[str, bool, str | None]]:
    with Session(db) as session:
        rows = session.exec(select(Feedback).order_by(Feedback.id)).all()  # type: ignore[arg-type]
        return [(r.topic, r.helpful, r.question) for r in rows]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_thumbs_reaction_counts_once_like_the_buttons(chat, lang):
    chat.lang = lang
    chat.start()
    [answer] = chat.say(RENEW[lang])
    assert answer.answers == "renewal-how"
    remember_answers(chat.db, user_id=chat.user_id, sent=[(101, "renewal-how")])

    assert react(chat, 101, "👍") == []  # counted, silently
    assert react(chat, 101, "👎") == []  # a change counts nothing more
    assert react(chat, 101) == []  # nor a removal
    assert react(chat, 101, "👍") == []  # nor adding it back
    assert feedback_rows(chat.db) == [("renewal-how", True, RENEW[lang])]
    assert chat.state().answers == (SentAnswer(101, "renewal-how", counted=True),)


def test_a_thumbs_down_reaction_offers_the_help_desk_as_the_button_does(chat):
    chat.start()
    chat.say(RENEW["en"])
    remember_answers(chat.db, user_id=chat.user_id, sent=[(7, "renewal-how"), (8, "renewal-how")])
    [by_button] = chat.press("👎")
    [by_reaction] = react(chat, 8, "👎")
    assert by_reaction.text == by_button.text and "+886-2-7733-7660" in by_reaction.text
    assert feedback_rows(chat.db) == [("renewal-how", False, RENEW["en"])] * 2


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_feedback_buttons_count_once_per_answer_message_with_its_reaction(chat, lang):
    """Pressed twice, or pressed and then reacted to, an answer message counts once; where the
    adapter cannot say which message (the terminal), every press counts, as before."""
    chat.lang = lang
    chat.start()
    [answer] = chat.say(RENEW[lang])
    remember_answers(chat.db, user_id=chat.user_id, sent=[(101, "renewal-how")])
    up, down = (b.data for row in answer.buttons for b in row if b.label[0] in "👍👎")

    def press(data: str, message_id: int | None) -> list[Reply]:
        event = Event.button(data, language=TELEGRAM[lang], message_id=message_id)
        return converse(chat.db, chat.engine, user_id=chat.user_id, event=event, today=TODAY)

    [thanks] = press(up, 101)
    assert press(up, 101)[0].text == thanks.text  # thanked again, not counted again
    assert react(chat, 101, "👎") == []  # the reaction on the same message: counted already
    assert feedback_rows(chat.db) == [("renewal-how", True, RENEW[lang])]
    assert chat.state().answers == (SentAnswer(101, "renewal-how", counted=True),)
    press(down, None)
    assert len(feedback_rows(chat.db)) == 2


@pytest.mark.parametrize(
    "emoji", [("❤",), ("👍", "👎"), ("🔥", "🤔"), ()], ids=["heart", "both", "others", "none"]
)
def test_other_reactions_and_other_messages_count_nothing(chat, emoji):
    chat.start()
    chat.say(RENEW["en"])
    remember_answers(chat.db, user_id=chat.user_id, sent=[(5, "renewal-how")])
    assert react(chat, 5, *emoji) == []
    assert react(chat, 6, "👍") == []  # not an answer (the welcome, a menu, the user's own)
    assert feedback_rows(chat.db) == []


def test_a_reaction_leaves_a_waiting_prompt_waiting(chat):
    chat.start()
    chat.say(RENEW["en"])
    remember_answers(chat.db, user_id=chat.user_id, sent=[(5, "renewal-how")])
    chat.start("d_renewal")
    react(chat, 5, "👍")
    assert chat.state().pending == "date:renewal"
    assert "Renewal opens" in chat.say("2027-06-30")[0].text


def test_only_the_latest_answers_are_kept_and_forget_removes_them(chat):
    chat.start()
    chat.say(RENEW["en"])
    for n in range(1, MAX_SENT_ANSWERS + 4):
        remember_answers(chat.db, user_id=chat.user_id, sent=[(n, "renewal-how")])
    remember_answers(chat.db, user_id=chat.user_id, sent=[(4, "renewal-how")])  # known: kept once
    kept = [a.message_id for a in chat.state().answers]
    assert kept == list(range(4, MAX_SENT_ANSWERS + 4))
    assert react(chat, 3, "👍") == [] and feedback_rows(chat.db) == []  # too old to tell
    [mine] = chat.command("mydata")
    assert (
        f"{MAX_SENT_ANSWERS} answers I sent you lately (their message ids and topics)" in mine.text
    )
    chat.command("forget")
    chat.press("🗑")
    assert chat.state() == State()
    remember_answers(chat.db, user_id=chat.user_id, sent=[(99, "renewal-how")])  # forgotten
    assert chat.state() == State()
