"""The conversation engine: (event, user state) -> (replies, new state, effects), any channel.

Pure: no Telegram, no database, no clock (`today` comes in). The Telegram adapter and the console
translate events and replies; `bot.storage` loads the state, stores the new one and applies the
effects in one transaction. Replies are Telegram HTML rendered from `bot/templates/`.

State carries what the user chose to keep (language, guide place and profile, saved dates and their
scheduled reminders), so the engine can show and change it; effects are the side effects outside
the user's own state (logs for the help desk, forgetting the user).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Literal

from bot import callbacks as cb
from bot import deadlines, guides, links, schedule
from bot.dates import (
    EXAMPLE_EN,
    EXAMPLE_ZH,
    TAIPEI,
    DateInputError,
    format_date_and_distance,
    format_full_date,
    read_date,
)
from bot.deadline_output import deadlines_ics, summary_text
from bot.i18n import lang_of, render, translations
from bot.knowledge import Knowledge, cite_all
from bot.matching import Matcher
from bot.redact import redact
from bot.schedule import Reminder
from bot.textnorm import CJK_RUN, Lang, detect_lang, normalize

CONTACT_TOPIC = "contact-help-desk"
MAX_STORED_QUESTION = 500  # the matcher reads no further either
MAX_RELATED = 3


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


# --- events ----------------------------------------------------------------------------------

EventKind = Literal["text", "command", "button", "start"]


@dataclass(frozen=True)
class Event:
    """Something the user did.

    `text` is the message, the command name (without the slash), the callback data of the pressed
    button, or the deep-link payload; `arg` is a command's argument; `language` is the user's
    Telegram `language_code` (it decides the language until the user picks one).
    """

    kind: EventKind
    text: str = ""
    arg: str = ""
    language: str | None = None

    @classmethod
    def message(cls, text: str, *, language: str | None = None) -> Event:
        return cls("text", text, language=language)

    @classmethod
    def command(cls, name: str, arg: str = "", *, language: str | None = None) -> Event:
        return cls("command", name, arg, language=language)

    @classmethod
    def button(cls, data: str, *, language: str | None = None) -> Event:
        return cls("button", data, language=language)

    @classmethod
    def start(cls, payload: str = "", *, language: str | None = None) -> Event:
        return cls("start", payload, language=language)


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
    new one; adapters that cannot edit just send it.
    """

    text: str
    buttons: Keyboard = ()
    edit: bool = False
    document: Document | None = None


# --- state -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedDate:
    """A date the user saved to compute a kind of deadline from (one per kind)."""

    kind: str
    given: date
    profile: str | None = None  # processing: a deadlines.Profile value


@dataclass(frozen=True)
class State:
    """Everything the bot keeps about one user between events.

    Attributes:
        lang: the language the user chose; None follows their Telegram language.
        since: the day of first contact; None for a user never seen (gets the welcome).
        guide, step: the guide the user is in and where, for "continue where I left off".
        profile: answers to the guides' profile questions, kept across guides.
        pending: what typed text means now: "date:<kind>" or "date:processing:<profile>" while
            a deadline calculator waits for a date, "forget" while deletion awaits confirmation.
        question: the last question asked, redacted, for "None of these" and 👎 feedback.
        topic: the topic that answered `question`, if one did.
        saved: saved dates, in `deadlines.KINDS` order.
        reminders: the reminders of saved dates still to be sent, soonest first.
    """

    lang: Lang | None = None
    since: date | None = None
    guide: str | None = None
    step: int | None = None
    profile: guides.Profile = field(default_factory=guides.Profile)
    pending: str | None = None
    question: str | None = None
    topic: str | None = None
    saved: tuple[SavedDate, ...] = ()
    reminders: tuple[Reminder, ...] = ()


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


Effect = RecordUnanswered | RecordFeedback | ForgetUser
Outcome = tuple[list[Reply], State]


# --- commands, menus and fixed texts ---------------------------------------------------------

# The command menu (issue 6 sets it per language with set_my_commands), in menu order.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Welcome and main menu")),
    ("help", N_("What I can do")),
    ("guides", N_("Step-by-step guides")),
    ("deadlines", N_("My deadlines")),
    ("reminders", N_("My reminders")),
    ("language", N_("中文 / English")),
    ("cancel", N_("Leave what you are doing")),
    ("mydata", N_("What I store about you")),
    ("forget", N_("Delete everything I store about you")),
)
_QUESTION_PROMPTS: dict[str, str] = {
    "inside_taiwan": N_("Are you applying from inside Taiwan?"),
    "hk_macau": N_("Are you a Hong Kong or Macau resident?"),
    "mainland_born": N_("Were you born in Mainland China?"),
    "renewal": N_("Is this a renewal of your Gold Card (not a first application)?"),
}
_LANGUAGE_NAMES: dict[Lang, str] = {"zh": "中文（台灣）", "en": "English"}

_GREETINGS = frozenset(
    "hi hello hey hiya yo howdy greetings morning 你好 您好 哈囉 哈啰 嗨 早安 午安 晚安 大家好 "
    "hallo hola".split()
) | {"good morning", "good afternoon", "good evening", "hi there", "hello there", "hey there"}
_THANKS = frozenset("thanks thank thx ty tks cheers 謝謝 感謝 多謝 謝啦 3q 感恩 謝".split())
_SMALL_TALK_FILLER = frozenset(
    "ok okay great so very much a lot you bot again there all for the help".split()
)
_DIGIT = re.compile(r"\d")
_PROFILES = frozenset(p.value for p in deadlines.Profile)


def command_menu(lang: Lang) -> list[tuple[str, str]]:
    """(command, description) pairs for Telegram's command menu, in `lang`."""
    tr = translations(lang)
    return [(name, tr.gettext(description)) for name, description in COMMANDS]


# --- the engine --------------------------------------------------------------------------------


