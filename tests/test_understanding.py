"""Reading messages before matching: dates in sentences, question sentences, negation, acks."""

from datetime import date

import pytest

from bot.understanding import (
    asks_to_calculate,
    find_dates,
    guide_navigation,
    is_acknowledgement,
    is_question,
    own_command,
    question_sentences,
    scope,
    small_talk,
    without_dates,
    yes_or_no,
)

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card expires on 15 April 2027, when can I renew?", date(2027, 4, 15)),
        ("expires April 15th 2027", date(2027, 4, 15)),
        ("金卡116年4月15日到期", date(2027, 4, 15)),
        ("我的金卡2027年4月15號到期", date(2027, 4, 15)),
        ("金卡到民國117年6月30日，延期最晚哪天要送出？", date(2028, 6, 30)),
        ("Card expires 2028-01-31 — when does my renewal window open?", date(2028, 1, 31)),
        ("我 2026/11/20 入境 Taiwan", date(2026, 11, 20)),
        ("NIA emailed me on 3 August 2026", date(2026, 8, 3)),
        ("moved in on June 30, 2026.", date(2026, 6, 30)),
        ("到期日是２０２７年３月１５日", date(2027, 3, 15)),  # full-width digits
        ("I got the notice today, what is my deadline", TODAY),
        ("補件通知今天收到", TODAY),
        ("Got the notice on 2026-10-12. How many days?", date(2026, 10, 12)),  # a full stop after
    ],
)
def test_a_date_is_read_inside_a_sentence(text: str, expected: date) -> None:
    found = find_dates(text, today=TODAY)
    assert [f.value for f in found][:1] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "is 03/04/2027 the date?",  # ambiguous: never guessed
        "upload limit is 1024 KB and 30 days",
        "電話0912345678",
        "step 11 of 13",
        "2027-02-30 expires",  # impossible
    ],
)
def test_no_date_is_made_up(text: str) -> None:
    assert [f for f in find_dates(text, today=TODAY) if not f.relative] == []


def test_dates_are_cut_out_of_the_text_to_match() -> None:
    text = "我的金卡2027年8月31日到期，几时可以申请续期？"
    assert "2027" not in without_dates(text, find_dates(text, today=TODAY))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("延期要怎麼辦？還有延期可以選幾年？", ["延期要怎麼辦？", "延期可以選幾年？"]),
        (
            "How much does a replacement card cost, and can I change where I pick it up?",
            ["How much does a replacement card cost", "can I change where I pick it up?"],
        ),
        ("Hello! How do I renew? Thanks!", ["How do I renew?"]),
        ("您好，請問地址要怎麼改？謝謝", ["請問地址要怎麼改？"]),
        ("I moved last week. Where do I update my address", ["Where do I update my address"]),
        (
            "Hello, I hope you are well. I would like to ask how to renew my card. Thank you!",
            ["I would like to ask how to renew my card."],
        ),
        ("不好意思打擾了。請問延期要怎麼辦？", ["請問延期要怎麼辦？"]),
    ],
)
def test_question_sentences_without_greetings_and_thanks(text: str, expected: list[str]) -> None:
    assert question_sentences(text) == expected


@pytest.mark.parametrize(
    ("sentence", "asks"),
    [
        ("點樣查進度", True),
        ("可唔可以加快", True),
        ("Can I pay later", True),
        ("I moved to Kaohsiung last month.", False),
        ("我上個月搬到高雄", False),
    ],
)
def test_is_question(sentence: str, asks: bool) -> None:
    assert is_question(sentence) is asks


@pytest.mark.parametrize(
    "text",
    [
        "I'm a student with an ARC, not a gold card. How do I extend it?",
        "永久居留證要怎麼申請？不是問金卡喔",
        "公司幫我辦嘅聘僱許可快到期，唔係金卡嚟㗎，點續？",
        "my visitor visa expires soon, how do I extend it?",
        "How do I apply for APRC?",
        "永久居留證（梅花卡）要怎麼申請？",
        "Can I change the address on my student ARC online?",
    ],
)
def test_not_the_card_is_out_of_scope(text: str) -> None:
    assert scope(text).outside == "other-permits"


@pytest.mark.parametrize(
    "text",
    [
        "I am on a visitor visa, can I apply from inside Taiwan?",
        "我持停留签证入境台湾，在台申请时入境方式要选哪一个？",
        "Can I convert my student visa to a gold card?",
        "I'm visa-exempt right now, can I submit the gold card application here?",
    ],
)
def test_another_permit_as_context_keeps_the_card_question(text: str) -> None:
    assert scope(text).outside is None


def test_it_is_not_the_card_that_expires_is_about_the_card() -> None:
    read = scope("不是金卡快過期，是我的護照快過期了。護照還剩幾個月的效期才可以申請金卡？")
    assert read.outside is None and "金卡快過期" not in read.text


@pytest.mark.parametrize(
    ("text", "dropped", "kept"),
    [
        ("Lost my gold card, not my passport. What do I do?", "passport", "Lost my gold card"),
        ("我要換新護照，不是要延期金卡。換好之後要做什麼？", "延期", "換新護照"),
    ],
)
def test_what_is_negated_is_not_matched(text: str, dropped: str, kept: str) -> None:
    read = scope(text)
    assert read.outside is None
    assert dropped not in read.text
    assert kept in read.text


