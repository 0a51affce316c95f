"""The router: one decision for every typed message — an FAQ answer with the guide and calculator
that go with it, a short reply to thanks, or an honest decline.

Pipeline (each step a plain function in `bot.understanding`): acknowledgements → dates found and
cut out → negation and scope → the question sentence(s) → the matcher on each → the decision.
Pure and deterministic; the engine, `ask --json` and the terminal chat all use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from bot import deadlines
from bot.knowledge import Knowledge
from bot.matching import Matcher, MatchResult, Scored
from bot.textnorm import Lang, detect_lang, normalize
from bot.understanding import (
    FoundDate,
    SmallTalk,
    asks_to_calculate,
    content_sentences,
    find_dates,
    own_command,
    question_sentences,
    scope,
    small_talk,
    without_dates,
)

RouteKind = Literal["answer", "candidates", "decline", "ack", "command"]

# Kinds whose given date is an event that has happened (so "today" / 「今天」 can name it);
# a card's or passport's expiry is never "today" in a question.
_EVENT_KINDS = frozenset({"supplement", "pickup", "address", "domestic-stay", "password",
                          "processing"})  # fmt: skip


@dataclass(frozen=True)
class Offer:
    """A guide (or one of its steps) or a deadline calculator the reply offers or runs."""

    kind: Literal["guide", "deadline"]
    id: str
    step: int | None = None
    date: date | None = None  # read from the message: the deadlines are computed for it
    profile: str | None = None  # the processing calculator's applicant profile, when known

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "id": self.id}
        if self.step is not None:
            out["step"] = self.step
        if self.date is not None:
            out["date"] = self.date.isoformat()
        return out


@dataclass(frozen=True)
class Route:
    """Where a message goes. `result` is the matcher's reading of the question that decided."""

    kind: RouteKind
    question: str
    lang: Lang
    result: MatchResult
    offers: tuple[Offer, ...] = ()
    also: str | None = None  # a second question's topic, offered as "You also asked: …"
    outside: str | None = None  # the out-of-scope group the wording alone puts the message in
    talk: SmallTalk | None = None  # for "ack": a greeting, thanks or an acknowledgement
    command: str | None = None  # the user's own data or settings: "language", "forget", …
    dates: tuple[FoundDate, ...] = field(default=(), repr=False)

    @property
    def declined_as(self) -> str | None:
        """The out-of-scope group a declined message belongs to, if any (what the decline says
        the tutorials do not cover)."""
        return self.outside or self.result.out_of_scope

    @property
    def topic(self) -> str | None:
        return self.result.answer.id if self.kind == "answer" and self.result.answer else None

    def as_json(self) -> dict[str, object]:
        """The `ask --json` contract object (DESIGN.md), with `offers` and `also`."""
        out = self.result.as_json()
        out["question"] = self.question
        out["lang"] = self.lang
        if self.kind != "answer":
            out["answer"] = None
        out["offers"] = [offer.as_json() for offer in self.offers]
        out["also"] = self.also
        if self.command is not None:
            out["command"] = self.command
        return out


