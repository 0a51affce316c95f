"""Guide navigation: where a user stands in a step-by-step guide, and where each move leads.

Pure logic over loaded `Guide`s (no I/O, no Telegram); it returns positions and numbers, and the
dialogue engine renders them. Also the plain exports behind `python -m bot guide`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.knowledge import Condition, Guide, Note, Step, Text
from bot.textnorm import Lang

QuestionId = Literal["inside_taiwan", "hk_macau", "mainland_born", "renewal"]


class GuideError(ValueError):
    """A step or section the guide does not have (a bad deep link or argument)."""


@dataclass(frozen=True)
class Question:
    """A profile question; each answer makes some `when` conditions hold.

    The prompt wording belongs to the UI strings (gettext), keyed by `id`.
    """

    id: QuestionId
    yes: Condition
    no: Condition | None  # None: "no" makes no condition hold (there is no "not_mainland_born")


# In the order they are asked when one step depends on several.
QUESTIONS: tuple[Question, ...] = (
    Question("inside_taiwan", yes="inside_taiwan", no="abroad"),
    Question("hk_macau", yes="hk_macau", no="not_hk_macau"),
    Question("mainland_born", yes="mainland_born", no=None),
    Question("renewal", yes="renewal", no="first_application"),
)
_QUESTION_OF: dict[Condition, Question] = {
    condition: q for q in QUESTIONS for condition in (q.yes, q.no) if condition is not None
}


@dataclass(frozen=True)
class Profile:
    """What the user told us about their situation; None means not asked (or not known)."""

    inside_taiwan: bool | None = None
    hk_macau: bool | None = None
    mainland_born: bool | None = None
    renewal: bool | None = None

    def holds(self, condition: Condition) -> bool | None:
        """Whether `condition` holds for this user; None while its question is unanswered."""
        question = _QUESTION_OF[condition]
        answer: bool | None = getattr(self, question.id)
        if answer is None:
            return None
        return condition == (question.yes if answer else question.no)

    def admits(self, when: tuple[Condition, ...]) -> bool | None:
        """True if every condition holds, False if one is known not to, else None (unknown)."""
        results = [self.holds(condition) for condition in when]
        if False in results:
            return False
        return None if None in results else True

    def answer(self, question: QuestionId, value: bool) -> Profile:
        return replace(self, **{question: value})


@dataclass(frozen=True)
class Position:
    """Where a user is: a guide, a step (the tutorial's number) and their profile answers."""

    guide: str
    n: int
    profile: Profile = Profile()


@dataclass(frozen=True)
class Progress:
    """Where a step stands, in numbers: step 9 of 23, and step 4 of 5 within its section."""

    n: int
    total: int
    section: str
    n_in_section: int
    section_size: int


@dataclass(frozen=True)
class NoteView:
    """A note as one user sees it; `conditional` marks a note that may not concern them."""

    note: Note
    conditional: bool


@dataclass(frozen=True)
class StepView:
    """A step for one user: its notes filtered by their profile.

    `applies` is False for a step the profile would skip (reached by deep link or by number,
    shown anyway), None when it depends on unanswered questions (shown, marked conditional).
    """

    step: Step
    progress: Progress
    applies: bool | None
    notes: tuple[NoteView, ...]

    @property
    def topics(self) -> tuple[str, ...]:
        return self.step.topics


# --- moving through a guide ----------------------------------------------------------------


def start(
    guide: Guide,
    *,
    step: int | None = None,
    section: str | None = None,
    profile: Profile = Profile(),
) -> Position:
    """Open a guide at its first step that applies, at a section, or exactly at step `step`.

    A requested step is shown even if the profile would skip it: a deep link or "step 9" from
    staff means that step.
    """
    if step is not None and section is not None:
        raise GuideError("start at a step or at a section, not both")
    if step is not None:
        return Position(guide.id, _checked_step(guide, step).n, profile)
    if section is not None:
        return _section_start(guide, section, profile)
    first = _next_applicable(guide, profile, after=0)
    return Position(guide.id, first.n if first else 1, profile)


def next_step(guide: Guide, position: Position) -> Position | None:
    """The next step that applies to the profile; None after the last one (the guide is done)."""
    step = _next_applicable(guide, position.profile, after=position.n)
    return replace(position, n=step.n) if step else None


def previous_step(guide: Guide, position: Position) -> Position | None:
    """The previous step that applies to the profile; None at the first one (nothing before)."""
    earlier = [s for s in guide.steps[: position.n - 1] if _shown(s, position.profile)]
    return replace(position, n=earlier[-1].n) if earlier else None


def jump_to_section(guide: Guide, position: Position, section: str) -> Position:
    """The first step of `section` that applies, keeping the profile."""
    return _section_start(guide, section, position.profile)


def restart(guide: Guide, position: Position) -> Position:
    """Back to the beginning, keeping the profile answers."""
    return start(guide, profile=position.profile)


def exit_guide(position: Position) -> None:
    """Leave the guide. The user state then holds no position: nothing of it needs keeping."""
    return None


def answer(guide: Guide, position: Position, question: QuestionId, value: bool) -> Position:
    """Record a profile answer; if the current step no longer applies, move on to the next one.

    The question was asked on the way into this step, so skipping forward is the direction the
    user was going. With nothing left to move to, the step stays (it is shown anyway).
    """
    moved = replace(position, profile=position.profile.answer(question, value))
    if _shown(guide.step(moved.n), moved.profile):
        return moved
    return next_step(guide, moved) or moved


# --- what a user sees at a position ----------------------------------------------------------


def progress(guide: Guide, position: Position) -> Progress:
    """Step n of total by the tutorial's numbering (the numbers staff cite), and in-section."""
    step = guide.step(position.n)
    in_section = guide.section_steps(step.section)
    return Progress(
        n=step.n,
        total=guide.total,
        section=step.section,
        n_in_section=step.n - in_section[0].n + 1,
        section_size=len(in_section),
    )


def view(guide: Guide, position: Position) -> StepView:
    """The current step with its notes filtered and marked for the user's profile."""
    step = guide.step(position.n)
    return StepView(
        step=step,
        progress=progress(guide, position),
        applies=position.profile.admits(step.when),
        notes=visible_notes(step, position.profile),
    )


def visible_notes(step: Step, profile: Profile) -> tuple[NoteView, ...]:
    """Notes for this profile: those known not to apply are left out, unknown ones marked."""
    views = []
    for note in step.notes:
        admitted = profile.admits(note.when)
        if admitted is not False:
            views.append(NoteView(note, conditional=admitted is None))
    return tuple(views)


def applicable_steps(guide: Guide, profile: Profile) -> tuple[Step, ...]:
    """The steps a user with this profile goes through (unanswered questions skip nothing)."""
    return tuple(s for s in guide.steps if _shown(s, profile))


def related_topics(guide: Guide, position: Position) -> tuple[str, ...]:
    """The FAQ topic ids linked from the current step."""
    return guide.step(position.n).topics


# --- profile questions -----------------------------------------------------------------------


def profile_questions(guide: Guide) -> tuple[Question, ...]:
    """The questions whose answers change what this guide shows (a step or a note)."""
    used = {c for s in guide.steps for c in _conditions(s)}
    return tuple(q for q in QUESTIONS if q.yes in used or q.no in used)


def pending_question(guide: Guide, position: Position) -> Question | None:
    """The unanswered question that decides whether the current step or one of its notes shows.

    Asked only here, on arriving at a step that depends on it, so a user is never asked what
    would change nothing; None when nothing at this step depends on an open question.
    """
    step = guide.step(position.n)
    profile = position.profile
    for when in (step.when, *(note.when for note in step.notes)):
        if profile.admits(when) is not None:
            continue
        for question in QUESTIONS:
            if getattr(profile, question.id) is None and _asks_about(question, when):
                return question
    return None


def _asks_about(question: Question, when: tuple[Condition, ...]) -> bool:
    return question.yes in when or (question.no is not None and question.no in when)


def _conditions(step: Step) -> set[Condition]:
    return set(step.when).union(*(note.when for note in step.notes))


# --- helpers ---------------------------------------------------------------------------------


def _checked_step(guide: Guide, n: int) -> Step:
    """Step `n` of `guide`; GuideError (a bad link or argument) when it has no such step."""
    try:
        return guide.step(n)
    except IndexError as exc:
        raise GuideError(str(exc)) from None


def _shown(step: Step, profile: Profile) -> bool:
    """Unknown answers show the step (marked conditional); only a known mismatch skips it."""
    return profile.admits(step.when) is not False


def _next_applicable(guide: Guide, profile: Profile, *, after: int) -> Step | None:
    return next((s for s in guide.steps[after:] if _shown(s, profile)), None)


def _section_start(guide: Guide, section_id: str, profile: Profile) -> Position:
    try:
        guide.section(section_id)
    except KeyError:
        known = ", ".join(s.id for s in guide.sections)
        raise GuideError(f"guide {guide.id!r} has no section {section_id!r} ({known})") from None
    steps = guide.section_steps(section_id)
    # A section whose every step the profile skips still opens: the user asked for it.
    first = next((s for s in steps if _shown(s, profile)), steps[0])
    return Position(guide.id, first.n, profile)


# --- export (python -m bot guide) ------------------------------------------------------------

CONDITION_LABELS: dict[Condition, Text] = {
    "abroad": Text(zh="從境外申請", en="applying from abroad"),
    "inside_taiwan": Text(zh="在臺灣境內申請", en="applying from inside Taiwan"),
    "hk_macau": Text(zh="香港或澳門居民", en="Hong Kong or Macau residents"),
    "not_hk_macau": Text(zh="非港澳居民", en="not Hong Kong or Macau residents"),
    "mainland_born": Text(zh="在中國大陸出生", en="born in Mainland China"),
    "first_application": Text(zh="首次申請", en="first application"),
    "renewal": Text(zh="延期申請", en="renewal"),
}


def condition_label(when: tuple[Condition, ...], lang: Lang) -> str:
    """The conditions as a phrase: "only for: applying from abroad, …" / "僅適用：…"."""
    names = [CONDITION_LABELS[c][lang] for c in when]
    return f"僅適用：{'、'.join(names)}" if lang == "zh" else f"only for: {', '.join(names)}"


def guide_as_json(guide: Guide, lang: Lang, step: int | None = None) -> dict[str, Any]:
    """The guide (or one step) as the DESIGN.md contract prints it, shared steps expanded."""
    steps = guide.steps if step is None else (_checked_step(guide, step),)
    titles = {s.id: s.title[lang] for s in guide.sections}
    return {
        "id": guide.id,
        "title": guide.title[lang],
        "steps": [
            {
                "n": s.n,
                "section": titles[s.section],
                "title": s.title[lang],
                "body": s.body[lang],
                "notes": [note[lang] for note in s.notes],
                "links": [{"url": link.url, "title": link.title[lang]} for link in s.links],
                "topics": list(s.topics),
            }
            for s in steps
        ],
    }


def guide_as_text(guide: Guide, lang: Lang, step: int | None = None) -> str:
    """The guide (or one step) as readable plain text, conditions spelled out."""
    steps = guide.steps if step is None else (_checked_step(guide, step),)
    blocks: list[str] = [guide.title[lang]]
    if step is None and guide.intro is not None:
        blocks.append(guide.intro[lang])
    section = None
    for s in steps:
        if s.section != section:
            section = s.section
            blocks.append(f"== {guide.section(section).title[lang]} ==")
        blocks.append(_step_text(guide, s, lang))
    return "\n\n".join(blocks)


def _step_text(guide: Guide, step: Step, lang: Lang) -> str:
    of = f"步驟 {step.n}/{guide.total}" if lang == "zh" else f"Step {step.n} of {guide.total}"
    lines = [f"{of} — {step.title[lang]}"]
    if step.when:
        lines.append(f"({condition_label(step.when, lang)})")
    lines.append(step.body[lang])
    for note in step.notes:
        when = f"[{condition_label(note.when, lang)}] " if note.when else ""
        lines.append(f"! {when}{note[lang]}")
    lines.extend(f"→ {link.title[lang]}: {link.url}" for link in step.links)
    if step.topics:
        lines.append(("相關問題：" if lang == "zh" else "Related: ") + ", ".join(step.topics))
    return "\n".join(lines)
