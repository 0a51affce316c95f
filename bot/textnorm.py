"""Text normalisation shared by content checks and the matcher: one canonical form of a question.

Owns Unicode folding, Simplified -> Traditional, punctuation and language detection.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

import opencc

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, Lang] = ("zh", "en")

# Character-level conversion with Taiwan variant characters (s2tw). The phrase-level s2twp table
# was tried and rejected: run on Traditional text it rewrites genuine Taiwan words (文件 -> 檔案,
# 窗口 -> 視窗, 程序 -> 程式), merging "documents" with "files". Mainland vocabulary (打印, 信息,
# 登录, 邮箱) is handled where it belongs, as synonyms in knowledge/synonyms.yaml.
_S2TW = opencc.OpenCC("s2tw")

# Variants that opencc or users produce for the same word; folded so both sides compare equal.
_VARIANTS = str.maketrans(
    {
        "臺": "台",
        "賬": "帳",
        "箇": "個",
        "裏": "裡",
        "綫": "線",
        "爲": "為",
        "衆": "眾",
        "着": "著",
        "峯": "峰",
        "啓": "啟",
        "僞": "偽",
        "户": "戶",
        "鈎": "鉤",
        "羣": "群",
        "黴": "霉",
    }
)

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{_CJK}]+")
# Anything that is not a letter, a digit or CJK separates words; keep $ . , inside numbers/URLs.
_SEPARATORS = re.compile(f"[^a-z0-9{_CJK}$.,'/+@:-]+")
# Those characters stay only between two letters or digits ("gov.tw", "160,000", "re-apply").
_STRAY = re.compile(r"(?<![a-z0-9])[.,'/+:@-]+|[.,'/+:@-]+(?![a-z0-9])")


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    """Simplified (or mixed) Chinese to Traditional characters; Latin text is untouched."""
    if not CJK_RUN.search(text):
        return text
    return _S2TW.convert(text).translate(_VARIANTS)


def normalize(text: str) -> str:
    """Fold a question to its canonical form: NFKC, lower case, Traditional, single spaces.

    Punctuation of both scripts becomes a space; the characters that carry meaning inside
    amounts, URLs and emails (``NT$160,000``, ``a378liu@immigration.gov.tw``) are kept.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = to_traditional(text)
    text = _SEPARATORS.sub(" ", text)
    text = _STRAY.sub(" ", text)
    return " ".join(text.split())


def detect_lang(text: str, default: Lang = "en") -> Lang:
    """Guess whether a message is Chinese or English.

    Any Chinese characters weigh heavily: one Chinese character carries about as much as an
    English word of four letters, so "金卡 renew 怎麼辦" is Chinese while "How do I renew my
    金卡?" is English.
    """
    text = unicodedata.normalize("NFKC", text)
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if cjk == 0 and latin == 0:
        return default
    return "zh" if cjk * 4 >= latin else "en"


# Control characters no one means to send: C0 and C1 but tab and newline, and lone surrogates
# (JSON can carry them). NUL made PostgreSQL refuse the write and was echoed back in replies.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def strip_controls(text: str) -> str:
    """`text` as it may enter the bot: control characters removed (a carriage return, alone or
    before a newline, becomes a newline; tabs and newlines are kept). Every channel applies it
    to what a user sends, before anything else reads it."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