class Router:
    """Routes typed messages; build once per Knowledge and Matcher."""

    def __init__(self, knowledge: Knowledge, matcher: Matcher) -> None:
        self.knowledge = knowledge
        self.matcher = matcher
        self._cited_step = self._steps_citing()
        self._step_features = {
            guide.id: {
                step.n: self._features(step.title.zh + " " + step.title.en)
                for step in guide.steps
                if step.n > _LOGIN_STEPS.get(guide.id, 0)
            }
            for guide in knowledge.guides.values()
        }

    def route(self, text: str, *, today: date) -> Route:
        """Decide what the message asks and what the reply offers."""
        question, text = text, _head(text)
        lang = detect_lang(text)
        empty = MatchResult(question, lang, None, ())
        if (talk := small_talk(text)) is not None:
            return Route("ack", question, lang, empty, talk=talk)
        if (command := own_command(text)) is not None:
            return Route("command", question, lang, empty, command=command)
        dates = tuple(find_dates(text, today=today))
        read = scope(without_dates(text, list(dates)))
        if read.outside is not None:
            return Route("decline", question, lang, empty, outside=read.outside, dates=dates)
        main, also = self._decide(read.text)
        if main.answer is not None and any(not d.relative for d in dates):
            main = _dated(main)
        if main.answer is None:
            # Closest to an out-of-scope group: declined, whatever topics came near.
            near = main.candidates and main.out_of_scope is None
            kind: RouteKind = "candidates" if near else "decline"
            return Route(kind, question, lang, main, dates=dates)
        topic = main.answer.id
        offers = self._offers(topic, text, dates)
        return Route("answer", question, lang, main, offers, also=also, dates=dates)

    # -- deciding --

    def _decide(self, text: str) -> tuple[MatchResult, str | None]:
        """The matcher's result for the question that decides, and a second question's topic."""
        asked = question_sentences(text)[:MAX_QUESTIONS]
        content = content_sentences(text)
        story = len(content) > 1
        whole_text = " ".join(content) if content else text
        whole = self.matcher.match(
            whole_text, coverage_power=STORY_COVERAGE_POWER if story else None
        )
        power = STORY_COVERAGE_POWER if story else None  # its questions are conversational too
        parts = [
            whole if part == whole_text else self.matcher.match(part, coverage_power=power)
            for part in asked
        ]
        answered = [r for r in parts if r.answer is not None]
        # The first question decides, unless the whole message (its story included) answers a
        # lone question with more confidence; a later question decides only when neither does.
        first = parts[0] if parts and len(content) > 1 else None
        if (
            first is not None
            and first.answer is not None
            and not self._off_the_story(asked[0], first.answer.id, whole, whole_text, len(parts))
            and (
                whole.answer is None
                # Two questions: the whole mixes them, so the first needs less to decide.
                or first.answer.score + (COMPOUND_LEAD if len(parts) > 1 else 0.0)
                >= whole.answer.score
            )
        ):
            main = first
        elif whole.answer is not None or not answered:
            main = whole
        else:
            main = answered[0]
        also = None
        if main.answer is not None and len(parts) > 1:
            # Another question is only offered, so its likely topic is enough; what it repeats
            # of the first question ("延期…？還有延期…？") does not decide it.
            for part, result in zip(asked, parts, strict=True):
                if result is main:
                    continue
                best = _likely(result)
                if best is not None and best.id == main.answer.id:
                    best = _likely(self.matcher.match(_distinct(part, asked[0])))
                if best is not None and best.id != main.answer.id:
                    also = best.id
                    break
        return main, also

    def _off_the_story(
        self, question: str, topic: str, whole: MatchResult, whole_text: str, n_questions: int
    ) -> bool:
        """A lone question that names nothing of the domain ("What can I do?", "Anything I
        should prepare?") is about the story around it: when the story answers, and the
        question's own topic is not even among the story's nearest, the story decides."""
        if whole.answer is None or n_questions > 1:
            return False
        if any(f.startswith("#") for f in self._features(question)):
            return False  # it names something of the domain itself
        near = self.matcher.rank(whole_text, k=STORY_NEAREST)
        return topic not in {s.id for s in near}

    # -- offers --

    def _offers(self, topic: str, text: str, dates: tuple[FoundDate, ...]) -> tuple[Offer, ...]:
        """The guide and calculator that go with the answer; a calculator that can run (a date
        was given) or was asked for comes first."""
        offers: list[Offer] = []
        if (guide := GUIDE_OF_TOPIC.get(topic)) is not None:
            offers.append(Offer("guide", guide, self._step(guide, text)))
        elif (cited := self._cited_step.get(topic)) is not None:
            offers.append(Offer("guide", *cited))  # the one step that explains it
        if (kind := CALCULATOR_OF_TOPIC.get(topic)) is not None:
            given = next((d.value for d in dates if not d.relative or kind in _EVENT_KINDS), None)
            profile = _profile(text) if kind == "processing" else None
            if kind == "renewal" and re.search(_HK_MACAU, text, re.I):
                profile = deadlines.Profile.HK_MACAU.value  # "apply as soon as it opens"
            if kind == "processing" and profile is None:
                given = None  # who applies decides the stages: the calculator asks first
            calculator = Offer("deadline", kind, date=given, profile=profile)
            if given is not None or asks_to_calculate(text):
                offers.insert(0, calculator)
            else:
                offers.append(calculator)
        return tuple(offers)

    def _steps_citing(self) -> dict[str, tuple[str, int]]:
        """Topics without a guide of their own that the steps of one guide cite (at most
        `MAX_CITING_STEPS` of them), and the step whose title is closest to the topic's: offered
        with the answer (the questions before the form → apply step 8). Topics every login step
        cites (the browser, the platform) are no one step's."""
        citing: dict[str, list[tuple[str, int, str]]] = {}
        for guide in self.knowledge.guides.values():
            for step in guide.steps:
                title = step.title.zh + " " + step.title.en
                for topic in step.topics:
                    citing.setdefault(topic, []).append((guide.id, step.n, title))
        chosen: dict[str, tuple[str, int]] = {}
        for topic, steps in citing.items():
            if topic in GUIDE_OF_TOPIC or len(steps) > MAX_CITING_STEPS:
                continue
            if len({guide for guide, _, _ in steps}) != 1:
                continue
            entry = self.knowledge.faq[topic]
            wanted = self._features(entry.title.zh + " " + entry.title.en)
            guide, n, _ = max(
                steps,
                key=lambda s: (
                    sum(w for f, w in self._features(s[2]).items() if f in wanted),
                    -s[1],
                ),
            )
            chosen[topic] = (guide, n)
        return chosen

    def _step(self, guide: str, text: str) -> int | None:
        """The guide step the message names ("uploading the supplement documents" → step 11):
        the step whose title the message covers best, when it covers most of it."""
        asked = self._features(text)
        best: tuple[float, int] | None = None
        for n, feats in self._step_features.get(guide, {}).items():
            total = sum(feats.values())
            if not total:
                continue
            shared = sum(w for f, w in feats.items() if f in asked and not f.startswith("u:"))
            distinct = sum(1 for f in feats if f in asked and not f.startswith("u:"))
            share = shared / total
            if distinct >= 2 and share >= _STEP_SHARE and (best is None or share > best[0]):
                best = (share, n)
        return best[1] if best else None

    def _features(self, text: str) -> dict[str, float]:
        vocab = self.matcher.vocab
        feats = vocab.features(vocab.fold(normalize(text)), self.matcher.tuning, correct=True)
        idf = self.matcher.idf
        return {
            f: w * idf.get(f, 0.0)
            for f, w in feats.items()
            if f not in _GENERIC_FEATURES and idf.get(f, 0.0) > 0
        }