@dataclass
class _Turn:
    """One event being handled: the language it is answered in and the effects it produces."""

    state: State  # as it came in
    lang: Lang
    today: date
    effects: list[Effect] = field(default_factory=list)
    now: datetime | None = None  # the moment of the event; None: the start of `today`

    @property
    def moment(self) -> datetime:
        """When this event happens: reminders at or before it are in the past."""
        return self.now or datetime.combine(self.today, time(), tzinfo=TAIPEI)

    def gettext(self, message: str, **params: object) -> str:
        text = translations(self.lang).gettext(message)
        return text % params if params else text

    def button(self, message: str, action: cb.Action, **params: object) -> Button:
        return Button(self.gettext(message, **params), data=cb.encode(action))

    def in_lang(self, lang: Lang) -> _Turn:
        """The same turn answered in another language (a question written in it)."""
        other = _Turn(self.state, lang, self.today, now=self.now)
        other.effects = self.effects
        return other


class Engine:
    """The bot's behaviour over loaded knowledge and a matcher; `handle` is all there is."""

    def __init__(self, knowledge: Knowledge, matcher: Matcher) -> None:
        self.knowledge = knowledge
        self.matcher = matcher
        self._buttons: dict[type[cb.Action], Callable[[_Turn, State, cb.Action], Outcome]] = {
            cb.Menu: lambda t, s, a: ([self._menu(t, s, edit=True)], s),
            cb.AskPrompt: lambda t, s, a: ([self._ask_prompt(t, edit=True)], s),
            cb.Contact: lambda t, s, a: ([self._answer(t, s, CONTACT_TOPIC)], s),
            cb.LanguageMenu: lambda t, s, a: ([self._language_menu(t, edit=True)], s),
            cb.SetLanguage: self._set_language,
            cb.Topic: self._on_topic,
            cb.NoneOfThese: self._none_of_these,
            cb.Feedback: self._feedback,
            cb.GuideList: lambda t, s, a: ([self._guide_list(t, s, edit=True)], s),
            cb.GuideOpen: self._on_guide_open,
            cb.GuideSections: self._sections,
            cb.GuideSection: self._on_section,
            cb.GuideAnswer: self._on_profile_answer,
            cb.GuideContinue: self._continue,
            cb.GuideDone: self._guide_done,
            cb.GuideExit: self._guide_exit,
            cb.MyDeadlines: lambda t, s, a: ([self._my_deadlines(t, s, edit=True)], s),
            cb.DeadlineKinds: lambda t, s, a: ([self._deadline_kinds(t, edit=True)], s),
            cb.DeadlineKind: self._on_deadline_kind,
            cb.SaveDeadline: self._save_deadline,
            cb.CalendarFile: self._calendar_file,
            cb.SavedCalendarFile: self._saved_calendar_file,
            cb.DeleteDeadline: self._delete_deadline,
            cb.RemindMe: self._remind_me,
            # A new message, not an edit: pressed on a reminder, it must leave the reminder be.
            cb.ReminderList: lambda t, s, a: ([self._my_reminders(t, s)], s),
            cb.CancelReminder: self._cancel_reminder,
            cb.CancelAllReminders: self._cancel_all_reminders,
            cb.StopReminders: self._stop_reminders,
            cb.ForgetAsk: lambda t, s, a: self._forget_ask(t, s),
            cb.Forget: self._forget,
        }
        self._commands: dict[str, Callable[[_Turn, State, str], Outcome]] = {
            "help": lambda t, s, arg: ([self._help(t, s)], s),
            "menu": lambda t, s, arg: ([self._menu(t, s)], s),
            "guides": lambda t, s, arg: ([self._guide_list(t, s)], s),
            "deadlines": lambda t, s, arg: ([self._my_deadlines(t, s)], s),
            "reminders": lambda t, s, arg: ([self._my_reminders(t, s)], s),
            "language": lambda t, s, arg: ([self._language_menu(t)], s),
            "settings": lambda t, s, arg: ([self._language_menu(t)], s),
            "contact": lambda t, s, arg: ([self._answer(t, s, CONTACT_TOPIC)], s),
            "cancel": self._cancel,
            "mydata": lambda t, s, arg: ([self._my_data(t, s)], s),
            "forget": lambda t, s, arg: self._forget_ask(t, s),
            "ask": lambda t, s, arg: self._text(t, s, arg),
        }

    def handle(
        self, event: Event, state: State, *, today: date, now: datetime | None = None
    ) -> tuple[list[Reply], State, list[Effect]]:
        """Answer one event: the replies to send, the user's new state, the side effects.

        `now` (timezone-aware) decides which reminders are already past when a date is saved;
        without it, the start of `today` in Taipei.
        """
        turn = _Turn(state, state.lang or lang_of(event.language), today, now=now)
        if event.kind == "command" and _command_name(event.text) == "start":
            event = Event.start(event.arg.strip(), language=event.language)
        current = replace(state, since=state.since or today)
        if event.kind != "text":
            current = replace(current, pending=None)  # a press or a command leaves a prompt
        match event.kind:
            case "start":
                replies, new_state = self._start(turn, current, event.text)
            case "command":
                replies, new_state = self._command(turn, current, event.text, event.arg)
            case "button":
                replies, new_state = self._button(turn, current, event.text)
            case _:
                replies, new_state = self._text(turn, current, event.text)
        plain_start = event.kind == "start" and self._target(event.text) is None
        if state.since is None and not plain_start:
            replies.insert(0, self._welcome(turn, new_state))
        return replies, new_state, turn.effects

    def answer(self, topic: str, lang: Lang) -> Reply:
        """A FAQ answer as a reply, outside any conversation (inline mode, staff previews)."""
        return self._answer(_Turn(State(), lang, date.min), State(), topic)

    # --- dispatch ------------------------------------------------------------------------------

    def _command(self, turn: _Turn, state: State, name: str, arg: str) -> Outcome:
        handler = self._commands.get(_command_name(name))
        if handler is None:
            reply = Reply(
                render("unknown_command.html", turn.lang, name=name[:40]),
                self._menu_keyboard(turn, state),
            )
            return [reply], state
        return handler(turn, state, arg.strip())

    def _button(self, turn: _Turn, state: State, data: str) -> Outcome:
        action = cb.decode(data)
        handler = self._buttons.get(type(action)) if action is not None else None
        if action is None or handler is None:
            return [self._expired(turn, state)], state
        return handler(turn, state, action)

    def _start(self, turn: _Turn, state: State, payload: str) -> Outcome:
        match self._target(payload):
            case links.TopicLink(topic):
                return [self._answer(turn, state, topic)], state
            case links.GuideLink(guide, None):
                return self._guide_overview(turn, state, guide)
            case links.GuideLink(guide, step):
                return self._guide_step(turn, state, guide, step)
            case links.DeadlineLink(kind):
                return self._deadline_start(turn, state, kind, None)
        return [self._welcome(turn, state)], state

    def _target(self, payload: str) -> links.Target | None:
        target = links.parse_payload(payload)
        return target if target is not None and links.exists(target, self.knowledge) else None

    def _expired(self, turn: _Turn, state: State) -> Reply:
        return Reply(render("expired.html", turn.lang), self._menu_keyboard(turn, state))

    # --- menus -------------------------------------------------------------------------------

    def _welcome(self, turn: _Turn, state: State) -> Reply:
        other: Lang = "en" if turn.lang == "zh" else "zh"
        switch = Button(
            # TRANSLATORS: shown to speakers of the OTHER language; translate as "switch to
            # <the language of this catalogue>" (zh: 切換成中文).
            translations(other).gettext("Switch to English"),
            data=cb.encode(cb.SetLanguage(other)),
        )
        text = render(
            "welcome.html",
            turn.lang,
            returning=turn.state.since is not None,
            language=_LANGUAGE_NAMES[turn.lang],
            place=self._place(turn, state),
        )
        return Reply(text, ((switch,), *self._menu_keyboard(turn, state)))

    def _menu(self, turn: _Turn, state: State, *, edit: bool = False, note: str = "") -> Reply:
        text = render("menu.html", turn.lang, note=note)
        return Reply(text, self._menu_keyboard(turn, state), edit=edit)

    def _menu_keyboard(self, turn: _Turn, state: State) -> Keyboard:
        return (
            *self._continue_rows(turn, state),
            (
                turn.button("❓ Ask a question", cb.AskPrompt()),
                turn.button("📘 Step-by-step guides", cb.GuideList()),
            ),
            (
                turn.button("📅 My deadlines", cb.MyDeadlines()),
                turn.button("🌐 Language", cb.LanguageMenu()),
            ),
            (turn.button("☎️ Contact the help desk", cb.Contact()),),
        )

    def _continue_rows(self, turn: _Turn, state: State) -> list[tuple[Button, ...]]:
        """A "continue the guide" button when the user has a place in one."""
        if not self._place(turn, state):
            return []
        return [(turn.button("▶️ Continue the guide", cb.GuideContinue()),)]

    def _menu_row(self, turn: _Turn) -> tuple[Button, ...]:
        return (turn.button("☰ Main menu", cb.Menu()),)

    def _place(self, turn: _Turn, state: State) -> str:
        """The user's place in a guide ("Applying for the Gold Card, step 9 of 23"), or ""."""
        guide = self.knowledge.guides.get(state.guide or "")
        if guide is None or state.step is None or not guide.has_step(state.step):
            return ""
        return turn.gettext(
            "%(guide)s, step %(n)s of %(total)s",
            guide=guide.title[turn.lang],
            n=state.step,
            total=guide.total,
        )

    def _ask_prompt(self, turn: _Turn, *, edit: bool = False) -> Reply:
        return Reply(render("ask.html", turn.lang), (self._menu_row(turn),), edit=edit)

    def _help(self, turn: _Turn, state: State) -> Reply:
        text = render("help.html", turn.lang, commands=command_menu(turn.lang))
        return Reply(text, self._menu_keyboard(turn, state))

    def _language_menu(self, turn: _Turn, *, edit: bool = False) -> Reply:
        row = tuple(
            Button(
                ("✓ " if lang == turn.lang else "") + name, data=cb.encode(cb.SetLanguage(lang))
            )
            for lang, name in _LANGUAGE_NAMES.items()
        )
        return Reply(render("language.html", turn.lang), (row, self._menu_row(turn)), edit=edit)

    def _set_language(self, turn: _Turn, state: State, action: cb.SetLanguage) -> Outcome:
        if action.lang not in _LANGUAGE_NAMES:
            return [self._expired(turn, state)], state
        lang: Lang = "zh" if action.lang == "zh" else "en"
        new_state = replace(state, lang=lang)
        chosen = turn.in_lang(lang)
        note = chosen.gettext("OK, I'll reply in English.")
        return [self._menu(chosen, new_state, edit=True, note=note)], new_state

    def _cancel(self, turn: _Turn, state: State, arg: str) -> Outcome:
        busy = turn.state.pending is not None or state.guide is not None
        new_state = replace(state, pending=None, guide=None, step=None)
        note = (
            turn.gettext("Stopped. Nothing is in progress now.")
            if busy
            else turn.gettext("There was nothing to stop.")
        )
        return [self._menu(turn, new_state, note=note)], new_state

    # --- questions ----------------------------------------------------------------------------

    def _text(self, turn: _Turn, state: State, text: str) -> Outcome:
        question = text.strip()
        if not question:
            return [self._ask_prompt(turn)], state
        awaited = _awaited_date(turn.state)
        if awaited is not None:
            outcome = self._date_typed(turn, state, question, *awaited)
            if outcome is not None:
                return outcome
        state = replace(state, pending=None)
        asked = turn.in_lang(_question_lang(question, turn.lang))
        small_talk = _small_talk(question)
        if small_talk is not None:
            reply = Reply(
                render(f"{small_talk}.html", asked.lang), self._menu_keyboard(asked, state)
            )
            return [reply], state
        return self._question(asked, state, question)

    def _question(self, turn: _Turn, state: State, question: str) -> Outcome:
        result = self.matcher.match(question)
        stored = redact(question[:MAX_STORED_QUESTION])
        if result.answer is not None:
            topic = result.answer.id
            new_state = replace(state, question=stored, topic=topic)
            return [self._answer(turn, new_state, topic)], new_state
        new_state = replace(state, question=stored, topic=None)
        if result.candidates:
            return [
                self._did_you_mean(turn, new_state, [c.id for c in result.candidates])
            ], new_state
        turn.effects.append(RecordUnanswered(stored, turn.lang, "no-match"))
        return [self._help_desk(turn, new_state, "dont_know.html")], new_state

    def _answer(self, turn: _Turn, state: State, topic: str, *, edit: bool = False) -> Reply:
        entry = self.knowledge.faq[topic]
        text = render(
            "answer.html",
            turn.lang,
            title=entry.title[turn.lang],
            answer=entry.answer[turn.lang].strip(),
            links=[(link.title[turn.lang], link.url) for link in entry.links],
            sources=cite_all(entry.source, turn.lang),
        )
        rows = self._topic_rows(turn, entry.related[:MAX_RELATED])
        rows.append(
            (
                turn.button("👍 Helpful", cb.Feedback(topic, True)),
                turn.button("👎 Not helpful", cb.Feedback(topic, False)),
            )
        )
        rows.append(self._back_to_guide_row(turn, state) + self._menu_row(turn))
        return Reply(text, tuple(rows), edit=edit)

    def _back_to_guide_row(self, turn: _Turn, state: State) -> tuple[Button, ...]:
        if not self._place(turn, state):
            return ()
        return (turn.button("↩️ Back to step %(n)s", cb.GuideContinue(), n=state.step),)

    def _did_you_mean(self, turn: _Turn, state: State, topics: Sequence[str]) -> Reply:
        rows = self._topic_rows(turn, topics)
        rows.append((turn.button("None of these", cb.NoneOfThese()),))
        return Reply(render("did_you_mean.html", turn.lang), tuple(rows))

    def _topic_rows(self, turn: _Turn, topics: Sequence[str]) -> list[tuple[Button, ...]]:
        """One button per FAQ topic, titled in the turn's language, that opens its answer."""
        return [
            (Button(self.knowledge.faq[t].title[turn.lang], data=cb.encode(cb.Topic(t))),)
            for t in topics
        ]

    def _help_desk(self, turn: _Turn, state: State, template: str, *, edit: bool = False) -> Reply:
        """`template` ("I don't know", "sorry it didn't help") with the Gold Card Office's contacts
        from the contact-help-desk answer, so they are written down once."""
        contact = self.knowledge.faq[CONTACT_TOPIC]
        text = render(template, turn.lang, contacts=contact.answer[turn.lang].strip())
        url_row = tuple(Button(link.title[turn.lang], url=link.url) for link in contact.links[:1])
        rows = (url_row, self._back_to_guide_row(turn, state) + self._menu_row(turn))
        return Reply(text, rows, edit=edit)

    def _on_topic(self, turn: _Turn, state: State, action: cb.Topic) -> Outcome:
        if action.topic not in self.knowledge.faq:
            return [self._expired(turn, state)], state
        # A "did you mean" choice answers the question that was asked.
        new_state = replace(state, topic=action.topic) if state.topic is None else state
        return [self._answer(turn, new_state, action.topic)], new_state

    def _none_of_these(self, turn: _Turn, state: State, action: cb.NoneOfThese) -> Outcome:
        if state.question is not None and state.topic is None:
            turn.effects.append(RecordUnanswered(state.question, turn.lang, "none-of-these"))
        new_state = replace(state, question=None)
        return [self._help_desk(turn, new_state, "dont_know.html", edit=True)], new_state

    def _feedback(self, turn: _Turn, state: State, action: cb.Feedback) -> Outcome:
        if action.topic not in self.knowledge.faq:
            return [self._expired(turn, state)], state
        question = state.question if state.topic == action.topic else None
        turn.effects.append(RecordFeedback(action.topic, action.helpful, turn.lang, question))
        if action.helpful:
            return [Reply(render("thanks_feedback.html", turn.lang))], state
        return [self._help_desk(turn, state, "sorry_feedback.html")], state

    # --- guides ------------------------------------------------------------------------------

    def _guide_list(self, turn: _Turn, state: State, *, edit: bool = False) -> Reply:
        listed = [(g.title[turn.lang], g.total) for g in self.knowledge.guides.values()]
        text = render("guides.html", turn.lang, guides=listed, place=self._place(turn, state))
        rows = self._continue_rows(turn, state)
        rows += [
            (Button(g.title[turn.lang], data=cb.encode(cb.GuideOpen(g.id))),)
            for g in self.knowledge.guides.values()
        ]
        rows.append(self._menu_row(turn))
        return Reply(text, tuple(rows), edit=edit)

    def _on_guide_open(self, turn: _Turn, state: State, action: cb.GuideOpen) -> Outcome:
        guide = self.knowledge.guides.get(action.guide)
        if guide is None or (action.step is not None and not guide.has_step(action.step)):
            return [self._expired(turn, state)], state
        if action.step is None:
            return self._guide_overview(turn, state, guide.id, edit=True)
        return self._guide_step(turn, state, guide.id, action.step, edit=True)

    def _guide_overview(
        self, turn: _Turn, state: State, guide_id: str, *, edit: bool = False
    ) -> Outcome:
        guide = self.knowledge.guides[guide_id]
        first = guides.start(guide, profile=state.profile).n
        text = render(
            "guide_overview.html",
            turn.lang,
            title=guide.title[turn.lang],
            intro=guide.intro[turn.lang].strip() if guide.intro else "",
            total=guide.total,
            sections=_section_spans(guide, turn.lang),
        )
        rows = (
            (turn.button("▶️ Start", cb.GuideOpen(guide.id, first)),),
            (
                turn.button("📑 Sections", cb.GuideSections(guide.id, first)),
                turn.button("✖️ Exit", cb.GuideExit()),
            ),
        )
        new_state = replace(state, guide=guide.id, step=first)
        return [Reply(text, rows, edit=edit)], new_state

    def _guide_step(
        self, turn: _Turn, state: State, guide_id: str, n: int, *, edit: bool = False
    ) -> Outcome:
        guide = self.knowledge.guides[guide_id]
        position = guides.Position(guide.id, n, state.profile)
        new_state = replace(state, guide=guide.id, step=n)
        return [self._step_reply(turn, guide, position, edit=edit)], new_state

    def _step_reply(
        self, turn: _Turn, guide: guides.Guide, position: guides.Position, *, edit: bool
    ) -> Reply:
        lang = turn.lang
        view = guides.view(guide, position)
        step, progress = view.step, view.progress
        question = guides.pending_question(guide, position)
        text = render(
            "step.html",
            lang,
            guide=guide.title[lang],
            n=progress.n,
            total=progress.total,
            section=guide.section(progress.section).title[lang],
            title=step.title[lang],
            body=step.body[lang].strip(),
            only_for=guides.condition_label(step.when, lang) if step.when else "",
            applies=view.applies,
            notes=[
                (
                    n.note[lang].strip(),
                    guides.condition_label(n.note.when, lang) if n.conditional else "",
                )
                for n in view.notes
            ],
            links=[(link.title[lang], link.url) for link in step.links],
            question=turn.gettext(_QUESTION_PROMPTS[question.id]) if question else "",
        )
        rows: list[tuple[Button, ...]] = []
        if question is not None:
            rows.append(
                tuple(
                    turn.button(label, cb.GuideAnswer(guide.id, step.n, question.id, value))
                    for label, value in ((N_("Yes"), True), (N_("No"), False))
                )
            )
        rows += self._topic_rows(turn, step.topics[:MAX_RELATED])
        rows.append(self._step_nav_row(turn, guide, position))
        rows.append(
            (
                turn.button("📑 Sections", cb.GuideSections(guide.id, step.n)),
                turn.button("✖️ Exit", cb.GuideExit()),
            )
        )
        return Reply(text, tuple(rows), edit=edit)

    def _step_nav_row(
        self, turn: _Turn, guide: guides.Guide, position: guides.Position
    ) -> tuple[Button, ...]:
        before = guides.previous_step(guide, position)
        after = guides.next_step(guide, position)
        back = (
            turn.button("◀️ Back", cb.GuideOpen(guide.id, before.n))
            if before
            else turn.button("◀️ Overview", cb.GuideOpen(guide.id))
        )
        forward = (
            turn.button("Next ▶️", cb.GuideOpen(guide.id, after.n))
            if after
            else turn.button("✅ Finish", cb.GuideDone(guide.id))
        )
        return (back, forward)

    def _sections(self, turn: _Turn, state: State, action: cb.GuideSections) -> Outcome:
        guide = self.knowledge.guides.get(action.guide)
        if guide is None or not guide.has_step(action.step):
            return [self._expired(turn, state)], state
        text = render("sections.html", turn.lang, title=guide.title[turn.lang])
        rows = [
            (
                turn.button(
                    "%(title)s (steps %(first)s–%(last)s)",
                    cb.GuideSection(guide.id, section.id),
                    title=title,
                    first=first,
                    last=last,
                ),
            )
            for section, (title, first, last) in zip(
                guide.sections, _section_spans(guide, turn.lang), strict=True
            )
        ]
        rows.append(
            (
                turn.button(
                    "◀️ Back to step %(n)s", cb.GuideOpen(guide.id, action.step), n=action.step
                ),
            )
        )
        return [Reply(text, tuple(rows), edit=True)], state

    def _on_section(self, turn: _Turn, state: State, action: cb.GuideSection) -> Outcome:
        guide = self.knowledge.guides.get(action.guide)
        if guide is None or action.section not in {s.id for s in guide.sections}:
            return [self._expired(turn, state)], state
        n = guides.start(guide, section=action.section, profile=state.profile).n
        return self._guide_step(turn, state, guide.id, n, edit=True)

    def _on_profile_answer(self, turn: _Turn, state: State, action: cb.GuideAnswer) -> Outcome:
        guide = self.knowledge.guides.get(action.guide)
        if (
            guide is None
            or not guide.has_step(action.step)
            or action.question not in _QUESTION_PROMPTS
        ):
            return [self._expired(turn, state)], state
        position = guides.Position(guide.id, action.step, state.profile)
        moved = guides.answer(guide, position, action.question, action.value)  # type: ignore[arg-type]
        new_state = replace(state, guide=guide.id, step=moved.n, profile=moved.profile)
        return [self._step_reply(turn, guide, moved, edit=True)], new_state

    def _continue(self, turn: _Turn, state: State, action: cb.GuideContinue) -> Outcome:
        if not self._place(turn, state):
            return [self._guide_list(turn, state, edit=True)], state
        assert state.guide is not None and state.step is not None
        return self._guide_step(turn, state, state.guide, state.step, edit=True)

    def _guide_done(self, turn: _Turn, state: State, action: cb.GuideDone) -> Outcome:
        guide = self.knowledge.guides.get(action.guide)
        if guide is None:
            return [self._expired(turn, state)], state
        new_state = replace(state, guide=None, step=None)
        text = render("guide_done.html", turn.lang, title=guide.title[turn.lang])
        rows = (
            (turn.button("📘 Step-by-step guides", cb.GuideList()),),
            self._menu_row(turn),
        )
        return [Reply(text, rows, edit=True)], new_state

    def _guide_exit(self, turn: _Turn, state: State, action: cb.GuideExit) -> Outcome:
        new_state = replace(state, guide=None, step=None)
        note = turn.gettext("You left the guide. Your answers about your situation are kept.")
        return [self._menu(turn, new_state, edit=True, note=note)], new_state

    # --- deadlines ---------------------------------------------------------------------------

    def _my_deadlines(
        self, turn: _Turn, state: State, *, edit: bool = False, note: str = ""
    ) -> Reply:
        saved = [self._summary(turn, s).partition("\n")[::2] for s in state.saved]
        text = render("my_deadlines.html", turn.lang, saved=saved, note=note)
        rows: list[tuple[Button, ...]] = []
        if not state.saved:
            rows += self._kind_rows(turn)
        else:
            rows.append((turn.button("➕ Work out another deadline", cb.DeadlineKinds()),))
            rows.append(
                (turn.button("📅 Calendar file with all of them", cb.SavedCalendarFile()),)
            )
            if state.reminders:
                rows.append((turn.button("🔔 My reminders", cb.ReminderList()),))
            rows += [
                (
                    turn.button(
                        "🗑 Remove: %(kind)s",
                        cb.DeleteDeadline(s.kind),
                        kind=deadlines.KINDS[s.kind].title[turn.lang],
                    ),
                )
                for s in state.saved
            ]
        rows.append(self._menu_row(turn))
        return Reply(text, tuple(rows), edit=edit)

    def _summary(self, turn: _Turn, saved: SavedDate) -> str:
        return summary_text(self._compute(saved, turn.today), turn.lang, today=turn.today)

    def _kind_rows(self, turn: _Turn) -> list[tuple[Button, ...]]:
        return [
            (Button(kind.title[turn.lang], data=cb.encode(cb.DeadlineKind(kind.name))),)
            for kind in deadlines.KINDS.values()
        ]

    def _deadline_kinds(self, turn: _Turn, *, edit: bool = False) -> Reply:
        rows = (*self._kind_rows(turn), self._menu_row(turn))
        return Reply(render("deadline_kinds.html", turn.lang), rows, edit=edit)

    def _on_deadline_kind(self, turn: _Turn, state: State, action: cb.DeadlineKind) -> Outcome:
        if not _known_kind(action.kind, action.profile):
            return [self._expired(turn, state)], state
        return self._deadline_start(turn, state, action.kind, action.profile, edit=True)

    def _deadline_start(
        self, turn: _Turn, state: State, kind: str, profile: str | None, *, edit: bool = False
    ) -> Outcome:
        """Ask for the date the kind counts from (first who applies, for processing times)."""
        if kind == "processing" and profile is None:
            rows = [
                (Button(name[turn.lang], data=cb.encode(cb.DeadlineKind(kind, p.value))),)
                for p, name in deadlines.PROFILE_NAMES.items()
            ]
            rows.append(self._menu_row(turn))
            return [
                Reply(render("deadline_profile.html", turn.lang), tuple(rows), edit=edit)
            ], state
        pending = f"date:{kind}" + (f":{profile}" if profile else "")
        new_state = replace(state, pending=pending)
        return [self._ask_date(turn, kind, error="", edit=edit)], new_state

    def _ask_date(self, turn: _Turn, kind: str, *, error: str, edit: bool = False) -> Reply:
        text = render(
            "deadline_ask.html",
            turn.lang,
            title=deadlines.KINDS[kind].title[turn.lang],
            given=deadlines.KINDS[kind].given_label[turn.lang],
            example=EXAMPLE_ZH if turn.lang == "zh" else EXAMPLE_EN,
            error=error,
        )
        rows = ((turn.button("◀️ Back", cb.DeadlineKinds()), *self._menu_row(turn)),)
        return Reply(text, rows, edit=edit)

    def _date_typed(
        self, turn: _Turn, state: State, text: str, kind: str, profile: str | None
    ) -> Outcome | None:
        """The deadlines for a typed date; a re-ask if it is no date; None for a question."""
        try:
            given = read_date(text, today=turn.today).value
        except DateInputError as exc:
            if not _DIGIT.search(text) and self.matcher.match(text).answer is not None:
                return None  # "how do I renew?" while we wait for a date: a question, answer it
            return [self._ask_date(turn, kind, error=exc.message(turn.lang))], state
        saved = SavedDate(kind, given, profile)
        result = self._compute(saved, turn.today)
        title, _, body = summary_text(result, turn.lang, today=turn.today).partition("\n")
        text_html = render("deadline_result.html", turn.lang, title=title, body=body)
        rows = (
            (
                turn.button("💾 Save", cb.SaveDeadline(kind, given, profile)),
                turn.button("📅 Calendar file", cb.CalendarFile(kind, given, profile)),
            ),
            (
                turn.button("🔁 Another date", cb.DeadlineKind(kind, profile)),
                *self._menu_row(turn),
            ),
        )
        return [Reply(text_html, rows)], replace(state, pending=None)

    @staticmethod
    def _compute(saved: SavedDate, today: date) -> deadlines.Deadlines:
        profile = deadlines.Profile(saved.profile) if saved.profile else None
        return deadlines.compute(saved.kind, saved.given, today=today, profile=profile)

    def _save_deadline(self, turn: _Turn, state: State, action: cb.SaveDeadline) -> Outcome:
        if not _computable(action.kind, action.profile):
            return [self._expired(turn, state)], state
        saved_date = SavedDate(action.kind, action.given, action.profile)
        kept = {s.kind: s for s in state.saved} | {action.kind: saved_date}
        saved = tuple(kept[k] for k in deadlines.KINDS if k in kept)
        new_state = replace(state, saved=saved)
        rows: list[tuple[Button, ...]] = []
        note = ""
        had = [r for r in state.reminders if r.kind == action.kind]
        if had:  # a date saved again takes its reminders along: the old schedule goes
            abroad = any(schedule.is_abroad_only(r) for r in had)
            new_state = self._with_reminders(turn, new_state, saved_date, abroad=abroad)
            note = (
                turn.gettext("🔔 Your reminders now follow this date: see /reminders.")
                if any(r.kind == action.kind for r in new_state.reminders)
                else turn.gettext("🔔 No reminder day of this date is ahead: none are scheduled.")
            )
        else:
            rows += self._remind_rows(turn, saved_date)
        kind = deadlines.KINDS[action.kind]
        text = render(
            "saved.html",
            turn.lang,
            title=kind.title[turn.lang],
            label=kind.given_label[turn.lang],
            given=format_full_date(action.given, turn.lang),
            note=note,
        )
        rows.append((turn.button("📅 My deadlines", cb.MyDeadlines()), *self._menu_row(turn)))
        return [Reply(text, tuple(rows))], new_state

    def _calendar_file(self, turn: _Turn, state: State, action: cb.CalendarFile) -> Outcome:
        if not _computable(action.kind, action.profile):
            return [self._expired(turn, state)], state
        saved = SavedDate(action.kind, action.given, action.profile)
        return [self._ics_reply(turn, [saved], f"goldcard-{action.kind}.ics")], state

    def _saved_calendar_file(
        self, turn: _Turn, state: State, action: cb.SavedCalendarFile
    ) -> Outcome:
        if not state.saved:
            return [self._my_deadlines(turn, state)], state
        return [self._ics_reply(turn, list(state.saved), "goldcard-deadlines.ics")], state

    def _ics_reply(self, turn: _Turn, saved: list[SavedDate], filename: str) -> Reply:
        stamp = datetime.combine(turn.today, time(), tzinfo=TAIPEI)  # pure: no clock in here
        content = deadlines_ics(
            [self._compute(s, turn.today) for s in saved], turn.lang, generated_at=stamp
        )
        text = render("calendar.html", turn.lang, count=len(saved))
        return Reply(text, (self._menu_row(turn),), document=Document(filename, content))

    def _delete_deadline(self, turn: _Turn, state: State, action: cb.DeleteDeadline) -> Outcome:
        if action.kind not in {s.kind for s in state.saved}:
            return [self._my_deadlines(turn, state, edit=True)], state
        new_state = replace(state, saved=tuple(s for s in state.saved if s.kind != action.kind))
        new_state = _reminders_replaced(new_state, action.kind, ())  # they remind of it no more
        note = turn.gettext(
            "Removed: %(kind)s.", kind=deadlines.KINDS[action.kind].title[turn.lang]
        )
        return [self._my_deadlines(turn, new_state, edit=True, note=note)], new_state

    # --- reminders -------------------------------------------------------------------------

    def _remind_rows(self, turn: _Turn, saved: SavedDate) -> list[tuple[Button, ...]]:
        """The "Remind me" button of a saved date with reminder days ahead; a supplement gets a
        second one that also reminds before the final deadline for documents from abroad."""
        rows: list[tuple[Button, ...]] = []
        for abroad in (False, True) if schedule.has_abroad_choice(saved.kind) else (False,):
            planned = schedule.schedule(saved.kind, saved.given, now=turn.moment, abroad=abroad)
            if not planned or (abroad and all(not schedule.is_abroad_only(r) for r in planned)):
                continue
            label = N_("🔔 Remind me (documents from abroad)") if abroad else N_("🔔 Remind me")
            rows.append((turn.button(label, cb.RemindMe(saved.kind, saved.given, abroad)),))
        return rows

    def _with_reminders(
        self, turn: _Turn, state: State, saved: SavedDate, *, abroad: bool
    ) -> State:
        """`state` with the reminders of `saved`'s kind replaced by a schedule of `saved`."""
        planned = schedule.schedule(
            saved.kind, saved.given, now=turn.moment, lang=turn.lang, abroad=abroad
        )
        return _reminders_replaced(state, saved.kind, planned)

    def _remind_me(self, turn: _Turn, state: State, action: cb.RemindMe) -> Outcome:
        saved = next((s for s in state.saved if s.kind == action.kind), None)
        if (
            saved is None
            or saved.given != action.given  # a button of a date since replaced or removed
            or not schedule.remindable(action.kind)
            or (action.abroad and not schedule.has_abroad_choice(action.kind))
        ):
            return [self._expired(turn, state)], state
        new_state = self._with_reminders(turn, state, saved, abroad=action.abroad)
        kind = deadlines.KINDS[action.kind]
        planned = [
            (self._send_day(turn, r), kind.output(r.key).label[turn.lang])
            for r in new_state.reminders
            if r.kind == action.kind
        ]
        text = render("reminders_on.html", turn.lang, title=kind.title[turn.lang], planned=planned)
        rows = ((turn.button("🔔 My reminders", cb.ReminderList()), *self._menu_row(turn)),)
        return [Reply(text, rows)], new_state

    def _my_reminders(
        self, turn: _Turn, state: State, *, edit: bool = False, note: str = ""
    ) -> Reply:
        listed = [
            (
                self._send_day(turn, r),
                deadlines.KINDS[r.kind].title[turn.lang],
                deadlines.KINDS[r.kind].output(r.key).label[turn.lang],
                format_full_date(r.due, turn.lang),
            )
            for r in state.reminders
        ]
        text = render("my_reminders.html", turn.lang, reminders=listed, note=note)
        rows = [
            (
                turn.button(
                    "✖️ Cancel %(day)s: %(label)s",
                    cb.CancelReminder(r.kind, schedule.rule_number(r)),
                    day=_send_date(r).isoformat(),
                    label=deadlines.KINDS[r.kind].output(r.key).label[turn.lang],
                ),
            )
            for r in state.reminders
        ]
        if len(state.reminders) > 1:
            rows.append((turn.button("✖️ Cancel all reminders", cb.CancelAllReminders()),))
        if not state.reminders:
            rows.append((turn.button("📅 My deadlines", cb.MyDeadlines()),))
        rows.append(self._menu_row(turn))
        return Reply(text, tuple(rows), edit=edit)

    def _send_day(self, turn: _Turn, reminder: Reminder) -> str:
        return format_date_and_distance(_send_date(reminder), turn.lang, today=turn.today)

    def _cancel_reminder(self, turn: _Turn, state: State, action: cb.CancelReminder) -> Outcome:
        rules = schedule.RULES.get(action.kind, ())
        if not 1 <= action.rule <= len(rules):
            return [self._expired(turn, state)], state
        rule = rules[action.rule - 1]
        slot = (action.kind, rule.key, rule.days_before)
        cancelled = next((r for r in state.reminders if r.slot == slot), None)
        if cancelled is None:  # sent meanwhile, or cancelled from another message
            note = turn.gettext("That reminder is no longer scheduled.")
            return [self._my_reminders(turn, state, edit=True, note=note)], state
        new_state = replace(state, reminders=tuple(r for r in state.reminders if r.slot != slot))
        note = turn.gettext(
            "Cancelled the reminder of %(day)s: %(label)s.",
            day=format_full_date(_send_date(cancelled), turn.lang),
            label=deadlines.KINDS[action.kind].output(rule.key).label[turn.lang],
        )
        return [self._my_reminders(turn, new_state, edit=True, note=note)], new_state

    def _cancel_all_reminders(
        self, turn: _Turn, state: State, action: cb.CancelAllReminders
    ) -> Outcome:
        note = (
            turn.gettext("All your reminders are cancelled.")
            if state.reminders
            else turn.gettext("There were no reminders to cancel.")
        )
        new_state = replace(state, reminders=())
        return [self._my_reminders(turn, new_state, edit=True, note=note)], new_state

    def _stop_reminders(self, turn: _Turn, state: State, action: cb.StopReminders) -> Outcome:
        if action.kind not in deadlines.KINDS:
            return [self._expired(turn, state)], state
        title = deadlines.KINDS[action.kind].title[turn.lang]
        note = (
            turn.gettext("✅ Done: no more reminders about %(title)s.", title=title)
            if any(r.kind == action.kind for r in state.reminders)
            else turn.gettext("There are no reminders about %(title)s left.", title=title)
        )
        new_state = _reminders_replaced(state, action.kind, ())
        return [self._my_reminders(turn, new_state, note=note)], new_state

    def reminder(
        self, reminder: Reminder, lang: Lang, *, today: date, bot_username: str | None = None
    ) -> Reply:
        """The message a scheduled reminder sends (for the cron sender, `bot.reminders`): what is
        due and when, what to do, the guide that shows how (a deep link to the bot when its
        username is known, else a button) and "Done — stop these reminders"."""
        turn = _Turn(State(), lang, today)
        kind = deadlines.KINDS[reminder.kind]
        label = kind.output(reminder.key)
        guide_id, step = schedule.GUIDE_STEPS[reminder.kind]
        guide = self.knowledge.guides[guide_id]
        text = render(
            "reminder.html",
            lang,
            title=kind.title[lang],
            label=label.label[lang],
            when=format_date_and_distance(reminder.due, lang, today=today),
            about=label.about[lang],
        )
        guide_label = turn.gettext("📘 %(guide)s, step %(n)s", guide=guide.title[lang], n=step)
        open_guide = (
            Button(guide_label, url=links.deep_link(bot_username, links.GuideLink(guide_id, step)))
            if bot_username
            else Button(guide_label, data=cb.encode(cb.GuideOpen(guide_id, step)))
        )
        rows = (
            (open_guide,),
            (turn.button("✅ Done — stop these reminders", cb.StopReminders(reminder.kind)),),
            # No menu button: it edits the pressed message, and a reminder should stay readable.
            (turn.button("🔔 My reminders", cb.ReminderList()),),
        )
        return Reply(text, rows)

    # --- your data -----------------------------------------------------------------------------

    def _my_data(self, turn: _Turn, state: State) -> Reply:
        profile = [
            (turn.gettext(_QUESTION_PROMPTS[q.id]), getattr(state.profile, q.id))
            for q in guides.QUESTIONS
            if getattr(state.profile, q.id) is not None
        ]
        saved = [
            (
                deadlines.KINDS[s.kind].title[turn.lang],
                deadlines.KINDS[s.kind].given_label[turn.lang],
                format_full_date(s.given, turn.lang),
            )
            for s in state.saved
        ]
        text = render(
            "my_data.html",
            turn.lang,
            language=_LANGUAGE_NAMES[turn.lang],
            chosen=state.lang is not None,
            since=format_full_date(state.since or turn.today, turn.lang),
            place=self._place(turn, state),
            profile=profile,
            question=state.question or "",
            saved=saved,
            reminders=len(state.reminders),
        )
        rows = ((turn.button("🗑 Delete all my data", cb.ForgetAsk()),), self._menu_row(turn))
        return Reply(text, rows)

    def _forget_ask(self, turn: _Turn, state: State) -> Outcome:
        rows = (
            (turn.button("🗑 Yes, delete everything", cb.Forget(True)),),
            (turn.button("Keep my data", cb.Forget(False)),),
        )
        reply = Reply(render("forget_confirm.html", turn.lang), rows)
        return [reply], replace(state, pending="forget")

    def _forget(self, turn: _Turn, state: State, action: cb.Forget) -> Outcome:
        if not action.confirmed:
            note = turn.gettext("Nothing was deleted.")
            return [self._menu(turn, state, edit=True, note=note)], state
        if turn.state.pending != "forget":
            return [self._expired(turn, state)], state
        turn.effects.append(ForgetUser())
        return [Reply(render("forgotten.html", turn.lang), edit=True)], State()


