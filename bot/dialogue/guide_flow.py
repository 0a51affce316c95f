"""Step-by-step guides: the list, a guide's overview, its steps and sections, the profile
questions a step asks ("Are you applying from inside Taiwan?"), continue, finish and exit;
/guides and `g_<guide>[_<step>]` deep links."""

from __future__ import annotations

from dataclasses import replace

from bot import callbacks as cb
from bot import guides, links, stats
from bot.dialogue.core import N_, Button, Dispatcher, Outcome, Reply, State, Turn, as_new
from bot.dialogue.faq import LONG_ANSWER, MAX_RELATED, columns, topic_rows
from bot.dialogue.menus import continue_rows, expired, menu, menu_row, place
from bot.textnorm import Lang
from bot.understanding import guide_navigation

QUESTION_PROMPTS: dict[str, str] = {
    "inside_taiwan": N_("Are you applying from inside Taiwan?"),
    "hk_macau": N_("Are you a Hong Kong or Macau resident?"),
    "mainland_born": N_("Were you born in Mainland China?"),
    "renewal": N_("Is this a renewal of your Gold Card (not a first application)?"),
}


def register(d: Dispatcher) -> None:
    d.add_command("guides", lambda t, s, arg: ([guide_list(t, s)], s))
    d.add_button(cb.GuideList, lambda t, s, a: ([guide_list(t, s, edit=True)], s))
    d.add_button(cb.GuideOpen, on_guide_open)
    d.add_button(cb.GuideSections, sections)
    d.add_button(cb.GuideSection, on_section)
    d.add_button(cb.GuideAnswer, on_profile_answer)
    d.add_button(cb.GuideContinue, on_continue)
    d.add_button(cb.GuideDone, guide_done)
    d.add_button(cb.GuideExit, guide_exit)
    d.add_link(links.GuideLink, on_link)


def on_link(turn: Turn, state: State, link: links.GuideLink) -> Outcome:
    if link.step is None:
        return open_overview(turn, state, link.guide)
    return open_step(turn, state, link.guide, link.step)


def guide_list(turn: Turn, state: State, *, edit: bool = False) -> Reply:
    listed = [(g.title[turn.lang], g.total) for g in turn.knowledge.guides.values()]
    text = turn.render("guides.html", guides=listed, place=place(turn, state))
    rows = continue_rows(turn, state)
    rows += [
        (Button(g.title[turn.lang], data=cb.encode(cb.GuideOpen(g.id))),)
        for g in turn.knowledge.guides.values()
    ]
    rows.append(menu_row(turn))
    return Reply(text, tuple(rows), edit=edit)


def on_guide_open(turn: Turn, state: State, action: cb.GuideOpen) -> Outcome:
    guide = turn.knowledge.guides.get(action.guide)
    if guide is None or (action.step is not None and not guide.has_step(action.step)):
        return [expired(turn, state)], state
    if action.step is None:
        return open_overview(turn, state, guide.id, edit=True)
    return open_step(turn, state, guide.id, action.step, edit=True)


def open_overview(turn: Turn, state: State, guide_id: str, *, edit: bool = False) -> Outcome:
    guide = turn.knowledge.guides[guide_id]
    _count_start(turn, state, guide.id)
    first = guides.start(guide, profile=state.profile).n
    text = turn.render(
        "guide_overview.html",
        title=guide.title[turn.lang],
        intro=guide.intro[turn.lang].strip() if guide.intro else "",
        total=guide.total,
        sections=section_spans(guide, turn.lang),
    )
    rows = (
        (turn.button("▶️ Start", cb.GuideOpen(guide.id, first)),),
        (
            turn.button("📑 Sections", cb.GuideSections(guide.id, first)),
            turn.button("✖️ Exit", cb.GuideExit()),
        ),
    )
    new_state = replace(state, guide=guide.id, step=first)
    return [Reply(text, rows, edit=edit)], new_state


def open_step(turn: Turn, state: State, guide_id: str, n: int, *, edit: bool = False) -> Outcome:
    guide = turn.knowledge.guides[guide_id]
    _count_start(turn, state, guide.id)
    position = guides.Position(guide.id, n, state.profile)
    new_state = replace(state, guide=guide.id, step=n)
    return [step_reply(turn, guide, position, edit=edit)], new_state


def _count_start(turn: Turn, state: State, guide_id: str) -> None:
    """A guide entered from outside it (moving within the open guide is not a start)."""
    if state.guide != guide_id:
        turn.count(stats.GUIDE_STARTED, guide_id)


def step_reply(turn: Turn, guide: guides.Guide, position: guides.Position, *, edit: bool) -> Reply:
    lang = turn.lang
    view = guides.view(guide, position)
    step, progress = view.step, view.progress
    question = guides.pending_question(guide, position)
    notes = [
        (
            n.note[lang].strip(),
            guides.condition_label(n.note.when, lang) if n.conditional else "",
        )
        for n in view.notes
    ]
    body = step.body[lang].strip()
    # A long step keeps its body in view and folds its notes and links into an expandable quote.
    folded = columns(body + "".join(note for note, _ in notes)) > LONG_ANSWER
    text = turn.render(
        "step.html",
        guide=guide.title[lang],
        n=progress.n,
        total=progress.total,
        section=guide.section(progress.section).title[lang],
        title=step.title[lang],
        body=body,
        only_for=guides.condition_label(step.when, lang) if step.when else "",
        applies=view.applies,
        notes=notes,
        folded=folded and bool(notes or step.links),
        links=[(link.title[lang], link.url) for link in step.links],
        question=turn.gettext(QUESTION_PROMPTS[question.id]) if question else "",
    )
    rows: list[tuple[Button, ...]] = []
    if question is not None:
        rows.append(
            tuple(
                turn.button(label, cb.GuideAnswer(guide.id, step.n, question.id, value))
                for label, value in ((N_("Yes"), True), (N_("No"), False))
            )
        )
    rows += topic_rows(turn, step.topics[:MAX_RELATED])
    rows.append(step_nav_row(turn, guide, position))
    rows.append(
        (
            turn.button("📑 Sections", cb.GuideSections(guide.id, step.n)),
            turn.button("✖️ Exit", cb.GuideExit()),
        )
    )
    return Reply(text, tuple(rows), edit=edit)


