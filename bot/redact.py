"""Redaction of personal identifiers in free text, before it is stored or logged.

Applicants paste passport, UI (統一證號) and application numbers, emails and phone numbers into
their questions; the help desk needs the question, never those. Over-redacting is harmless.
"""

from __future__ import annotations

import logging
import re

# ASCII boundaries: `\b` does not fire between a Chinese character and a Latin one (護照E1234567).
_B, _E = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"

# Order matters: an email may contain digits, an application number is longer than a passport's.
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[email]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    # UI / ARC numbers: old format AB12345678, new format A812345678; national ids A123456789.
    ("[UI number]", re.compile(rf"{_B}[A-Za-z][A-Da-d0-9]\d{{8}}{_E}")),
    # +886 2 7733 7660, 02-7733-7660, (02) 7733 7660, 0912 345 678, 0912345678.
    ("[phone]", re.compile(rf"(?<![\w+])(?:\+|\(0|0)[\d\s().-]{{6,18}}\d{_E}")),
    # Application numbers are 12 digits (113551045830); allow a little either side.
    ("[application number]", re.compile(rf"{_B}\d{{11,14}}{_E}")),
    # Passports: one or two letters and 6-9 digits (E12345678), or 9 digits (US).
    ("[passport number]", re.compile(rf"{_B}(?:[A-Za-z]{{1,2}}\d{{6,9}}|\d{{9}}){_E}")),
)
_PHONE_DIGITS = range(8, 16)


def redact(text: str) -> str:
    """`text` with every identifier above replaced by a label such as `[passport number]`."""
    for label, pattern in _RULES:
        text = pattern.sub(label if label != "[phone]" else _phone, text)
    return text


_LABELS = re.compile("|".join(re.escape(label) for label, _ in _RULES))


def strip_identifiers(text: str) -> str:
    """`text` without the identifiers: they say nothing about what is being asked."""
    return _LABELS.sub(" ", redact(text))


def _phone(match: re.Match[str]) -> str:
    """Digits with separators are a phone number only with a phone's count of digits."""
    digits = sum(ch.isdigit() for ch in match[0])
    return "[phone]" if digits in _PHONE_DIGITS else match[0]


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (install it on the root handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str) -> None:
    """Log to stderr at `level` with every message redacted (the one logging set-up)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