# --- helpers -------------------------------------------------------------------------------------


def _command_name(text: str) -> str:
    """`Start@GoldCardBot` -> `start`."""
    return text.strip().lstrip("/").split("@")[0].lower()


def _section_spans(guide: guides.Guide, lang: Lang) -> list[tuple[str, int, int]]:
    """(title, first step, last step) of each section of `guide`, in order."""
    spans = []
    for section in guide.sections:
        steps = guide.section_steps(section.id)
        spans.append((section.title[lang], steps[0].n, steps[-1].n))
    return spans


def _send_date(reminder: Reminder) -> date:
    return reminder.send_at.astimezone(TAIPEI).date()


def _reminders_replaced(state: State, kind: str, reminders: Sequence[Reminder]) -> State:
    """`state` with the reminders of `kind` replaced by `reminders` (soonest first)."""
    kept = [r for r in state.reminders if r.kind != kind]
    ordered = sorted([*kept, *reminders], key=lambda r: (r.send_at, r.slot))
    return replace(state, reminders=tuple(ordered))


def _awaited_date(state: State) -> tuple[str, str | None] | None:
    """(kind, profile) while a deadline calculator waits for a typed date."""
    if state.pending is None or not state.pending.startswith("date:"):
        return None
    kind, _, profile = state.pending.removeprefix("date:").partition(":")
    if not _computable(kind, profile or None):
        return None
    return kind, profile or None