def step_nav_row(turn: Turn, guide: guides.Guide, position: guides.Position) -> tuple[Button, ...]:
    before = guides.previous_step(guide, position)
    after = guides.next_step(guide, position)
    back = (
        turn.button("◀️ Back", cb.GuideOpen(guide.id, before.n))
        if before
        else turn.button("◀️ Overview", cb.GuideOpen(guide.id))
    )
    forward = (
        turn.button("Next ▶️", cb.GuideOpen(guide.id, after.n))
        if after
        else turn.button("✅ Finish", cb.GuideDone(guide.id))
    )
    return (back, forward)


def sections(turn: Turn, state: State, action: cb.GuideSections) -> Outcome:
    guide = turn.knowledge.guides.get(action.guide)
    if guide is None or not guide.has_step(action.step):
        return [expired(turn, state)], state
    text = turn.render("sections.html", title=guide.title[turn.lang])
    rows = [
        (
            turn.button(
                "%(title)s (steps %(first)s–%(last)s)",
                cb.GuideSection(guide.id, section.id),
                title=title,
                first=first,
                last=last,
            ),
        )
        for section, (title, first, last) in zip(
            guide.sections, section_spans(guide, turn.lang), strict=True
        )
    ]
    rows.append(
        (turn.button("◀️ Back to step %(n)s", cb.GuideOpen(guide.id, action.step), n=action.step),)
    )
    return [Reply(text, tuple(rows), edit=True)], state


def on_section(turn: Turn, state: State, action: cb.GuideSection) -> Outcome:
    guide = turn.knowledge.guides.get(action.guide)
    if guide is None or action.section not in {s.id for s in guide.sections}:
        return [expired(turn, state)], state
    n = guides.start(guide, section=action.section, profile=state.profile).n
    return open_step(turn, state, guide.id, n, edit=True)


def on_profile_answer(turn: Turn, state: State, action: cb.GuideAnswer) -> Outcome:
    guide = turn.knowledge.guides.get(action.guide)
    if guide is None or not guide.has_step(action.step) or action.question not in QUESTION_PROMPTS:
        return [expired(turn, state)], state
    position = guides.Position(guide.id, action.step, state.profile)
    moved = guides.answer(guide, position, action.question, action.value)  # type: ignore[arg-type]
    new_state = replace(state, guide=guide.id, step=moved.n, profile=moved.profile)
    return [step_reply(turn, guide, moved, edit=True)], new_state


def on_continue(turn: Turn, state: State, action: cb.GuideContinue) -> Outcome:
    if not place(turn, state):
        return [guide_list(turn, state, edit=True)], state
    assert state.guide is not None and state.step is not None
    return open_step(turn, state, state.guide, state.step, edit=True)


def guide_done(turn: Turn, state: State, action: cb.GuideDone) -> Outcome:
    guide = turn.knowledge.guides.get(action.guide)
    if guide is None:
        return [expired(turn, state)], state
    if state.guide == guide.id:  # "Done" pressed again on an old message counts once
        turn.count(stats.GUIDE_FINISHED, guide.id)
    new_state = replace(state, guide=None, step=None)
    text = turn.render("guide_done.html", title=guide.title[turn.lang])
    rows = (
        (turn.button("📘 Step-by-step guides", cb.GuideList()),),
        menu_row(turn),
    )
    return [Reply(text, rows, edit=True)], new_state


def guide_exit(turn: Turn, state: State, action: cb.GuideExit) -> Outcome:
    new_state = replace(state, guide=None, step=None)
    note = turn.gettext("You left the guide. Your answers about your situation are kept.")
    return [menu(turn, new_state, edit=True, note=note)], new_state


def section_spans(guide: guides.Guide, lang: Lang) -> list[tuple[str, int, int]]:
    """(title, first step, last step) of each section of `guide`, in order."""
    spans = []
    for section in guide.sections:
        steps = guide.section_steps(section.id)
        spans.append((section.title[lang], steps[0].n, steps[-1].n))
    return spans


def typed_navigation(turn: Turn, state: State, text: str) -> Outcome | None:
    """Inside a guide, "next" / 「下一步」, "back" / 「上一步」 or a step number typed instead of
    pressed; None when the text is something else (or no guide is open)."""
    guide = turn.knowledge.guides.get(state.guide or "")
    if guide is None or state.step is None or not guide.has_step(state.step):
        return None
    move = guide_navigation(text)
    if move is None:
        return None
    position = guides.Position(guide.id, state.step, state.profile)
    if move == "next":
        after = guides.next_step(guide, position)
        if after is None:
            return as_new(guide_done(turn, state, cb.GuideDone(guide.id)))
        return open_step(turn, state, guide.id, after.n)
    if move == "back":
        before = guides.previous_step(guide, position)
        if before is None:
            return open_overview(turn, state, guide.id)
        return open_step(turn, state, guide.id, before.n)
    if not guide.has_step(move):
        return None  # "30" inside a guide of 23 steps is not a step
    return open_step(turn, state, guide.id, move)
