"""Guides: the real content loads as the issue table says, checks catch each mistake at its line,
navigation handles the edges, and `python -m bot guide` prints the contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import guides as nav
from bot.__main__ import main
from bot.guides import GuideError, Position, Profile
from bot.knowledge import GUIDE_IDS, TUTORIAL_OF_GUIDE, Guide, check_knowledge
from tests.conftest import FIXTURES

# The table: guide id -> (tutorial seed prefix, number of steps).
TABLE = {
    "apply": ("001", 23),
    "progress": ("000", 7),
    "supplement": ("003", 13),
    "change": ("004", 12),
    "renew": ("002", 16),
}
GUIDE_FIXTURES = FIXTURES / "guides"
LINK = {"zh": "連結", "en": "Link"}


# --- the real content ----------------------------------------------------------------------------


def test_the_five_guides_exist(knowledge):
    assert list(knowledge.guides) == list(TABLE)
    assert tuple(TABLE) == GUIDE_IDS


@pytest.mark.parametrize("guide_id", TABLE)
def test_guide_has_every_step_in_both_languages(knowledge, guide_id):
    guide = knowledge.guides[guide_id]
    tutorial, count = TABLE[guide_id]
    assert (guide.tutorial, guide.total) == (tutorial, count)
    assert [s.n for s in guide.steps] == list(range(1, count + 1))
    for step in guide.steps:
        for lang in ("zh", "en"):
            assert step.title[lang].strip() and step.body[lang].strip(), (guide_id, step.n)
            assert all(note[lang].strip() for note in step.notes)
    assert guide.sections[0].first == 1
    assert {s.section for s in guide.steps} == {s.id for s in guide.sections}


@pytest.mark.parametrize("guide_id", TABLE)
def test_step_topics_are_faq_entries(knowledge, guide_id):
    for step in knowledge.guides[guide_id].steps:
        assert set(step.topics) <= set(knowledge.faq), step.n


def test_apply_sections_follow_the_tutorial(knowledge):
    apply = knowledge.guides["apply"]
    assert [(s.id, s.first) for s in apply.sections] == [
        ("login", 1),
        ("create-case", 6),
        ("fill-in-form", 11),
        ("upload-and-submit", 19),
    ]


def test_apply_login_steps_are_the_shared_ones(knowledge):
    apply = knowledge.guides["apply"]
    shared = ["open-platform", "gold-card-icon", "login-button", "choose-role", "sign-in"]
    assert [apply.step(n).shared for n in range(1, 6)] == shared
    # The guide's own note follows the shared step's notes.
    assert "Chrome" in apply.step(1).notes[-1].en
    assert apply.step(1).title.zh == "登入外國專業人才申辦窗口平臺"


def test_apply_conditions_from_the_tutorial(knowledge):
    apply = knowledge.guides["apply"]
    assert apply.step(9).when == ("inside_taiwan",)
    inspection = [n for n in apply.step(16).notes if "駐外館處" in n.zh]
    assert [n.when for n in inspection] == [("abroad", "not_hk_macau")]


def test_apply_profile_skips_the_inside_taiwan_step(knowledge):
    apply = knowledge.guides["apply"]
    abroad = Profile(inside_taiwan=False)
    at_8 = nav.start(apply, step=8, profile=abroad)
    assert nav.next_step(apply, at_8) == Position("apply", 10, abroad)
    assert len(nav.applicable_steps(apply, abroad)) == 22
    inside = Profile(inside_taiwan=True)
    assert nav.next_step(apply, nav.start(apply, step=8, profile=inside)).n == 9


def test_apply_asks_only_where_the_answer_matters(knowledge):
    apply = knowledge.guides["apply"]
    asked = {q.id for q in nav.profile_questions(apply)}
    assert {"inside_taiwan", "hk_macau", "mainland_born"} <= asked
    assert nav.pending_question(apply, nav.start(apply, step=1)) is None
    question = nav.pending_question(apply, nav.start(apply, step=9))
    assert question is not None and question.id == "inside_taiwan"


# --- validation ----------------------------------------------------------------------------------


def _step(n: int) -> dict[str, Any]:
    return {
        "n": n,
        "title": {"zh": f"第 {n} 步", "en": f"Step {n}"},
        "body": {"zh": "按「下一頁」。", "en": "Press Next page (下一頁)."},
        "topics": ["sample-topic"],
    }


def _guide_data(guide_id: str) -> dict[str, Any]:
    tutorial = TUTORIAL_OF_GUIDE[guide_id]
    steps: list[dict[str, Any]] = [{"n": 1, "shared": "open-platform"}]
    steps += [_step(n) for n in range(2, tutorial.steps + 1)]
    return {
        "title": {"zh": tutorial.title_zh, "en": tutorial.title_en},
        "tutorial": tutorial.key,
        "sections": [
            {"id": "first", "title": {"zh": "第一部分", "en": "Part one"}, "from": 1},
            {"id": "second", "title": {"zh": "第二部分", "en": "Part two"}, "from": 3},
        ],
        "steps": steps,
    }


def _write(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small knowledge folder that passes every check: one FAQ topic, five minimal guides."""
    root = tmp_path / "knowledge"
    shutil.copytree(GUIDE_FIXTURES / "base", root)
    for guide_id in GUIDE_IDS:
        _write(root / "guides" / f"{guide_id}.yaml", _guide_data(guide_id))
    return root


