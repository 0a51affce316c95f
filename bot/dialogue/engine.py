"""`Engine`: wires the feature modules into one dispatcher and answers events with it."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, datetime

from bot import callbacks as cb
from bot import links
from bot.dialogue import (
    calculators,
    faq,
    guide_flow,
    handoff,
    menus,
    news,
    privacy,
    reminders,
    router,
)
from bot.dialogue.core import (
    Dispatcher,
    Effect,
    Event,
    ForgetUser,
    Outcome,
    Reply,
    State,
    Turn,
    in_simplified,
)
from bot.i18n import HANS, Language, language_of, showing
from bot.knowledge import Knowledge
from bot.matching import Matcher
from bot.routing import Router
from bot.schedule import Reminder
from bot.textnorm import Lang

# Every feature of the engine, each registering its commands, buttons, links and awaited texts.
FEATURES = (menus, faq, guide_flow, calculators, reminders, news, privacy, handoff, router)


class Engine:
    """The bot's behaviour over loaded knowledge and a matcher; `handle` is all there is."""

    def __init__(self, knowledge: Knowledge, matcher: Matcher, *, handoff: bool = False) -> None:
        """`handoff`: a staff group takes requests for a person ("Ask a person" is offered)."""
        self.knowledge = knowledge
        self.matcher = matcher
        self.handoff = handoff
        self.router = Router(knowledge, matcher)
        self.dispatcher = Dispatcher()
        for feature in FEATURES:
            feature.register(self.dispatcher)

    def with_handoff(self, handoff: bool) -> Engine:
        """This engine, offering "Ask a person" or not (the knowledge and matcher shared)."""
        if handoff == self.handoff:
            return self
        other = copy.copy(self)
        other.handoff = handoff
        return other

    def handle(
        self, event: Event, state: State, *, today: date, now: datetime | None = None
    ) -> tuple[list[Reply], State, list[Effect]]:
        """Answer one event: the replies to send, the user's new state, the side effects.

        `now` (timezone-aware) decides which reminders are already past when a date is saved;
        without it, the start of `today` in Taipei. A reader of 简体 gets the replies derived from
        the Traditional ones here, as they leave (dates in zh_Hans_CN while they are made).
        """
        language = state.lang or language_of(event.language)
        with showing(language):
            replies, new_state, effects = self._handle(event, state, language, today, now)
        if any(isinstance(effect, ForgetUser) for effect in effects) and replies:
            # Forgotten: the chat's own command menu (a language chosen) follows Telegram again.
            replies[-1] = replace(replies[-1], commands=language_of(event.language))
        if (new_state.lang or language_of(event.language)) == HANS:  # also: just chosen
            replies = [in_simplified(reply) for reply in replies]
        return replies, new_state, effects

    def _handle(
        self, event: Event, state: State, language: Language, today: date, now: datetime | None
    ) -> tuple[list[Reply], State, list[Effect]]:
        turn = self._turn(state, language, today, now=now)
        if event.kind == "command" and menus.command_name(event.text) == "start":
            event = Event.start(event.arg.strip(), language=event.language)
        current = replace(state, since=state.since or today)
        if event.kind not in ("text", "reaction"):
            current = replace(current, pending=None)  # a press or a command leaves a prompt
        match event.kind:
            case "reaction":  # on a message the bot sent: no welcome, a prompt still waits
                message_id = event.reaction_message
                if message_id is None:
                    return [], state, []
                replies, new_state = faq.reaction(turn, current, message_id, event.arg)
                return replies, new_state, turn.effects
            case "start":
                replies, new_state = self._start(turn, current, event.text)
            case "command":
                replies, new_state = self._command(turn, current, event.text, event.arg)
            case "button":
                turn.pressed = event.pressed_message
                replies, new_state = self._button(turn, current, event.text)
            case _:
                replies, new_state = router.message(
                    turn, current, event.text, to_person=not event.group
                )
        plain_start = event.kind == "start" and self._target(event.text) is None
        if state.since is None and not plain_start:
            replies.insert(0, menus.welcome(turn, new_state))
        if state.since is None and language == HANS and replies:
            # Telegram's menu per language_code knows only "zh": a 简体 reader's chat gets its own.
            replies[0] = replace(replies[0], commands=HANS)
        return replies, new_state, turn.effects

    def answer(self, topic: str, lang: Language) -> Reply:
        """A FAQ answer as a reply, outside any conversation (inline mode, staff previews)."""
        reply = faq.answer(self._turn(State(), lang, date.min), State(), topic)
        return in_simplified(reply) if lang == HANS else reply

    def handoff_notice(self, kind: str, lang: Language) -> Reply:
        """What a user is told about their request to a person when the help desk or time acts
        on it (`handoff.NOTICES`: answered, expired, closed, unreachable)."""
        reply = handoff.notice(self._turn(State(), lang, date.min), State(), kind)
        return in_simplified(reply) if lang == HANS else reply

    def reminder(
        self, reminder: Reminder, lang: Language, *, today: date, bot_username: str | None = None
    ) -> Reply:
        """The message a scheduled reminder sends (for the cron sender, `bot.reminders`): what is
        due and when, what to do, the guide that shows how (a deep link to the bot when its
        username is known, else a button) and "Done — stop these reminders"."""
        turn = self._turn(State(), lang, today)
        with showing(lang):
            reply = reminders.reminder_message(turn, reminder, bot_username=bot_username)
        return in_simplified(reply) if lang == HANS else reply

    def announcement(self, text: str, button: str | None, lang: Language) -> Reply:
        """The message an announcement sends (for `bot.announcements`): the news (`text`, in
        Traditional for zh and zh-hans), its guide or topic button (`button`:
        "guide:<id>[:<step>]" or "topic:<id>") and "Stop news"."""
        reply = news.announcement(self._turn(State(), lang, date.min), text, button)
        return in_simplified(reply) if lang == HANS else reply

    # --- dispatch ------------------------------------------------------------------------------

    def _turn(
        self, state: State, language: Language, today: date, *, now: datetime | None = None
    ) -> Turn:
        lang: Lang = "en" if language == "en" else "zh"
        return Turn(
            state,
            lang,
            today,
            self.knowledge,
            self.matcher,
            self.router,
            self.dispatcher,
            now=now,
            handoff=self.handoff,
            hans=language == HANS,
        )

    def _command(self, turn: Turn, state: State, name: str, arg: str) -> Outcome:
        handler = self.dispatcher.command_handler(menus.command_name(name))
        if handler is None:
            return [menus.unknown_command(turn, state, name)], state
        return handler(turn, state, arg.strip())

    def _button(self, turn: Turn, state: State, data: str) -> Outcome:
        action = cb.decode(data)
        handler = self.dispatcher.button_handler(action) if action is not None else None
        if action is None or handler is None:
            return [menus.expired(turn, state)], state
        return handler(turn, state, action)

    def _start(self, turn: Turn, state: State, payload: str) -> Outcome:
        target = self._target(payload)
        handler = self.dispatcher.link_handler(target) if target is not None else None
        if target is None or handler is None:
            return [menus.welcome(turn, state)], state
        return handler(turn, state, target)

    def _target(self, payload: str) -> links.Target | None:
        target = links.parse_payload(payload)
        return target if target is not None and links.exists(target, self.knowledge) else None
