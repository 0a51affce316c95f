"""Redaction: identifiers applicants paste go, the question stays readable."""

from __future__ import annotations

import logging

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.redact import RedactingFilter, configure_logging, redact, strip_identifiers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my passport is E12345678", "my passport is [passport number]"),
        ("護照號碼E12345678過期了", "護照號碼[passport number]過期了"),
        ("US passport 123456789", "US passport [passport number]"),
        ("passport AB1234567.", "passport [passport number]."),
        ("UI number A800000014", "UI number [UI number]"),  # new format
        ("統一證號AB12345678", "統一證號[UI number]"),  # old format
        ("id a123456789 please", "id [UI number] please"),
        ("申請案號: 113551045830", "申請案號: [application number]"),
        ("write to Jane.Doe+gc@example.com.tw!", "write to [email]!"),
        ("call +886 2 7733 7660", "call [phone]"),
        ("call +886-912-345-678 now", "call [phone] now"),
        ("手機 0912345678", "手機 [phone]"),
        ("(02) 7733-7660", "[phone]"),
    ],
)
def test_identifiers_are_replaced(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["my card expires 2027-06-30", "30/06/2027", "民國116年6月30日", "1160630", "NT$160,000",
     "salary 160000 a month", "step 9 of 23", "3 years", "I paid 2026/12/01 at 10:00"],
)  # fmt: skip
def test_dates_amounts_and_plain_numbers_stay(text):
    assert redact(text) == text


@given(st.text(max_size=200))
def test_redaction_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


def test_the_logging_filter_redacts_messages(caplog):
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("question from %s: %s", 42, "passport E12345678")
    assert caplog.messages == ["question from 42: passport [passport number]"]


def test_configured_logging_redacts_through_the_root_handlers(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers = [logging.StreamHandler()]  # stderr, as basicConfig would make
    try:
        configure_logging("INFO")
        configure_logging("INFO")  # idempotent: one filter per handler
        assert sum(isinstance(f, RedactingFilter) for f in root.handlers[0].filters) == 1
        logging.getLogger("test.redact.root").warning("mail a@b.tw")
    finally:
        root.handlers, root.level = saved
    assert "mail [email]" in capsys.readouterr().err


def test_strip_identifiers_leaves_the_question():
    text = "my passport E12345678 and UI number A123456789, mail me at x@y.com"
    assert " ".join(strip_identifiers(text).split()) == "my passport and UI number , mail me at"


# --- identifiers written into Chinese (or English) text: only the identifier goes ---------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的信箱abc@gmail.com收不到驗證碼", "我的信箱[email]收不到驗證碼"),
        ("信箱：Jane.Doe+gc@example.com.tw，謝謝", "信箱：[email]，謝謝"),
        ("寄到ａｂｃ＠ｇｍａｉｌ．ｃｏｍ了", "寄到[email]了"),  # full-width, as some IMEs type
        ("mail x@y.com.", "mail [email]."),
        ("我的居留證號A123456789忘了", "我的居留證號[UI number]忘了"),
        ("統一證號AB12345678過期", "統一證號[UI number]過期"),
        ("護照E12345678遺失了", "護照[passport number]遺失了"),
        ("護照號碼是３１２３４５６７８嗎", "護照號碼是[passport number]嗎"),
        ("案號113551045830查不到", "案號[application number]查不到"),
    ],
)
def test_identifiers_next_to_chinese_keep_the_words_around_them(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("電話0912345678", "電話[phone]"),
        ("手机0912-345-678", "手机[phone]"),
        ("手機：0912 345 678，晚上打", "手機：[phone]，晚上打"),
        ("打0912345678給我", "打[phone]給我"),
        ("電話０９１２３４５６７８", "電話[phone]"),
        ("公司電話02-2345-6789請找我", "公司電話[phone]請找我"),
        ("公司(02)2345-6789", "公司[phone]"),
        ("電話02 2345 6789分機12", "電話[phone]分機12"),
        ("我的號碼+886 912 345 678謝謝", "我的號碼[phone]謝謝"),
        ("+886-2-2345-6789", "[phone]"),
        ("打+852 9123 4567給我", "打[phone]給我"),
        ("香港電話+85291234567", "香港電話[phone]"),
        ("澳門+853 6612 3456", "澳門[phone]"),
        ("大陆手机+86 138 0013 8000", "大陆手机[phone]"),
        ("call +1 415 555 2671 or +44 20 7946 0958", "call [phone] or [phone]"),
        ("phone0912345678 please", "phone[phone] please"),
    ],
)
def test_phone_numbers_are_found_in_chinese_text(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我的卡2027-04-15到期", "2027/4/15要補件嗎", "居留證116年4月15日到期", "民國116年4月15日",
        "20270415到期", "1160415", "到期日 2027 / 04 / 15", "15-04-2027", "04/15/2027",
        "2027.04.15", "2027年04月15日（星期四）", "15 April 2027", "from 2027-04-15 to 2027-05-15",
        "第3步要等30天還是90天？", "上傳1024 KB以內", "薪水每月160000元", "NT$160,000", "2027年",
        "step 12 of 23, 10:00-12:00", "3年",
    ],
)  # fmt: skip
def test_dates_and_plain_numbers_in_chinese_text_stay(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "我的信箱收不到驗證碼",
        "金卡要怎麼延期？",
        "How do I renew my Gold Card?",
        "居留證忘了帶",
        "",
    ],
)
def test_text_without_identifiers_is_returned_unchanged(text):
    assert redact(text) == text


# Pieces of identifiers, dates and Chinese run together, to find texts half-redacted in one pass.
_MIXED = st.lists(
    st.sampled_from(
        [
            *"0123456789０９ +-()（）./@＠_:：AaBex電話號碼信箱年月日，。\n[]",
            *("0912345678", "+886", "abc@gmail.com", "A123456789", "E12345678", "113551045830"),
            *("[phone]", "[email]", "2027-04-15", "phone"),
        ]
    ),
    max_size=25,
).map("".join)


@given(_MIXED)
@example("00912345678-0912345678")  # the label parts the digits the matcher read as one
def test_redaction_of_identifier_like_text_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


@given(st.text(max_size=200).filter(lambda t: not any(c.isdigit() or c in "@＠" for c in t)))
def test_text_without_digits_or_at_signs_is_never_changed(text):
    assert redact(text) == text


def test_strip_identifiers_keeps_the_chinese_question():
    assert strip_identifiers("我的信箱abc@gmail.com收不到驗證碼").split() == [
        "我的信箱",
        "收不到驗證碼",
    ]
