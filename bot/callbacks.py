"""Inline-button callback data: typed actions, encoded as `1:<tag>:<field>:…` in ≤ 64 bytes.

The leading version lets a later format retire old buttons cleanly: anything that does not decode
exactly (another version, an unknown tag, a field of the wrong shape) is None, and the engine
answers "this button has expired". Decoding checks shape only; the engine checks ids exist.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, ClassVar, NewType, get_type_hints

from bot.dates import MAX_YEAR, MIN_YEAR

VERSION = "1"
MAX_BYTES = 64  # Telegram's limit for callback_data


_ACTIONS: dict[str, type[Action]] = {}

# A database row's id (a handoff ticket's): more digits than a step number may have.
RowId = NewType("RowId", int)


@dataclass(frozen=True)
class Action:
    """A button's meaning; subclasses set a unique `tag` and declare fields in encoding order.

    Subclasses register themselves, so a later module can add actions (reminders, staff tools).
    """

    tag: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.tag in _ACTIONS:
            raise TypeError(f"callback tag {cls.tag!r} is taken by {_ACTIONS[cls.tag].__name__}")
        _ACTIONS[cls.tag] = cls


@dataclass(frozen=True)
class Menu(Action):
    tag = "m"


@dataclass(frozen=True)
class AskPrompt(Action):
    tag = "ask"


@dataclass(frozen=True)
class Contact(Action):
    tag = "c"


@dataclass(frozen=True)
class LanguageMenu(Action):
    tag = "lm"


@dataclass(frozen=True)
class SetLanguage(Action):
    tag = "l"
    lang: str


@dataclass(frozen=True)
class Topic(Action):
    """Open a FAQ answer (related topics, "did you mean" choices)."""

    tag = "f"
    topic: str


@dataclass(frozen=True)
class NoneOfThese(Action):
    tag = "n"


@dataclass(frozen=True)
class Feedback(Action):
    tag = "fb"
    topic: str
    helpful: bool


@dataclass(frozen=True)
class GuideList(Action):
    tag = "gl"


@dataclass(frozen=True)
class GuideOpen(Action):
    """A guide's overview (no step) or one of its steps: Next and Back carry their target."""

    tag = "g"
    guide: str
    step: int | None = None


@dataclass(frozen=True)
class GuideSections(Action):
    tag = "gs"
    guide: str
    step: int  # where "back to the step" returns


@dataclass(frozen=True)
class GuideSection(Action):
    tag = "gj"
    guide: str
    section: str


@dataclass(frozen=True)
class GuideAnswer(Action):
    """A profile answer given at a step ("Are you applying from inside Taiwan?" Yes/No)."""

    tag = "gp"
    guide: str
    step: int
    question: str
    value: bool


@dataclass(frozen=True)
class GuideContinue(Action):
    tag = "gc"


@dataclass(frozen=True)
class GuideDone(Action):
    tag = "gd"
    guide: str


@dataclass(frozen=True)
class GuideExit(Action):
    tag = "gx"


@dataclass(frozen=True)
class MyDeadlines(Action):
    tag = "dl"


@dataclass(frozen=True)
class DeadlineKinds(Action):
    tag = "dk"


@dataclass(frozen=True)
class DeadlineKind(Action):
    tag = "d"
    kind: str
    profile: str | None = None  # processing: who applies


@dataclass(frozen=True)
class SaveDeadline(Action):
    """Save the result a message shows; the button carries it, so an old message saves its own."""

    tag = "ds"
    kind: str
    given: date
    profile: str | None = None


@dataclass(frozen=True)
class CalendarFile(Action):
    tag = "di"
    kind: str
    given: date
    profile: str | None = None


@dataclass(frozen=True)
class DatePickerMonth(Action):
    """Show `month` (its 1st) in the date picker of a calculator waiting for its date; the
    picker's inert cells (weekday headers, blanks) carry the month they are in."""

    tag = "pm"
    kind: str
    month: date
    profile: str | None = None


@dataclass(frozen=True)
class DatePickerDay(Action):
    """A day pressed in a calculator's date picker: the same as typing that date."""

    tag = "pd"
    kind: str
    day: date
    profile: str | None = None


@dataclass(frozen=True)
class SavedCalendarFile(Action):
    tag = "da"


@dataclass(frozen=True)
class DeleteDeadline(Action):
    tag = "dd"
    kind: str


@dataclass(frozen=True)
class ForgetAsk(Action):
    tag = "fq"


@dataclass(frozen=True)
class Forget(Action):
    tag = "fg"
    confirmed: bool


@dataclass(frozen=True)
class RemindMe(Action):
    """Turn on reminders for a saved date; the button carries the date it was offered for."""

    tag = "r"
    kind: str
    given: date
    abroad: bool  # supplement: the documents come from abroad (also remind before final_due)


@dataclass(frozen=True)
class ReminderList(Action):
    tag = "rl"


