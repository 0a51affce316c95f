"""Reading a message before matching it: its sentences, the question among them, dates, negation.

Each step is a plain function with its own tests; `bot/routing.py` puts them together. Nothing
here knows the FAQ topics: this is about how applicants write, not about what they ask.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.dates import DateInputError, read_date
from bot.textnorm import CJK_RUN

# --- dates in a sentence -------------------------------------------------------------------

_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ORD = r"(?:st|nd|rd|th)?"
_DATE_IN_TEXT = re.compile(
    r"(?:民國|民国|中華民國|中华民国)?\s*\d{2,4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日號号]?"
    r"|(?<![\d/.-])(?:民國|民国)?\d{2,4}([-/.])\d{1,2}\1\d{1,4}(?![\d/-]|\.\d)"
    rf"|\b\d{{1,2}}{_ORD}\s*(?:of\s+)?(?:{_MONTHS})\.?,?\s*\d{{4}}\b"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}{_ORD},?\s*\d{{4}}\b"
    rf"|\b\d{{4}}\s+(?:{_MONTHS})\.?\s+\d{{1,2}}{_ORD}\b",
    re.IGNORECASE,
)
# Days named relative to today; only event dates use them (nobody's card expires "today").
_RELATIVE = re.compile(r"\b(today|yesterday|tomorrow)\b|今天|今日|昨天|昨日|明天|明日", re.I)


@dataclass(frozen=True)
class FoundDate:
    """A date written in a message: where it stands and what it reads as."""

    start: int
    end: int
    value: date
    relative: bool = False


def find_dates(text: str, *, today: date) -> list[FoundDate]:
    """Every date in free text that `bot.dates.read_date` reads unambiguously, in order.

    The message is NFKC-folded first so full-width digits count; positions refer to the folded
    text, which has the same length for everything a date is made of.
    """
    folded = unicodedata.normalize("NFKC", text)
    found: list[FoundDate] = []
    for m in _DATE_IN_TEXT.finditer(folded):
        raw = re.sub(r"(?<=\d)\s*of\s+", " ", m.group(0), flags=re.I).strip()
        try:
            reading = read_date(raw, today=today)
        except DateInputError:
            continue  # ambiguous (03/04/2027), impossible or out of range: not read as a date
        found.append(FoundDate(m.start(), m.end(), reading.value))
    for m in _RELATIVE.finditer(folded):
        if not any(f.start <= m.start() < f.end for f in found):
            reading = read_date(m.group(0), today=today)
            found.append(FoundDate(m.start(), m.end(), reading.value, relative=True))
    return sorted(found, key=lambda f: f.start)


def without_dates(text: str, dates: list[FoundDate]) -> str:
    """The text with its dates cut out (their digits only make a question look unfamiliar)."""
    folded = unicodedata.normalize("NFKC", text)
    out, last = [], 0
    for found in dates:
        if found.relative:
            continue  # "today" says something about the question; keep the word
        out.append(folded[last : found.start])
        out.append(" ")
        last = found.end
    out.append(folded[last:])
    return "".join(out)


# --- sentences and the question among them ---------------------------------------------------

_SENTENCE = re.compile(r"[^.?!。？！;；\n]+[.?!。？！;；\n]*")
# A second question joined to the first: "…? And…", "…，還有…", "另外…", "仲有…", ", and can I…".
_JOINERS = re.compile(
    r"(?:^|(?<=[\s,，、]))"
    r"(?:and also|and|also|plus|besides|另外|還有|还有|仲有|同埋|以及|然後|然后)"
    r"(?=[\s,，]|[\u3400-\u9fff])",
    re.I,
)
_EN_QUESTION_WORDS = re.compile(
    r"\b(how|what|when|where|which|who|why|can|could|do|does|did|is|are|should|will|would|may|"
    r"must|any|anything|whether)\b",
    re.I,
)
_ZH_QUESTION_MARKS = re.compile(
    r"嗎|吗|呢|怎麼|怎么|怎樣|怎样|如何|哪|什麼|什么|甚麼|幾|几|多久|多少|是否|可否|能否|"
    r"可不可以|能不能|會不會|有沒有|要不要|是不是|點樣|点样|點做|咩|係咪|系咪|可唔可以|有冇|"
    r"幾時|几时|幾耐|边度|邊度|請問|请问|想問|想问|想知道|求問|求助|請教|请教"
)
_GREETING_SENTENCE = re.compile(
    r"^\s*(?:hi|hello|hey|dear\s+\w+|good\s+(?:morning|afternoon|evening)|greetings|"
    r"你好|您好|大家好|哈囉|哈啰|嗨|早安|午安|晚安|hello\s*\w*|"
    r"(?:i\s+)?hope\s+(?:you\s+are|you're|this\s+finds\s+you|all\s+is)\s+(?:well|good|doing\s+well)"
    r"|(?:i\s+)?hope\s+you(?:'re|\s+are)\s+doing\s+well|sorry\s+to\s+(?:bother|disturb)(?:\s+you)?"
    r"|打擾了|打扰了|不好意思打擾|不好意思打扰)\W*$",
    re.I,
)
# "I would like to ask how…", "I'm wondering whether…": an English question without a "?".
_EN_ASKING = re.compile(
    r"\b(?:i(?:'d|\s+would)\s+like\s+to\s+(?:ask|know|check|confirm)|i\s+want\s+to\s+"
    r"(?:ask|know)|i(?:'m|\s+am)?\s+wonder(?:ing)?|please\s+(?:tell|advise|let\s+me\s+know|"
    r"help)|(?:could|can)\s+you\s+(?:tell|advise|help|explain)|how\s+to|what\s+to\s+do)\b",
    re.I,
)
# What a user needs, said as a statement ("I forgot which…", 「不知道…」): a question only after
# the sentences that ask outright, so a story's "but I can't find it" does not decide.
_NEED = re.compile(
    r"\bi\s+(?:forgot|can'?t\s+find|cannot\s+find|don'?t\s+know|do\s+not\s+know|need\s+help)"
    r"|\b(?:i'?m|i\s+am)\s+not\s+sure|\bnot\s+sure\s+(?:how|where|which|what|whether|if)\b"
    r"|不知道|忘記|忘记|找不到|不確定|不确定|唔知|唔記得|搵唔到",
    re.I,
)
_THANKS_SENTENCE = re.compile(
    r"^\s*(?:(?:many\s+)?thanks?(?:\s+you)?(?:\s+(?:a\s+lot|so\s+much|very\s+much|kindly|"
    r"in\s+advance))?|thx|ty|cheers|regards|best\s+regards|"
    r"謝謝|谢谢|感謝|感谢|多謝|多谢|唔該|唔该|唔該晒|唔该晒|多謝晒|多谢晒|感恩|麻煩了|麻烦了|"
    r"麻煩您了|麻烦您了|辛苦了)\W*$",
    re.I,
)
# Politeness around a question, taken off before matching (greetings and thanks in a sentence).
_POLITE = re.compile(
    r"^\s*(?:hi|hello|hey|dear\s+(?:sir|madam|team|all)|good\s+(?:morning|afternoon|evening)|"
    r"你好|您好|大家好|哈囉|嗨|hello)[\s,，!！.。~]*"
    r"|[\s,，!！.。~]*(?:thanks?(?:\s+you)?(?:\s+(?:a\s+lot|so\s+much|very\s+much|kindly|"
    r"in\s+advance))?|thx|謝謝|谢谢|感謝|感谢|多謝晒|多謝|多谢|唔該晒|唔該|唔该)[\s!！.。~]*$",
    re.I,
)


def sentences(text: str) -> list[str]:
    """The message's sentences (a line break or end mark ends one), stripped, non-empty."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip(" \t.?!。？！;；")]


