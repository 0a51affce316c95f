"""The help desk's inbox: what the bot could not answer (unanswered questions, 👎 answers with
their question), grouped by similarity with the matcher's own features, and what staff decide
for each group: a topic (its questions become learned sample questions), out of scope (learned
as negatives of an out-of-scope class), or ignore. Handled groups leave the inbox.

A group is a row (`inbox_groups`, its questions in `inbox_members`), so its id, carried by the
buttons, means the same group in every process and after a restart. New questions join the open
group they are closest to, or start one; an open group never changes its id.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine as Database
from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import callbacks as cb
from bot.dialogue import N_, Button, Reply
from bot.i18n import render, translations
from bot.knowledge import Knowledge
from bot.matching import OUT_OF_SCOPE_PREFIX, Matcher, Scored
from bot.models import (
    Feedback,
    InboxGroup,
    InboxMember,
    LearnedQuestion,
    UnansweredQuestion,
    utcnow,
)
from bot.redact import strip_identifiers
from bot.textnorm import Lang, normalize

UNANSWERED, THUMBS_DOWN = "u", "f"  # `inbox_members.source`
IGNORED = "ignored"  # `inbox_groups.handled_as` of a group staff chose to ignore
# A question joins the open group whose questions' features are this close (cosine of their
# idf-weighted features, as the matcher weighs them); below it, it starts a group of its own.
GROUP_SIMILARITY = 0.5
MAX_NEW_PER_RUN = 2000  # ungrouped questions taken in one run (newest first)
MAX_SCORED = 10  # questions of a group the matcher scores for its candidates
MAX_CANDIDATES = 3
MAX_SHOWN_QUESTIONS = 5
MAX_GROUPS_SHOWN = 8  # /inbox sends a message per group; staff groups get 20 a minute
MAX_SEARCH_RESULTS = 5
MAX_TEXT = 600

# What a handling found: done now, done before (by someone else), no such group.
DONE, ALREADY, MISSING = "done", "already", "missing"

ABOUT = N_("✅ This is about: %(topic)s")
SEARCH = N_("🔎 Another topic…")
OUT_OF_SCOPE = N_("🚫 Out of scope…")
IGNORE = N_("🗑 Ignore")
BACK = N_("↩️ Back")
# After "🔎 #12: <staff member>, ", the prompt for words when no candidate fits.
SEARCH_PROMPT = N_("reply to this message with a few words about the topic, e.g. “renewal fee”.")
SEARCH_PLACEHOLDER = N_("A few words about the topic")
EXPIRED = N_("This inbox button has expired: send /inbox for the current groups.")
USAGE = N_(
    "Usage: /inbox [DATE] — the unanswered questions and 👎 answers since DATE "
    "(default: the last 30 days), e.g. /inbox 2026-11-01."
)


# --- buttons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxAbout(cb.Action):
    """Assign an inbox group to a FAQ topic."""

    tag = "ia"
    group: cb.RowId
    topic: str


@dataclass(frozen=True)
class InboxScopes(cb.Action):
    """Show the out-of-scope classes for a group."""

    tag = "iq"
    group: cb.RowId


@dataclass(frozen=True)
class InboxOutOfScope(cb.Action):
    """Learn a group as negatives of an out-of-scope class."""

    tag = "io"
    group: cb.RowId
    scope: str


@dataclass(frozen=True)
class InboxIgnore(cb.Action):
    tag = "ii"
    group: cb.RowId


@dataclass(frozen=True)
class InboxSearch(cb.Action):
    """Ask staff for words to find the group's topic by."""

    tag = "is"
    group: cb.RowId


@dataclass(frozen=True)
class InboxBack(cb.Action):
    """The group's own buttons again (from the out-of-scope classes)."""

    tag = "ib"
    group: cb.RowId


INBOX_ACTIONS = (InboxAbout, InboxScopes, InboxOutOfScope, InboxIgnore, InboxSearch, InboxBack)
CALLBACK_PATTERN = rf"^{cb.VERSION}:(?:{'|'.join(a.tag for a in INBOX_ACTIONS)}):"


