"""What every feature of the engine shares: events, replies, state, effects, the turn being
answered and the one dispatcher the features register their commands, buttons, deep links and
awaited texts with. No feature imports here: the features import this.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any, Literal, TypeVar

from bot import callbacks as cb
from bot import guides, links
from bot.dates import TAIPEI
from bot.i18n import HANS, Language, render, translations
from bot.knowledge import Knowledge
from bot.matching import Matcher
from bot.routing import Router
from bot.schedule import Reminder
from bot.simplified import to_simplified
from bot.textnorm import Lang, detect_lang


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


# --- events ----------------------------------------------------------------------------------

EventKind = Literal["text", "command", "button", "start", "reaction"]


@dataclass(frozen=True)
class Event:
    """Something the user did.

    `text` is the message, the command name (without the slash), the callback data of the pressed
    button, the deep-link payload, or the id of the message a reaction is on; `arg` is a
    command's argument or a reaction's emoji (space-separated, as the message has them now);
    `language` is the user's Telegram `language_code` (it decides the language until the user
    picks one). `group`: a message addressed to the bot in a group, a question for the bot even
    while the user has a request to a person open (that is for their private chat).
    """

    kind: EventKind
    text: str = ""
    arg: str = ""
    language: str | None = None
    group: bool = False

    @classmethod
    def message(cls, text: str, *, language: str | None = None, group: bool = False) -> Event:
        return cls("text", text, language=language, group=group)

    @classmethod
    def command(cls, name: str, arg: str = "", *, language: str | None = None) -> Event:
        return cls("command", name, arg, language=language)

    @classmethod
    def button(
        cls, data: str, *, language: str | None = None, message_id: int | None = None
    ) -> Event:
        """A button pressed; `message_id`, when the adapter knows it, is the message it is on
        (a 👍/👎 on an answer counts once per message, as a reaction does)."""
        return cls("button", data, "" if message_id is None else str(message_id), language)

    @classmethod
    def start(cls, payload: str = "", *, language: str | None = None) -> Event:
        return cls("start", payload, language=language)

    @classmethod
    def reaction(
        cls, message_id: int, emoji: Sequence[str], *, language: str | None = None
    ) -> Event:
        """The user's reactions on one of the bot's messages changed to `emoji` (none: removed)."""
        return cls("reaction", str(message_id), " ".join(emoji), language=language)

    @property
    def reaction_message(self) -> int | None:
        """The message a reaction event is on."""
        return int(self.text) if self.kind == "reaction" and self.text.isdigit() else None

    @property
    def pressed_message(self) -> int | None:
        """The message a pressed button is on, when the adapter said."""
        return int(self.arg) if self.kind == "button" and self.arg.isdigit() else None


# --- replies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """An inline button: callback `data` (≤ 64 bytes, see bot.callbacks) or a `url` to open."""

    label: str
    data: str | None = None
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mime_type: str = "text/calendar"


@dataclass(frozen=True)
class Reply:
    """One message: Telegram HTML (b, i, a, code; user text escaped) and rows of buttons.

    `edit` asks to replace the message whose button was pressed (navigation) instead of sending a
    new one; adapters that cannot edit just send it. `answers` is the FAQ topic the message
    answers: an adapter that can tell its message ids stores them (`bot.storage.remember_answers`)
    so a 👍/👎 reaction on it counts as feedback on that topic.
    `commands` asks to show this chat's command menu in that language from now on (the user
    chose it, or came in 简体, which Telegram's per-language menus cannot tell from 繁體);
    adapters without a menu ignore it.
    """

    text: str
    buttons: Keyboard = ()
    edit: bool = False
    document: Document | None = None
    answers: str | None = None
    commands: Language | None = None


# --- state -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedDate:
    """A date the user saved to compute a kind of deadline from (one per kind)."""

    kind: str
    given: date
    profile: str | None = None  # processing: a deadlines.Profile value


@dataclass(frozen=True)
class SentAnswer:
    """An answer message the user got: its id in their chat and its topic, so a 👍/👎 reaction
    on it counts as feedback on the topic; `counted` once one has (a change does not again)."""

    message_id: int
    topic: str
    counted: bool = False


MAX_SENT_ANSWERS = 10  # the answers a reaction still counts on: the latest ones


@dataclass(frozen=True)
class State:
    """Everything the bot keeps about one user between events.

    Attributes:
        lang: the language the user chose ("en", "zh" or "zh-hans"); None follows their
            Telegram language.
        since: the day of first contact; None for a user never seen (gets the welcome).
        guide, step: the guide the user is in and where, for "continue where I left off".
        profile: answers to the guides' profile questions, kept across guides.
        pending: what typed text means now: "date:<kind>" or "date:processing:<profile>" while
            a deadline calculator waits for a date, "forget" while deletion awaits confirmation.
        question: the last question asked, redacted, for "None of these" and 👎 feedback.
        topic: the topic that answered `question`, if one did.
        saved: saved dates, in `deadlines.KINDS` order.
        reminders: the reminders of saved dates still to be sent, soonest first.
        ticket: the user's request to a person (`bot.tickets`): "open" while typed text goes to
            the help desk, "blocked" when the help desk blocked them, else None. Loaded from the
            tickets table; the engine changes it only through effects.
        answers: the latest answer messages sent (at most MAX_SENT_ANSWERS), oldest first.
        offered_hans: whether the user, writing in Simplified, was offered 简体中文 (once).
        news: "News about procedure changes" (/settings): None (off, the default), or the
            language the chat was in when the user turned it on.
    """

    lang: Language | None = None
    since: date | None = None
    guide: str | None = None
    step: int | None = None
    profile: guides.Profile = field(default_factory=guides.Profile)
    pending: str | None = None
    question: str | None = None
    topic: str | None = None
    saved: tuple[SavedDate, ...] = ()
    reminders: tuple[Reminder, ...] = ()
    ticket: Literal["open", "blocked"] | None = None
    answers: tuple[SentAnswer, ...] = ()
    offered_hans: bool = False
    news: Language | None = None


# --- effects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordUnanswered:
    """A question the bot could not answer, for the help desk (text already redacted)."""

    question: str
    lang: Lang
    reason: Literal["no-match", "none-of-these"]


@dataclass(frozen=True)
class RecordFeedback:
    """👍/👎 on an answer, with the question that led to it when known (redacted)."""

    topic: str
    helpful: bool
    lang: Lang
    question: str | None


@dataclass(frozen=True)
class ForgetUser:
    """Delete everything stored about the user; nothing of this event's state is kept."""