def is_question(sentence: str) -> bool:
    """Whether a sentence asks something (a question mark, or a question word of either
    language: "how", "can", 怎麼, 嗎, Cantonese 點樣, 係咪…)."""
    if "?" in sentence or "？" in sentence:
        return True
    if CJK_RUN.search(sentence) and _ZH_QUESTION_MARKS.search(sentence):
        return True
    first = sentence.strip().split(maxsplit=1)
    if first and _EN_QUESTION_WORDS.fullmatch(first[0].strip(",")):
        return True
    return bool(_EN_ASKING.search(sentence))


def is_politeness(sentence: str) -> bool:
    """A sentence that only greets or thanks ("Hello!", "Thanks a lot.", 「唔該晒」)."""
    return bool(_GREETING_SENTENCE.match(sentence) or _THANKS_SENTENCE.match(sentence))


def strip_politeness(sentence: str) -> str:
    """A sentence without the greeting before it or the thanks after it."""
    stripped = _POLITE.sub("", sentence).strip()
    return stripped or sentence


def question_sentences(text: str) -> list[str]:
    """The sentences that ask, greetings and thanks taken off; each joined question
    ("…? And how do I…", 「…？還有…」) is a sentence of its own; needs said as statements
    ("I forgot which station I chose") come after the questions."""
    parts: list[str] = []
    needs: list[str] = []
    for sentence in sentences(text):
        if is_politeness(sentence):
            continue
        for piece in _split_joined(strip_politeness(sentence)):
            # 「我不知道接下來要做什麼。」 asks only inside what it says it does not know.
            asks_outright = "?" in piece or "？" in piece
            if _NEED.search(piece) and not asks_outright:
                needs.append(piece)
            elif is_question(piece):
                parts.append(piece)
    return parts + needs


