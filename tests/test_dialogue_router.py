"""Typed messages through the engine and real storage, in both languages: the router's answers
with their guide and calculator, dates in questions, compound and scoped questions, typed replies
at prompts, acknowledgements and declines."""

from __future__ import annotations

import pytest

from bot.models import SavedDate, UnansweredQuestion
from tests.test_dialogue import LANGS, WORDS, Chat, rows

APPLY_GUIDE = {
    "en": "📘 Step by step: Applying for the Gold Card",
    "zh": "📘 逐步教學：申請就業金卡",
}
HOW_TO_APPLY = {"en": "how do I apply for the gold card", "zh": "金卡怎麼申請"}
DATED = {
    "en": "my card expires on 15 April 2027, when can I renew?",
    "zh": "我的金卡116年4月15日到期，什麼時候可以申請延期？",
}
WINDOW_OPENS = {"en": "Renewal opens", "zh": "開放申請延期"}
OPENS_ON = {"en": "15 December 2026", "zh": "2026年12月15日"}


@pytest.fixture
def user(db, engine, request) -> Chat:
    chat = Chat(db, engine, lang=request.node.callspec.params["lang"])
    chat.start()
    return chat


@LANGS
def test_how_to_apply_answers_and_opens_the_apply_guide(user, lang):
    [reply] = user.say(HOW_TO_APPLY[lang])
    assert user.knowledge_title("how-to-apply", lang) in reply.text
    assert user.labels[0] == APPLY_GUIDE[lang]
    user.press(APPLY_GUIDE[lang])
    assert ("23" in user.text) and user.state().guide == "apply"


@LANGS
def test_a_date_in_the_question_computes_the_deadlines_to_save(user, lang):
    answer, result = user.say(DATED[lang])
    assert user.knowledge_title("renewal-window", lang) in answer.text
    assert WINDOW_OPENS[lang] in result.text and OPENS_ON[lang] in result.text
    user.press(WORDS[lang]["save"])
    [saved] = rows(user.db, SavedDate)
    assert (saved.kind, saved.given_on.isoformat()) == ("renewal", "2027-04-15")


@LANGS
def test_another_date_typed_after_a_result_is_computed_too(user, lang):
    user.say(DATED[lang])
    [result] = user.say("2027-08-31")
    assert WINDOW_OPENS[lang] in result.text and "2027" in result.text
    assert rows(user.db, UnansweredQuestion) == []


@LANGS
def test_another_date_is_answered_in_the_language_of_the_question_before(user, lang):
    other = "zh" if lang == "en" else "en"
    user.say(DATED[other])  # a Chinese question from an English user is answered in Chinese
    [result] = user.say("2027-08-31")
    assert WINDOW_OPENS[other] in result.text


@LANGS
def test_a_question_after_a_result_is_still_answered(user, lang):
    user.say(DATED[lang])
    [reply] = user.say(HOW_TO_APPLY[lang])
    assert user.knowledge_title("how-to-apply", lang) in reply.text


@LANGS
def test_a_second_question_is_offered(user, lang):
    question = {
        "en": "How do I renew? And how many years can I choose?",
        "zh": "延期要怎麼辦？還有延期可以選幾年？",
    }[lang]
    user.say(question)
    also = {"en": "❓ You also asked: ", "zh": "❓ 您也問到："}[lang]
    [label] = [b for b in user.labels if b.startswith(also)]
    user.press(label)
    assert user.knowledge_title("validity-period", lang) in user.text


@LANGS
def test_another_permit_is_declined_naming_what_the_tutorials_do_not_cover(user, lang):
    question = {
        "en": "I'm a student with an ARC, not a gold card. How do I extend my residence?",
        "zh": "我的一般居留證（不是金卡）掉了，要去哪裡補辦？",
    }[lang]
    [reply] = user.say(question)
    assert {"en": "do not cover", "zh": "不包括"}[lang] in reply.text
    assert "help@taiwangoldcard.tw" in reply.text
    [logged] = rows(user.db, UnansweredQuestion)
    assert logged.reason == "out-of-scope"


@LANGS
@pytest.mark.parametrize("text", ["ok", "👍", "好的", "cool, got it"])
def test_acknowledgements_get_a_short_reply_and_are_not_logged(user, lang, text):
    [reply] = user.say(text)
    assert len(reply.text) < 80
    assert rows(user.db, UnansweredQuestion) == []


@LANGS
@pytest.mark.parametrize(
    ("typed", "kept"),
    [("是", 0), ("yes", 0), ("y", 0), ("好", 0), ("否", 1), ("no", 1), ("不要", 1), ("n", 1)],
)
def test_yes_or_no_typed_at_the_forget_prompt(user, lang, typed, kept):
    user.say(DATED[lang])
    user.press(WORDS[lang]["save"])
    user.command("forget")
    user.say(typed)
    assert (len(rows(user.db, SavedDate)), user.state().pending) == (kept, None)


@LANGS
def test_next_back_and_a_step_number_typed_inside_a_guide(user, lang):
    user.press(WORDS[lang]["guides"])
    user.press({"en": "Applying for the Gold Card", "zh": "申請就業金卡"}[lang])
    user.press({"en": "▶️ Start", "zh": "▶️ 開始"}[lang])
    start = user.state().step
    user.say({"en": "next", "zh": "下一步"}[lang])
    assert user.state().step == start + 1
    user.say({"en": "back", "zh": "上一步"}[lang])
    assert user.state().step == start
    user.say({"en": "step 14", "zh": "第14步"}[lang])
    assert user.state().step == 14
    user.say("19")
    assert user.state().step == 19
    assert not user.replies[0].edit  # typed: a new message, nothing pressed to edit


@LANGS
def test_uploading_supplement_documents_offers_that_step(user, lang):
    question = {"en": "how do I upload my supplement documents?", "zh": "補件要怎麼上傳文件？"}[
        lang
    ]
    user.say(question)
    step = {"en": ": step 11", "zh": "：第 11 步"}[lang]
    [label] = [b for b in user.labels if b.endswith(step)]
    user.press(label)
    assert user.state().step == 11 and user.state().guide == "supplement"


@LANGS
def test_requests_about_the_users_own_settings_run_the_command(user, lang):
    user.say({"en": "switch to Chinese", "zh": "切換成英文"}[lang])
    assert "English" in "".join(user.labels) and "中文" in "".join(user.labels)
    user.say({"en": "delete my data", "zh": "刪除我的資料"}[lang])
    assert user.state().pending == "forget"
    assert rows(user.db, UnansweredQuestion) == []


@LANGS
def test_an_out_of_scope_decline_still_offers_the_topics_that_came_close(user, lang):
    question = {"en": "my visitor visa expires soon, how do I extend it?",
                "zh": "我的觀光簽證快到期了，要怎麼延長？"}[lang]  # fmt: skip
    [reply] = user.say(question)
    assert {"en": "do not cover", "zh": "不包括"}[lang] in reply.text
    [logged] = rows(user.db, UnansweredQuestion)
    assert logged.reason == "out-of-scope"


@LANGS
def test_a_dependants_own_rights_are_declined_as_a_gap_of_the_tutorials(user, lang):
    question = {"en": "Can my spouse work here if she joins me as a dependant?",
                "zh": "我老婆跟我來台灣，她可以工作嗎？"}[lang]  # fmt: skip
    [reply] = user.say(question)
    assert {"en": "do not cover", "zh": "不包括"}[lang] in reply.text
    [logged] = rows(user.db, UnansweredQuestion)
    assert logged.reason == "out-of-scope"
