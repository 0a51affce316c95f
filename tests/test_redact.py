"""Redaction: identifiers applicants paste go, the question stays readable."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.redact import RedactingFilter, configure_logging, redact, strip_identifiers
from tests.conftest import ROOT
from tests.fakebotapi import FakeBotApi, free_port


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("居留證Ａ１２３４５６７８９", "居留證[UI number]"),  # full-width, as some IMEs type
        ("護照Ｅ１２３４５６７８", "護照[passport number]"),
        ("Reisepass C01X00T47 ok", "Reisepass [passport number] ok"),  # German
        ("passeport 12AB34567.", "passeport [passport number]."),  # French
        ("passport P1234567A", "passport [passport number]"),  # Philippines
        ("護照Ｃ０１Ｘ００Ｔ４７過期", "護照[passport number]過期"),
    ],
)
def test_full_width_and_other_passport_formats_are_replaced(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["15Apr2027", "2027Apr15", "20270415", "2027-04-15T10:00", "116年4月15日", "160000TWD",
     "1024KB per file", "ISO27001", "x86_64", "Windows10", "step 12 of 23"],
)  # fmt: skip
def test_dates_units_and_words_with_digits_stay(text):
    assert redact(text) == text


def test_the_log_filter_masks_the_token_names_and_identifiers_in_exceptions(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers = [logging.StreamHandler()]
    quiet = logging.getLogger("test.redact.own")  # a library logger with a handler of its own
    quiet.propagate, quiet.handlers = False, [logging.StreamHandler()]
    try:
        configure_logging("DEBUG", secrets=["12:short"])
        root.setLevel(logging.DEBUG)  # basicConfig leaves a root with handlers as it is
        httpx = logging.getLogger("test.redact.httpx")
        httpx.debug("HTTP Request: POST http://api/bot123456:AAE-xyz_0123456789abcdefghij/getMe")
        httpx.debug("sent %s", {"chat": {"first_name": "Zel", "username": "zq"}, "id": 7})
        httpx.debug('Webhook received data: {"text": "\\u8b49A123456789"}')
        quiet.debug("token 12:short, %s", "User(first_name='Zel', id=7)")
        try:
            raise ValueError("http://api/bot123456:AAE-xyz_0123456789abcdefghij/ C01X00T47")
        except ValueError:
            httpx.exception("failed")
    finally:
        root.handlers, root.level = saved
        quiet.propagate, quiet.handlers = True, []
    logged = capsys.readouterr().err
    for secret in ("AAE-xyz", "Zel", "zq", "A123456789", "C01X00T47", "12:short"):
        assert secret not in logged, logged
    assert "/bot[token]/getMe" in logged and "'first_name': '[name]'" in logged
    assert "證[UI number]" in logged and "ValueError" in logged


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


# --- the bot's own logs at DEBUG ---------------------------------------------------------------

IDENTIFIERS = ("Ａ１２３４５６７８９", "A123456789", "C01X00T47", "12AB34567", "zq@x.tw")
PASTED = "我的居留證Ａ１２３４５６７８９，舊的A123456789, passport C01X00T47 or 12AB34567, zq@x.tw"


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_debug_logs_hold_no_token_names_or_identifiers(mode, tmp_path):
    """`LOG_LEVEL=DEBUG` as a process, polling and webhook: every logger's records (PTB's, httpx's,
    tornado's) pass the redaction: no token, no names or usernames, no identifiers."""
    async with FakeBotApi() as fake:
        port = free_port()
        environment = {
            k: v for k, v in os.environ.items() if k not in ("STAFF_IDS", "WEBHOOK_URL")
        }
        environment |= {
            "BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "LOG_LEVEL": "DEBUG",
        }
        args = ["main"]
        if mode == "webhook":
            url = f"http://127.0.0.1:{port}/telegram-updates"
            environment |= {"WEBHOOK_URL": url, "WEBHOOK_SECRET": "a-secret_0123"}
            args = ["webhook", "--port", str(port), "--listen", "127.0.0.1"]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=ROOT, env=environment,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            zq = fake.user("Zelphine", last_name="Quorrington", username="zelphine_q")
            update = fake.message(zq, PASTED)
            if mode == "polling":
                assert await fake.wait_until(lambda: fake.long_polling, timeout=20)
                fake.push(update)
            else:
                assert await fake.wait_until(lambda: fake.webhook.url, timeout=20)
                for _ in range(50):
                    try:
                        await fake.post_update(update)
                        break
                    except OSError:
                        await asyncio.sleep(0.1)
            await fake.wait_for("sendMessage", chat_id=zq["id"], timeout=20)
            await asyncio.sleep(0.3)  # the logging after the reply
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), 20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    logged = stderr.decode()
    assert " DEBUG " in logged  # the level was on
    secrets = (fake.token, fake.token.split(":")[1], "a-secret_0123")
    secrets += ("Zelphine", "Quorrington", "zelphine_q")
    leaked = [s for s in (*secrets, *IDENTIFIERS) if s in logged]
    escaped = [s for s in IDENTIFIERS if json.dumps(s)[1:-1] in logged]  # as JSON shows them
    assert (leaked, escaped) == ([], []), logged[-3000:]