def content_sentences(text: str) -> list[str]:
    """Every sentence but the greetings and thanks (the story around a question included)."""
    return [strip_politeness(s) for s in sentences(text) if not is_politeness(s) and s.strip()]


def _split_joined(sentence: str) -> list[str]:
    """One sentence that joins two questions ("…, and can I change…") as two."""
    pieces: list[str] = []
    last = 0
    for m in _JOINERS.finditer(sentence):
        head = sentence[last : m.start()].strip(" ,，、")
        if m.start() == 0:
            last = m.end()  # 「還有…」 opening a sentence: the joiner itself says nothing
        elif _asks_anew(sentence[m.end() :]) and _words(head) >= 2:
            pieces.append(head)
            last = m.end()
    pieces.append(sentence[last:].strip(" ,，、"))
    return [p for p in pieces if p]


def _asks_anew(rest: str) -> bool:
    """Whether what follows a joiner is a question of its own: it starts with a question word
    ("…, and can I…", "…, also how…"), or is Chinese that asks (「還有延期可以選幾年？」), so
    "…, does it also serve as my ARC?" stays one question."""
    if CJK_RUN.match(rest.strip(" ,，")):
        return is_question(rest)
    first = rest.strip(" ,，").split(maxsplit=1)
    return bool(first and _EN_QUESTION_WORDS.fullmatch(first[0].strip(",").lower()))


def _words(text: str) -> int:
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    return len(re.findall(r"[A-Za-z]+", text)) + cjk // 2


# --- negation and scope --------------------------------------------------------------------

# "…, not a gold card", 「不是金卡」, 「唔係金卡」: the message is about something else.
_NOT_THE_CARD = re.compile(
    r"\b(?:not|isn'?t|is\s+not|aren'?t|not\s+about|not\s+for)\s+(?:a\s+|an\s+|the\s+|my\s+|our\s+)?"
    r"(?:employment\s+)?gold[\s-]?card(?!\s+(?:yet|holder|application|applicant))"
    r"|(?:不是|不係|唔係|並非|并非|非)(?:問|问|要問|要问|關於|关于|指|講|讲)?(?:就業|就业)?金卡"
    r"(?!持有|的持|申請人|申请人|申請者|申请者|資格|资格|快|要|已|過期|过期|到期|掉|丟|丢|遺失|遗失)",
    re.I,
)
# "…, not my passport", 「不是要延期金卡」: drop what is negated, up to the clause's end.
_NEGATED_CLAUSE = re.compile(
    r"\b(?:not|rather\s+than|instead\s+of)\s+(?:a|an|the|my|our|his|her|their|about)\s+"
    r"[^,.;!?，。；！？]*"
    r"|(?<![是還还要])(?:不是|不係|唔係|而不是|而非|並非|并非)[^,.;!?，。；！？]*",
    re.I,
)