# How far the whole of a two-question message must lead its first question to decide instead.
COMPOUND_LEAD = 0.1
# What of a message is read: a long story's question is near its start, and the rest only costs.
MAX_MESSAGE_CHARS = 1500
# Questions of one message that are read (a message of 200 questions is not 200 questions).
MAX_QUESTIONS = 3
# A story's lone question decides only when its topic is among the story's nearest this many.
STORY_NEAREST = 3
# How hard unknown words count against a message of several sentences (a question alone: 1.0).
STORY_COVERAGE_POWER = 0.5
# A topic cited by more steps than this is general, not one step's.
MAX_CITING_STEPS = 3
# A step is named when the message covers this share of its title's (idf-weighted) features.
_STEP_SHARE = 0.34
# The login steps every guide starts with are never "the step" a question is about.
_LOGIN_STEPS = {"apply": 5, "progress": 1, "supplement": 6, "change": 6, "renew": 6}
_GENERIC_FEATURES = frozenset(
    {"#goldcard", "#platform", "#ask_how", "#ask_what", "#ask_when", "#ask_where"}
)

# Which guide goes with which answer, and which calculator (issue 10's table).
GUIDE_OF_TOPIC: dict[str, str] = {
    "how-to-apply": "apply",
    "check-progress": "progress",
    "collect-card": "progress",
    "approval-letter": "progress",
    "supplement-how": "supplement",
    "data-change-how": "change",
    "address-change": "change",
    "new-passport-pending": "change",
    "renewal-how": "renew",
}
CALCULATOR_OF_TOPIC: dict[str, str] = {
    "renewal-window": "renewal",
    # The procedures whose own deadline a date in the question is about ("I got the notice on
    # 3 August, how do I upload?"): their calculator goes with their guide.
    "renewal-how": "renewal",
    "renewal-hk-macau": "renewal",
    "supplement-how": "supplement",
    "supplement-deadline": "supplement",
    "collect-card": "pickup",
    "address-change": "address",
    "apply-from-inside-taiwan": "domestic-stay",
    "passport-requirements": "passport",
    "login-lockout-password": "password",
    "review-stages": "processing",
}

