"""Sharing answers: inline-mode results and the staff's `/link` search for deep links.

Plain functions over the knowledge, the matcher and the engine; the handlers only send them.
"""

from __future__ import annotations

from html import escape

from rapidfuzz import fuzz, process, utils
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from telegram.constants import ParseMode

from bot import links
from bot.dialogue import N_, Engine
from bot.i18n import HANS, Language, lang_of, translations
from bot.knowledge import Knowledge
from bot.matching import Matcher
from bot.simplified import to_simplified, written_in_simplified
from bot.telegram.sending import NO_PREVIEW, split_html
from bot.textnorm import detect_lang

MAX_INLINE_RESULTS = 10
MAX_DESCRIPTION = 100
STAFF_ANSWERS = 3
STAFF_STEPS = 5
STEP_TITLE_CUTOFF = 75  # rapidfuzz WRatio (0-100) for a step title to count as a match

OPEN_IN_BOT = N_("Open in the help desk bot")
ASK_THE_BOT = N_("Ask the Gold Card help desk")
STAFF_FOUND = N_("Deep links for “%(words)s”, ready to forward:")
STAFF_NONE = N_("Nothing matches “%(words)s”. `python -m bot links` lists every deep link.")
STAFF_USAGE = N_("Usage: /link WORDS — deep links to the best-matching answers and guide steps.")


def query_lang(text: str, default: Language) -> Language:
    """The language to answer an inline query in: the query's, else the user's (`default`); a
    Chinese query in 简体 for a 简体 reader or when it is written in Simplified characters."""
    lang = detect_lang(text, default=lang_of(default)) if text.strip() else lang_of(default)
    if lang == "zh" and (default == HANS or written_in_simplified(text)):
        return HANS
    return lang


def inline_topics(matcher: Matcher, query: str, *, limit: int = MAX_INLINE_RESULTS) -> list[str]:
    """The topics to offer for `query`: the best-ranked ones that could answer it, or, for an
    empty query, the first topics in the content's order (a browsable start)."""
    if not query.strip():
        return list(matcher.knowledge.faq)[:limit]
    floor = matcher.tuning.candidate_threshold
    return [s.id for s in matcher.rank(query, k=limit) if s.score >= floor]


def inline_results(
    engine: Engine, query: str, *, lang: Language, bot_username: str
) -> list[InlineQueryResultArticle]:
    """Shareable answers for `@bot query`: each the full answer, with a button that opens the
    bot on that topic (a deep link), so whoever receives it can ask further."""
    label = translations(lang).gettext(OPEN_IN_BOT)
    shown = to_simplified if lang == HANS else str
    results = []
    for topic in inline_topics(engine.matcher, query):
        entry = engine.knowledge.faq[topic]
        url = links.deep_link(bot_username, links.TopicLink(topic))
        results.append(
            InlineQueryResultArticle(
                id=topic,
                title=shown(entry.title[lang_of(lang)]),
                description=shown(_snippet(entry.answer[lang_of(lang)])),
                input_message_content=InputTextMessageContent(
                    split_html(engine.answer(topic, lang).text)[0],
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                ),
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(label, url=url)]]),
            )
        )
    return results


def _snippet(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_DESCRIPTION else line[: MAX_DESCRIPTION - 1] + "…"


def staff_targets(knowledge: Knowledge, matcher: Matcher, words: str) -> list[links.Target]:
    """The answers and guide steps that best match `words`: the matcher's top answers, then
    the steps those answers belong to, then steps whose title resembles the words."""
    floor = matcher.tuning.candidate_threshold
    topics = [s.id for s in matcher.rank(words, k=STAFF_ANSWERS) if s.score >= floor]
    steps: list[links.GuideLink] = [
        links.GuideLink(guide.id, step.n)
        for topic in topics
        for guide in knowledge.guides.values()
        for step in guide.steps
        if topic in step.topics
    ]
    titles = {
        links.GuideLink(guide.id, step.n): f"{step.title.en} {step.title.zh}"
        for guide in knowledge.guides.values()
        for step in guide.steps
    }
    similar = process.extract(
        words,
        titles,
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        score_cutoff=STEP_TITLE_CUTOFF,
        limit=STAFF_STEPS,
    )
    steps += [target for _, _, target in similar]
    unique_steps = list(dict.fromkeys(steps))[:STAFF_STEPS]
    return [*(links.TopicLink(t) for t in topics), *unique_steps]


def staff_links_html(
    knowledge: Knowledge, matcher: Matcher, words: str, *, lang: Language, bot_username: str
) -> str:
    """The `/link` reply: each matching answer and step, its title (in 简体 for a 简体 reader)
    and its deep link."""
    gettext = translations(lang).gettext
    words = " ".join(words.split())
    if not words:
        return escape(gettext(STAFF_USAGE))
    targets = staff_targets(knowledge, matcher, words)
    if not targets:
        return escape(gettext(STAFF_NONE) % {"words": words})
    lines = [f"<b>{escape(gettext(STAFF_FOUND) % {'words': words})}</b>"]
    for target in targets:
        title = links.title(target, knowledge, lang_of(lang))
        title = escape(to_simplified(title) if lang == HANS else title)
        lines.append(f"\n{title}\n{escape(links.deep_link(bot_username, target))}")
    return "\n".join(lines)