# Another permit acted on ("extend my visitor visa", 「永久居留證怎麼申請」, "APRC"): the message
# is about that permit, unless it names the Gold Card too ("on a visitor visa, can I apply for
# the gold card").
_PERMIT_EN = (
    r"(?:visitor|tourist|student|working\s+holiday|entrepreneur|landing|business|e-?)\s*visas?"
    r"|(?:student|dependent|dependant|spouse|family|employer'?s?|work)\s+arc"
    r"|visa[-\s]exempt(?:ion)?\s+(?:stay|entry|period)|aprc|permanent\s+residen\w*"
    r"|plum\s+blossom\s+card"
)
_PERMIT_ZH = (
    r"觀光簽證|观光签证|停留簽證|停留签证|學生簽證|学生签证|創業家簽證|创业家签证|打工度假|"
    r"永久居留|梅花卡|聘僱許可|聘雇许可|免簽停留|免签停留|落地簽|落地签"
)
_ZH_ACT = r"申請|申请|辦|办|延長|延长|延期|續|续|補辦|补办|掉|遺失|遗失|到期|過期|过期"
_OTHER_PERMIT = re.compile(
    r"\b(?:extend|extending|extension\s+of|renew|renewing|apply\s+for|applying\s+for|get|"
    r"obtain|replace|lost|convert|change)\s+(?:\w+\s+){0,5}?(?:" + _PERMIT_EN + r")\b"
    r"|\b(?:" + _PERMIT_EN + r")\b.{0,30}\b(?:extend|extension|renew|renewal|expir\w*|lost)\b"
    r"|(?:" + _PERMIT_ZH + r")[^，,。？?！!；;]{0,8}(?:" + _ZH_ACT + r")"
    r"|(?:" + _ZH_ACT + r")[^，,。？?！!；;]{0,4}(?:" + _PERMIT_ZH + r")",
    re.I,
)
_THE_CARD = re.compile(r"gold[\s-]?card|金卡|就業金卡|就业金卡|four-in-one|4-in-1", re.I)
# Permanent residency: no tutorial says anything of it, so a message about it, with the card named
# or not ("does my time on the gold card count toward APRC?"), is about another permit.
_PERMANENT = re.compile(
    r"\baprc\b|permanent\s+residen\w*|plum\s+blossom\s+card|永久居留|梅花卡", re.I
)


# A dependant's own rights (may my spouse work, may my children study): the tutorials cover only
# how family members come (依親), not what they may do once here.
_DEPENDANT = (
    r"spouse|wife|husband|partner|dependant|dependent|family\s+members?|children|kids|"
    r"配偶|老婆|老公|太太|先生|家人|眷屬|眷属|依親|依亲|小孩|孩子|子女"
)
_RIGHT = r"work|freelance|take\s+(?:a\s+)?job|get\s+(?:a\s+)?job|study|go\s+to\s+school"
# The dependant must be the one doing it: "can my spouse work", "is she allowed to freelance",
# 「老婆可以工作嗎」 — not "can my spouse come while I work".
_DEPENDANTS_RIGHTS = re.compile(
    rf"\b(?:can|could|may|is|are|will)\s+(?:my\s+|our\s+|the\s+)?(?:{_DEPENDANT})"
    rf"\s+(?:also\s+|legally\s+)?(?:be\s+allowed\s+to\s+|be\s+able\s+to\s+)?(?:{_RIGHT})\b"
    rf"|\b(?:is|are|will)\s+(?:she|he|they)\s+(?:be\s+)?allowed\s+to\s+(?:{_RIGHT})\b"
    rf"|\bcan\s+(?:she|he|they)\s+(?:also\s+)?(?:{_RIGHT})\b"
    rf"|(?:{_DEPENDANT}|她|他|佢|她們|他們|佢哋)[^，,。？?！!]{{0,6}}?(?:可以|能|能不能|可不可以|可唔可以|可否|准唔准|"
    rf"可唔可以喺台灣|能否)[^，,。？?！!]{{0,6}}?(?:工作|打工|上班|接案|就業|就业|讀書|读书|上學|上学)",
    re.I,
)
# "can she work", 「她可以工作嗎」 count only in a message that names a dependant.
_NAMES_DEPENDANT = re.compile(_DEPENDANT, re.I)