def _problems(root: Path) -> list[str]:
    knowledge, problems = check_knowledge(root)
    assert (knowledge is None) == bool(problems)
    return [str(p) for p in problems]


def test_minimal_tree_is_clean_and_expands_shared_steps(tree):
    knowledge, problems = check_knowledge(tree)
    assert problems == []
    assert knowledge is not None
    assert list(knowledge.guides) == list(GUIDE_IDS)  # README.md is not a guide
    step = knowledge.guide("apply").step(1)
    assert (step.shared, step.title.en, step.topics) == (
        "open-platform",
        "Open the platform",
        ("sample-topic",),
    )
    assert [s.section for s in knowledge.guide("renew").steps[:3]] == ["first", "first", "second"]


def _edit(guide_id: str, change) -> Any:
    def apply(root: Path) -> None:
        data = _guide_data(guide_id)
        change(data)
        _write(root / "guides" / f"{guide_id}.yaml", data)

    return apply


def _set(path: tuple[Any, ...], value: Any):
    def change(data: dict[str, Any]) -> None:
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


BAD_CASES = {
    "missing guide": (
        lambda root: (root / "guides" / "renew.yaml").unlink(),
        "guides/renew.yaml:1: missing guide 'renew' (tutorial 002, 16 steps)",
    ),
    "unknown guide": (
        lambda root: _write(root / "guides" / "extra.yaml", _guide_data("apply")),
        "guides/extra.yaml:1: unknown guide 'extra'",
    ),
    "step missing at the end": (
        _edit("apply", lambda d: d["steps"].pop()),
        "22 steps, but tutorial 001 has 23",
    ),
    "gap in the numbering": (
        _edit("progress", lambda d: d["steps"].pop(3)),
        "step 5 where step 4 belongs",
    ),
    "language missing": (
        _edit("change", lambda d: d["steps"][4]["title"].pop("en")),
        "steps.4.title.en: Field required",
    ),
    "languages swapped": (
        _edit("change", _set(("steps", 4, "title"), {"zh": "Step 5", "en": "第五步"})),
        "zh text has no Chinese",
    ),
    "html in text": (
        _edit("change", _set(("steps", 4, "body", "en"), "Press <b>Next</b>.")),
        "plain text only",
    ),
    "unknown shared step": (
        _edit("renew", _set(("steps", 0, "shared"), "log-in")),
        "unknown shared step 'log-in'",
    ),
    "shared step with its own title": (
        _edit("renew", _set(("steps", 0, "title"), {"zh": "登入", "en": "Log in"})),
        "a step with `shared` takes its title and body from shared_steps.yaml",
    ),
    "neither shared nor text": (
        _edit("renew", lambda d: d["steps"][3].pop("body")),
        "a step needs `title` and `body`, or `shared`",
    ),
    "unknown topic": (
        _edit("supplement", _set(("steps", 2, "topics"), ["nowhere"])),
        "FAQ topic 'nowhere' does not exist",
    ),
    "unknown condition": (
        _edit("supplement", _set(("steps", 2, "when"), ["overseas"])),
        "steps.2.when.0: Input should be 'abroad'",
    ),
    "contradictory condition": (
        _edit("supplement", _set(("steps", 2, "when"), ["hk_macau", "not_hk_macau"])),
        "`when` lists both hk_macau and not_hk_macau: nobody matches",
    ),
    "malformed link": (
        _edit("apply", _set(("steps", 2, "links"), [{"url": "https://bad host/", "title": LINK}])),
        "malformed URL 'https://bad host/'",
    ),
    "malformed URL in a note": (
        _edit("apply", _set(("steps", 2, "notes"), [{"zh": "見 https://bad_host/x", "en": "ok"}])),
        "malformed URL 'https://bad_host/x'",
    ),
    "link off the official hosts": (
        _edit("apply", _set(("steps", 2, "links"), [{"url": "https://a.example", "title": LINK}])),
        "URL 'https://a.example' is not on an official host",
    ),
    "export artefact host in a note": (
        _edit(
            "apply",
            _set(("steps", 2, "notes"), [{"zh": "見 https://gold-card.nat.gov.tw/", "en": "ok"}]),
        ),
        "URL 'https://gold-card.nat.gov.tw/' is not on an official host",
    ),
    "official host without https": (
        _edit("renew", _set(("steps", 3, "body", "en"), "See http://goldcard.nat.gov.tw")),
        "URL 'http://goldcard.nat.gov.tw': official pages are linked with https://",
    ),
    "sections out of order": (
        _edit("apply", lambda d: d["sections"].reverse()),
        "the first section must start at 1",
    ),
    "section past the end": (
        _edit("progress", _set(("sections", 1, "from"), 8)),
        "section 'second' starts at 8, past the last step",
    ),
    "wrong tutorial": (
        _edit("apply", _set(("tutorial",), "000")),
        "guide 'apply' follows tutorial 001, not 000",
    ),
    "shared step missing": (
        lambda root: _drop_shared(root, "sign-in"),
        "shared_steps.yaml:1: shared step 'sign-in' is missing",
    ),
}