# --- the inbox -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One question in the inbox, as stored (redacted, no user id)."""

    source: str  # UNANSWERED or THUMBS_DOWN
    row_id: int
    text: str
    lang: str  # the chat's language when it was asked
    reason: str  # no-match, none-of-these, out-of-scope; thumbs-down for 👎
    topic: str | None  # the answer that got 👎
    at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "question": self.text,
            "lang": self.lang,
            "reason": self.reason,
            "topic": self.topic,
            "at": self.at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class Group:
    """An open inbox group with its questions (those since the date asked for) and what the
    matcher makes of them: the best topics, and the out-of-scope classes, closest first."""

    id: int
    items: tuple[Item, ...]
    candidates: tuple[Scored, ...]
    scopes: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def langs(self) -> dict[str, int]:
        return dict(Counter(item.lang for item in self.items).most_common())

    def as_json(self, knowledge: Knowledge) -> dict[str, object]:
        return {
            "id": self.id,
            "count": self.count,
            "langs": self.langs,
            "questions": [item.as_json() for item in self.items],
            "candidates": [
                {**c.as_json(), "title": knowledge.faq[c.id].title["en"]} for c in self.candidates
            ],
            "out_of_scope": self.scopes[0] if self.scopes else None,
        }


def open_inbox(db: Database, matcher: Matcher, *, since: datetime) -> list[Group]:
    """The open groups with questions since `since`, most questions first; new questions are
    grouped first (and stay in their group from now on)."""
    for attempt in range(2):
        try:
            with Session(db) as session:
                _group_new(session, matcher)
                items = _open_group_items(session)
                session.commit()
            break
        except IntegrityError:  # another /inbox grouped the same questions at this moment
            if attempt:
                raise
    since = since.astimezone(UTC)
    groups = []
    for group_id, members in items.items():
        recent = tuple(sorted((i for i in members if _aware(i.at) >= since), key=_newest))
        if recent:
            candidates, scopes = _candidates(matcher, [i.text for i in recent])
            groups.append(Group(group_id, recent, candidates, scopes))
    groups.sort(key=lambda g: (-g.count, _newest(g.items[0]), -g.id))
    return groups


def open_group(db: Database, matcher: Matcher, group_id: int) -> Group | None:
    """One open group with all its questions, or None if it is handled or does not exist."""
    with Session(db) as session:
        found = session.get(InboxGroup, group_id)
        if found is None or found.handled_at is not None:
            return None
        members = _open_group_items(session, group_id=group_id).get(group_id, [])
    if not members:
        return None
    items = tuple(sorted(members, key=_newest))
    candidates, scopes = _candidates(matcher, [i.text for i in items])
    return Group(group_id, items, candidates, scopes)


@dataclass(frozen=True)
class Handled:
    """What became of a group: `status` DONE, ALREADY (`handled_as` then says how) or MISSING."""

    status: str
    group: int
    handled_as: str | None = None
    count: int = 0
    learned: int = 0


def handle_group(db: Database, *, group_id: int, outcome: str, staff_id: int | None) -> Handled:
    """Close a group as `outcome` (a topic id, `oos:<group>` or IGNORED), once: its questions
    become learned questions of the topic (redacted again, identifiers left out, each text
    once), unless ignored.

    The group's row is locked first, so of two staff pressing at once one handles it and the
    other is told it was handled already.
    """
    with Session(db) as session:
        group = session.get(InboxGroup, group_id, with_for_update=True)
        if group is None:
            return Handled(MISSING, group_id)
        if group.handled_at is not None:
            return Handled(ALREADY, group_id, group.handled_as)
        items = _open_group_items(session, group_id=group_id).get(group_id, [])
        learned = 0
        if outcome != IGNORED:
            known = {
                normalize(q)
                for q in session.exec(
                    select(LearnedQuestion.question).where(LearnedQuestion.topic == outcome)  # type: ignore[arg-type]
                )
            }
            for item in sorted(items, key=lambda i: (i.source, i.row_id)):
                # Stored redacted; redacted again whatever was stored, and without the labels
                # ("[passport number]"), which would teach the matcher words nobody asked.
                text = " ".join(strip_identifiers(item.text).split())[:MAX_TEXT]
                key = normalize(text)
                if not key or key in known:
                    continue
                known.add(key)
                session.add(
                    LearnedQuestion(question=text, topic=outcome, lang=item.lang,
                                    learned_by=staff_id)
                )  # fmt: skip
                learned += 1
        group.handled_as, group.handled_by, group.handled_at = outcome, staff_id, utcnow()
        session.add(group)
        session.commit()
    return Handled(DONE, group_id, outcome, len(items), learned)


