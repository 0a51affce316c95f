"""Redaction of personal identifiers in free text, before it is stored or logged.

Applicants paste passport, UI (統一證號) and application numbers, emails and phone numbers into
their questions; the help desk needs the question, never those. Over-redacting is harmless, but
an identifier is replaced alone: the words around it stay, and Chinese is written without spaces
(我的信箱abc@gmail.com收不到), so every pattern here is ASCII-only (`\\w` and `\\d` would match
Chinese characters and full-width digits). Dates, years, amounts and step numbers stay: the rest
of the bot reads dates out of the redacted text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from phonenumbers import Leniency, PhoneNumberMatcher

# Full-width ASCII (ａｂｃ＠ｇｍａｉｌ．ｃｏｍ, ０９１２…, as some IMEs type) is searched as
# ASCII. One character for one, so a match's span in the folded text is its span in the original.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

# ASCII boundaries: `\b` does not fire between a Chinese character and a Latin one (護照E1234567).
_B, _E = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"

Finder = Callable[[str], Iterable[tuple[int, int]]]


def _regex(pattern: str) -> Finder:
    compiled = re.compile(pattern, re.ASCII)
    return lambda text: (m.span() for m in compiled.finditer(text))


# Phones are found by libphonenumber (Google's metadata: what is a valid number where) rather than
# by shape: a shape broad enough for 0912-345-678, (02)2345-6789 and +852 9123 4567 also fits
# 2027-04-15 and 20270415. Numbers without a country code are read as Taiwanese.
_REGION = "TW"
_MIN_PHONE_DIGITS = 6  # no possible number is shorter, its country code included (+43 1234)
_ANY_DIGIT = re.compile(r"\d")  # Unicode: libphonenumber reads other scripts' digits too
# libphonenumber skips a number touching a Latin letter (abc8005001234); for a word run into a
# number (phone0912345678) a letter becomes a space, but not the one or two letters that begin a
# passport or UI number (E12345678), and only in the copy the matcher reads.
_WORD_INTO_DIGIT = re.compile(r"(?<=[A-Za-z]{2})[A-Za-z](?=\d)|(?<=\d)[A-Za-z](?=[A-Za-z]{2})")


# Passports whose letters sit among the digits: German C01X00T47, French 12AB34567, Philippine
# P1234567A. A word of 8-10 letters and digits, at least 4 digits, a letter after a digit and a
# digit after a letter; not a date written with its month (15Apr2027).
_MIXED_WORD = re.compile(rf"{_B}[A-Za-z0-9]{{8,10}}{_E}", re.ASCII)
_INTERLEAVED = re.compile(r"[A-Za-z][0-9].*[0-9][A-Za-z]|[0-9][A-Za-z].*[A-Za-z][0-9]|"
                          r"[0-9][A-Za-z]+[0-9]", re.ASCII)  # fmt: skip
_MONTH = re.compile(
    r"(?i)(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)(?![a-z])"
)


def _mixed_passports(text: str) -> Iterable[tuple[int, int]]:
    for match in _MIXED_WORD.finditer(text):
        word = match.group()
        if (
            sum(c.isdigit() for c in word) >= 4
            and _INTERLEAVED.search(word)
            and not _MONTH.search(word)
        ):
            yield match.span()


def _phones(text: str) -> Iterable[tuple[int, int]]:
    if len(_ANY_DIGIT.findall(text)) < _MIN_PHONE_DIGITS:
        return ()  # most questions: the matcher costs tens of µs even when it finds nothing
    spaced = _WORD_INTO_DIGIT.sub(" ", text)
    return ((m.start, m.end) for m in PhoneNumberMatcher(spaced, _REGION, Leniency.VALID))


# Order matters: an email may contain digits; a phone's digits after its + or ( could pass for an
# application or a 9-digit passport number (+886912345678 would become +[application number]).
_RULES: tuple[tuple[str, Finder], ...] = (
    ("[email]", _regex(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    # UI / ARC numbers: old format AB12345678, new format A812345678; national ids A123456789.
    ("[UI number]", _regex(rf"{_B}[A-Za-z][A-Da-d0-9][0-9]{{8}}{_E}")),
    # +886 2 7733 7660, 02-7733-7660, (02) 7733 7660, 0912 345 678, +852 9123 4567.
    ("[phone]", _phones),
    # Application numbers are 12 digits (113551045830); allow a little either side.
    ("[application number]", _regex(rf"{_B}[0-9]{{11,14}}{_E}")),
    # Passports: one or two letters and 6-9 digits (E12345678), or 9 digits (US).
    ("[passport number]", _regex(rf"{_B}(?:[A-Za-z]{{1,2}}[0-9]{{6,9}}|[0-9]{{9}}){_E}")),
    ("[passport number]", _mixed_passports),
)


def redact(text: str) -> str:
    """`text` with every identifier above replaced by a label such as `[passport number]`."""
    # Again until nothing changes: a label can part digits the matcher read as one candidate
    # (00912345678-0912345678). Each change replaces digits or an @ by a label, which has none.
    while (redacted := _redact_once(text)) != text:
        text = redacted
    return text


def _redact_once(text: str) -> str:
    # The text still to search, in pieces between the labels put in so far: (original, folded);
    # a label is a str. A rule never sees across a label, as it would not see into one.
    pieces: list[tuple[str, str] | str] = [(text, text.translate(_FOLD))]
    for label, find in _RULES:
        split: list[tuple[str, str] | str] = []
        for piece in pieces:
            if isinstance(piece, str):
                split.append(piece)
                continue
            original, folded = piece
            at = 0
            for start, end in find(folded):
                if start > at:
                    split.append((original[at:start], folded[at:start]))
                split.append(label)
                at = end
            if at < len(original):
                split.append((original[at:], folded[at:]))
        pieces = split
    return "".join(piece if isinstance(piece, str) else piece[0] for piece in pieces)


_LABELS = re.compile("|".join(re.escape(label) for label, _ in _RULES))


def strip_identifiers(text: str) -> str:
    """`text` without the identifiers: they say nothing about what is being asked."""
    return _LABELS.sub(" ", redact(text))


# --- logs ------------------------------------------------------------------------------------
# At DEBUG, PTB logs every update and Bot API answer (names, usernames, the text as sent, in
# webhook mode as raw JSON with \\uXXXX escapes) and its API URLs, which hold the token.

# A Bot API token anywhere (123456:AA…), and whatever follows /bot in a URL, whatever its shape.
_TOKEN = re.compile(r"(?<![0-9])[0-9]{3,20}:[A-Za-z0-9_-]{20,}|(?<=/bot)[^/\s'\"`]+")
# A person's names in a Telegram object as PTB logs it: repr (first_name='Ada'), dict repr
# ('first_name': 'Ada') or JSON ("first_name": "Ada").
_NAME = re.compile(
    r"""(?P<key>['"]?(?:first_name|last_name|username|phone_number)['"]?\s*[:=]\s*)"""
    r"""(?P<q>['"])(?P<value>(?:\\.|(?!(?P=q)).)*)(?P=q)"""
)
# A JSON escape that is not half of a surrogate pair (an emoji stays escaped).
_JSON_ESCAPE = re.compile(r"\\u(?![dD][89a-fA-F])([0-9a-fA-F]{4})")
_secrets: set[str] = set()


def redact_log(text: str) -> str:
    """`text` as a log may hold it: identifiers, the bot token and people's names masked."""
    for secret in _secrets:
        text = text.replace(secret, "[token]")
    text = _TOKEN.sub("[token]", text)
    text = _NAME.sub(lambda m: f"{m['key']}{m['q']}[name]{m['q']}", text)
    if "\\u" in text:  # JSON as received: read the escapes, or Ａ１… and 證A1… pass unseen
        text = _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)
    return redact(text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message, exception and stack (`redact_log`);
    installed on handlers, so it sees every logger's records at every level."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_log(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_log(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_log(record.stack_info)
        return True


def settings_secrets(settings: Any) -> list[str]:
    """The secrets among `bot.config.Settings` the logs must never show, whatever their shape:
    the bot token and the webhook secret."""
    given = (getattr(settings, "bot_token", None), getattr(settings, "webhook_secret", None))
    return [s.get_secret_value().strip() for s in given if s is not None]


def configure_logging(level: str, *, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level` with every record redacted (the one logging set-up); `secrets`
    (the bot token) are masked wherever they appear, whatever their shape."""
    _secrets.update(secret for secret in secrets if secret)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The root's handlers see every propagating logger; a logger that keeps its records to
    # its own handlers gets the filter there too.
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