_APPLYING = re.compile(r"\bappl(?:y|ying|ication)\b|申請|申请", re.I)

# The out-of-scope groups (knowledge/out_of_scope.yaml) a message's wording alone puts it in.
OTHER_PERMITS = "other-permits"
GOLD_CARD_GAPS = "gold-card-gaps"


@dataclass(frozen=True)
class Scope:
    """What negation and scope say about a message: the text to match without the negated part,
    and the out-of-scope group its wording puts it in (None: read it as a question)."""

    text: str
    outside: str | None = None


def scope(text: str) -> Scope:
    """Read negation: 「我要換護照，不是延期金卡」 matches without 「延期金卡」;
    "an ARC, not a gold card" is about another permit; "can my spouse work here?" is about a
    dependant's rights, which the tutorials do not cover."""
    if _NOT_THE_CARD.search(text):
        return Scope(_NEGATED_CLAUSE.sub(" ", text), OTHER_PERMITS)
    if _OTHER_PERMIT.search(text) and not _THE_CARD.search(text):
        return Scope(text, OTHER_PERMITS)
    if _about_permanent_residency(_NEGATED_CLAUSE.sub(" ", text)):
        return Scope(text, OTHER_PERMITS)
    if (
        _DEPENDANTS_RIGHTS.search(text)
        and _NAMES_DEPENDANT.search(text)
        and not _APPLYING.search(text)
    ):
        return Scope(text, GOLD_CARD_GAPS)  # "my wife and I both want to apply" is a question
    kept = _NEGATED_CLAUSE.sub(" ", text)
    return Scope(kept if _words(kept) >= 2 else text)


# "a Hong Kong permanent resident" is who applies, not a permit applied for.
_HK_MACAU_BEFORE = re.compile(r"(?:hong\s*kong|hk|macau|macao)\W*$", re.I)


def _about_permanent_residency(text: str) -> bool:
    """Whether the message is about Taiwan's permanent residency (APRC, 梅花卡)."""
    return any(
        not _HK_MACAU_BEFORE.search(text[max(0, m.start() - 16) : m.start()])
        for m in _PERMANENT.finditer(text)
    )


# --- what kind of message --------------------------------------------------------------------

_CALCULATE = re.compile(
    r"\b(?:calculate|calculator|calc|compute|work\s+out|figure\s+out|count)\b"
    r"|幫我算|帮我算|算一下|算算|計算|计算|幫我計|帮我计|計下|计下|計一計|幫手計|推算",
    re.I,
)


def asks_to_calculate(text: str) -> bool:
    """Whether the message asks the bot to work something out ("幫我算", "work out my dates")."""
    return bool(_CALCULATE.search(text))


_ACK_WORDS = frozenset(
    """ok okay okey k kk cool great nice good fine perfect noted got it understood understand
    clear sure alright all right right yes yep yeah no problem np awesome super wonderful
    excellent thanks thank you thx ty tks 3q cheers much lot a so very will do i see see makes
    sense sounds lovely appreciate appreciated that's that helps helped helpful bye goodbye bot
    again for the help all""".split()
)
_ACK_ZH = re.compile(
    r"^(?:好的?|好喔|好哦|好啦|好滴|嗯+|恩+|了解|瞭解|明白|知道了|收到|懂了|沒問題|没问题|冇問題|冇问题|"
    r"OK|ok|謝謝|谢谢|感謝|感谢|多謝|多谢|唔該|唔该|晒|感恩|辛苦了|讚|赞|太好了|好棒|再見|再见|拜拜|"
    r"你|您|的|了|啦|喔|哦|囉|啊|呀|哈|回覆|回复|答覆|答复|回答|幫忙|帮忙|大家|非常|很|真的|真|"
    r"你們|你们|咗|嘅|先|喇|呢|,|，|!|！|~|。|\.|\s)+$"
)