@dataclass(frozen=True)
class CancelReminder(Action):
    """Cancel one scheduled reminder: the kind's `rule`-th rule (1-based, `bot.schedule.RULES`)."""

    tag = "rx"
    kind: str
    rule: int


@dataclass(frozen=True)
class CancelAllReminders(Action):
    tag = "ra"


@dataclass(frozen=True)
class News(Action):
    """In /settings: turn "News about procedure changes" on or off."""

    tag = "nw"
    on: bool


@dataclass(frozen=True)
class NewsStop(Action):
    """On an announcement: no more news (answered with a new message, the news stays)."""

    tag = "ns"


@dataclass(frozen=True)
class StopReminders(Action):
    """On a reminder, "Done — stop these reminders": cancel the rest of that kind's reminders."""

    tag = "rs"
    kind: str


@dataclass(frozen=True)
class HandoffAsk(Action):
    """ "Ask a person": asks for consent before anything reaches the help desk."""

    tag = "h"


@dataclass(frozen=True)
class HandoffConsent(Action):
    tag = "hc"
    confirmed: bool


@dataclass(frozen=True)
class HandoffClose(Action):
    """The applicant closes their open request: typed text goes to the bot again."""

    tag = "hx"


@dataclass(frozen=True)
class HandoffFeedback(Action):
    """ "Was this helpful?" after the help desk closed a request as answered."""

    tag = "hf"
    helpful: bool


# Staff buttons, in the ticket's topic of the staff group only (`bot.telegram.handoff`); the
# engine knows none of them, so pressed anywhere else they are "this button has expired".


@dataclass(frozen=True)
class TicketAnswered(Action):
    tag = "ta"
    ticket: RowId


@dataclass(frozen=True)
class TicketSend(Action):
    """Send the applicant a FAQ answer, in their language."""

    tag = "tt"
    ticket: RowId
    topic: str


@dataclass(frozen=True)
class TicketBlock(Action):
    """Asks the staff to confirm (`TicketBlockConfirmed`): a block is not undone by a button."""

    tag = "tb"
    ticket: RowId


@dataclass(frozen=True)
class TicketBlockConfirmed(Action):
    tag = "tbc"
    ticket: RowId


STAFF_ACTIONS = (TicketAnswered, TicketSend, TicketBlock, TicketBlockConfirmed)


# --- encoding ------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_NUMBER = re.compile(r"[1-9][0-9]{0,3}")
_ROW_ID = re.compile(r"[1-9][0-9]{0,17}")


def _parse_token(text: str) -> str:
    if not _TOKEN.fullmatch(text) or len(text) > 40:
        raise ValueError(text)
    return text


def _parse_int(text: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _parse_row_id(text: str) -> RowId:
    if not _ROW_ID.fullmatch(text):
        raise ValueError(text)
    return RowId(int(text))


def _parse_bool(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(text)
    return text == "1"


def _parse_date(text: str) -> date:
    # The range a typed date may have: a forged 9999-12-31 would overflow the deadline arithmetic.
    if len(text) != 8 or not text.isdigit() or not MIN_YEAR <= int(text[:4]) <= MAX_YEAR:
        raise ValueError(text)
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return f"{value:%Y%m%d}"
    return str(value)


_PARSERS: dict[object, Callable[[str], Any]] = {
    str: _parse_token,
    str | None: _parse_token,
    int: _parse_int,
    int | None: _parse_int,
    bool: _parse_bool,
    date: _parse_date,
    RowId: _parse_row_id,
}


@cache
def _field_parsers(cls: type[Action]) -> tuple[tuple[Callable[[str], Any], ...], int]:
    """Each field's parser, in order, and how many fields are required."""
    hints = get_type_hints(cls)
    fields = dataclasses.fields(cls)
    required = sum(f.default is dataclasses.MISSING for f in fields)
    return tuple(_PARSERS[hints[f.name]] for f in fields), required


def encode(action: Action) -> str:
    """The callback data of `action`; optional fields left unset are omitted from the end."""
    values = [getattr(action, f.name) for f in dataclasses.fields(action)]
    while values and values[-1] is None:
        values.pop()
    data = ":".join([VERSION, action.tag, *map(_format, values)])
    if len(data.encode()) > MAX_BYTES or any(v is None for v in values):
        raise ValueError(f"{action} does not fit in callback data: {data!r}")
    return data


def decode(data: str) -> Action | None:
    """The action of callback data, or None if it is not exactly one this version makes."""
    if len(data.encode(errors="replace")) > MAX_BYTES:
        return None
    version, _, rest = data.partition(":")
    tag, _, fields_text = rest.partition(":")
    cls = _ACTIONS.get(tag)
    if version != VERSION or cls is None:
        return None
    parts = fields_text.split(":") if fields_text else []
    parsers, required = _field_parsers(cls)
    if not required <= len(parts) <= len(parsers):
        return None
    try:
        action = cls(*(parse(text) for parse, text in zip(parsers, parts, strict=False)))
    except ValueError:
        return None
    return action if encode(action) == data else None  # one spelling per action: "1:m:" is not
