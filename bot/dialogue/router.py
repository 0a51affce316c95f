"""What a typed message is: the text a feature awaits (a date for a calculator), small talk, or a
question for the FAQ. `message(turn, state, text)` is the one entry point for free text: plain
messages and `/ask <question>`."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal

from bot.dialogue.core import Dispatcher, Outcome, RecordUnanswered, Reply, State, Turn
from bot.dialogue.faq import answer, did_you_mean, help_desk
from bot.dialogue.menus import ask_prompt, menu_keyboard
from bot.redact import redact
from bot.textnorm import CJK_RUN, Lang, detect_lang, normalize

MAX_STORED_QUESTION = 500  # the matcher reads no further either

_GREETINGS = frozenset(
    "hi hello hey hiya yo howdy greetings morning 你好 您好 哈囉 哈啰 嗨 早安 午安 晚安 大家好 "
    "hallo hola".split()
) | {"good morning", "good afternoon", "good evening", "hi there", "hello there", "hey there"}
_THANKS = frozenset("thanks thank thx ty tks cheers 謝謝 感謝 多謝 謝啦 3q 感恩 謝".split())
_SMALL_TALK_FILLER = frozenset(
    "ok okay great so very much a lot you bot again there all for the help".split()
)


def register(d: Dispatcher) -> None:
    d.add_command("ask", message)


def message(turn: Turn, state: State, text: str) -> Outcome:
    """Answer typed text: what an awaiting feature takes (see `Dispatcher.add_awaited`), else
    small talk, else a question."""
    question = text.strip()
    if not question:
        return [ask_prompt(turn)], state
    awaited = turn.dispatcher.awaited_handler(turn.state.pending)
    if awaited is not None:
        handler, detail = awaited
        outcome = handler(turn, state, question, detail)
        if outcome is not None:
            return outcome
    state = replace(state, pending=None)
    asked = turn.in_lang(question_lang(question, turn.lang))
    talk = small_talk(question)
    if talk is not None:
        return [Reply(asked.render(f"{talk}.html"), menu_keyboard(asked, state))], state
    return answer_question(asked, state, question)


def answer_question(turn: Turn, state: State, question: str) -> Outcome:
    """Answer a question from the FAQ: the answer, "did you mean", or the help desk."""
    result = turn.matcher.match(question)
    stored = redact(question[:MAX_STORED_QUESTION])
    if result.answer is not None:
        topic = result.answer.id
        new_state = replace(state, question=stored, topic=topic)
        return [answer(turn, new_state, topic)], new_state
    new_state = replace(state, question=stored, topic=None)
    if result.candidates:
        return [did_you_mean(turn, new_state, [c.id for c in result.candidates])], new_state
    turn.effects.append(RecordUnanswered(stored, turn.lang, "no-match"))
    return [help_desk(turn, new_state, "dont_know.html")], new_state


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


def small_talk(text: str) -> Literal["greeting", "thanks"] | None:
    """Whether a message is only a greeting ("hi!") or thanks ("thanks a lot", "謝謝你")."""
    if "?" in text or "？" in text or len(text) > 40:
        return None
    words = normalize(text).split()
    if not words:
        return None
    phrase = " ".join(words)
    if phrase in _GREETINGS or (words[0] in _GREETINGS and set(words[1:]) <= _SMALL_TALK_FILLER):
        return "greeting"
    if set(words) <= _THANKS | _SMALL_TALK_FILLER and set(words) & _THANKS:
        return "thanks"
    if len(phrase) <= 8 and re.fullmatch(
        r"(謝謝|感謝|多謝|感恩)[你您了啦喔哦囉大家幫忙的]*", phrase
    ):
        return "thanks"
    if len(phrase) <= 6 and re.fullmatch(
        r"(你好|您好|哈囉|嗨|早安|午安|晚安)[啊呀喔哦囉]*", phrase
    ):
        return "greeting"
    return None