def _group_new(session: Session, matcher: Matcher) -> None:
    """Put every ungrouped question into the open group closest to it, or a new group."""
    new = _ungrouped(session)
    if not new:
        return
    groups: dict[int, tuple[Counter[str], set[str]]] = {}  # id -> (summed features, texts)
    for group_id, members in _open_group_items(session).items():
        total: Counter[str] = Counter()
        for item in members:
            total.update(_features(matcher, item.text))
        groups[group_id] = (total, {normalize(i.text) for i in members})
    for item in sorted(new, key=lambda i: (_aware(i.at), i.source, i.row_id)):
        vector, key = _features(matcher, item.text), normalize(item.text)
        best, best_similarity = None, 0.0
        for group_id, (total, texts) in groups.items():
            similarity = 1.0 if key in texts else _cosine(vector, total)
            if similarity > best_similarity:
                best, best_similarity = group_id, similarity
        if best is None or best_similarity < GROUP_SIMILARITY:
            row = InboxGroup()
            session.add(row)
            session.flush()
            assert row.id is not None
            best = row.id
            groups[best] = (Counter(), set())
        groups[best][0].update(vector)
        groups[best][1].add(key)
        session.add(InboxMember(group_id=best, source=item.source, row_id=item.row_id))
    session.flush()


def _ungrouped(session: Session) -> list[Item]:
    grouped_u = exists().where(
        InboxMember.source == UNANSWERED,  # type: ignore[arg-type]
        InboxMember.row_id == UnansweredQuestion.id,  # type: ignore[arg-type]
    )
    grouped_f = exists().where(
        InboxMember.source == THUMBS_DOWN,  # type: ignore[arg-type]
        InboxMember.row_id == Feedback.id,  # type: ignore[arg-type]
    )
    unanswered = session.exec(
        select(UnansweredQuestion)
        .where(~grouped_u)
        .order_by(UnansweredQuestion.id.desc())  # type: ignore[union-attr]
        .limit(MAX_NEW_PER_RUN)
    ).all()
    disliked = session.exec(
        select(Feedback)
        .where(*_thumbs_down(), ~grouped_f)
        .order_by(Feedback.id.desc())  # type: ignore[union-attr]
        .limit(MAX_NEW_PER_RUN)
    ).all()
    return [_unanswered_item(r) for r in unanswered] + [_feedback_item(r) for r in disliked]


def _open_group_items(session: Session, *, group_id: int | None = None) -> dict[int, list[Item]]:
    """The questions of every open group (or of one group, open or not), by group id."""
    where: list[Any] = [InboxGroup.handled_at.is_(None)]  # type: ignore[union-attr]
    if group_id is not None:
        where = [InboxGroup.id == group_id]
    found: dict[int, list[Item]] = defaultdict(list)
    unanswered = session.exec(
        select(InboxMember.group_id, UnansweredQuestion)
        .join(InboxGroup, InboxGroup.id == InboxMember.group_id)  # type: ignore[arg-type]
        .join(UnansweredQuestion, UnansweredQuestion.id == InboxMember.row_id)  # type: ignore[arg-type]
        .where(InboxMember.source == UNANSWERED, *where)  # type: ignore[arg-type]
    )
    for group, row in unanswered:
        found[group].append(_unanswered_item(row))
    disliked = session.exec(
        select(InboxMember.group_id, Feedback)
        .join(InboxGroup, InboxGroup.id == InboxMember.group_id)  # type: ignore[arg-type]
        .join(Feedback, Feedback.id == InboxMember.row_id)  # type: ignore[arg-type]
        .where(InboxMember.source == THUMBS_DOWN, *where)  # type: ignore[arg-type]
    )
    for group, row in disliked:
        found[group].append(_feedback_item(row))
    return found


def _thumbs_down() -> tuple[Any, ...]:
    return (Feedback.helpful.is_(False), Feedback.question.is_not(None))  # type: ignore[attr-defined,union-attr]


