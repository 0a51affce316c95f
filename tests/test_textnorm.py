"""Normalisation and language detection."""

from __future__ import annotations

import pytest

from bot.textnorm import detect_lang, normalize, strip_controls, to_traditional


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＵＩ　Ｎｕｍｂｅｒ？", "ui number"),  # full-width letters and space, NFKC
        ("How do I RENEW my Gold-Card!!", "how do i renew my gold-card"),
        ("金卡，怎麼延期？", "金卡 怎麼延期"),
        ("「線上申辦」＞「就業金卡延期申請」", "線上申辦 就業金卡延期申請"),
        ("护照过期了怎么办", "護照過期了怎麼辦"),  # Simplified -> Traditional
        ("账号被锁定", "帳號被鎖定"),  # 賬 folded to the Taiwan form 帳
        ("臺灣", "台灣"),
        ("NT$160,000 salary", "nt$160,000 salary"),
        ("email a378liu@immigration.gov.tw.", "email a378liu@immigration.gov.tw"),
        ("   \n\t ", ""),
        ("🙂🙂", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_traditional_text_is_not_rewritten():
    # Phrase-level conversion would turn 文件 (documents) into 檔案 (files); we must not.
    assert to_traditional("文件 申辦窗口 程序") == "文件 申辦窗口 程序"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("How do I renew?", "en"),
        ("金卡怎麼延期", "zh"),
        ("金卡 renew 怎麼辦", "zh"),
        ("How do I renew my 金卡 online?", "en"),
        ("可以用Safari嗎", "zh"),
        ("怎么补件", "zh"),
        ("12345", "en"),
        ("", "en"),
    ],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


def test_detect_lang_default_for_no_letters():
    assert detect_lang("🙂", default="zh") == "zh"


def test_strip_controls_keeps_text_tabs_newlines_and_emoji():
    assert strip_controls("a\x00b\r\nc\rd\te\x1b[31mf\x7f\x85g\ud800") == "ab\nc\nd\te[31mfg"
    family = "金卡 👨\u200d👩\u200d👧 延期\u200b"  # format characters (joiners) stay
    assert strip_controls(family) == family