def _drop_shared(root: Path, step_id: str) -> None:
    path = root / "shared_steps.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["steps"][step_id]
    _write(path, data)


@pytest.mark.parametrize(("break_it", "expected"), BAD_CASES.values(), ids=BAD_CASES)
def test_each_mistake_is_reported(tree, break_it, expected):
    break_it(tree)
    problems = _problems(tree)
    assert [p for p in problems if expected in p] != [], problems


def _problems_of(tree: Path, fixture: str) -> list[str]:
    shutil.copy(GUIDE_FIXTURES / fixture, tree / "guides" / "apply.yaml")
    return _problems(tree)


def test_problems_point_at_their_lines(tree):
    problems = _problems_of(tree, "bad-apply.yaml")
    expected = [
        ":4: guide 'apply' follows tutorial 001, not 002",
        ":8: the first section must start at 1",
        ":10: plain text only",
        ":11: section 'form' starts at 1, not after 'login' (2): sections go in step order",
        ":12: 4 steps, but tutorial 001 has 23",
        ":16: unknown shared step 'no-such-step'",
        ":18: zh text has no Chinese",
        ":18: en text has no English",
        ":19: malformed URL 'https://bad_host/page'",
        ":20: `when` lists both abroad and inside_taiwan: nobody matches",
        ":21: step 5 where step 4 belongs",
        ":25: malformed URL 'ftp://example.com/file'",
        ":27: FAQ topic 'no-such-topic' does not exist",
        ":27: topic 'sample-topic' listed twice",
    ]
    prefix = "knowledge/guides/apply.yaml"
    for suffix in expected:
        assert [p for p in problems if p.startswith(prefix + suffix)] != [], (suffix, problems)
    assert len(problems) == len(expected), problems


def test_schema_errors_point_at_their_lines(tree):
    problems = _problems_of(tree, "bad-apply-schema.yaml")
    expected = [
        ":5: sections.0.id: String should match pattern",
        ":6: sections.0.title.en: Field required",
        ":9: steps.0: Value error, a step with `shared` takes its title and body",
        ":12: steps.1: Value error, a step needs `title` and `body`, or `shared`",
        ":18: steps.2.notes.0.when.0: Input should be 'abroad', 'inside_taiwan'",
        ":19: steps.2.surprise: Extra inputs are not permitted",
    ]
    prefix = "knowledge/guides/apply.yaml"
    for suffix in expected:
        assert [p for p in problems if p.startswith(prefix + suffix)] != [], (suffix, problems)
    # The other guides still load and pass: one broken file hides nothing elsewhere.
    assert all(p.startswith(prefix) for p in problems), problems


# --- navigation ----------------------------------------------------------------------------------


