"""Redaction: identifiers applicants paste go, the question stays readable."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
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
