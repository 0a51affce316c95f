"""简体中文: the converter (platform labels, URLs, emails and tags kept, reviewed overrides), the
zh_Hans_CN catalogue derived from the Traditional one, `python -m bot check`'s label check, and a
简体 reader end to end: the engine through storage (SQLite and PostgreSQL), the terminal chat,
the real Telegram adapter against the fake Bot API and the reminder sender."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date, datetime

import pytest
from babel.dates import format_date
from sqlmodel import Session, select

from bot import simplified
from bot.__main__ import main
from bot.callbacks import SetLanguage, decode, encode
from bot.config import Settings
from bot.console import Console
from bot.dates import TAIPEI, format_date_and_distance, format_full_date
from bot.dialogue import Engine
from bot.i18n import (
    HANS_LOCALE,
    LOCALES_DIR,
    ZH_LOCALE,
    catalogue_paths,
    showing,
    simplified_catalogue,
    translations,
)
from bot.models import Reminder as ReminderRow
from bot.models import User
from bot.simplified import (
    label_problems,
    labels,
    to_simplified,
    written_in_simplified,
)
from bot.storage import create_db_engine, migrate
from bot.telegram.app import build_application
from tests.fakebotapi import polling
from tests.test_dialogue import TELEGRAM, Chat
from tests.test_reminders import send

# --- the converter ---------------------------------------------------------------------------


def test_platform_labels_urls_emails_and_tags_are_kept_the_rest_converted():
    text = (
        "請於「線上申辦」點選「補正(件)上傳」上傳檔案，網路不穩時再試；寫信到 "
        'help@taiwangoldcard.tw 或看 <a href="https://coa.immigration.gov.tw/線上">平臺說明</a>'
    )
    assert to_simplified(text) == (
        "请于「線上申辦」点击「補正(件)上傳」上传文件，网络不稳时再试；写信到 "
        'help@taiwangoldcard.tw 或看 <a href="https://coa.immigration.gov.tw/線上">平台说明</a>'
    )


@pytest.mark.parametrize(
    ("traditional", "expected"),
    [
        ("請先備妥文件", "请先备妥文件"),  # documents, not 文档 (files)
        ("資料異動", "资料异动"),  # information, not 数据 (data)
        ("查詢申請進度", "查询申请进度"),  # look up, not 查找 (search for)
        ("都在線上申請", "都在线上申请"),  # not 都在在线申请
        ("30 分鐘後自動登出", "30 分钟后自动登出"),  # log out, not 注销 (close the account)
        ("申請程序", "申请程序"),  # a procedure, not 进程 (a computing process)
        ("依序列出", "依序列出"),  # in order, not 依串行出
        ("忘記帳號", "忘记账号"),
        ("檔案", "文件"),  # what tw2sp does right stays its work
    ],
)
def test_the_reviewed_overrides_correct_what_the_converter_gets_wrong(traditional, expected):
    assert to_simplified(traditional) == expected


def test_language_names_and_english_are_never_converted():
    assert (
        to_simplified("繁體中文（台灣） / 简体中文 / English")
        == "繁體中文（台灣） / 简体中文 / English"
    )
    assert to_simplified("Renew at 「線上申辦」") == "Renew at 「線上申辦」"


def test_conversions_are_cached():
    text = "金卡到期前4個月起可線上申請延期。"
    to_simplified(text)
    hits = simplified._simplified.cache_info().hits
    assert to_simplified(text) == "金卡到期前4个月起可线上申请延期。"
    assert simplified._simplified.cache_info().hits == hits + 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("金卡怎么续签？", True),
        ("我在「線上申辦」找不到续签", True),  # a quoted Traditional label does not decide
        ("金卡怎麼續簽？", False),
        ("就業金卡", False),
        ("how to renew", False),
        ("金卡", False),  # the same in both scripts
    ],
)
def test_written_in_simplified(text, expected):
    assert written_in_simplified(text) == expected


def test_dates_in_simplified_are_babels_zh_hans_cn():
    day, today = date(2027, 5, 29), date(2027, 5, 22)
    assert format_full_date(day, "zh") == "2027年5月29日 星期六"
    with showing("zh-hans"):
        assert format_full_date(day, "zh") == format_date(day, "full", locale=HANS_LOCALE)
        assert format_date_and_distance(day, "zh", today=today) == "2027年5月29日星期六（7天后）"
    assert format_full_date(day, "zh-hans") == "2027年5月29日星期六"


# --- every platform label, everywhere ------------------------------------------------------


def _all_traditional_texts(knowledge) -> list[str]:
    texts = []
    for entry in knowledge.faq.values():
        texts += [entry.title.zh, entry.answer.zh, *(link.title.zh for link in entry.links)]
    for guide in knowledge.guides.values():
        texts.append(guide.title.zh)
        for step in guide.steps:
            texts += [step.title.zh, step.body.zh, *(note.zh for note in step.notes)]
    return texts


def test_no_platform_label_of_the_content_is_converted(knowledge):
    texts = _all_traditional_texts(knowledge)
    quoted = [label for text in texts for label in labels(text)]
    assert len(quoted) > 300  # the content quotes the platform throughout
    for text in texts:
        assert Counter(labels(text)) <= Counter(labels(to_simplified(text))), text
    assert "「線上申辦」" in quoted and "「就業金卡延期申請」" in quoted


def test_no_platform_label_of_the_replies_is_converted(engine, knowledge):
    """Every FAQ answer as a 简体 reader gets it (inline mode's way): labels as on the platform."""
    for topic, entry in knowledge.faq.items():
        traditional = engine.answer(topic, "zh").text
        hans = engine.answer(topic, "zh-hans").text
        assert Counter(labels(traditional)) <= Counter(labels(hans)), topic
        if re.search(r"[們這個說請時]", entry.answer.zh):  # converts, outside the labels
            assert hans != traditional, topic


def test_check_passes_and_reports_a_converted_label(tmp_path, monkeypatch, capsys):
    assert main(["check"]) == 0
    capsys.readouterr()
    content = tmp_path / "faq.yaml"
    content.write_text("zh: |\n  請於「線上申辦」點選。\n", encoding="utf-8")
    assert list(label_problems([content], tmp_path)) == []
    # A converter that protected nothing would turn 線上 into 线上 inside the label.
    monkeypatch.setattr(simplified, "_PROTECTED", re.compile(r"<[^<>]*>"))
    simplified._simplified.cache_clear()
    try:
        [problem] = label_problems([content], tmp_path)
        assert str(problem) == "faq.yaml:2: platform label 「線上申辦」 is changed in 简体"
        assert main(["check"]) == 1
        assert "is changed in 简体" in capsys.readouterr().out
    finally:
        simplified._simplified.cache_clear()


def test_the_simplified_catalogue_is_derived_from_the_traditional_one():
    """`make i18n` writes it: every translation is the Traditional one converted (so a stale or
    hand-edited zh_Hans_CN fails here and in `python -m bot check`)."""
    traditional = translations("zh")
    derived = {m.id: m.string for m in simplified_catalogue() if m.id}
    po, _ = catalogue_paths(HANS_LOCALE)
    assert po.parent.parent.parent == LOCALES_DIR
    with po.open("rb") as fp:
        from babel.messages.pofile import read_po

        stored = {m.id: m.string for m in read_po(fp) if m.id}
    assert stored == derived
    assert translations("zh-hans").gettext("💾 Save") == "💾 保存"
    assert traditional.gettext("💾 Save") == "💾 儲存"
    assert catalogue_paths(ZH_LOCALE)[0].exists()


# --- a 简体 reader through the engine and storage ----------------------------------------------


@pytest.fixture(autouse=True)
def _zh_hans_in_telegram(monkeypatch):
    """`Chat(lang="zh-hans")` sends Telegram's language_code of a Simplified Chinese app."""
    monkeypatch.setitem(TELEGRAM, "zh-hans", "zh-hans")


@pytest.fixture
def hans(db, engine) -> Chat:
    return Chat(db, engine, lang="zh-hans")


def test_a_zh_hans_user_reads_simplified_from_start_to_mydata(hans, db, engine):
    """language_code=zh-hans: the welcome, a guide, a calculator, reminders and /mydata in 简体,
    platform labels as the platform shows them, dates in zh_Hans_CN."""
    [welcome] = hans.start()
    assert "您好！👋 我是台湾就业金卡小帮手" in welcome.text
    assert "我会用简体中文回复" in welcome.text
    assert welcome.commands == "zh-hans"  # the chat's own command menu
    assert "☎️ 联系客服" in hans.labels

    hans.press("📘 逐步操作指南")
    hans.press("就业金卡延期申请")
    [step] = hans.press("▶️")
    assert "打开内政部移民署的「外國專業人才申辦窗口平臺」" in step.text
    assert "步骤" in step.text

    hans.command("deadlines")
    hans.press("就业金卡延期申请")
    [result] = hans.say("2027-06-30")
    assert "金卡到期日：2027年6月30日星期三（221天后）" in result.text
    assert "开放申请延期：2027年3月1日星期一" in result.text
    hans.press("💾 保存")
    [on] = hans.press("🔔 提醒我")
    assert "已打开就业金卡延期申请的提醒" in on.text and "2027年3月1日星期一" in on.text
    [listed] = hans.command("reminders")
    assert "2027年3月1日星期一" in listed.text

    [mine] = hans.command("mydata")
    assert "简体中文" in mine.text and "繁體中文" not in mine.text
    assert "2027年6月30日星期三" in mine.text

    state = hans.state()
    assert state.lang is None  # followed from Telegram, not chosen
    with Session(db) as session:
        rows = session.exec(select(ReminderRow)).all()
        assert {r.lang for r in rows} == {"zh-hans"}  # the reminder goes out in 简体

    reminder = engine.reminder(state.reminders[0], "zh-hans", today=date(2027, 3, 1))
    assert reminder.text.startswith(
        "🔔 <b>提醒：就业金卡延期申请</b>\n<b>开放申请延期：2027年3月1日星期一（今天）"
    )
    assert "✅ 已完成，停止这些提醒" in [b.label for row in reminder.buttons for b in row]


def test_a_calculator_picked_by_calendar_in_simplified(hans):
    """The date picker in zh_Hans_CN (weeks start on Monday, 周一), a day pressed is the date
    typed: the result in 简体."""
    hans.start()
    hans.command("deadlines")
    [prompt] = hans.press("就业金卡延期申请")
    assert "请在下方月历点击" in prompt.text
    headers = [b.label for b in prompt.buttons[2]]
    assert headers == ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    fifteen = next(b for row in prompt.buttons[3:] for b in row if b.label == "15")
    picked = decode(fifteen.data or "").day  # type: ignore[union-attr]
    [result] = hans.press_data(fifteen.data or "")
    assert f"金卡到期日：{format_full_date(picked, 'zh-hans')}" in result.text
    assert "开放申请延期" in result.text


def test_the_calendar_file_is_in_simplified(hans):
    hans.start("d_renewal")
    hans.say("2027-06-30")
    [calendar] = hans.press("📅 行事历文件")
    assert calendar.document is not None
    ics = calendar.document.content.decode()
    assert "LANGUAGE=zh-Hans-CN" in ics and "就业金卡延期申请" in ics
    assert "zh-Hant" not in ics and "就業金卡" not in ics


def test_a_question_in_simplified_is_answered_with_labels_kept(hans):
    hans.start()
    [answer] = hans.say("金卡怎么续签？")
    assert "<b>如何申请延期</b>" in answer.text
    assert "「線上申辦」" in answer.text and "「就業金卡延期申請」" in answer.text
    assert "资料来源" in answer.text
    assert "https://coa.immigration.gov.tw/" in answer.text


def test_language_offers_three_and_switching_keeps_what_is_stored(db, engine):
    chat = Chat(db, engine, lang="zh")
    chat.start()
    chat.command("language")
    assert chat.labels[:3] == ["English", "✓ 繁體中文（台灣）", "简体中文"]
    [switched] = chat.press("简体中文")
    assert switched.edit and switched.commands == "zh-hans"
    assert "好的，我会用中文回复。" in switched.text
    assert chat.state().lang == "zh-hans"
    with Session(db) as session:
        assert session.get(User, chat.user_id).language == "zh-hans"  # fits max_length=8
    chat.command("language")
    assert "✓ 简体中文" in chat.labels
    [back] = chat.press("✓ 繁體中文")
    assert "好的，我會用中文回覆。" in back.text and chat.state().lang == "zh"


def test_forgetting_gives_the_chat_menu_back_to_telegrams_language(db, engine):
    chat = Chat(db, engine, lang="zh")
    chat.start()
    chat.command("language")
    chat.press("简体中文")
    chat.command("forget")
    [forgotten] = chat.press_data("1:fg:1")
    assert forgotten.commands == "zh"  # zh-hant: the chat's menu in 繁體 again
    assert chat.state().lang is None


def test_existing_users_keep_their_language(db, engine):
    """Stored "zh" and "en" mean what they meant: 繁體 and English, whatever Telegram says."""
    chat = Chat(db, engine, lang="zh-hans")
    chat.start()
    chat.press_data(encode(SetLanguage("zh")))
    [answer] = chat.say("怎麼申請延期")
    assert "如何申請延期" in answer.text


def test_a_simplified_writer_is_offered_the_switch_once_not_forced(db, engine):
    chat = Chat(db, engine, lang="zh")
    chat.start()
    answer, offer = chat.say("金卡怎么续签？")
    assert "<b>如何申請延期</b>" in answer.text  # still 繁體: not forced
    assert "您好像习惯使用简体中文" in offer.text
    assert [b.label for row in offer.buttons for b in row] == ["改用简体中文回复"]
    assert chat.state().offered_hans
    [again] = chat.say("续签要准备什么文件？")  # remembered: not offered twice
    assert "简体" not in again.text
    [menu] = chat.press("改用简体中文回复")
    assert chat.state().lang == "zh-hans" and "好的，我会用中文回复" in menu.text


def test_an_english_user_writing_simplified_is_offered_too(db, engine):
    chat = Chat(db, engine, lang="en")
    chat.start()
    replies = chat.say("金卡怎么续签？")
    assert "您好像习惯使用简体中文" in replies[-1].text
    assert chat.state().lang is None  # nothing chosen for them


def test_an_english_question_of_a_simplified_reader_stays_english(hans):
    hans.start()
    [answer] = hans.say("how do I renew my gold card")
    assert "How to renew" in answer.text


# --- the terminal chat ----------------------------------------------------------------------


def test_the_terminal_chat_in_simplified(knowledge, matcher, tmp_path):
    db = create_db_engine("sqlite://")
    migrate(db)
    console = Console(
        db, Engine(knowledge, matcher), out=io.StringIO(), downloads=tmp_path, language="zh-hans"
    )
    lines = iter(["/deadlines", "1", "2027-06-30", "/mydata", "怎么查询申请进度"])

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    try:
        assert console.run(read) == 0
    finally:
        db.dispose()
    out = console.out.getvalue()
    assert "我会用简体中文回复" in out and "[1] Switch to English" in out
    assert "开放申请延期：2027年3月1日星期一" in out
    assert "简体中文" in out and "「進度查詢」" in out


# --- the Telegram adapter and the reminder sender ------------------------------------------


async def test_a_zh_hans_user_in_telegram_and_the_reminder_sent_to_them(shared_db, engine, fake):
    """Through the real Application and the fake Bot API: the welcome and the chat's command
    menu in 简体, a guide, a calculator, reminders turned on, /mydata; then the sender's
    reminder in 简体 with its "Done" button (the card expires in 2099: the clock is real)."""
    application = build_application(
        Settings.from_mapping({"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}),
        db=shared_db,
        engine=engine,
    )
    mei = fake.user("美玲", language_code="zh-hans")
    chat = mei["id"]

    async def replies_to(update: dict, *, count: int = 1, method: str = "sendMessage") -> dict:
        mark = len(fake.calls)
        fake.push(update)
        sent = await fake.wait_for_calls(method, count=count, since=mark, chat_id=chat)
        return sent[-1].result

    def data(message: dict, label: str) -> str:
        rows = message["reply_markup"]["inline_keyboard"]
        return next(b["callback_data"] for row in rows for b in row if b["text"].startswith(label))

    async with polling(application):
        welcome = await replies_to(fake.command(mei, "start"))
        assert "我会用简体中文回复" in welcome["text"]
        menu = await fake.wait_for("setMyCommands", where=lambda c: "scope" in c.params)
        assert menu.params["scope"] == {"type": "chat", "chat_id": chat}
        scoped = fake.commands[(f'{{"chat_id": {chat}, "type": "chat"}}', "")]
        assert {"command": "forget", "description": "删除我保存的所有您的资料"} in scoped

        guides = await replies_to(fake.callback_query(mei, data(welcome, "📘"), message=welcome),
                                  method="editMessageText")  # fmt: skip
        overview = await replies_to(
            fake.callback_query(mei, data(guides, "就业金卡延期申请"), message=guides),
            method="editMessageText",
        )
        assert "就业金卡延期申请" in overview["text"]

        await replies_to(fake.command(mei, "start", "d_renewal"))
        result = await replies_to(fake.message(mei, "2099-06-30"))
        assert "开放申请延期：2099年3月1日星期日" in result["text"]
        saved = await replies_to(fake.callback_query(mei, data(result, "💾 保存"), message=result))
        on = await replies_to(fake.callback_query(mei, data(saved, "🔔 提醒我"), message=saved))
        assert "已打开就业金卡延期申请的提醒" in on["text"]
        mine = await replies_to(fake.command(mei, "mydata"))
        assert "简体中文" in mine["text"] and "2099年6月30日星期二" in mine["text"]

        opens = datetime(2099, 3, 1, 10, 0, tzinfo=TAIPEI)
        await send(shared_db, engine, fake, now=opens)
        reminder = fake.last_bot_message(chat)
        assert reminder is not None and reminder["text"].startswith("🔔 提醒：就业金卡延期申请")
        done = await replies_to(
            fake.callback_query(mei, data(reminder, "✅ 已完成，停止这些提醒"), message=reminder)
        )
    assert "不再提醒您就业金卡延期申请" in done["text"]


async def test_inline_mode_and_staff_links_in_simplified(fake, shared_db, engine, knowledge):
    application = build_application(
        Settings.from_mapping(
            {"BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url, "STAFF_IDS": "7"}
        ),
        db=shared_db,
        engine=engine,
    )
    mei = fake.user("美玲", language_code="zh-hans")
    staff = fake.user("Staff", id=7, language_code="zh-CN")
    async with polling(application):
        fake.push(fake.inline_query(mei, "金卡延期"))
        [inline] = await fake.wait_for_calls("answerInlineQuery", count=1)
        mark = len(fake.calls)
        fake.push(fake.command(staff, "link", "延期"))
        [linked] = await fake.wait_for_calls("sendMessage", count=1, since=mark)
    first = inline["results"][0]
    assert first["title"] == to_simplified(knowledge.faq[first["id"]].title.zh)
    shared = first["input_message_content"]["message_text"]
    assert "「線上申辦」" in shared and "资料来源" in shared
    assert "步骤" in linked["text"] and "就业金卡延期申请" in linked["text"]


def test_the_guide_and_deadlines_commands_accept_zh_hans(capsys, tmp_path):
    assert main(["guide", "renew", "--lang", "zh-hans", "--step", "7"]) == 0
    out = capsys.readouterr().out
    assert "「就業金卡延期申請」" in out and "步骤 7/16" in out
    ics = tmp_path / "renewal.ics"
    argv = ["deadlines", "renewal", "--expiry", "2027-06-30", "--today", "2026-12-03"]
    assert main([*argv, "--lang", "zh-hans", "--ics", str(ics)]) == 0
    out = capsys.readouterr().out
    assert "开放申请延期：2027年3月1日星期一（88天后）" in out
    assert "LANGUAGE=zh-Hans-CN" in ics.read_text()
    assert main([*argv[:3], "2027-02-30", "--lang", "zh-hans"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("--expiry: ") and to_simplified(error) == error


def test_ask_json_keeps_lang_and_says_how_the_reply_is_shown(capsys):
    assert main(["ask", "--json", "金卡怎么续签？"]) == 0
    simplified_question = capsys.readouterr().out
    assert '"lang": "zh"' in simplified_question and '"shown": "zh-hans"' in simplified_question
    assert '"title": "如何申请延期"' in simplified_question
    assert main(["ask", "--json", "金卡怎麼續簽？"]) == 0
    assert '"shown": "zh"' in capsys.readouterr().out
    assert main(["ask", "--json", "--lang", "zh-hans", "金卡怎麼續簽？"]) == 0
    assert '"title": "如何申请延期"' in capsys.readouterr().out
    assert main(["ask", "--lang", "zh-hans", "我的金卡2027年6月30日到期，什麼時候可以延期？"]) == 0
    out = capsys.readouterr().out
    assert "「線上申辦」" in out and "2027年3月1日星期一" in out and "什么时候可以申请延期" in out


def test_the_forms_field_names_reach_a_simplified_reader_as_the_platform_shows_them():
    """The guides list the form's fields by their on-screen names; unquoted, OpenCC turned
    「出生日期(西元)」 into 出生日期(公元), a field the platform does not show."""
    from bot.knowledge import load_knowledge

    knowledge = load_knowledge()
    for guide in knowledge.guides.values():
        for step in guide.steps:
            shown = to_simplified(step.body.zh)
            assert "公元" not in shown, (guide.id, step.n)
            for field in ("出生日期(西元)", "護照效期(西元)"):
                if field in step.body.zh:
                    assert f"「{field}」" in shown, (guide.id, step.n, field)