def _unanswered_item(row: UnansweredQuestion) -> Item:
    return Item(UNANSWERED, row.id or 0, row.question, row.lang, row.reason, None,
                _aware(row.created_at))  # fmt: skip


def _feedback_item(row: Feedback) -> Item:
    return Item(THUMBS_DOWN, row.id or 0, row.question or "", row.lang, "thumbs-down", row.topic,
                _aware(row.created_at))  # fmt: skip


def _features(matcher: Matcher, text: str) -> Counter[str]:
    """A question's features as the matcher weighs them (rarity across topics)."""
    vocab = matcher.vocab
    folded = vocab.fold(normalize(strip_identifiers(text)))
    feats = vocab.features(folded, matcher.tuning, correct=True)
    return Counter({f: w * matcher.idf.get(f, matcher.unknown_idf) for f, w in feats.items()})


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(w * b[f] for f, w in a.items() if f in b)
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


def _candidates(
    matcher: Matcher, texts: Sequence[str]
) -> tuple[tuple[Scored, ...], tuple[str, ...]]:
    """The best topics for a group (their mean score over its questions) and the out-of-scope
    classes, closest first (all of them: staff choose)."""
    total: dict[str, float] = defaultdict(float)
    scored = texts[:MAX_SCORED]
    for text in scored:
        scores, _ = matcher.score_all(text)
        for s in scores:
            total[s.id] += s.score / len(scored)
    topics = sorted(
        (Scored(t, score) for t, score in total.items()
         if score > 0 and not t.startswith(OUT_OF_SCOPE_PREFIX)),
        key=lambda s: (-s.score, s.id),
    )  # fmt: skip
    order = [g.id for g in matcher.knowledge.out_of_scope]
    scopes = sorted(order, key=lambda g: (-total[OUT_OF_SCOPE_PREFIX + g], order.index(g)))
    return tuple(topics[:MAX_CANDIDATES]), tuple(scopes)


def search_topics(matcher: Matcher, words: str) -> list[str]:
    """Topics for staff's words, best first (any score: staff judge)."""
    return [s.id for s in matcher.rank(words, k=MAX_SEARCH_RESULTS) if s.score > 0]


def _newest(item: Item) -> tuple[float, int]:
    """Sort key: the newest question first."""
    return -_aware(item.at).timestamp(), -item.row_id


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- replies for the staff chat ----------------------------------------------------------------


def outcome_of(action: cb.Action, knowledge: Knowledge) -> str | None:
    """What a handling button closes its group as; None for a topic or class that is gone."""
    match action:
        case InboxAbout(topic=topic) if topic in knowledge.faq:
            return topic
        case InboxOutOfScope(scope=scope) if any(g.id == scope for g in knowledge.out_of_scope):
            return OUT_OF_SCOPE_PREFIX + scope
        case InboxIgnore():
            return IGNORED
    return None


def inbox_replies(groups: Sequence[Group], knowledge: Knowledge, *, since: datetime,
                  lang: Lang) -> list[Reply]:  # fmt: skip
    """/inbox: a summary, then one message per group (the largest first) with its buttons."""
    shown = groups[:MAX_GROUPS_SHOWN]
    summary = render(
        "inbox.html",
        lang,
        since=since.date().isoformat(),
        groups=len(groups),
        questions=sum(g.count for g in groups),
        shown=len(shown),
    )
    return [Reply(summary), *(group_reply(g, knowledge, lang=lang) for g in shown)]


def group_reply(group: Group, knowledge: Knowledge, *, lang: Lang, edit: bool = False) -> Reply:
    """One group: its questions, counts, languages and best topics, and what staff can do."""
    tr = translations(lang)
    text = render(
        "inbox_group.html",
        lang,
        group=group,
        shown=group.items[:MAX_SHOWN_QUESTIONS],
        more=max(0, group.count - MAX_SHOWN_QUESTIONS),
        titles={t: e.title[lang] for t, e in knowledge.faq.items()},
    )
    rows: list[tuple[Button, ...]] = [
        (_button(tr.gettext(ABOUT) % {"topic": title}, InboxAbout(group.id, c.id)),)
        for c in group.candidates
        for title in [knowledge.faq[c.id].title[lang]]
    ]
    rows.append((_button(tr.gettext(SEARCH), InboxSearch(group.id)),))
    rows.append(
        (
            _button(tr.gettext(OUT_OF_SCOPE), InboxScopes(group.id)),
            _button(tr.gettext(IGNORE), InboxIgnore(group.id)),
        )
    )
    return Reply(text, tuple(rows), edit=edit)


