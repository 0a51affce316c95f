"""News about procedure changes: the /settings toggle (off by default; `state.news` keeps the
language it was turned on in) and the message an announcement sends (`bot.announcements`,
`python -m bot announce`)."""

from __future__ import annotations

from dataclasses import replace

from bot import callbacks as cb
from bot.dialogue.core import Button, Dispatcher, Outcome, Reply, State, Turn
from bot.dialogue.menus import LANGUAGE_NAMES, menu_row


def register(d: Dispatcher) -> None:
    d.add_command("settings", lambda t, s, arg: ([settings_menu(t, s)], s))
    d.add_button(cb.News, set_news)
    d.add_button(cb.NewsStop, stop_news)


def settings_menu(turn: Turn, state: State, *, edit: bool = False, note: str = "") -> Reply:
    """/settings: the reply language and the news toggle."""
    languages = tuple(
        (Button(("✓ " if lang == turn.language else "") + name, cb.encode(cb.SetLanguage(lang))),)
        for lang, name in LANGUAGE_NAMES.items()
    )
    on = state.news is not None
    toggle = (
        turn.button("🔕 Turn off news about procedure changes", cb.News(False))
        if on
        else turn.button("📰 Turn on news about procedure changes", cb.News(True))
    )
    text = turn.render("settings.html", news=on, note=note)
    return Reply(text, (*languages, (toggle,), menu_row(turn)), edit=edit)


def set_news(turn: Turn, state: State, action: cb.News) -> Outcome:
    new_state = replace(state, news=(state.news or turn.language) if action.on else None)
    return [settings_menu(turn, new_state, edit=True, note=_note(turn, action.on))], new_state


def stop_news(turn: Turn, state: State, action: cb.NewsStop) -> Outcome:
    new_state = replace(state, news=None)
    return [settings_menu(turn, new_state, note=_note(turn, False))], new_state


def _note(turn: Turn, on: bool) -> str:
    if on:
        return turn.gettext(
            "📰 News is on: I'll write when a procedure of the Gold Card changes. "
            "You can turn it off here at any time."
        )
    return turn.gettext("🔕 News is off: I won't send you news about procedure changes.")


def announcement(turn: Turn, text: str, button: str | None) -> Reply:
    """An announcement in the turn's language, with its guide or topic button (left out when
    that guide, step or topic no longer exists) and "Stop news"."""
    rows: list[tuple[Button, ...]] = []
    target = _button(turn, button) if button else None
    if target is not None:
        rows.append((target,))
    rows.append((turn.button("🔕 Stop news", cb.NewsStop()),))
    return Reply(turn.render("announcement.html", text=text.strip()), tuple(rows))


def _button(turn: Turn, button: str) -> Button | None:
    kind, _, rest = button.partition(":")
    if kind == "topic" and rest in turn.knowledge.faq:
        return Button(turn.knowledge.faq[rest].title[turn.lang], data=cb.encode(cb.Topic(rest)))
    guide_id, _, step_text = rest.partition(":")
    guide = turn.knowledge.guides.get(guide_id) if kind == "guide" else None
    if guide is None:
        return None
    step = int(step_text) if step_text.isdigit() else None
    if step is not None and not guide.has_step(step):
        return None
    title = guide.title[turn.lang]
    if step is None:
        label = turn.gettext("📘 Step by step: %(guide)s", guide=title)
    else:
        label = turn.gettext("📘 %(guide)s: step %(n)s", guide=title, n=step)
    return Button(label, data=cb.encode(cb.GuideOpen(guide.id, step)))