@pytest.mark.parametrize(
    "text",
    ["who is not eligible", "是不是代表批下來了", "I don't have a gold card yet, how do I apply?"],
)
def test_ordinary_negation_is_kept(text: str) -> None:
    read = scope(text)
    assert (read.text, read.outside) == (text, None)


@pytest.mark.parametrize(
    "text",
    ["ok", "cool, got it", "好的", "感謝您的回覆！", "冇問題，多謝晒", "👍", "🙏🙏", "Thanks!"],
)
def test_acknowledgements(text: str) -> None:
    assert is_acknowledgement(text)


@pytest.mark.parametrize(
    "text", ["ok how do I renew", "好的，那延期要怎麼辦？", "renew", "thanks, and the fee?", ""]
)
def test_questions_are_not_acknowledgements(text: str) -> None:
    assert not is_acknowledgement(text)


@pytest.mark.parametrize(
    ("text", "asks"),
    [("幫我算延期申請的時間", True), ("can you work out the due dates", True),
     ("幫我計下攞卡嘅限期", True), ("how do I renew", False)],
)  # fmt: skip
def test_asks_to_calculate(text: str, asks: bool) -> None:
    assert asks_to_calculate(text) is asks


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("switch to English", "language"),
        ("請用中文回答", "language"),
        ("English please", "language"),
        ("please delete my data", "forget"),
        ("刪除我的資料", "forget"),
        ("取消提醒", "reminders"),
        ("stop reminding me", "reminders"),
        ("what do you store about me?", "mydata"),
        ("我的期限", "deadlines"),
        # questions about the card are not requests about the user's own data
        ("can I change the language of the platform?", None),
        ("how do I change my data on the gold card", None),
        ("我的資料要怎麼改", None),
    ],
)
def test_own_command(text: str, command: str | None) -> None:
    assert own_command(text) == command


@pytest.mark.parametrize(
    ("text", "answer"),
    [("是", True), ("yes", True), ("Y", True), ("好的", True), ("否", False), ("不要", False),
     ("no", False), ("n", False), ("how do I renew", None), ("是不是要延期", None)],
)  # fmt: skip
def test_yes_or_no(text: str, answer: bool | None) -> None:
    assert yes_or_no(text) is answer


@pytest.mark.parametrize(
    ("text", "move"),
    [("next", "next"), ("下一步", "next"), ("Back", "back"), ("上一步", "back"), ("n", "next"),
     ("b", "back"),
     ("step 5", 5), ("第12步", 12), ("7", 7), ("how do I renew", None), ("2027-06-30", None)],
)  # fmt: skip
def test_guide_navigation(text: str, move: object) -> None:
    assert guide_navigation(text) == move


def test_a_joiner_inside_one_question_does_not_split_it() -> None:
    text = "If I switch to the gold card, does it also serve as my ARC?"
    assert question_sentences(text) == [text]


def test_needs_said_as_statements_come_after_the_questions() -> None:
    text = "Lost my card yesterday, how do I get it replaced? Also I forgot which station I chose."
    assert question_sentences(text) == [
        "Lost my card yesterday, how do I get it replaced?",
        "I forgot which station I chose.",
    ]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("表格都填好送出了，可是我不知道下一步是什麼。請問還要付錢嗎？", "請問還要付錢嗎？"),
        (
            "I sent it in but I don't know what to do next. Do I still need to pay?",
            "Do I still need to pay?",
        ),
    ],
)
def test_a_statement_of_not_knowing_comes_after_the_question_asked_outright(text, first) -> None:
    """「不知道下一步是什麼」 holds a question word, but only the next sentence asks."""
    assert question_sentences(text)[0] == first


@pytest.mark.parametrize(
    "text",
    [
        "Can my spouse work, if she joins me in Taiwan?",
        "My husband will come as a dependant; is he allowed to freelance?",
        "我老婆跟我來台灣，她可以工作嗎？",
    ],
)
def test_a_dependants_own_rights_are_a_gap_of_the_tutorials(text: str) -> None:
    assert scope(text).outside == "gold-card-gaps"


@pytest.mark.parametrize(
    "text",
    [
        "How can my wife and kids join me in Taiwan?",
        "My wife and I both want to work in Taiwan, can we both apply for gold cards?",
        "Can my spouse come with me when I work in Taiwan on the gold card?",
        "Can my children come with me while I work in Taiwan?",
        "Can my wife get a visa to join me? I will work for a company in Taipei",
    ],
)
def test_how_family_members_come_or_apply_is_still_a_question(text: str) -> None:
    assert scope(text).outside is None


@pytest.mark.parametrize(
    ("text", "talk"),
    [("hi", "greeting"), ("Hello there!", "greeting"), ("您好", "greeting"),
     ("thanks a lot", "thanks"), ("謝謝你", "thanks"), ("冇問題，多謝晒", "thanks"),
     ("ok", "ack"), ("cool, got it", "ack"), ("好的", "ack"), ("👍", "ack"),
     ("hi, how do I renew?", None), ("thanks, and the fee?", None)],
)  # fmt: skip
def test_small_talk_is_told_apart(text: str, talk: str | None) -> None:
    assert small_talk(text) == talk
