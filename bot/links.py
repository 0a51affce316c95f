"""Deep-link payloads (`https://t.me/<bot>?start=<payload>`): what each one opens, both ways.

`t_<topic>` opens a FAQ answer, `g_<guide>` a guide, `g_<guide>_<step>` a guide at a step and
`d_<kind>` a deadline calculator. Payloads are at most 64 characters of `A-Za-z0-9_-` (Telegram).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.deadlines import KINDS
from bot.knowledge import Knowledge
from bot.textnorm import Lang

MAX_PAYLOAD = 64
_PAYLOAD = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_PAYLOAD}}}")
_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_TOPIC = re.compile(rf"t_({_ID})")
_GUIDE = re.compile(rf"g_({_ID})(?:_([1-9][0-9]{{0,3}}))?")
_DEADLINE = re.compile(rf"d_({_ID})")


@dataclass(frozen=True)
class TopicLink:
    topic: str


@dataclass(frozen=True)
class GuideLink:
    guide: str
    step: int | None = None


@dataclass(frozen=True)
class DeadlineLink:
    kind: str


Target = TopicLink | GuideLink | DeadlineLink


def payload(target: Target) -> str:
    """The `start` payload that opens `target`."""
    match target:
        case TopicLink(topic):
            text = f"t_{topic}"
        case GuideLink(guide, None):
            text = f"g_{guide}"
        case GuideLink(guide, step):
            text = f"g_{guide}_{step}"
        case DeadlineLink(kind):
            text = f"d_{kind}"
    if not _PAYLOAD.fullmatch(text):
        raise ValueError(f"{target} makes the invalid payload {text!r}")
    return text


def parse_payload(text: str) -> Target | None:
    """What a payload opens; None for anything malformed (the caller checks the ids exist)."""
    if not _PAYLOAD.fullmatch(text):
        return None
    if m := _TOPIC.fullmatch(text):
        return TopicLink(m[1])
    if m := _GUIDE.fullmatch(text):
        return GuideLink(m[1], int(m[2]) if m[2] else None)
    if m := _DEADLINE.fullmatch(text):
        return DeadlineLink(m[1])
    return None


def exists(target: Target, knowledge: Knowledge) -> bool:
    """Whether the topic, guide (and step) or deadline kind is one the bot has."""
    match target:
        case TopicLink(topic):
            return topic in knowledge.faq
        case GuideLink(guide, step):
            found = knowledge.guides.get(guide)
            return found is not None and (step is None or found.has_step(step))
        case DeadlineLink(kind):
            return kind in KINDS


def deep_link(bot_username: str, target: Target) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={payload(target)}"


def all_targets(knowledge: Knowledge) -> Iterator[Target]:
    """Every answer, guide, guide step and calculator, in a stable order (staff's link list)."""
    yield from (TopicLink(topic) for topic in knowledge.faq)
    for guide in knowledge.guides.values():
        yield GuideLink(guide.id)
        yield from (GuideLink(guide.id, step.n) for step in guide.steps)
    yield from (DeadlineLink(kind) for kind in KINDS)


def title(target: Target, knowledge: Knowledge, lang: Lang) -> str:
    """A one-line title of what the link opens, in `lang`."""
    match target:
        case TopicLink(topic):
            return knowledge.faq[topic].title[lang]
        case GuideLink(guide, None):
            return knowledge.guides[guide].title[lang]
        case GuideLink(guide, step):
            found = knowledge.guides[guide]
            of = f"步驟 {step}" if lang == "zh" else f"step {step}"
            return f"{found.title[lang]} · {of}: {found.step(step).title[lang]}"
        case DeadlineLink(kind):
            return KINDS[kind].title[lang]