@dataclass(frozen=True)
class OpenTicket:
    """Hand the user to a person: a ticket, and a topic in the staff group (they consented).

    `question` is the question to show the staff (redacted), if there was one; `candidates`
    the topics the bot found closest, for the staff's "Send answer" buttons.
    """

    question: str | None
    lang: Language
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class RelayToStaff:
    """What the user typed (redacted; a photo or file's caption) goes to their open ticket."""

    text: str


@dataclass(frozen=True)
class CloseTicket:
    """The user closed their open request."""


@dataclass(frozen=True)
class Count:
    """Count one `event` (a `bot.stats` event name) in `lang`, per `key` (a topic, guide or
    calculator kind; "" for none): anonymous figures for the help desk, no user id."""

    event: str
    lang: Lang
    key: str = ""


Effect = (
    RecordUnanswered
    | RecordFeedback
    | ForgetUser
    | OpenTicket
    | RelayToStaff
    | CloseTicket
    | Count
)
Outcome = tuple[list[Reply], State]


# --- the turn ----------------------------------------------------------------------------------


@dataclass
class Turn:
    """One event being handled: the language it is answered in, what it is answered from (the
    knowledge, the matcher, the dispatcher) and the effects it produces.

    `lang` is the content the reply is made from ("zh" for both Chinese); `hans` says the user
    reads 简体, which the engine derives from the Traditional reply as it leaves
    (`bot.simplified`), so features write Traditional only.
    """

    state: State  # as it came in
    lang: Lang
    today: date
    knowledge: Knowledge
    matcher: Matcher
    router: Router
    dispatcher: Dispatcher
    effects: list[Effect] = field(default_factory=list)
    now: datetime | None = None  # the moment of the event; None: the start of `today`
    handoff: bool = False  # a staff group takes requests for a person (STAFF_CHAT_ID is set)
    hans: bool = False
    pressed: int | None = None  # the message a pressed button is on, when known

    @property
    def language(self) -> Language:
        """The language the reply is shown in: "en", "zh" or "zh-hans"."""
        return HANS if self.hans and self.lang == "zh" else self.lang

    @property
    def moment(self) -> datetime:
        """When this event happens: reminders at or before it are in the past."""
        return self.now or datetime.combine(self.today, time(), tzinfo=TAIPEI)

    def gettext(self, message: str, **params: object) -> str:
        text = translations(self.lang).gettext(message)
        return text % params if params else text

    def button(self, message: str, action: cb.Action, **params: object) -> Button:
        return Button(self.gettext(message, **params), data=cb.encode(action))

    def render(self, template: str, **context: object) -> str:
        """A message template of `bot/templates/` rendered in the turn's language."""
        return render(template, self.lang, **context)

    def count(self, event: str, key: str = "") -> None:
        """Count `event` (a `bot.stats` event name) in the turn's language, per `key`."""
        self.effects.append(Count(event, self.lang, key))

    def in_lang(self, lang: Lang) -> Turn:
        """The same turn answered in another language (a question written in it); a 简体
        reader's Chinese stays 简体."""
        return replace(self, lang=lang)  # the same effects list: they are this turn's

    def in_language(self, language: Language) -> Turn:
        """The same turn shown in `language` (the user just chose it)."""
        return replace(self, lang="en" if language == "en" else "zh", hans=language == HANS)


