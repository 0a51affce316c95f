"""UI texts: both catalogues complete with matching placeholders, the template up to date with
the sources, every message template rendering in both languages."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n, inbox, stats
from bot.dialogue import Engine, Event, State, command_menu
from bot.dialogue.handoff import NOTICES
from bot.i18n import (
    LOCALES_DIR,
    babel_locale,
    lang_of,
    language_of,
    render,
    template_names,
    translations,
)
from bot.matching import MatchResult, Scored
from bot.schedule import Reminder, send_time
from bot.telegram.handoff import ticket_post
from bot.tickets import TicketView
from tests.conftest import ROOT

LOCALES = ("en", "zh_Hant_TW", "zh_Hans_CN")
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sd]|%%")


def _catalog(path) -> Catalog:
    with open(path, "rb") as fp:
        return read_po(fp)


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _extracted() -> set[object]:
    """The message ids in the sources now, extracted as `make i18n` does (see the Makefile)."""
    method_map = [("bot/**.py", "python"), ("bot/templates/**.html", "jinja2")]
    options = {"bot/templates/**.html": {"trimmed": "true"}}
    keywords = {**DEFAULT_KEYWORDS, "button": None, "N_": None}
    return {
        message[2] if isinstance(message[2], str) else tuple(message[2])
        for message in extract_from_dir(ROOT, method_map, options, keywords=keywords)
    }


def test_the_template_has_every_message_of_the_sources():
    pot = {m.id for m in _catalog(LOCALES_DIR / "messages.pot") if m.id}
    assert pot == _extracted(), "UI strings changed: run `make i18n` and translate"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated_with_the_same_placeholders(locale):
    pot = {m.id for m in _catalog(LOCALES_DIR / "messages.pot") if m.id}
    catalog = _catalog(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po")
    translated = {m.id: m for m in catalog if m.id}
    assert set(translated) == pot, "run `make i18n`"
    for message in translated.values():
        assert "fuzzy" not in message.flags, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"untranslated: {message.id!r}"
        if isinstance(message.id, tuple):  # a plural: each form may leave out %(num)s
            plural = _placeholders(message.id[1])
            assert all(set(_placeholders(s)) <= set(plural) for s in strings), message.id
            assert _placeholders(strings[-1]) == plural, message.id
        else:
            assert _placeholders(strings[0]) == _placeholders(message.id), message.id


def test_the_chinese_catalogue_really_is_chinese():
    catalog = _catalog(LOCALES_DIR / "zh_Hant_TW" / "LC_MESSAGES" / "messages.po")
    english_only = [
        m.id
        for m in catalog
        if m.id
        and not re.search(r"[\u4e00-\u9fff]", str(m.string))
        and m.id != "Switch to English"
    ]
    assert english_only == []


def test_a_stale_compiled_catalogue_is_not_used(tmp_path, monkeypatch):
    """A .mo older than its .po is recompiled in memory, so tests never see old text."""
    for locale in LOCALES:
        folder = tmp_path / locale / "LC_MESSAGES"
        folder.mkdir(parents=True)
        po = (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").read_bytes()
        (folder / "messages.mo").write_bytes(b"")  # unreadable if it were used
        (folder / "messages.po").write_bytes(po)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    translations.cache_clear()
    try:
        assert translations("zh").gettext("Yes") == "是"
    finally:
        translations.cache_clear()


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-hant", "zh"), ("zh-TW", "zh"), ("zh_HK", "zh"), ("zh", "zh"), ("zh-Hant-CN", "zh"),
     ("zh-hans", "zh-hans"), ("zh-CN", "zh-hans"), ("zh-sg", "zh-hans"), ("zh_MY", "zh-hans"),
     ("zh-Hans-TW", "zh-hans"), ("zh_CN.UTF-8", "zh-hans"), ("en-GB", "en"), ("fr", "en"),
     ("", "en"), (None, "en")],
)  # fmt: skip
def test_telegram_language_codes(code, expected):
    """zh-hans, zh-cn, zh-sg and zh-my read 简体; every other Chinese code 繁體."""
    assert language_of(code) == expected
    assert lang_of(code) == ("en" if expected == "en" else "zh")
    locales = {"en": "en", "zh": "zh_Hant_TW", "zh-hans": "zh_Hans_CN"}
    assert babel_locale(code) == locales[expected]


def test_the_command_menu_in_both_languages():
    assert [name for name, _ in command_menu("en")] == [name for name, _ in command_menu("zh")]
    assert dict(command_menu("zh"))["forget"] == "刪除我保存的所有您的資料"


def test_rendering_escapes_values_and_keeps_the_translation_per_call():
    assert render("unknown_command.html", "en", name="<b>&") == (
        "I don't know the command /&lt;b&gt;&amp;. /help lists what I can do."
    )
    assert "不認識" in render("unknown_command.html", "zh", name="x")
    assert "don't know" in render("unknown_command.html", "en", name="x")


class _Candidates:
    """Offers two candidates for "address?" so the tour reaches the did-you-mean template."""

    def __init__(self, real) -> None:
        self.real = real

    def match(self, question: str, **options: object) -> MatchResult:
        if question == "address?":
            return MatchResult(question, "en", None, (Scored("address-change", 0.3),))
        return self.real.match(question, **options)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


TOUR: list[Event] = [
    Event.start(),
    Event.start(),
    Event.message("hi"),
    Event.message("thanks"),
    Event.message("how to renew my gold card"),
    Event.button("1:fb:renewal-how:1"),
    Event.button("1:fb:renewal-how:0"),
    Event.message("address?"),
    Event.button("1:n"),
    Event.message("qqqqqq"),  # says nothing of its language: answered in the user's
    Event.message("ok"),
    Event.button("1:ask"),
    Event.button("1:m"),
    Event.button("1:lm"),
    Event.command("help"),
    Event.command("nope"),
    Event.button("junk"),
    Event.button("1:gl"),
    Event.button("1:g:progress"),
    Event.button("1:gs:progress:1"),
    Event.button("1:g:progress:5"),
    Event.button("1:gd:progress"),
    Event.button("1:dk"),
    Event.button("1:d:processing"),
    Event.button("1:d:renewal"),
    Event.message("2027-02-30"),
    Event.message("2027-06-30"),
    Event.button("1:ds:renewal:20270630"),
    Event.button("1:di:renewal:20270630"),
    Event.button("1:dl"),
    Event.button("1:r:renewal:20270630:0"),
    Event.command("reminders"),
    Event.button("1:rx:renewal:2"),
    Event.command("settings"),
    Event.button("1:nw:1"),
    Event.command("mydata"),
    Event.button("1:ns"),
    Event.button("1:rs:renewal"),
    Event.button("1:ra"),
    Event.button("1:h"),  # ask a person: consent, opened, already open, /mydata, closed
    Event.button("1:hc:1"),
    Event.button("1:h"),
    Event.command("mydata"),
    Event.button("1:hx"),
    Event.button("1:hf:0"),
    Event.command("forget"),
    Event.button("1:fg:1"),
    Event.button("1:dl"),
]


def _tour_the_inbox(knowledge, lang) -> None:
    """Every inbox message: the summary (groups, none), a group, its out-of-scope classes, the
    search's results (some, none), and each way a group ends."""
    question = {"en": "how much is a lost card", "zh": "補發金卡要多少錢"}[lang]
    at = datetime(2026, 11, 21, tzinfo=UTC)
    items = tuple(
        inbox.Item(source, n, question, lang, reason, topic, at)
        for n, (source, reason, topic) in enumerate(
            [("u", "no-match", None), ("u", "out-of-scope", None),
             ("f", "thumbs-down", "replacement-card")] * 3, 1)
    )  # fmt: skip
    group = inbox.Group(7, items, (Scored("replacement-card", 0.4),), ("daily-life", "tax"))
    since = datetime(2026, 11, 1, tzinfo=UTC)
    inbox.inbox_replies([group] * 9, knowledge, since=since, lang=lang)
    inbox.inbox_replies([], knowledge, since=since, lang=lang)
    inbox.group_reply(replace(group, candidates=()), knowledge, lang=lang)
    inbox.scopes_reply(group, knowledge, lang=lang)
    inbox.search_results_reply(7, "lost", ["replacement-card"], knowledge, lang=lang)
    inbox.search_results_reply(7, "zzz", [], knowledge, lang=lang)
    for outcome in ("replacement-card", "oos:tax", inbox.IGNORED):
        handled = inbox.Handled(inbox.DONE, 7, outcome, 9, 3)
        inbox.handled_reply(handled, knowledge, lang=lang, staff="Ann")
    handled = inbox.Handled(inbox.ALREADY, 7, "replacement-card")
    inbox.handled_reply(handled, knowledge, lang=lang, staff="Ann")