_GREETING_WORDS = frozenset(
    "hi hello hey hiya yo howdy greetings morning hallo hola "
    "你好 您好 哈囉 哈啰 嗨 早安 午安 晚安 大家好".split()
) | {"good morning", "good afternoon", "good evening", "hi there", "hello there", "hey there"}
_GREETING_FILLER = frozenset("there all bot again everyone team".split())
_GREETING_ZH = re.compile(r"(你好|您好|哈囉|哈啰|嗨|早安|午安|晚安)[啊呀喔哦囉]*")
_THANKS_WORD = re.compile(
    r"\b(?:thanks?|thx|ty|tks|cheers|appreciated?)\b|3q|謝|谢|感恩|多謝|多谢|唔該|唔该", re.I
)

SmallTalk = Literal["greeting", "thanks", "ack"]


def small_talk(text: str) -> SmallTalk | None:
    """A greeting ("hi!", 「您好」), thanks ("thanks a lot", 「謝謝你」) or an acknowledgement
    ("ok", "cool, got it", 👍) with nothing else in it: a short reply, never an unanswered
    question."""
    words = re.sub(r"[^\w\s']", " ", text.lower()).split()
    phrase = " ".join(words)
    if phrase and "?" not in text and "？" not in text and len(text) <= 40:
        if phrase in _GREETING_WORDS or _GREETING_ZH.fullmatch(phrase):
            return "greeting"
        if words[0] in _GREETING_WORDS and set(words[1:]) <= _GREETING_FILLER:
            return "greeting"
    if is_acknowledgement(text):
        return "thanks" if _THANKS_WORD.search(text) else "ack"
    return None


def is_acknowledgement(text: str) -> bool:
    """A message that only acknowledges or thanks ("ok", "cool, got it", 「好的」,
    「冇問題，多謝晒」, 👍): it gets a short reply and is never logged as unanswered."""
    stripped = text.strip()
    if not stripped or len(stripped) > 60 or "?" in stripped or "？" in stripped:
        return False
    if all(unicodedata.category(ch) in {"So", "Sk", "Zs", "Po", "Cf", "Mn"} for ch in stripped):
        return True  # emoji and punctuation only: 👍, 🙏🙏, ❤️
    letters = re.sub(r"[^\w\s']", " ", stripped.lower())
    if CJK_RUN.search(letters):
        return bool(_ACK_ZH.match(re.sub(r"[^\w\s,，!！~。.]", "", stripped)))
    words = letters.split()
    return bool(words) and set(words) <= _ACK_WORDS


# --- typed replies at a prompt ---------------------------------------------------------------

_YES = frozenset(
    "yes y yep yeah yup sure ok okay confirm confirmed delete 是 是的 好 好的 對 对 確定 确定 要 "
    "可以 沒錯 没错 係 好啊 好呀 刪除 删除 同意".split()
)
_NO = frozenset(
    "no n nope nah cancel keep stop 否 不 不要 不用 取消 算了 不是 唔要 唔使 唔好 保留".split()
)


def yes_or_no(text: str) -> bool | None:
    """A typed answer to a yes/no prompt (是/否/好/不要/yes/no/y/n), or None for anything else."""
    words = re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFKC", text).lower()).split()
    phrase = "".join(words) if CJK_RUN.search(text) else " ".join(words)
    if phrase in _YES or (words and set(words) <= _YES):
        return True
    if phrase in _NO or (words and set(words) <= _NO):
        return False
    return None


# "n" and "b" too: the terminal chat's button numbers move from step to step, these do not.
_NEXT = re.compile(
    r"^(?:n|next|next step|continue|go on|下一步|下一個|下一个|繼續|继续|下一頁|>)$", re.I
)
_BACK = re.compile(
    r"^(?:b|back|previous|prev|go back|previous step|上一步|上一個|上一个|返回|回上一步|<)$", re.I
)
_STEP_NUMBER = re.compile(r"^(?:step\s*(\d{1,2})|第\s*(\d{1,2})\s*步|(\d{1,2}))$", re.I)


