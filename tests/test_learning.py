"""Learned questions out of the database and into the knowledge files (`python -m bot learned
export`), and the inbox on the command line (`python -m bot inbox`)."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.__main__ import main
from bot.knowledge import KNOWLEDGE_DIR, check_knowledge
from bot.learning import _append_items, export
from bot.models import LearnedQuestion
from bot.storage import create_db_engine, migrate, record_unanswered

LEARNED = [
    ("the card went through the washing machine", "replacement-card"),
    ("金卡被狗咬爛了還能用嗎", "replacement-card"),
    ("what colour is the card", "oos:gold-card-gaps"),
    ("金卡可以護貝嗎", "oos:gold-card-gaps"),
    ("how to renew my gold card", "renewal-how"),  # a sample question already
    ('gold card: "quotes" # and a hash', "renewal-how"),
    ("something about a topic that was removed", "no-such-topic"),
]


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, root)
    return root


def learn(db, pairs) -> None:
    with Session(db) as session:
        for question, topic in pairs:
            session.add(LearnedQuestion(question=question, topic=topic, lang="en"))
        session.commit()


def inserted_lines(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`; fails if it changes or removes any."""
    ops = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines()).get_opcodes()
    assert all(tag in ("equal", "insert") for tag, *_ in ops), "a line was changed or removed"
    lines = after.splitlines()
    return [line for tag, _, _, j1, j2 in ops if tag == "insert" for line in lines[j1:j2]]


def test_export_appends_to_the_question_lists_and_check_still_passes(db, knowledge_copy):
    learn(db, LEARNED)
    files = {
        name: (knowledge_copy / name).read_text(encoding="utf-8")
        for name in ("faq/replacement-card.yaml", "faq/renewal-how.yaml", "out_of_scope.yaml")
    }

    report = export(db, knowledge_copy)

    assert report.problems == []
    assert dict(report.written) == {
        "knowledge/faq/replacement-card.yaml": 2,
        "knowledge/faq/renewal-how.yaml": 1,
        "knowledge/out_of_scope.yaml": 2,
    }
    assert report.already == 1
    assert report.skipped == ["something about a topic that was removed: topic 'no-such-topic' "
                              "is gone"]  # fmt: skip
    after = {name: (knowledge_copy / name).read_text(encoding="utf-8") for name in files}
    assert inserted_lines(
        files["faq/replacement-card.yaml"], after["faq/replacement-card.yaml"]
    ) == [
        "    - 金卡被狗咬爛了還能用嗎",
        "    - the card went through the washing machine",
    ]
    assert inserted_lines(files["faq/renewal-how.yaml"], after["faq/renewal-how.yaml"]) == [
        '    - "gold card: \\"quotes\\" # and a hash"'
    ]
    assert inserted_lines(files["out_of_scope.yaml"], after["out_of_scope.yaml"]) == [
        "        - 金卡可以護貝嗎",
        "        - what colour is the card",
    ]
    knowledge, problems = check_knowledge(knowledge_copy)
    assert problems == [] and knowledge is not None
    assert "金卡被狗咬爛了還能用嗎" in knowledge.faq["replacement-card"].questions["zh"]
    assert 'gold card: "quotes" # and a hash' in knowledge.faq["renewal-how"].questions["en"]
    gaps = next(g for g in knowledge.out_of_scope if g.id == "gold-card-gaps")
    assert "what colour is the card" in gaps.questions["en"]

    again = export(db, knowledge_copy)  # nothing twice
    assert (again.total, again.already) == (0, 6)


def test_items_go_after_the_last_item_whatever_follows_it():
    text = (
        "# a comment\n"
        "questions:\n"
        "  zh:\n"
        "    - 第一個\n"
        "  en:\n"
        "    - first\n"
        "    - >-\n"
        "      a folded\n"
        "      last item\n"
        "  # a comment about what follows\n"
        "keywords: {zh: [], en: []}"
    )
    out = _append_items(text, {("questions", "en"): ["new one"], ("questions", "zh"): ["新的"]})
    assert out == (
        "# a comment\n"
        "questions:\n"
        "  zh:\n"
        "    - 第一個\n"
        "    - 新的\n"
        "  en:\n"
        "    - first\n"
        "    - >-\n"
        "      a folded\n"
        "      last item\n"
        "    - new one\n"
        "  # a comment about what follows\n"
        "keywords: {zh: [], en: []}"
    )


def test_the_export_command_writes_and_reports(monkeypatch, tmp_path, knowledge_copy, capsys):
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    db = create_db_engine(url)
    migrate(db)
    learn(db, LEARNED[:1])
    monkeypatch.setenv("DATABASE_URL", url)

    assert main(["learned", "export", "--knowledge", str(knowledge_copy)]) == 0

    out = capsys.readouterr().out
    assert "knowledge/faq/replacement-card.yaml: 1 question(s) added" in out
    assert "learned questions: 1 exported, 0 already in the files, 0 left out" in out


def test_the_inbox_command_lists_the_groups_as_text_and_json(monkeypatch, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    db = create_db_engine(url)
    migrate(db)
    with Session(db) as session:
        for question in ("the card went through the washing machine",
                         "my gold card went through the washing machine"):  # fmt: skip
            record_unanswered(session, question=question, lang="en", reason="no-match")
        session.commit()
    monkeypatch.setenv("DATABASE_URL", url)

    assert main(["inbox"]) == 0
    text = capsys.readouterr().out
    assert main(["inbox", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert main(["inbox", "--since", "not a date"]) == 2
    error = capsys.readouterr().err

    assert "2 question(s) in 1 group(s)" in text
    assert "  - the card went through the washing machine  [en, no-match, " in text
    (group,) = listed["groups"]
    assert group["count"] == 2 and group["langs"] == {"en": 2}
    assert {q["question"] for q in group["questions"]} == {
        "the card went through the washing machine",
        "my gold card went through the washing machine",
    }
    assert "replacement-card" in [c["id"] for c in group["candidates"]]
    assert f"#{group['id']}  2 question(s)" in text  # the same group, the same id
    assert error.startswith("--since:")