@pytest.mark.parametrize("lang", ["en", "zh", "zh-hans"])
def test_every_template_renders_in_both_languages(knowledge, matcher, monkeypatch, lang):
    rendered: list[tuple[str, str]] = []
    real_render = render

    def recording(template: str, lang_: str, **context: object) -> str:
        text = real_render(template, lang_, **context)
        rendered.append((template, text))
        return text

    monkeypatch.setattr("bot.dialogue.core.render", recording)
    monkeypatch.setattr("bot.telegram.handoff.render", recording)
    monkeypatch.setattr("bot.stats.render", recording)
    engine = Engine(knowledge, _Candidates(matcher), handoff=True)  # type: ignore[arg-type]
    state = State(lang=lang)
    for event in TOUR:
        _, state, _ = engine.handle(event, state, today=date(2026, 11, 21))
        state = replace(state, lang=lang)  # forgetting resets it
    out_of_scope = {"en": "How do I file my income tax return as a foreigner?",
                    "zh": "外國人要怎麼申報所得稅？",
                    "zh-hans": "外国人要怎么申报所得税？"}[lang]  # fmt: skip
    engine.handle(Event.message(out_of_scope), state, today=date(2026, 11, 21))
    # Written in Simplified by a user who does not read 简体 yet: the one-tap offer.
    engine.handle(Event.message("金卡怎么续签？"), State(lang=lang), today=date(2026, 11, 21))
    engine.reminder(  # what the cron sender sends, outside a conversation
        Reminder("renewal", "window_opens", 0, date(2027, 2, 28), send_time(date(2027, 2, 28))),
        lang,
        today=date(2027, 2, 28),
    )
    for kind in NOTICES:  # what the help desk's side tells the applicant
        engine.handoff_notice(kind, lang)
    blocked = replace(state, ticket="blocked")
    engine.handle(Event.button("1:h"), blocked, today=date(2026, 11, 21))
    engine.handle(Event.command("mydata"), blocked, today=date(2026, 11, 21))
    ticket = TicketView(7, 1, lang, "open", None, None, "how to renew", ("renewal-how",))
    ticket_post(engine, ticket, bot_username="goldcard_test_bot")  # the staff's topic
    engine.announcement("From 1 March 2027 …" if lang == "en" else "自 2027 年 3 月 1 日起 …",
                        "guide:renew:3", lang)  # fmt: skip
    figures = stats.Figures(messages=3, answered=2, topics={"renewal-how": 2})
    figures.guides["apply"] = {"started": 1, "finished": 0}
    figures.calculators["renewal"] = 1
    figures.feedback["renewal-how"] = {"up": 1, "down": 1}
    week = stats.Week(date(2026, 11, 16), {"en": stats.Figures(), "zh": figures})
    stats.report_html(  # /stats, for staff
        stats.Report(date(2026, 11, 16), date(2026, 11, 30), [week]), lang
    )
    monkeypatch.setattr("bot.inbox.render", recording)
    _tour_the_inbox(knowledge, lang_of(lang))  # the inbox: staff read Traditional or English
    offered = set() if lang == "zh-hans" else {"simplified_offer.html"}  # reads 简体 already
    assert {name for name, _ in rendered} | {"simplified_offer.html"} == set(template_names())
    assert {name for name, _ in rendered} & {"simplified_offer.html"} == offered
    for name, text in rendered:
        assert text.strip(), name
        assert bool(re.search(r"[\u4e00-\u9fff]", text)) == (lang != "en") or name in {
            "simplified_offer.html",  # to a Simplified writer, in Chinese whatever their language
            "welcome.html",  # "就業金卡" in English too
            "help.html",  # "/language — English / 繁體中文 / 简体中文"
            "answer.html",  # content quotes the platform's Chinese labels
            "step.html",
            "guide_overview.html",
            "language.html",
            "stats.html",  # the language names, 中文 and English
        }, (name, text)
