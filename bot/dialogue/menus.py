"""The welcome, the main menu and what every feature ends with: the menu row, "this button has
expired", the user's place in a guide; /help, /menu, /language, /cancel and the command menu."""

from __future__ import annotations

from dataclasses import replace

from bot import callbacks as cb
from bot.dialogue.core import N_, Button, Dispatcher, Keyboard, Outcome, Reply, State, Turn
from bot.i18n import LANGUAGES, Language, translations
from bot.textnorm import Lang

# The command menu (issue 6 sets it per language with set_my_commands), in menu order.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Welcome and main menu")),
    ("help", N_("What I can do")),
    ("guides", N_("Step-by-step guides")),
    ("deadlines", N_("My deadlines")),
    ("reminders", N_("My reminders")),
    ("language", N_("English / 繁體中文 / 简体中文")),
    ("cancel", N_("Leave what you are doing")),
    ("mydata", N_("What I store about you")),
    ("forget", N_("Delete everything I store about you")),
)
# Each language named as its readers write it (`bot.simplified` never converts these names).
LANGUAGE_NAMES: dict[Language, str] = {
    "en": "English",
    "zh": "繁體中文（台灣）",
    "zh-hans": "简体中文",
}


def register(d: Dispatcher) -> None:
    d.add_command("help", lambda t, s, arg: ([help_reply(t, s)], s))
    d.add_command("menu", lambda t, s, arg: ([menu(t, s)], s))
    d.add_command("language", lambda t, s, arg: ([language_menu(t)], s))
    d.add_command("cancel", cancel)
    d.add_button(cb.Menu, lambda t, s, a: ([menu(t, s, edit=True)], s))
    d.add_button(cb.AskPrompt, lambda t, s, a: ([ask_prompt(t, edit=True)], s))
    d.add_button(cb.LanguageMenu, lambda t, s, a: ([language_menu(t, edit=True)], s))
    d.add_button(cb.SetLanguage, set_language)


def command_menu(lang: Language) -> list[tuple[str, str]]:
    """(command, description) pairs for Telegram's command menu, in `lang`."""
    tr = translations(lang)
    return [(name, tr.gettext(description)) for name, description in COMMANDS]


def command_name(text: str) -> str:
    """`Start@GoldCardBot` -> `start`."""
    return text.strip().lstrip("/").split("@")[0].lower()


def welcome(turn: Turn, state: State) -> Reply:
    other: Lang = "en" if turn.lang == "zh" else "zh"
    switch = Button(
        # TRANSLATORS: shown to speakers of the OTHER language; translate as "switch to
        # <the language of this catalogue>" (zh: 切換成中文).
        translations(other).gettext("Switch to English"),
        data=cb.encode(cb.SetLanguage(other)),
    )
    text = turn.render(
        "welcome.html",
        returning=turn.state.since is not None,
        language=LANGUAGE_NAMES[turn.language],
        place=place(turn, state),
    )
    return Reply(text, ((switch,), *menu_keyboard(turn, state)))


def menu(turn: Turn, state: State, *, edit: bool = False, note: str = "") -> Reply:
    text = turn.render("menu.html", note=note)
    return Reply(text, menu_keyboard(turn, state), edit=edit)


def menu_keyboard(turn: Turn, state: State) -> Keyboard:
    return (
        *continue_rows(turn, state),
        (
            turn.button("❓ Ask a question", cb.AskPrompt()),
            turn.button("📘 Step-by-step guides", cb.GuideList()),
        ),
        (
            turn.button("📅 My deadlines", cb.MyDeadlines()),
            turn.button("🌐 Language", cb.LanguageMenu()),
        ),
        (turn.button("☎️ Contact the help desk", cb.Contact()), *ask_person_row(turn, state)),
    )


def ask_person_row(turn: Turn, state: State) -> tuple[Button, ...]:
    """The help desk's button (`bot.dialogue.handoff`) when there is one to ask: "Ask a person";
    while the user's request is open "Close my request", so the way back to the bot's answers is
    always in the menu; nothing for a user the help desk blocked."""
    if not turn.handoff or state.ticket == "blocked":
        return ()
    if state.ticket == "open":
        return (turn.button("✖️ Close my request", cb.HandoffClose()),)
    return (turn.button("🙋 Ask a person", cb.HandoffAsk()),)


def continue_rows(turn: Turn, state: State) -> list[tuple[Button, ...]]:
    """A "continue the guide" button when the user has a place in one."""
    if not place(turn, state):
        return []
    return [(turn.button("▶️ Continue the guide", cb.GuideContinue()),)]


def menu_row(turn: Turn) -> tuple[Button, ...]:
    return (turn.button("☰ Main menu", cb.Menu()),)


def place(turn: Turn, state: State) -> str:
    """The user's place in a guide ("Applying for the Gold Card, step 9 of 23"), or ""."""
    guide = turn.knowledge.guides.get(state.guide or "")
    if guide is None or state.step is None or not guide.has_step(state.step):
        return ""
    return turn.gettext(
        "%(guide)s, step %(n)s of %(total)s",
        guide=guide.title[turn.lang],
        n=state.step,
        total=guide.total,
    )


def expired(turn: Turn, state: State) -> Reply:
    return Reply(turn.render("expired.html"), menu_keyboard(turn, state))


def unknown_command(turn: Turn, state: State, name: str) -> Reply:
    return Reply(turn.render("unknown_command.html", name=name[:40]), menu_keyboard(turn, state))


def ask_prompt(turn: Turn, *, edit: bool = False) -> Reply:
    return Reply(turn.render("ask.html"), (menu_row(turn),), edit=edit)


def help_reply(turn: Turn, state: State) -> Reply:
    text = turn.render("help.html", commands=command_menu(turn.lang), handoff=turn.handoff)
    return Reply(text, menu_keyboard(turn, state))


def language_menu(turn: Turn, *, edit: bool = False) -> Reply:
    rows = tuple(
        (Button(("✓ " if lang == turn.language else "") + name, cb.encode(cb.SetLanguage(lang))),)
        for lang, name in LANGUAGE_NAMES.items()
    )
    return Reply(turn.render("language.html"), (*rows, menu_row(turn)), edit=edit)


def set_language(turn: Turn, state: State, action: cb.SetLanguage) -> Outcome:
    language = next((lang for lang in LANGUAGES if lang == action.lang), None)
    if language is None:
        return [expired(turn, state)], state
    new_state = replace(state, lang=language)
    chosen = turn.in_language(language)
    note = chosen.gettext("OK, I'll reply in English.")
    reply = replace(menu(chosen, new_state, edit=True, note=note), commands=language)
    return [reply], new_state


def cancel(turn: Turn, state: State, arg: str) -> Outcome:
    busy = turn.state.pending is not None or state.guide is not None
    new_state = replace(state, pending=None, guide=None, step=None)
    note = (
        turn.gettext("Stopped. Nothing is in progress now.")
        if busy
        else turn.gettext("There was nothing to stop.")
    )
    return [menu(turn, new_state, note=note)], new_state