def guide_navigation(text: str) -> Literal["next", "back"] | int | None:
    """Inside a guide: "next" / 「下一步」, "back" / 「上一步」, or a step number ("step 5",
    「第5步」, "5"); None for anything else."""
    folded = " ".join(unicodedata.normalize("NFKC", text).strip().rstrip(".!。！").split())
    if _NEXT.match(folded):
        return "next"
    if _BACK.match(folded):
        return "back"
    if m := _STEP_NUMBER.match(folded):
        return int(next(g for g in m.groups() if g))
    return None


# --- the user's own data and settings --------------------------------------------------------

_OWN = (
    (
        "language",
        r"(?:switch|change|set)\s+(?:the\s+)?(?:bot'?s?\s+)?(?:language\s+)?(?:to\s+)?"
        r"(?:english|chinese|中文)|(?:english|chinese)\s+please|(?:reply|answer|speak|talk)\s+"
        r"(?:to\s+me\s+)?in\s+(?:english|chinese)|change\s+(?:the\s+)?language|"
        r"(?:切換|切换|改成|改用|換成|换成|請用|请用|用|講|讲|說|说)(?:成)?(?:中文|英文|繁體|繁体)"
        r"(?:回答|回覆|回复|對話|对话)?|語言設定|语言设置|更改語言|更改语言|切換語言|切换语言|"
        r"english|chinese|in\s+english|in\s+chinese|中文|英文|繁體中文|繁体中文",
    ),
    (
        "reminders",
        r"(?:show|see|list|cancel|stop|turn\s+off)\s+(?:all\s+)?(?:my\s+)?reminders?|"
        r"my\s+reminders?|stop\s+reminding\s+me|"
        r"我的提醒|查看提醒|取消(?:所有)?提醒|關閉提醒|关闭提醒|不要再提醒|別再提醒|别再提醒",
    ),
    (
        "forget",
        r"(?:delete|erase|remove|wipe)\s+(?:all\s+)?(?:of\s+)?my\s+(?:data|information|info|account)"
        r"|forget\s+(?:about\s+)?me|"
        r"刪除我的(?:資料|數據|帳號)|删除我的(?:资料|数据|账号)|刪除(?:所有)?資料|删除(?:所有)?数据|"
        r"忘記我|忘记我",
    ),
    (
        "mydata",
        r"what\s+(?:data\s+)?do\s+you\s+(?:store|keep|know|have)\s+(?:about|on|of)\s+me|"
        r"(?:show|see)\s+my\s+data|my\s+data|"
        r"你(?:存|記|记)了(?:我)?(?:什麼|什么|哪些)|我的(?:資料|数据|數據|资料)(?:有哪些|是什麼|是什么)?",
    ),
    (
        "deadlines",
        r"(?:show|see|list)\s+my\s+(?:deadlines|saved\s+dates)|my\s+(?:deadlines|saved\s+dates)|"
        r"我的期限|我存的日期|我的日期",
    ),
)
_OWN_RE = tuple((command, re.compile(rf"^(?:{pattern})$", re.I)) for command, pattern in _OWN)
_OWN_FILLER = re.compile(
    r"^(?:please|pls|can\s+you|could\s+you|i\s+want\s+to|i'd\s+like\s+to|i\s+want|"
    r"請|请|麻煩|麻烦|幫我|帮我|我想|我要)\s*|\s*(?:please|pls|thanks|thank\s+you|謝謝|谢谢|吧|好嗎|好吗)$",
    re.I,
)


def own_command(text: str) -> str | None:
    """The command a message asks for about the user's own data or settings ("switch to
    English", 「取消提醒」, "delete my data", "my deadlines"); None for anything else. Only short,
    whole requests count: "can I change the language of the platform?" is a question."""
    folded = " ".join(unicodedata.normalize("NFKC", text).strip().rstrip("?？.!。！").split())
    if len(folded) > 60:
        return None
    for _ in range(2):
        folded = _OWN_FILLER.sub("", folded).strip(" ,，")
    for command, pattern in _OWN_RE:
        if pattern.match(folded):
            return command
    return None
