"""简体中文, derived from the Traditional text: never a third copy of the content to keep in step.

OpenCC's Taiwan → mainland configuration (tw2sp: characters and usage, 檔案 → 文件, 網路 → 网络)
converts what the user reads, except what must stay as the platform shows it: whatever stands
inside 「」 (menu, tab and button names of the online platform, in Traditional there), URLs, email
addresses, HTML tags with their attributes and the names of the languages. `OVERRIDES` is the
reviewed list of words the converter gets wrong in this content. Conversions are pure, so cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import opencc

from bot.yamlsrc import Problem

_TW2SP = opencc.OpenCC("tw2sp")

# Reviewed against every phrase the converter changes beyond characters (its usage table) in the
# bot's Traditional texts: content, catalogue, code. Traditional phrase -> what a mainland reader
# expects here; the Traditional side is matched before conversion, so only its own text changes.
OVERRIDES: dict[str, str] = {
    # 資料 is "information, documents" here (資料異動, 個人資料); tw2sp makes it 数据, "data".
    "資料": "资料",
    # Paper documents to prepare are 文件 on the mainland too; tw2sp takes them for 文档 (files).
    "文件": "文件",
    # 查詢 (look up) is 查询 on the mainland; tw2sp makes it 查找 (search for).
    "查詢": "查询",
    # Online: 线上 is mainland usage too; tw2sp's 在线 gives 在在线 after 在 (在線上申請).
    "線上": "线上",
    # Logging out is 登出/退出 on the mainland; tw2sp's 注销 means closing the account.
    "登出": "登出",
    # An application procedure; tw2sp's 进程 is a computing process.
    "程序": "程序",
    # Merging files into one PDF; tw2sp's 集成 is software integration.
    "整合": "整合",
    # 依序列出 is "list in order"; tw2sp reads 序列 and writes 依串行出.
    "依序": "依序",
    # Remitting money abroad, not exporting a file.
    "匯出國外": "汇出国外",
    # 地點選錯 is "picked the wrong place", not 点选 (click).
    "地點選": "地点选",
    # The reminder schedule; tw2sp's 调度 is scheduling machinery.
    "排程": "日程",
    # Mainland usage writes 账 for accounts; the converter keeps the Taiwan 帐.
    "帳號": "账号",
    "帳戶": "账户",
}

# The names of the languages are shown as their speakers write them, in every language.
VERBATIM: tuple[str, ...] = ("繁體中文（台灣）", "繁體中文", "简体中文", "English")

# Left as they are: a quoted platform label (「…」, nested 『』 inside too), an HTML tag with its
# attributes (href URLs, tg:// links), a URL or email address in the text, a language's name.
_PROTECTED = re.compile(
    r"「[^「」]*」"
    r"|<[^<>]*>"
    r"|(?:https?|tg)://[^\s<>\"'「」，。；）]+"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|" + "|".join(re.escape(name) for name in sorted(VERBATIM, key=len, reverse=True))
)
_OVERRIDE = re.compile("|".join(re.escape(w) for w in sorted(OVERRIDES, key=len, reverse=True)))
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A platform label as the content writes it: 「線上申辦」.
LABEL = re.compile(r"「[^「」]*」")


def to_simplified(text: str) -> str:
    """`text` (Traditional, or English with Chinese in it; may be Telegram HTML) in 简体中文,
    platform labels, URLs, emails, tags and language names untouched."""
    if not _CJK.search(text):
        return text
    return _simplified(text)


@lru_cache(maxsize=8192)
def _simplified(text: str) -> str:
    out: list[str] = []
    start = 0
    for kept in _PROTECTED.finditer(text):
        out.append(_convert(text[start : kept.start()]))
        out.append(kept.group())
        start = kept.end()
    out.append(_convert(text[start:]))
    return "".join(out)


@lru_cache(maxsize=8192)
def _convert(free: str) -> str:
    """Free text (nothing protected in it) converted, the override words first."""
    if not _CJK.search(free):
        return free
    out: list[str] = []
    start = 0
    for word in _OVERRIDE.finditer(free):
        out.append(_TW2SP.convert(free[start : word.start()]))
        out.append(OVERRIDES[word.group()])
        start = word.end()
    out.append(_TW2SP.convert(free[start:]))
    return "".join(out)


def labels(text: str) -> list[str]:
    """The platform labels quoted in `text`, in order: ['「線上申辦」', …]."""
    return LABEL.findall(text)


def converted_labels(text: str) -> Iterator[str]:
    """The labels of the Traditional `text` that do not appear unchanged in its 简体 form (none
    while conversion keeps its promise; `python -m bot check` reports any)."""
    simplified = labels(to_simplified(text))
    for label in labels(text):
        if label in simplified:
            simplified.remove(label)
        else:
            yield label


_OPENCC_S2T = opencc.OpenCC("s2t")
_OPENCC_T2S = opencc.OpenCC("t2s")


def written_in_simplified(text: str) -> bool:
    """Whether `text` is written in Simplified characters: more of its characters change from
    Simplified to Traditional than the other way round (a quoted Traditional label in a
    Simplified question does not make it Traditional)."""
    chars = "".join(_CJK.findall(LABEL.sub("", text)))
    if not chars:
        return False
    to_trad = sum(a != b for a, b in zip(chars, _OPENCC_S2T.convert(chars), strict=False))
    to_simp = sum(a != b for a, b in zip(chars, _OPENCC_T2S.convert(chars), strict=False))
    return to_trad > to_simp


def label_problems(files: Iterable[Path], root: Path) -> Iterator[Problem]:
    """Every platform label of the Traditional text in `files` (content YAML, templates, the
    Traditional catalogue, code) that its 简体 form does not show unchanged, at its line."""
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "「" not in line:
                continue
            for label in converted_labels(line):
                where = path.relative_to(root) if path.is_relative_to(root) else path
                yield Problem(str(where), n, f"platform label {label} is changed in 简体")