def _nav_guide() -> Guide:
    """Six steps in four sections; step 2 only inside Taiwan, step 6 (alone in d) only abroad."""

    def step(n: int, section: str, **extra: Any) -> dict[str, Any]:
        title = {"zh": f"步驟{n}", "en": f"Step {n}"}
        body = {"zh": "做這個。", "en": "Do this."}
        topics = [f"topic-{n}"]
        return {
            "n": n,
            "section": section,
            "title": title,
            "body": body,
            "topics": topics,
            **extra,
        }

    def section(section_id: str, first: int) -> dict[str, Any]:
        return {"id": section_id, "title": {"zh": "部分", "en": "Part"}, "from": first}

    note = {"zh": "注意", "en": "Note"}
    return Guide.model_validate(
        {
            "id": "demo",
            "title": {"zh": "示範", "en": "Demo"},
            "tutorial": "001",
            "sections": [section("a", 1), section("b", 2), section("c", 5), section("d", 6)],
            "steps": [
                step(1, "a"),
                step(2, "b", when=["inside_taiwan"]),
                step(3, "b", notes=[note, {**note, "when": ["hk_macau"]}]),
                step(4, "b", notes=[{**note, "when": ["abroad", "not_hk_macau"]}]),
                step(5, "c"),
                step(6, "d", when=["abroad"]),
            ],
        }
    )


DEMO = _nav_guide()
ABROAD = Profile(inside_taiwan=False)
INSIDE = Profile(inside_taiwan=True)


def test_start_at_the_first_step():
    assert nav.start(DEMO) == Position("demo", 1, Profile())


def test_unknown_answers_show_every_step():
    position = nav.start(DEMO)
    seen = [position.n]
    while (position := nav.next_step(DEMO, position)) is not None:
        seen.append(position.n)
    assert seen == [1, 2, 3, 4, 5, 6]
    assert nav.view(DEMO, Position("demo", 2)).applies is None  # shown, marked conditional


def test_profile_skips_steps_both_ways():
    assert nav.next_step(DEMO, Position("demo", 1, ABROAD)) == Position("demo", 3, ABROAD)
    assert nav.previous_step(DEMO, Position("demo", 3, ABROAD)) == Position("demo", 1, ABROAD)
    assert [s.n for s in nav.applicable_steps(DEMO, INSIDE)] == [1, 2, 3, 4, 5]
    assert [s.n for s in nav.applicable_steps(DEMO, ABROAD)] == [1, 3, 4, 5, 6]


def test_back_at_step_one_and_next_at_the_last_step():
    assert nav.previous_step(DEMO, nav.start(DEMO)) is None
    assert nav.next_step(DEMO, Position("demo", 6)) is None
    # For someone inside Taiwan, step 5 is the last one that applies.
    assert nav.next_step(DEMO, Position("demo", 5, INSIDE)) is None


def test_deep_link_to_a_skipped_step_shows_it_anyway():
    position = nav.start(DEMO, step=2, profile=ABROAD)
    assert position == Position("demo", 2, ABROAD)
    assert nav.view(DEMO, position).applies is False
    assert nav.next_step(DEMO, position) == Position("demo", 3, ABROAD)
    assert nav.previous_step(DEMO, position) == Position("demo", 1, ABROAD)


def test_start_at_a_section_or_jump_to_one():
    assert nav.start(DEMO, section="b").n == 2
    assert nav.jump_to_section(DEMO, Position("demo", 6, ABROAD), "a") == Position(
        "demo", 1, ABROAD
    )


def test_jump_to_a_section_skips_its_steps_that_do_not_apply():
    assert nav.jump_to_section(DEMO, Position("demo", 1, ABROAD), "b").n == 3
    # Section d holds only step 6 (abroad only); asked for, it opens there anyway.
    assert nav.jump_to_section(DEMO, Position("demo", 1, INSIDE), "d").n == 6


def test_bad_step_or_section_is_an_error():
    with pytest.raises(GuideError, match="steps 1–6, not 7"):
        nav.start(DEMO, step=7)
    with pytest.raises(GuideError, match="steps 1–6, not 0"):
        nav.start(DEMO, step=0)
    with pytest.raises(GuideError, match="no section 'z'"):
        nav.start(DEMO, section="z")
    with pytest.raises(GuideError, match="not both"):
        nav.start(DEMO, step=1, section="a")


def test_restart_keeps_the_profile_and_exit_keeps_nothing():
    assert nav.restart(DEMO, Position("demo", 5, ABROAD)) == Position("demo", 1, ABROAD)
    assert nav.exit_guide(Position("demo", 5, ABROAD)) is None