def _known_kind(kind: str, profile: str | None) -> bool:
    """A deadline kind, with a profile (who applies) only where one belongs: processing."""
    if kind not in deadlines.KINDS:
        return False
    return profile is None or (kind == "processing" and profile in _PROFILES)


def _computable(kind: str, profile: str | None) -> bool:
    """Enough to compute the deadlines: a processing time also needs who applies."""
    return _known_kind(kind, profile) and (kind != "processing" or profile is not None)


def _question_lang(text: str, ui: Lang) -> Lang:
    """The language to answer in: the question's, when it is clearly written in one."""
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    words = len(re.findall(r"[A-Za-z]{2,}", text))
    if cjk >= 2 and detect_lang(text) == "zh":
        return "zh"
    if cjk == 0 and words >= 2 and latin >= 8:  # "hello" or "ok" alone says little
        return "en"
    return ui


def _small_talk(text: str) -> Literal["greeting", "thanks"] | None:
    """Whether a message is only a greeting ("hi!") or thanks ("thanks a lot", "謝謝你")."""
    if "?" in text or "？" in text or len(text) > 40:
        return None
    words = normalize(text).split()
    if not words:
        return None
    phrase = " ".join(words)
    if phrase in _GREETINGS or (words[0] in _GREETINGS and set(words[1:]) <= _SMALL_TALK_FILLER):
        return "greeting"
    if set(words) <= _THANKS | _SMALL_TALK_FILLER and set(words) & _THANKS:
        return "thanks"
    if len(phrase) <= 8 and re.fullmatch(
        r"(謝謝|感謝|多謝|感恩)[你您了啦喔哦囉大家幫忙的]*", phrase
    ):
        return "thanks"
    if len(phrase) <= 6 and re.fullmatch(
        r"(你好|您好|哈囉|嗨|早安|午安|晚安)[啊呀喔哦囉]*", phrase
    ):
        return "greeting"
    return None