def scopes_reply(group: Group, knowledge: Knowledge, *, lang: Lang) -> Reply:
    """The out-of-scope classes for a group, closest first, each with what it covers."""
    about = {g.id: g.about[lang] for g in knowledge.out_of_scope}
    scopes = [(s, about[s]) for s in group.scopes]
    text = render("inbox_scopes.html", lang, group=group.id, scopes=scopes)
    rows = [(_button(f"🚫 {s}", InboxOutOfScope(group.id, s)),) for s in group.scopes]
    rows.append((_button(translations(lang).gettext(BACK), InboxBack(group.id)),))
    return Reply(text, tuple(rows), edit=True)


def search_results_reply(group_id: int, words: str, topics: Iterable[str], knowledge: Knowledge,
                         *, lang: Lang) -> Reply:  # fmt: skip
    """Topics found for staff's words, each a button that assigns the group to it."""
    found = list(topics)
    label = translations(lang).gettext(ABOUT)
    text = render("inbox_search.html", lang, group=group_id, words=words, found=bool(found))
    rows = tuple(
        (_button(label % {"topic": knowledge.faq[t].title[lang]}, InboxAbout(group_id, t)),)
        for t in found
    )
    return Reply(text, rows)


def handled_reply(handled: Handled, knowledge: Knowledge, *, lang: Lang, staff: str) -> Reply:
    """The group's message once handled (its buttons gone), or why nothing happened."""
    if handled.status == MISSING:
        return Reply(translations(lang).gettext(EXPIRED), edit=True)
    text = render(
        "inbox_handled.html",
        lang,
        handled=handled,
        already=handled.status == ALREADY,
        outcome=describe_outcome(handled.handled_as, knowledge, lang),
        staff=staff,
    )
    return Reply(text, edit=True)


def describe_outcome(outcome: str | None, knowledge: Knowledge, lang: Lang) -> str:
    """“Renewal fees”, “out of scope: tax”, “ignored” in `lang`."""
    tr = translations(lang)
    if outcome is None or outcome == IGNORED:
        return tr.gettext(N_("ignored"))
    if outcome.startswith(OUT_OF_SCOPE_PREFIX):
        return tr.gettext(N_("out of scope (%(scope)s)")) % {
            "scope": outcome.removeprefix(OUT_OF_SCOPE_PREFIX)
        }
    entry = knowledge.faq.get(outcome)
    title = entry.title[lang] if entry else outcome
    return f"「{title}」" if lang == "zh" else f"“{title}”"


def _button(label: str, action: cb.Action) -> Button:
    return Button(label, data=cb.encode(action))


# --- the command line ------------------------------------------------------------------------


def inbox_text(groups: Sequence[Group], knowledge: Knowledge, *, since: datetime) -> str:
    """`python -m bot inbox`: every group as plain text (English titles)."""
    questions = sum(g.count for g in groups)
    lines = [f"inbox since {since.date().isoformat()}: {questions} question(s) in "
             f"{len(groups)} group(s)"]  # fmt: skip
    for group in groups:
        langs = ", ".join(f"{lang} {n}" for lang, n in group.langs.items())
        lines += ["", f"#{group.id}  {group.count} question(s)  ({langs})"]
        for item in group.items:
            why = f"👎 {item.topic}" if item.source == THUMBS_DOWN else item.reason
            lines.append(f"  - {item.text}  [{item.lang}, {why}, {item.at:%Y-%m-%d}]")
        best = ", ".join(
            f"{c.id} “{knowledge.faq[c.id].title['en']}” {c.score:.2f}" for c in group.candidates
        )
        closest = group.scopes[0] if group.scopes else "none"
        lines.append(f"  best: {best or 'none'}; closest out-of-scope class: {closest}")
    return "\n".join(lines)