_HK_MACAU = r"港澳|香港|澳門|澳门|hong\s*kong|macau|macao"
_PROFILE_WORDS = (
    (
        deadlines.Profile.RENEWAL_HK_MACAU,
        rf"(?=.*(?:延期|續|续|renew|extend))(?=.*(?:{_HK_MACAU}))",
    ),
    (deadlines.Profile.RENEWAL, r"延期|續期|续期|續簽|续签|renew|extension|extend"),
    (deadlines.Profile.HK_MACAU, _HK_MACAU),
    (deadlines.Profile.DOMESTIC, r"境內|境内|在台|在臺|in\s+taiwan|inside\s+taiwan|domestic"),
    (deadlines.Profile.ABROAD, r"境外|海外|國外|国外|abroad|overseas|outside\s+taiwan"),
)


def _likely(result: MatchResult) -> Scored | None:
    """The topic a question most likely asks about: its answer, else its best candidate."""
    return result.answer or next(iter(result.candidates), None)


def _dated(result: MatchResult) -> MatchResult:
    """A message that gives a date asks about a deadline: among close candidates, the answer
    that has a calculator wins over one that has none."""
    assert result.answer is not None
    if result.answer.id in CALCULATOR_OF_TOPIC:
        return result
    for candidate in result.candidates:
        if candidate.id in CALCULATOR_OF_TOPIC:
            return replace(result, answer=candidate)
    return result


def _head(text: str) -> str:
    """The message, or of a very long one its sentences within MAX_MESSAGE_CHARS."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    head = text[:MAX_MESSAGE_CHARS]
    ends = [m.end() for m in re.finditer(r"[.?!。？！\n]", head)]
    return head[: ends[-1]] if ends else head


def _distinct(part: str, first: str) -> str:
    """`part` without what it repeats of `first`: shared English words and Chinese runs."""
    seen = {w.lower() for w in re.findall(r"[A-Za-z]+", first)}
    out: list[str] = []
    i = 0
    while i < len(part):
        n = 0
        if "\u3400" <= part[i] <= "\u9fff":
            while i + n < len(part) and part[i : i + n + 1] in first:
                n += 1
        if n >= 2:
            i += n
        else:
            out.append(part[i])
            i += 1
    return " ".join(w for w in "".join(out).split() if w.lower() not in seen) or part


def _profile(text: str) -> str | None:
    """The applicant profile a processing-time question states, if it states one."""
    for profile, pattern in _PROFILE_WORDS:
        if re.search(pattern, text, re.I | re.S):
            return profile.value
    return None
