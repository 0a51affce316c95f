"""The conversation engine, scenario by scenario, in both languages, through the real storage
(SQLite and PostgreSQL): what a user sends, what the bot answers, what is kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import Engine as Database
from sqlmodel import Session, select

from bot.callbacks import decode
from bot.dialogue import Engine, Event, Reply, State
from bot.matching import MatchResult, Scored
from bot.models import Feedback, SavedDate, UnansweredQuestion, User
from bot.storage import converse, load_state

TODAY = date(2026, 11, 21)
TELEGRAM = {"en": "en-GB", "zh": "zh-hant"}
CONTACTS = (
    "+886-2-7733-7660",
    "help@taiwangoldcard.tw",
    "https://goldcard.nat.gov.tw/zh/help-desk/",
)
RENEW = {"en": "how to renew my gold card", "zh": "怎麼申請延期"}
RENEW_TITLE = {"en": "How to renew", "zh": "如何申請延期"}
WORDS = {
    "en": {
        "switch": "切換成中文",
        "menu": "☰ Main menu",
        "guides": "📘 Step-by-step guides",
        "deadlines": "📅 My deadlines",
        "next": "Next ▶️",
        "back": "◀️ Back",
        "yes": "Yes",
        "no": "No",
        "finish": "✅ Finish",
        "continue": "▶️ Continue the guide",
        "save": "💾 Save",
        "calendar": "📅 Calendar file",
        "expired": "This button has expired",
        "source": "Source:",
    },
    "zh": {
        "switch": "Switch to English",
        "menu": "☰ 主選單",
        "guides": "📘 逐步操作指南",
        "deadlines": "📅 我的期限",
        "next": "下一步 ▶️",
        "back": "◀️ 上一步",
        "yes": "是",
        "no": "否",
        "finish": "✅ 完成",
        "continue": "▶️ 繼續上次的指南",
        "save": "💾 儲存",
        "calendar": "📅 行事曆檔案",
        "expired": "這個按鈕已失效",
        "source": "資料來源：",
    },
}
LANGS = pytest.mark.parametrize("lang", ["en", "zh"])


@dataclass
class Chat:
    """One user talking to the bot through storage, as the Telegram adapter will."""

    db: Database
    engine: Engine
    lang: str = "en"
    user_id: int = 42
    replies: list[Reply] = field(default_factory=list)
    history: list[Reply] = field(default_factory=list)

    def _send(self, event: Event) -> list[Reply]:
        self.replies = converse(
            self.db, self.engine, user_id=self.user_id, event=event, today=TODAY
        )
        assert self.replies, event
        self.history += self.replies
        return self.replies

    def say(self, text: str) -> list[Reply]:
        return self._send(Event.message(text, language=TELEGRAM[self.lang]))

    def command(self, name: str, arg: str = "") -> list[Reply]:
        return self._send(Event.command(name, arg, language=TELEGRAM[self.lang]))

    def start(self, payload: str = "") -> list[Reply]:
        return self._send(Event.start(payload, language=TELEGRAM[self.lang]))

    def press(self, label: str) -> list[Reply]:
        """Press the newest button labelled `label` (or starting with it), as a user scrolls."""
        found = [
            b
            for r in reversed(self.history)
            for row in r.buttons
            for b in row
            if b.data and (b.label == label or b.label.startswith(label))
        ]
        assert found, f"no button {label!r} in {self.labels}"
        return self.press_data(found[0].data or "")

    def press_data(self, data: str) -> list[Reply]:
        return self._send(Event.button(data, language=TELEGRAM[self.lang]))

    @property
    def text(self) -> str:
        return "\n\n".join(r.text for r in self.replies)

    @property
    def labels(self) -> list[str]:
        return [b.label for r in self.replies for row in r.buttons for b in row]

    def knowledge_title(self, topic: str, lang: str) -> str:
        return self.engine.knowledge.faq[topic].title[lang]  # type: ignore[index]

    def state(self) -> State:
        with Session(self.db) as session:
            return load_state(session, user_id=self.user_id)[0]


@pytest.fixture
def chat(db, engine) -> Chat:
    return Chat(db, engine)


def rows(db: Database, table: type) -> list:
    with Session(db) as session:
        return list(session.exec(select(table)).all())


# --- welcome, language ---------------------------------------------------------------------


@LANGS
def test_welcome_in_the_telegram_language_with_a_switch_and_the_menu(chat, lang):
    chat.lang = lang
    [welcome] = chat.start()
    assert ("就業金卡" in welcome.text) and (("您好" in welcome.text) == (lang == "zh"))
    assert WORDS[lang]["switch"] in chat.labels
    assert WORDS[lang]["guides"] in chat.labels and WORDS[lang]["deadlines"] in chat.labels
    assert len(chat.labels) == 6  # switch + ask, guides, deadlines, language, help desk
    [again] = chat.start()
    assert ("Welcome back" in again.text) == (lang == "en")


def test_the_chosen_language_wins_over_telegrams(chat):
    chat.start()
    [menu] = chat.press("切換成中文")
    assert menu.edit and "中文回覆" in menu.text
    assert chat.state().lang == "zh"
    chat.say("hello")  # a Telegram user with English settings, a one-word greeting
    assert "您好" in chat.text
    chat.command("language")
    [menu] = chat.press("English")
    assert "English" in menu.text and chat.state().lang == "en"


@LANGS
def test_first_contact_with_a_question_gets_the_welcome_and_the_answer(chat, lang):
    chat.lang = lang
    welcome, answer = chat.say(RENEW[lang])
    assert WORDS[lang]["switch"] in [b.label for row in welcome.buttons for b in row]
    assert RENEW_TITLE[lang] in answer.text


# --- questions -----------------------------------------------------------------------------


@LANGS
def test_an_answer_shows_source_links_related_topics_and_feedback(chat, knowledge, lang):
    chat.lang = lang
    chat.start()
    [answer] = chat.say(RENEW[lang])
    entry = knowledge.faq["renewal-how"]
    assert f"<b>{RENEW_TITLE[lang]}</b>" in answer.text
    assert WORDS[lang]["source"] in answer.text
    assert entry.source[0].cite(lang) in answer.text
    assert f'<a href="{entry.links[0].url}">' in answer.text
    for related in entry.related[:3]:
        assert knowledge.faq[related].title[lang] in chat.labels
    assert {"👍", "👎"} <= {label[:1] for label in chat.labels}
    chat.press(knowledge.faq[entry.related[0]].title[lang])
    assert knowledge.faq[entry.related[0]].title[lang] in chat.text


@LANGS
def test_thumbs_down_is_recorded_with_the_question_and_offers_the_help_desk(chat, lang):
    chat.lang = lang
    chat.start()
    chat.say(RENEW[lang])
    chat.press("👎")
    assert all(contact in chat.text for contact in CONTACTS)
    [feedback] = rows(chat.db, Feedback)
    assert (feedback.topic, feedback.helpful, feedback.lang) == ("renewal-how", False, lang)
    assert feedback.question == RENEW[lang]  # redaction: tests/test_storage.py
    chat.press_data("1:fb:renewal-how:1")
    assert [f.helpful for f in rows(chat.db, Feedback)] == [False, True]


@LANGS
def test_a_question_in_the_other_language_is_answered_in_that_language(chat, lang):
    chat.lang = lang
    chat.start()
    other = "zh" if lang == "en" else "en"
    [answer] = chat.say(RENEW[other])
    assert RENEW_TITLE[other] in answer.text
    assert chat.state().lang is None  # answering in it does not change the user's language


class ScriptedMatcher:
    """The real matcher, except for questions given a fixed result (did-you-mean scenarios)."""

    def __init__(self, real, script: dict[str, tuple[str, ...]]) -> None:
        self.real, self.script = real, script

    def match(self, question: str, **options: object) -> MatchResult:
        if question in self.script:
            candidates = tuple(Scored(t, 0.3) for t in self.script[question])
            return MatchResult(question, "en", None, candidates)
        return self.real.match(question, **options)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)  # the vocabulary and weights the router reads


@LANGS
def test_did_you_mean_offers_candidates_and_none_of_these_records_the_question(
    db, knowledge, matcher, lang
):
    question = {"en": "address?", "zh": "地址"}[lang]
    scripted = ScriptedMatcher(matcher, {question: ("address-change", "residence-address")})
    chat = Chat(db, Engine(knowledge, scripted), lang=lang)  # type: ignore[arg-type]
    chat.start()
    chat.say(question)
    titles = [knowledge.faq[t].title[lang] for t in ("address-change", "residence-address")]
    assert chat.labels == [*titles, {"en": "None of these", "zh": "都不是"}[lang]]
    chat.press(titles[1])
    assert f"<b>{titles[1]}</b>" in chat.text
    chat.say(question)
    [dont_know] = chat.press({"en": "None of these", "zh": "都不是"}[lang])
    assert dont_know.edit and all(contact in dont_know.text for contact in CONTACTS)
    [logged] = rows(db, UnansweredQuestion)
    assert (logged.question, logged.reason) == (question, "none-of-these")


@LANGS
def test_out_of_scope_is_an_honest_i_dont_know_with_the_offices_contacts(chat, lang):
    chat.lang = lang
    chat.start()
    question = {"en": "what is the weather on mars today", "zh": "今天火星的天氣如何"}[lang]
    [reply] = chat.say(question + " mail x@y.com")
    assert all(contact in reply.text for contact in CONTACTS)
    assert ("抱歉" in reply.text) == (lang == "zh")
    assert any(b.url == CONTACTS[2] for row in reply.buttons for b in row)
    [logged] = rows(chat.db, UnansweredQuestion)
    assert (logged.question, logged.lang, logged.reason) == (
        question + " mail [email]",
        lang,
        "out-of-scope",  # the weather is one of knowledge/out_of_scope.yaml's groups
    )


@LANGS
def test_what_nothing_resembles_is_an_i_dont_know_logged_as_no_match(chat, lang):
    chat.lang = lang
    chat.start()
    question = {"en": "qwzx plorb vennit", "zh": "嗶嗶啵啵咕嚕嚕"}[lang]
    [reply] = chat.say(question)
    assert all(contact in reply.text for contact in CONTACTS)
    [logged] = rows(chat.db, UnansweredQuestion)
    assert (logged.question, logged.reason) == (question, "no-match")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi", "Hello!"),
        ("Hello!!", "Hello!"),
        ("good morning", "Hello!"),
        ("你好", "您好"),
        ("嗨～", "您好"),
        ("thanks!", "You're welcome"),
        ("thank you very much", "You're welcome"),
        ("謝謝", "不客氣"),
        ("感謝你的幫忙", "不客氣"),
    ],
)
def test_greetings_and_thanks_get_a_short_human_reply(chat, text, expected):
    chat.lang = "zh" if "您" in expected or "不" in expected else "en"
    chat.start()
    [reply] = chat.say(text)
    assert expected in reply.text and "<b>" not in reply.text
    assert rows(chat.db, UnansweredQuestion) == []


def test_a_greeting_with_a_question_is_a_question(chat):
    chat.start()
    assert RENEW_TITLE["en"] in chat.say("hello, how do I renew my gold card?")[0].text


# --- guides --------------------------------------------------------------------------------


@LANGS
def test_walk_a_guide_with_a_profile_question(chat, knowledge, lang):
    chat.lang = lang
    chat.start()
    guide = knowledge.guides["progress"]
    chat.press(WORDS[lang]["guides"])
    [overview] = chat.press(guide.title[lang])
    assert overview.edit and guide.sections[1].title[lang] in overview.text
    [step] = chat.press("▶️")
    assert {"en": "Step 1 of 7", "zh": "步驟 1／7"}[lang] in step.text and step.edit
    for _ in (2, 3, 4, 5):
        [step] = chat.press(WORDS[lang]["next"])
    assert guide.step(5).title[lang] in step.text
    assert {"en": "applying from inside Taiwan?", "zh": "境內申請嗎"}[lang] in step.text
    [step] = chat.press(WORDS[lang]["no"])  # applying from abroad: steps 6 and 7 apply
    assert guide.step(5).title[lang] in step.text and "❓" not in step.text
    assert chat.state().profile.inside_taiwan is False
    chat.press(WORDS[lang]["next"])
    [step] = chat.press(WORDS[lang]["next"])
    assert guide.step(7).title[lang] in step.text
    [step] = chat.press(WORDS[lang]["back"])
    assert guide.step(6).title[lang] in step.text
    chat.press(WORDS[lang]["next"])
    [done] = chat.press(WORDS[lang]["finish"])
    assert guide.title[lang] in done.text and chat.state().guide is None


def test_inside_taiwan_skips_the_abroad_steps(chat, knowledge):
    chat.start("g_progress_5")
    chat.press("Yes")
    assert chat.state().profile.inside_taiwan is True
    [step] = chat.replies
    assert "Next ▶️" not in chat.labels and "✅ Finish" in chat.labels
    assert knowledge.guides["progress"].step(6).title["en"] not in step.text


def test_sections_and_exit(chat, knowledge):
    guide = knowledge.guides["apply"]
    chat.start("g_apply_3")
    chat.press("📑")
    last = guide.sections[-1]
    [step] = chat.press(last.title["en"])
    assert f"Step {guide.section_steps(last.id)[0].n} of 23" in step.text
    [menu] = chat.press("✖️")
    assert menu.edit and "left the guide" in menu.text
    assert chat.state().guide is None


@LANGS
def test_a_question_mid_guide_is_answered_with_a_way_back(chat, lang):
    chat.lang = lang
    chat.start("g_renew_4")
    [answer] = chat.say(RENEW[lang])
    assert RENEW_TITLE[lang] in answer.text
    [step] = chat.press("↩️")
    assert {"en": "Step 4 of 16", "zh": "步驟 4／16"}[lang] in step.text


@LANGS
def test_the_place_in_a_guide_survives_a_new_engine_over_the_same_database(
    db, knowledge, matcher, lang
):
    first = Chat(db, Engine(knowledge, matcher), lang=lang)
    first.start("g_apply_8")
    first.press(WORDS[lang]["next"])
    place = first.state()
    assert (place.guide, place.step) == ("apply", 9)
    restarted = Chat(db, Engine(knowledge, matcher), lang=lang)  # a new process, days later
    [welcome] = restarted.start()
    assert {"en": "Welcome back", "zh": "歡迎回來"}[lang] in welcome.text
    assert knowledge.guides["apply"].title[lang] in welcome.text
    [step] = restarted.press(WORDS[lang]["continue"])
    assert restarted.state() == place
    title = knowledge.guides["apply"].step(place.step or 0).title[lang]
    assert title in step.text


# --- deadlines -----------------------------------------------------------------------------


@LANGS
def test_deadline_flow_bad_date_re_asked_then_result_save_and_calendar(chat, knowledge, lang):
    chat.lang = lang
    chat.start()
    chat.press(WORDS[lang]["deadlines"])
    renewal = {"en": "Gold Card renewal", "zh": "就業金卡延期申請"}[lang]
    [ask] = chat.press(renewal)
    assert {"en": "card expiry date", "zh": "金卡到期日"}[lang] in ask.text
    [again] = chat.say("2027-02-30")
    assert {"en": "February 2027 has no day 30", "zh": "2027年2月沒有30日"}[lang] in again.text
    assert {"en": "for example 2027-06-30", "zh": "例如 2027-06-30"}[lang] in again.text
    [result] = chat.say("2027/6/30")
    assert {"en": "Monday, 1 March 2027", "zh": "2027年3月1日"}[lang] in result.text
    assert {"en": "in 100 days", "zh": "100 天後"}[lang] in result.text
    [saved] = chat.press(WORDS[lang]["save"])
    assert renewal in saved.text
    assert chat.state().saved[0].given == date(2027, 6, 30)
    [calendar] = chat.press(WORDS[lang]["calendar"])
    assert calendar.document is not None and calendar.document.filename.endswith(".ics")
    assert b"BEGIN:VEVENT" in calendar.document.content
    [mine] = chat.command("deadlines")
    assert renewal in mine.text and "2027" in mine.text
    chat.press("🗑")
    assert chat.state().saved == () and rows(chat.db, SavedDate) == []


def test_processing_time_asks_who_applies_first(chat):
    chat.start("d_processing")
    assert "Which describes your application?" in chat.text
    chat.press("renewal, Hong Kong or Macau")
    chat.say("2026-12-01")
    assert "Complete at the latest" in chat.text and "NIA final review" in chat.text
    chat.press("💾")
    assert chat.state().saved[0].profile == "renewal-hk-macau"


def test_saving_a_kind_again_replaces_it_and_all_saved_dates_export_together(chat):
    chat.start()
    for payload, typed in (("d_renewal", "2027-06-30"), ("d_passport", "2030-01-01")):
        chat.start(payload)
        chat.say(typed)
        chat.press("💾")
    chat.start("d_renewal")
    chat.say("2027-07-31")
    chat.press("💾")
    assert [(s.kind, s.given) for s in chat.state().saved] == [
        ("renewal", date(2027, 7, 31)),
        ("passport", date(2030, 1, 1)),
    ]
    chat.command("deadlines")
    [export] = chat.press("📅 Calendar file with all")
    assert export.document is not None and export.document.content.count(b"BEGIN:VEVENT") == 5


def test_a_question_while_a_date_is_awaited_is_answered(chat):
    chat.start("d_supplement")
    assert RENEW_TITLE["en"] in chat.say(RENEW["en"])[0].text
    assert chat.state().pending is None


# --- commands ------------------------------------------------------------------------------


@LANGS
def test_help_lists_the_commands(chat, lang):
    chat.lang = lang
    chat.start()
    [reply] = chat.command("help")
    for command in ("/help", "/cancel", "/mydata", "/forget", "/language"):
        assert command in reply.text
    assert ("我能做的事" in reply.text) == (lang == "zh")


@LANGS
def test_cancel_leaves_the_date_prompt_and_the_guide(chat, lang):
    chat.lang = lang
    chat.start("d_renewal")
    chat.press_data("1:g:apply:4")
    chat.start("d_renewal")
    [reply] = chat.command("cancel")
    assert {"en": "Stopped", "zh": "已停止"}[lang] in reply.text
    assert (chat.state().pending, chat.state().guide) == (None, None)
    assert WORDS[lang]["continue"] not in chat.labels
    chat.say("2027-06-30")  # no longer a date for the calculator
    assert {"en": "Renewal opens", "zh": "開放申請延期"}[lang] not in chat.text
    assert {"en": "nothing to stop", "zh": "沒有進行中"}[lang] in chat.command("cancel")[0].text


@LANGS
def test_mydata_shows_everything_stored(chat, lang):
    chat.lang = lang
    chat.start("g_progress_5")
    chat.press(WORDS[lang]["yes"])
    chat.start("d_renewal")
    chat.say("2027-06-30")
    chat.press(WORDS[lang]["save"])
    chat.say(RENEW[lang] + " a@b.tw")
    [data] = chat.command("mydata")
    assert f"{RENEW[lang]} [email]" in data.text  # the last question, as stored
    assert {"en": "applying from inside Taiwan? Yes", "zh": "境內申請嗎？ 是"}[lang] in data.text
    assert {"en": "30 June 2027", "zh": "2027年6月30日"}[lang] in data.text
    assert {"en": "Telegram language", "zh": "Telegram 語言"}[lang] in data.text


@LANGS
def test_forget_needs_the_confirmation_button(chat, lang):
    chat.lang = lang
    chat.start("d_renewal")
    chat.say("2027-06-30")
    chat.press(WORDS[lang]["save"])
    chat.command("forget")
    [kept] = chat.press({"en": "Keep my data", "zh": "保留我的資料"}[lang])
    assert kept.edit and chat.state().saved
    [expired] = chat.press_data("1:fg:1")  # an old confirmation, no /forget just before
    assert WORDS[lang]["expired"] in expired.text and chat.state().saved
    chat.command("mydata")
    chat.press("🗑")
    [gone] = chat.press("🗑")
    assert "/start" in gone.text
    assert rows(chat.db, User) == [] and rows(chat.db, SavedDate) == []
    assert chat.state() == State()


# --- links, stale buttons, odd input ------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("t_renewal-how", "<b>How to renew</b>"),
        ("g_apply", "23 steps"),
        ("g_apply_9", "Step 9 of 23"),
        ("d_pickup", "date you entered Taiwan"),
        ("t_no-such-topic", "Type a question at any time"),
        ("g_apply_99", "Type a question at any time"),
        ("hello world!", "Type a question at any time"),
    ],
)
def test_deep_links(chat, payload, expected):
    chat.start()
    assert expected in chat.start(payload)[-1].text


def test_a_deep_link_on_first_contact_comes_after_the_welcome(chat):
    welcome, answer = chat.start("t_renewal-how")
    assert "切換成中文" in [b.label for row in welcome.buttons for b in row]
    assert "How to renew" in answer.text


@pytest.mark.parametrize(
    "data",
    ["", "junk", "0:m", "2:m", "1:f:no-such-topic", "1:g:apply:24", "1:gj:apply:nowhere",
     "1:gp:apply:9:favourite_colour:1", "1:d:visa", "1:d:renewal:abroad",
     "1:ds:processing:20270101", "1:ds:renewal:20270230", "1:l:fr", "1:fb:renewal-how:2",
     "1:m:extra", "1:" + "x" * 80],
)  # fmt: skip
def test_stale_or_forged_buttons_expire_politely(chat, data):
    chat.start()
    [reply] = chat.press_data(data)
    assert "This button has expired" in reply.text
    assert "☰" not in reply.text and "📘 Step-by-step guides" in chat.labels


def test_unknown_commands_and_empty_messages_still_get_a_reply(chat):
    chat.start()
    assert "/frobnicate" in chat.command("frobnicate")[0].text
    assert "Type your question" in chat.say("   ")[0].text
    assert "<script>" not in chat.command("<script>")[0].text


def test_every_button_the_bot_makes_decodes(chat):
    chat.start()
    for command in ("help", "guides", "deadlines", "language", "mydata", "forget"):
        chat.command(command)
        for r in chat.replies:
            for row in r.buttons:
                for button in row:
                    assert button.url or decode(button.data or ""), button


def test_an_answer_outside_a_conversation(engine):
    reply = engine.answer("renewal-how", "zh")
    assert "<b>如何申請延期</b>" in reply.text and "☰ 主選單" in [
        b.label for r in reply.buttons for b in r
    ]


# --- deadlines: issue 12 ---------------------------------------------------------------------


@LANGS
def test_renewal_reminders_are_each_named_for_what_they_are(chat, lang):
    chat.lang = lang
    chat.start("d_renewal")
    chat.say("2027-06-30")
    chat.press(WORDS[lang]["save"])
    [on] = chat.press({"en": "🔔 Remind me", "zh": "🔔 提醒我"}[lang])
    names = {
        "en": ["Renewal window opens", "A month left to submit the renewal",
               "A week left to submit the renewal", "Last day to submit the renewal"],
        "zh": ["延期申請開放", "延期申請只剩一個月", "延期申請只剩一週", "延期申請最後提交日"],
    }[lang]  # fmt: skip
    for name in names:
        assert on.text.count(name) == 1, (name, on.text)
    chat.command("reminders")  # the ✖️ buttons and the "cancelled" note name them the same way
    buttons = [label for label in chat.labels if label.startswith("✖️")]
    assert [sum(name in b for b in buttons) for name in names] == [1, 1, 1, 1], buttons
    [reply] = chat.press(next(b for b in buttons if names[1] in b))
    assert names[1] in reply.text


@LANGS
def test_hk_macau_renewal_can_be_chosen_and_is_saved_with_its_reminders(chat, lang):
    chat.lang = lang
    chat.start("d_renewal")
    [ask] = chat.press({"en": "🇭🇰🇲🇴 Hong Kong / Macau resident", "zh": "🇭🇰🇲🇴 港澳居民"}[lang])
    assert {"en": "Hong Kong / Macau resident", "zh": "港澳居民"}[lang] in ask.text
    [result] = chat.say("2027-06-30")
    assert {"en": "apply as soon as the window opens", "zh": "請在開放申請後盡快申請"}[lang] in (
        result.text
    )
    chat.press(WORDS[lang]["save"])
    assert chat.state().saved[0].profile == "hk-macau"
    chat.press({"en": "🔔 Remind me", "zh": "🔔 提醒我"}[lang])
    assert [r.days_before for r in chat.state().reminders][:3] == [0, -7, -14]
    chat.start("d_renewal")
    chat.say("2027-06-30")  # without the choice: as everyone else
    assert "Hong Kong" not in chat.text


def test_renewal_profiles_other_than_hk_macau_stay_expired(chat):
    chat.start()
    [reply] = chat.press_data("1:d:renewal:renewal-hk-macau")
    assert WORDS["en"]["expired"] in reply.text


@LANGS
def test_a_locked_renewal_leads_to_reapplying_with_contacts_and_the_apply_guide(chat, lang):
    chat.lang = lang
    chat.start("d_renewal")
    [result] = chat.say("2026-12-10")  # locked since 10 November 2026
    assert "too late to renew online" not in result.text
    assert "就業金卡申請或重新申請" in result.text
    for contact in CONTACTS:
        assert contact in result.text
    apply_title = chat.engine.knowledge.guides["apply"].title[lang]
    [guide] = chat.press(f"📘 {apply_title}")
    assert apply_title in guide.text