def test_progress_counts_by_the_tutorial_numbers():
    assert nav.progress(DEMO, Position("demo", 4, ABROAD)) == nav.Progress(
        n=4, total=6, section="b", n_in_section=3, section_size=3
    )
    assert nav.progress(DEMO, Position("demo", 1)).n_in_section == 1


def test_notes_follow_the_profile():
    def notes(n: int, profile: Profile) -> list[tuple[tuple[str, ...], bool]]:
        shown = nav.view(DEMO, Position("demo", n, profile)).notes
        return [(v.note.when, v.conditional) for v in shown]

    assert notes(3, Profile()) == [((), False), (("hk_macau",), True)]
    assert notes(3, Profile(hk_macau=False)) == [((), False)]
    assert notes(4, INSIDE) == []  # known not abroad: the hk question no longer matters
    assert notes(4, Profile(inside_taiwan=False, hk_macau=False)) == [
        (("abroad", "not_hk_macau"), False)
    ]


def test_questions_are_asked_only_where_they_change_something():
    assert [q.id for q in nav.profile_questions(DEMO)] == ["inside_taiwan", "hk_macau"]
    assert nav.pending_question(DEMO, Position("demo", 1)) is None
    assert nav.pending_question(DEMO, Position("demo", 2)).id == "inside_taiwan"
    assert nav.pending_question(DEMO, Position("demo", 2, ABROAD)) is None
    assert nav.pending_question(DEMO, Position("demo", 4)).id == "inside_taiwan"
    assert nav.pending_question(DEMO, Position("demo", 4, ABROAD)).id == "hk_macau"
    assert nav.pending_question(DEMO, Position("demo", 4, INSIDE)) is None


def test_answer_that_rules_out_the_current_step_moves_on():
    assert nav.answer(DEMO, Position("demo", 2), "inside_taiwan", False) == Position(
        "demo", 3, ABROAD
    )
    assert nav.answer(DEMO, Position("demo", 2), "inside_taiwan", True) == Position(
        "demo", 2, INSIDE
    )
    # Nothing after step 6 to move to: the step stays.
    assert nav.answer(DEMO, Position("demo", 6), "inside_taiwan", True).n == 6


def test_profile_conditions():
    assert Profile().admits(()) is True
    assert Profile().admits(("abroad",)) is None
    assert ABROAD.admits(("abroad", "hk_macau")) is None
    assert ABROAD.admits(("inside_taiwan", "hk_macau")) is False
    assert Profile(mainland_born=False).holds("mainland_born") is False
    assert Profile(renewal=False).holds("first_application") is True


def test_related_topics_of_a_step():
    assert nav.related_topics(DEMO, Position("demo", 3)) == ("topic-3",)
    assert nav.view(DEMO, Position("demo", 3)).topics == ("topic-3",)


# --- the command line ----------------------------------------------------------------------------


def test_cli_json_is_the_contract(capsys):
    assert main(["guide", "apply", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["id", "title", "steps"]
    assert data["id"] == "apply"
    assert [s["n"] for s in data["steps"]] == list(range(1, 24))
    first = data["steps"][0]
    assert list(first) == ["n", "section", "title", "body", "notes", "links", "topics"]
    assert first["section"] == "Log in to the platform"
    assert first["title"] == "Open the Foreign Professionals Online Application Platform"
    assert all(isinstance(note, str) for note in first["notes"])
    assert first["links"][0]["url"].startswith("https://coa.immigration.gov.tw/")


@pytest.mark.parametrize("guide_id", TABLE)
def test_cli_prints_one_step_in_chinese(capsys, guide_id):
    assert main(["guide", guide_id, "--lang", "zh", "--step", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["n"] for s in data["steps"]] == [2]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in data["steps"][0]["title"])


def test_cli_text(capsys):
    assert main(["guide", "apply", "--step", "9"]) == 0
    out = capsys.readouterr().out
    assert "Step 9 of 23" in out
    assert "only for: applying from inside Taiwan" in out
    assert main(["guide", "apply", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "步驟 1/23" in out and "步驟 23/23" in out and "== 建立申請案 ==" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["guide", "nope"], "unknown guide 'nope'"),
        (["guide", "apply", "--step", "24"], "has steps 1–23, not 24"),
        (["guide", "apply", "--step", "0"], "has steps 1–23, not 0"),
        (["guide", "progress", "--step", "two"], "has steps 1–7, not two"),
    ],
)
def test_cli_bad_id_or_step(capsys, argv, message):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1
