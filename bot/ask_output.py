"""`python -m bot ask`'s output: the router's decision as a JSON line for staff scripts (titles and
deep-link payloads included), or as the plain-text reply in the question's language."""

from __future__ import annotations

import html
import re
from datetime import date

from bot import links
from bot.deadline_output import summary_text
from bot.deadlines import Profile, compute
from bot.i18n import HANS, Language, render
from bot.knowledge import CONTACT_TOPIC, Knowledge
from bot.matching import render_answer_text, render_entry_text
from bot.routing import Offer, Route
from bot.simplified import to_simplified, written_in_simplified


def shown_language(route: Route, reader: str | None = None) -> Language:
    """The language the reply is shown in: the question's, and for Chinese the `reader`'s script
    (zh-hans: 简体, zh: 繁體), else the one the question is written in."""
    if route.lang == "en":
        return "en"
    if reader is not None and reader != "en":
        return HANS if reader == HANS else "zh"
    return HANS if written_in_simplified(route.question) else "zh"


def route_json(
    route: Route, knowledge: Knowledge, *, shown: Language | None = None
) -> dict[str, object]:
    """DESIGN.md's `ask --json` object, each topic and offer with its title (in the language the
    reply is shown in, `shown`: the question's by default) and `link`, the deep-link payload
    that opens it (`t_renewal-how`, `g_apply_9`). `lang` stays what the question is written in,
    "en" or "zh" (Simplified too); `shown` adds "en", "zh" or "zh-hans"."""
    out = route.as_json()
    shown = shown or shown_language(route)
    out["shown"] = shown
    for scored in [out["answer"], *out["candidates"]]:  # type: ignore[list-item]
        if isinstance(scored, dict):
            _describe(scored, links.TopicLink(str(scored["id"])), knowledge, shown)
    for offer, described in zip(route.offers, out["offers"], strict=True):  # type: ignore[call-overload]
        _describe(described, _target(offer), knowledge, shown)
    return out


def route_text(
    route: Route, knowledge: Knowledge, *, today: date, shown: Language | None = None
) -> str:
    """The reply as plain text: the answer, the deadlines computed from a date in the question,
    the guide and calculator offered (with their deep-link payloads), a second question; in
    简体 when `shown` is zh-hans (dates too, inside `bot.i18n.showing`)."""
    text = _route_text(route, knowledge, today=today)
    return to_simplified(text) if shown == HANS else text


def _route_text(route: Route, knowledge: Knowledge, *, today: date) -> str:
    lang = route.lang
    zh = lang == "zh"
    if route.kind == "ack":
        return _plain(render("ack.html", lang))  # the chat's own reply, not a second wording
    if route.kind == "command":
        return f"/{route.command}"
    if route.topic is None:
        return _declined(route, knowledge)
    parts = [render_entry_text(knowledge.faq[route.topic], lang)]
    for offer in route.offers:
        if offer.kind == "deadline" and offer.date is not None:
            profile = Profile(offer.profile) if offer.profile else None
            result = compute(offer.id, offer.date, today=today, profile=profile)
            parts.append(summary_text(result, lang, today=today))
    offered = [
        f"• {links.title(_target(o), knowledge, lang)}  (start={links.payload(_target(o))})"
        for o in route.offers
        if o.date is None
    ]
    if offered:
        parts.append(("接下來：\n" if zh else "Next:\n") + "\n".join(offered))
    if route.also is not None:
        title = knowledge.faq[route.also].title[lang]
        also = links.payload(links.TopicLink(route.also))
        parts.append(f"{'您也問到' if zh else 'You also asked'}: {title}  (start={also})")
    return "\n\n".join(parts)


def _declined(route: Route, knowledge: Knowledge) -> str:
    about = knowledge.not_covered(route.declined_as, route.lang)
    if about is None:
        return render_answer_text(knowledge, route.result)
    contacts = knowledge.faq[CONTACT_TOPIC].answer[route.lang].strip()
    return _plain(render("out_of_scope.html", route.lang, about=about, contacts=contacts))


def _plain(html_text: str) -> str:
    """A chat template's text for the terminal: tags dropped, entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def _target(offer: Offer) -> links.Target:
    if offer.kind == "guide":
        return links.GuideLink(offer.id, offer.step)
    return links.DeadlineLink(offer.id)


def _describe(
    item: dict[str, object], target: links.Target, knowledge: Knowledge, shown: Language
) -> None:
    title = links.title(target, knowledge, "en" if shown == "en" else "zh")
    item["title"] = to_simplified(title) if shown == HANS else title
    item["link"] = links.payload(target)