_TAG = re.compile(r"<[^>]*>")


def in_simplified(reply: Reply) -> Reply:
    """`reply` for a 简体 reader: its text and button labels converted (`bot.simplified`: platform
    labels, URLs and tags kept; callback data and URLs of buttons untouched). A reply in English
    (a question asked in English) is left as written, platform names in Traditional included."""
    if detect_lang(_TAG.sub("", reply.text)) != "zh":
        return reply
    buttons = tuple(
        tuple(replace(button, label=to_simplified(button.label)) for button in row)
        for row in reply.buttons
    )
    return replace(reply, text=to_simplified(reply.text), buttons=buttons)


def as_new(outcome: Outcome) -> Outcome:
    """`outcome` sent as new messages: typed text has no pressed message to edit in place."""
    replies, state = outcome
    return [replace(reply, edit=False) for reply in replies], state


# --- the dispatcher ----------------------------------------------------------------------------

A = TypeVar("A", bound=cb.Action)
T = TypeVar("T")  # a deep-link target type of bot.links

CommandHandler = Callable[[Turn, State, str], Outcome]
"""(turn, state, the command's argument, stripped) -> outcome."""
AwaitedHandler = Callable[[Turn, State, str, str], Outcome | None]
"""(turn, state, the typed text, the rest of `state.pending` after "<kind>:") -> outcome, or None
when the text is not what was awaited (it is then read as any other message)."""


class Dispatcher:
    """What answers which command, button, deep link and awaited text; every feature module
    registers its own in its `register(dispatcher)`, and `Engine` asks here.

    - `add_command("help", handler)`: `/help <arg>`; handler(turn, state, arg).
    - `add_button(cb.Topic, handler)`: a pressed button whose callback data decodes to that
      action type; handler(turn, state, action).
    - `add_link(links.TopicLink, handler)`: a `/start <payload>` deep link to an existing target
      of that type; handler(turn, state, target).
    - `add_awaited("date", handler)`: typed text while `state.pending` is "date" or
      "date:<rest>"; handler(turn, state, text, rest) returns None to let the text be a message.

    A name or type is registered once: a second registration is a wiring mistake and raises.
    """

    def __init__(self) -> None:
        self._commands: dict[str, CommandHandler] = {}
        self._buttons: dict[type[cb.Action], Callable[[Turn, State, Any], Outcome]] = {}
        self._links: dict[type, Callable[[Turn, State, Any], Outcome]] = {}
        self._awaited: dict[str, AwaitedHandler] = {}

    def add_command(self, name: str, handler: CommandHandler) -> None:
        _add(self._commands, name, handler)

    def add_button(self, action: type[A], handler: Callable[[Turn, State, A], Outcome]) -> None:
        _add(self._buttons, action, handler)

    def add_link(self, target: type[T], handler: Callable[[Turn, State, T], Outcome]) -> None:
        _add(self._links, target, handler)

    def add_awaited(self, kind: str, handler: AwaitedHandler) -> None:
        _add(self._awaited, kind, handler)

    def command_handler(self, name: str) -> CommandHandler | None:
        return self._commands.get(name)

    def button_handler(self, action: cb.Action) -> Callable[[Turn, State, Any], Outcome] | None:
        return self._buttons.get(type(action))

    def link_handler(self, target: links.Target) -> Callable[[Turn, State, Any], Outcome] | None:
        return self._links.get(type(target))

    def awaited_handler(self, pending: str | None) -> tuple[AwaitedHandler, str] | None:
        """The handler of typed text while `pending` is awaited, and the rest of `pending`."""
        if pending is None:
            return None
        kind, _, rest = pending.partition(":")
        handler = self._awaited.get(kind)
        return (handler, rest) if handler is not None else None


def _add(registry: dict[Any, Any], key: object, handler: object) -> None:
    if key in registry:
        raise ValueError(f"{key!r} is registered twice")
    registry[key] = handler
