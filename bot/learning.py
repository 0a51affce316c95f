"""What the inbox teaches the bot: the learned questions in every process's matcher, picked up
within a minute without a restart, and written into the knowledge files for review in git.

A learned question is a `learned_questions` row (`bot.inbox` writes them): a sample question of
a FAQ topic, or of an out-of-scope class (`oos:<group>`, a negative).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine as Database
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from bot.knowledge import KNOWLEDGE_DIR, Knowledge, check_knowledge
from bot.matching import DEFAULT_TUNING, OUT_OF_SCOPE_PREFIX, Matcher, MatchResult, Scored, Tuning
from bot.models import LearnedQuestion
from bot.storage import DatabaseFileGone
from bot.textnorm import Lang, detect_lang, normalize
from bot.yamlsrc import Problem

log = logging.getLogger(__name__)

# How often a process asks the database whether anything was learned (one `count`/`max(id)`
# query); with a rebuild of ~0.3 s, a question learned anywhere is answered within a minute.
REFRESH_SECONDS = 30.0


def learned_version(session: Session) -> tuple[int, int]:
    """What changes whenever a learned question is added or removed: (count, max id)."""
    count, last = session.exec(
        select(func.count(LearnedQuestion.id), func.max(LearnedQuestion.id))  # type: ignore[arg-type]
    ).one()
    return int(count or 0), int(last or 0)


def learned_questions(session: Session) -> list[LearnedQuestion]:
    """Every learned question, oldest first."""
    return list(session.exec(select(LearnedQuestion).order_by(LearnedQuestion.id)).all())  # type: ignore[arg-type]


def new_phrases(knowledge: Knowledge, learned: Iterable[LearnedQuestion]) -> list[tuple[str, str]]:
    """(topic or `oos:<group>`, question) for the matcher: the learned questions the knowledge
    files do not hold yet (once exported and deployed, a question counts once, not twice)."""
    known = {
        (topic, normalize(q)) for topic, e in knowledge.faq.items() for q in e.questions.all()
    } | {
        (OUT_OF_SCOPE_PREFIX + g.id, normalize(q))
        for g in knowledge.out_of_scope
        for q in g.questions.all()
    }
    seen: set[tuple[str, str]] = set()
    phrases = []
    for row in learned:
        key = (row.topic, normalize(row.question))
        if key not in known and key not in seen:
            seen.add(key)
            phrases.append((row.topic, row.question))
    return phrases


class LiveMatcher:
    """The matcher of one process with the learned questions of the database in it.

    Built with those at start; `refresh()` checks whether they changed (one cheap query) and, if
    so, builds a new matcher and swaps it in, one assignment, so a message is matched by the old
    index or the new one, never half of each. `watch()` refreshes every REFRESH_SECONDS in a
    daemon thread, off the request path: the bot and the console run it. It is used wherever a
    `Matcher` is: attributes it does not define are the current matcher's.
    """

    def __init__(
        self,
        knowledge: Knowledge,
        db: Database,
        *,
        tuning: Tuning = DEFAULT_TUNING,
        interval: float = REFRESH_SECONDS,
    ) -> None:
        self.knowledge = knowledge
        self.tuning = tuning
        self.interval = interval
        self._db = db
        self._lock = threading.Lock()  # one rebuild at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._version = (-1, -1)
        self.current = Matcher(knowledge, tuning)
        self.refresh()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)

    def match(self, question: str, *, coverage_power: float | None = None) -> MatchResult:
        return self.current.match(question, coverage_power=coverage_power)

    def rank(self, question: str, k: int = 5) -> list[Scored]:
        return self.current.rank(question, k)

    def score_all(
        self, question: str, *, coverage_power: float | None = None
    ) -> tuple[list[Scored], float]:
        return self.current.score_all(question, coverage_power=coverage_power)

    def refresh(self) -> bool:
        """Rebuild the matcher if the learned questions changed; True if it was rebuilt."""
        with self._lock:
            with Session(self._db) as session:
                version = learned_version(session)
                if version == self._version:
                    return False
                phrases = new_phrases(self.knowledge, learned_questions(session))
            self.current = Matcher(self.knowledge, self.tuning, phrases)
            self._version = version
        log.info("matcher rebuilt with %d learned question(s)", len(phrases))
        return True

    def watch(self) -> None:
        """Refresh every `interval` seconds in a daemon thread until `close()`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="learned-questions", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except (SQLAlchemyError, DatabaseFileGone) as exc:  # keep what we have; retry
                log.warning("could not check for learned questions: %s", type(exc).__name__)
            except Exception:  # a watcher that dies would stop learning without a word
                log.exception("could not rebuild the matcher with the learned questions")

    def close(self) -> None:
        """Stop watching (the thread ends within a moment)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


# --- export into the knowledge files --------------------------------------------------------


@dataclass
class ExportReport:
    """What `export` did: questions written per file, and those left out (with why)."""

    written: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    already: int = 0  # already a sample question (or negative) somewhere in the files
    skipped: list[str] = field(default_factory=list)  # "question: why"
    problems: list[Problem] = field(default_factory=list)  # `check` after writing

    @property
    def total(self) -> int:
        return sum(self.written.values())


def export(db: Database, root: Path = KNOWLEDGE_DIR) -> ExportReport:
    """Append the learned questions to the sample questions of `knowledge/faq/<topic>.yaml`
    (negatives: the group's in `knowledge/out_of_scope.yaml`), in the list of the question's
    language, after its last item, leaving every other line (comments, formatting) as it was.

    A question already anywhere in the files is left out (the check forbids a sample question
    in two topics, or in a topic and out of scope), as is one whose topic no longer exists.
    Afterwards the whole knowledge base is checked; `problems` lists what it found.
    """
    knowledge, problems = check_knowledge(root)
    report = ExportReport()
    if knowledge is None:
        report.problems = problems
        return report
    with Session(db) as session:
        learned = learned_questions(session)
    taken = {normalize(q) for e in knowledge.faq.values() for q in e.questions.all()}
    taken |= {normalize(q) for g in knowledge.out_of_scope for q in g.questions.all()}
    # file -> path in its YAML to a list -> the questions to append to it
    additions: dict[Path, dict[tuple[Any, ...], list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    oos_index = {g.id: i for i, g in enumerate(knowledge.out_of_scope)}
    for row in learned:
        key = normalize(row.question)
        lang: Lang = detect_lang(row.question)
        if key in taken:
            report.already += 1
            continue
        if not _fits(row.question, lang):
            report.skipped.append(f"{row.question}: neither Chinese nor English words")
            continue
        if row.topic.startswith(OUT_OF_SCOPE_PREFIX):
            group = row.topic.removeprefix(OUT_OF_SCOPE_PREFIX)
            if group not in oos_index:
                report.skipped.append(f"{row.question}: out-of-scope group {group!r} is gone")
                continue
            path = root / "out_of_scope.yaml"
            where: tuple[Any, ...] = ("groups", oos_index[group], "questions", lang)
        elif row.topic in knowledge.faq:
            path = root / "faq" / f"{row.topic}.yaml"
            where = ("questions", lang)
        else:
            report.skipped.append(f"{row.question}: topic {row.topic!r} is gone")
            continue
        taken.add(key)
        additions[path][where].append(row.question)
    for path, lists in additions.items():
        text = path.read_text(encoding="utf-8")
        path.write_text(_append_items(text, lists), encoding="utf-8")
        report.written[path.relative_to(root.parent).as_posix()] += sum(map(len, lists.values()))
    _, report.problems = check_knowledge(root)
    return report


def _fits(question: str, lang: Lang) -> bool:
    """What `check` asks of a question in the list of `lang`."""
    if lang == "zh":
        return bool(re.search(r"[\u3400-\u9fff]", question))
    return bool(re.search(r"[A-Za-z]{2}", question))


class ExportError(Exception):
    """A knowledge file whose list cannot be appended to line by line."""


def _append_items(text: str, lists: dict[tuple[Any, ...], list[str]]) -> str:
    """`text` with the items appended to each block list at its path (a list missing from the
    file is an error: every topic has both languages' questions)."""
    lines = text.splitlines(keepends=True)
    root = yaml.compose(text)
    inserts: list[tuple[int, list[str]]] = []
    for where, items in lists.items():
        node = _node_at(root, where)
        if not isinstance(node, yaml.SequenceNode) or node.flow_style or not node.value:
            raise ExportError(f"{'.'.join(map(str, where))} is not a block list with items")
        last = node.value[-1]
        end = last.end_mark.line if last.end_mark.column else last.end_mark.line - 1
        first = lines[last.start_mark.line]
        dash = re.match(r"\s*-\s+", first)
        indent = dash.group(0) if dash else " " * last.start_mark.column
        inserts.append((end + 1, [f"{indent}{_scalar(item)}\n" for item in items]))
    for at, new in sorted(inserts, reverse=True):
        if at > 0 and not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        lines[at:at] = new
    return "".join(lines)


def _node_at(node: yaml.Node | None, where: tuple[Any, ...]) -> yaml.Node | None:
    for part in where:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            return None
    return node


def _scalar(text: str) -> str:
    """`text` as a YAML list item's value: plain when it reads back as itself, else quoted."""
    flat = " ".join(text.split())
    try:
        if yaml.safe_load(f"- {flat}") == [flat] and flat == text:
            return flat
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one
