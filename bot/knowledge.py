"""Loads and validates all content (FAQ entries, synonyms, guides, out-of-scope questions) into
frozen, typed objects.

Content lives in `knowledge/`; `python -m bot check` runs `check_knowledge` and prints problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from bot.textnorm import LANGS, Lang, detect_lang, normalize
from bot.yamlsrc import Problem, YamlError, line_of, load_located

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"

MIN_QUESTIONS = 8
# Deep-link payloads are <= 64 chars of [A-Za-z0-9_-]; ids leave room for a prefix.
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ID_LENGTH = 40
URL_IN_TEXT = re.compile(r"https?://[^\s<>()\"'，。、；）]+")
# The hosts the official tutorials (shared/seeds) link to. Matched exactly, never by suffix: the
# export's "gold-card.nat.gov.tw" is a line-break artefact of goldcard.nat.gov.tw, not a host.
OFFICIAL_HOSTS = frozenset(
    {"coa.immigration.gov.tw", "goldcard.nat.gov.tw", "www.immigration.gov.tw", "www.boca.gov.tw"}
)
# How every tutorial spells an official FAQ page: https, /zh/faq/, one slug, a closing slash.
OFFICIAL_FAQ_URL = re.compile(r"^https://goldcard\.nat\.gov\.tw/zh/faq/[a-z0-9]+(?:-[a-z0-9]+)*/$")

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class Tutorial:
    """One of the official tutorials in shared/seeds: the source every fact is cited from."""

    key: str  # seed file prefix, used in `source:` entries
    number: int  # the tutorial's own number ("4. 進度查詢…")
    seed: str
    guide: str
    steps: int
    title_zh: str
    title_en: str

    def title(self, lang: Lang) -> str:
        return self.title_zh if lang == "zh" else self.title_en


TUTORIALS: dict[str, Tutorial] = {
    t.key: t
    for t in (
        Tutorial(
            "001", 2, "001_800ac3f0af354857.txt", "apply", 23,
            "資料填寫與上傳步驟教學", "Filling in and uploading the application",
        ),
        Tutorial(
            "000", 4, "000_e1783e5fe41f3a22.txt", "progress", 7,
            "進度查詢/領取就業金卡步驟教學", "Checking progress and collecting the card",
        ),
        Tutorial(
            "003", 5, "003_c921ff019332ae37.txt", "supplement", 13,
            "補正(件)上傳教學", "Supplementing and correcting documents",
        ),
        Tutorial(
            "004", 6, "004_7726a704017afde1.txt", "change", 12,
            "資料異動教學", "Changing the data on your card",
        ),
        Tutorial(
            "002", 7, "002_e99c191038a09f0f.txt", "renew", 16,
            "延期申請教學", "Renewal (extension)",
        ),
    )
}  # fmt: skip


class Text(_Frozen):
    """A text in both languages."""

    zh: NonEmpty
    en: NonEmpty

    def __getitem__(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


class Phrases(_Frozen):
    """Lists of short texts in both languages (sample questions, keywords)."""

    zh: tuple[NonEmpty, ...] = ()
    en: tuple[NonEmpty, ...] = ()

    def __getitem__(self, lang: Lang) -> tuple[str, ...]:
        return self.zh if lang == "zh" else self.en

    def all(self) -> tuple[str, ...]:
        return self.zh + self.en


class Link(_Frozen):
    """An official page an answer cites."""

    url: NonEmpty
    title: Text


class Source(_Frozen):
    """Where a fact comes from: tutorial steps (none = its introduction), or an official URL."""

    tutorial: Literal["000", "001", "002", "003", "004"] | None = None
    steps: tuple[int, ...] = ()
    url: NonEmpty | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        if (self.tutorial is None) == (self.url is None):
            raise ValueError("give either `tutorial` (with optional `steps`) or `url`")
        if self.url is not None and self.steps:
            raise ValueError("`steps` belongs to a tutorial source, not a URL")
        return self

    def cite(self, lang: Lang) -> str:
        """A human citation: "Tutorial 2, steps 12–13" / "教學 2 步驟 12–13"."""
        if self.url is not None:
            return self.url
        tutorial = TUTORIALS[self.tutorial]  # type: ignore[index]
        steps = _step_ranges(self.steps)
        if lang == "zh":
            where = f"步驟 {steps}" if steps else "說明"
            return f"教學 {tutorial.number}「{tutorial.title_zh}」{where}"
        where = (
            (f"step {steps}" if len(self.steps) == 1 else f"steps {steps}")
            if steps
            else ("introduction")
        )
        return f"Tutorial {tutorial.number} ({tutorial.title_en}), {where}"


def cite_all(sources: Iterable[Source], lang: Lang) -> str:
    """Several sources on one line, separated as the language punctuates a list."""
    return ("；" if lang == "zh" else "; ").join(source.cite(lang) for source in sources)


def _step_ranges(steps: tuple[int, ...]) -> str:
    """(1, 2, 3, 5) -> "1–3, 5"."""
    parts: list[str] = []
    for n in sorted(set(steps)):
        if parts and parts[-1].split("–")[-1] == str(n - 1):
            parts[-1] = f"{parts[-1].split('–')[0]}–{n}"
        else:
            parts.append(str(n))
    return ", ".join(parts)


class FaqEntry(_Frozen):
    """One FAQ topic: `knowledge/faq/<id>.yaml`."""

    id: str
    title: Text
    answer: Text
    questions: Phrases
    keywords: Phrases = Phrases()
    related: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    source: tuple[Source, ...]
    # A concept of synonyms.yaml a question about this topic names (the renewal topics: `renew`);
    # without it the topic scores a little less, so "expedite Hong Kong applications" is not read
    # as the Hong Kong renewal topic.
    anchor: str | None = None
    # What the topic answers when a neighbour answers the other: "how" (the steps) or "when" (a
    # date, a deadline, a duration). A question that asks only the other scores it a little less,
    # so "how do I renew" and "when can I renew" reach different topics whatever else they share.
    intent: Literal["how", "when"] | None = None


class SynonymGroup(_Frozen):
    """Words that mean one concept, in either language; the matcher folds them to `id`."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    zh: tuple[NonEmpty, ...] = ()
    en: tuple[NonEmpty, ...] = ()

    def terms(self) -> tuple[str, ...]:
        return self.zh + self.en


class _SynonymsFile(_Frozen):
    groups: tuple[SynonymGroup, ...]


class OutOfScopeGroup(_Frozen):
    """Near-domain questions the tutorials do not answer, which the bot declines.

    `about` completes the decline ("The tutorials do not cover <about>"); `questions` are
    negative examples in both languages.
    """

    id: Annotated[str, StringConstraints(pattern=ID_PATTERN.pattern, max_length=MAX_ID_LENGTH)]
    about: Text
    questions: Phrases


# --- guides --------------------------------------------------------------------------------

# The guides the issue table fixes, in its order; each follows one tutorial step for step.
GUIDE_IDS: tuple[str, ...] = tuple(t.guide for t in TUTORIALS.values())
TUTORIAL_OF_GUIDE: dict[str, Tutorial] = {t.guide: t for t in TUTORIALS.values()}
# The login steps every guide references by these names (knowledge/guides/README.md).
SHARED_STEP_IDS: tuple[str, ...] = (
    "open-platform",
    "gold-card-icon",
    "login-button",
    "choose-role",
    "sign-in",
    "logout-countdown",
)

Condition = Literal[
    "abroad", "inside_taiwan", "hk_macau", "not_hk_macau", "mainland_born", "first_application",
    "renewal",
]  # fmt: skip
# A `when` naming both sides of one of these would hide its step or note from everybody.
EXCLUSIVE_CONDITIONS: tuple[frozenset[Condition], ...] = (
    frozenset({"abroad", "inside_taiwan"}),
    frozenset({"hk_macau", "not_hk_macau"}),
    frozenset({"first_application", "renewal"}),
)

SectionId = Annotated[str, StringConstraints(pattern=ID_PATTERN.pattern)]


class Note(Text):
    """A warning or remark on a step; with `when`, only for applicants meeting all conditions."""

    when: tuple[Condition, ...] = ()


class Section(_Frozen):
    """A titled run of steps, as the tutorial groups them; it ends where the next one starts."""

    id: SectionId
    title: Text
    first: int = Field(alias="from", ge=1)


class SharedStep(_Frozen):
    """A step several tutorials share (logging in), written once in knowledge/shared_steps.yaml."""

    title: Text
    body: Text
    notes: tuple[Note, ...] = ()
    links: tuple[Link, ...] = ()
    topics: tuple[str, ...] = ()


class _SharedStepsFile(_Frozen):
    steps: dict[str, SharedStep]


class _StepEntry(_Frozen):
    """A step as a guide file writes it: its own title and body, or a shared step plus extras."""

    n: int
    shared: str | None = None
    title: Text | None = None
    body: Text | None = None
    notes: tuple[Note, ...] = ()
    links: tuple[Link, ...] = ()
    topics: tuple[str, ...] = ()
    when: tuple[Condition, ...] = ()

    @model_validator(mode="after")
    def _own_or_shared(self) -> _StepEntry:
        if self.shared is None and (self.title is None or self.body is None):
            raise ValueError("a step needs `title` and `body`, or `shared`")
        if self.shared is not None and (self.title is not None or self.body is not None):
            raise ValueError(
                "a step with `shared` takes its title and body from shared_steps.yaml; "
                "add only notes, links, topics or when"
            )
        return self


class _GuideFile(_Frozen):
    title: Text
    tutorial: Literal["000", "001", "002", "003", "004"]
    intro: Text | None = None
    sections: tuple[Section, ...]
    steps: tuple[_StepEntry, ...]


class Step(_Frozen):
    """One step of a guide, numbered as its tutorial numbers it, with shared text expanded."""

    n: int
    section: str
    title: Text
    body: Text
    notes: tuple[Note, ...] = ()
    links: tuple[Link, ...] = ()
    topics: tuple[str, ...] = ()
    when: tuple[Condition, ...] = ()
    shared: str | None = None  # the shared step it was expanded from, if any


class Guide(_Frozen):
    """A step-by-step guide through one procedure: `knowledge/guides/<id>.yaml`.

    Steps are validated to run 1..N without gaps, so step `n` is `steps[n - 1]`.
    """

    id: str
    title: Text
    tutorial: str
    intro: Text | None = None
    sections: tuple[Section, ...]
    steps: tuple[Step, ...]

    @property
    def total(self) -> int:
        return len(self.steps)

    def has_step(self, n: int) -> bool:
        return 1 <= n <= len(self.steps)

    def step(self, n: int) -> Step:
        """Step `n` (1-based, the tutorial's number); IndexError outside 1..total."""
        if not self.has_step(n):
            raise IndexError(f"guide {self.id!r} has steps 1–{self.total}, not {n}")
        return self.steps[n - 1]

    def section(self, section_id: str) -> Section:
        """The section with this id; KeyError if the guide has none."""
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)

    def section_steps(self, section_id: str) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.section == section_id)


# The FAQ topic whose answer holds the help desk's contacts: every decline quotes it.
CONTACT_TOPIC = "contact-help-desk"


@dataclass(frozen=True)
class Knowledge:
    """Everything the bot knows, loaded once at start-up."""

    faq: dict[str, FaqEntry]
    synonyms: tuple[SynonymGroup, ...]
    guides: dict[str, Guide] = field(default_factory=dict)
    out_of_scope: tuple[OutOfScopeGroup, ...] = ()

    def entry(self, topic_id: str) -> FaqEntry:
        return self.faq[topic_id]

    def guide(self, guide_id: str) -> Guide:
        return self.guides[guide_id]

    def not_covered(self, group: str | None, lang: Lang) -> str | None:
        """What an out-of-scope group is about ("taxes: filing income tax…"), for a decline."""
        return next((g.about[lang] for g in self.out_of_scope if g.id == group), None)


class KnowledgeError(Exception):
    """Content failed validation; `problems` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) in the knowledge base:\n{shown}{more}")


# --- loading -------------------------------------------------------------------------------


class _Collector:
    """Gathers problems with display paths relative to the knowledge folder's parent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def add(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self.display(path), line, message))

    def read(self, path: Path) -> Any:
        try:
            return load_located(path, self.display(path))
        except YamlError as exc:
            self.problems.append(exc.problem)
            return None

    def model(self, path: Path, data: Any, model: type[BaseModel], **extra: Any) -> Any:
        """Validate `data` against `model`; report each error at its YAML line."""
        if not isinstance(data, dict):
            self.add(path, getattr(data, "line", 1), "expected a mapping at the top level")
            return None
        try:
            return model.model_validate({**data, **extra})
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                where = ".".join(str(p) for p in loc) or "(top)"
                self.add(path, line_of(data, loc), f"{where}: {err['msg']}")
            return None


def _load_faq(col: _Collector) -> dict[str, FaqEntry]:
    entries: dict[str, FaqEntry] = {}
    raw_by_id: dict[str, Any] = {}
    for path in sorted((col.root / "faq").glob("*.yaml")):
        topic_id = path.stem
        if not ID_PATTERN.match(topic_id) or len(topic_id) > MAX_ID_LENGTH:
            col.add(path, 1, f"file name {topic_id!r} is not a valid id (a-z, 0-9, '-', ≤ 40)")
            continue
        data = col.read(path)
        if data is None:
            continue
        if isinstance(data, dict) and data.get("id", topic_id) != topic_id:
            line = data.key_lines.get("id", 1)
            col.add(path, line, f"id {data['id']!r} differs from the file name {topic_id!r}")
        entry = col.model(path, data, FaqEntry, id=topic_id)
        if entry is not None:
            entries[topic_id] = entry
            raw_by_id[topic_id] = data
    _check_faq(col, entries, raw_by_id)
    return entries


def _check_faq(col: _Collector, entries: dict[str, FaqEntry], raw: dict[str, Any]) -> None:
    faq_dir = col.root / "faq"
    contract = _contract_topic_ids(col)
    for topic_id, line in contract.items():
        if topic_id not in entries and not (faq_dir / f"{topic_id}.yaml").exists():
            col.add(col.root / "topics.yaml", line, f"topic {topic_id!r} has no FAQ entry")

    seen_questions: dict[str, tuple[str, Path, int]] = {}
    for topic_id, entry in entries.items():
        path = faq_dir / f"{topic_id}.yaml"
        data = raw[topic_id]

        def at(*loc: int | str, _data: Any = data) -> int:
            return line_of(_data, loc)

        for lang in LANGS:
            n = len(entry.questions[lang])
            if n < MIN_QUESTIONS:
                col.add(path, at("questions", lang), f"{lang}: {n} sample questions, need ≥ 8")
            for field_name in ("title", "answer"):
                text = getattr(entry, field_name)[lang]
                if detect_lang(text) != lang and lang == "en":
                    col.add(path, at(field_name, lang), f"{field_name}.en reads as Chinese")
                if lang == "zh" and not re.search(r"[\u4e00-\u9fff]", text):
                    col.add(path, at(field_name, lang), f"{field_name}.zh has no Chinese")
            for i, question in enumerate(entry.questions[lang]):
                key = normalize(question)
                if key in seen_questions and seen_questions[key][0] != topic_id:
                    other_id, other_path, other_line = seen_questions[key]
                    col.add(
                        path,
                        at("questions", lang, i),
                        f"sample question {question!r} is also in {other_id} "
                        f"({col.display(other_path)}:{other_line})",
                    )
                else:
                    seen_questions.setdefault(key, (topic_id, path, at("questions", lang, i)))

        for i, related in enumerate(entry.related):
            if related == topic_id:
                col.add(path, at("related", i), "a topic cannot be related to itself")
            elif related not in entries and not (faq_dir / f"{related}.yaml").exists():
                col.add(path, at("related", i), f"related topic {related!r} does not exist")

        for i, link in enumerate(entry.links):
            if problem := _url_problem(link.url):
                col.add(path, at("links", i, "url"), problem)
        for lang in LANGS:
            for url in URL_IN_TEXT.findall(entry.answer[lang]):
                if problem := _url_problem(url, " in answer"):
                    col.add(path, at("answer", lang), problem)
        for i, src in enumerate(entry.source):
            for problem in _source_problems(src):
                col.add(path, at("source", i), problem)


def _source_problems(src: Source) -> Iterator[str]:
    if src.url is not None and (problem := _url_problem(src.url)):
        yield problem
    if src.tutorial is not None:
        tutorial = TUTORIALS[src.tutorial]
        for step in src.steps:
            if not 1 <= step <= tutorial.steps:
                yield f"tutorial {src.tutorial} has steps 1–{tutorial.steps}, not {step}"


def _is_url(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", parts.netloc.lower()))
        and " " not in url
    )


def _url_problem(url: str, where: str = "") -> str | None:
    """Why `url` cannot be cited, or None: it must be well formed, https, on an official host.

    `where` (e.g. " in answer") follows the URL in the message.
    """
    if not _is_url(url):
        return f"malformed URL {url!r}{where}"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host not in OFFICIAL_HOSTS:
        allowed = ", ".join(sorted(OFFICIAL_HOSTS))
        return f"URL {url!r}{where} is not on an official host the tutorials use ({allowed})"
    if parts.scheme != "https":
        return f"URL {url!r}{where}: official pages are linked with https://"
    if host == "goldcard.nat.gov.tw" and "/faq/" in parts.path and not OFFICIAL_FAQ_URL.match(url):
        return f"URL {url!r}{where}: official FAQ pages are https://goldcard.nat.gov.tw/zh/faq/<slug>/"
    return None


def _contract_topic_ids(col: _Collector) -> dict[str, int]:
    """Topic ids of the contract file (knowledge/topics.yaml) with their lines."""
    path = col.root / "topics.yaml"
    if not path.exists():
        return {}
    data = col.read(path)
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
        col.add(path, 1, "expected `topics:` with a list of topics")
        return {}
    topics = data["topics"]
    return {
        t["id"]: topics.item_lines[i]
        for i, t in enumerate(topics)
        if isinstance(t, dict) and isinstance(t.get("id"), str)
    }


def _load_synonyms(col: _Collector) -> tuple[SynonymGroup, ...]:
    path = col.root / "synonyms.yaml"
    if not path.exists():
        col.add(path, 1, "missing synonyms file")
        return ()
    data = col.read(path)
    parsed = col.model(path, data, _SynonymsFile) if data is not None else None
    if parsed is None:
        return ()
    seen: dict[str, str] = {}
    ids: set[str] = set()
    for i, group in enumerate(parsed.groups):
        line = line_of(data, ("groups", i))
        if group.id in ids:
            col.add(path, line, f"duplicate synonym group id {group.id!r}")
        ids.add(group.id)
        if len(group.terms()) < 1:
            col.add(path, line, f"group {group.id!r} has no terms")
        for term in group.terms():
            key = normalize(term)
            if not key:
                col.add(path, line, f"group {group.id!r}: term {term!r} is empty once normalised")
            elif key in seen and seen[key] != group.id:
                col.add(path, line, f"term {term!r} is in both {seen[key]!r} and {group.id!r}")
            seen.setdefault(key, group.id)
    return parsed.groups


def _load_out_of_scope(col: _Collector, faq: dict[str, FaqEntry]) -> tuple[OutOfScopeGroup, ...]:
    """knowledge/out_of_scope.yaml: optional, since a knowledge base without negatives is whole."""
    path = col.root / "out_of_scope.yaml"
    if not path.exists():
        return ()
    data = col.read(path)
    if data is None:
        return ()
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        col.add(path, getattr(data, "line", 1), "expected `groups:` with a list of groups")
        return ()
    for key in data:
        if key != "groups":
            col.add(path, data.key_lines[key], f"unknown key {key!r}: the file has only `groups`")
    # Each group on its own, so that one malformed group does not hide the others' problems.
    groups: dict[int, OutOfScopeGroup] = {}  # by position in the file, for line numbers
    for i, raw in enumerate(data["groups"]):
        group = col.model(path, raw, OutOfScopeGroup)
        if group is not None:
            groups[i] = group
    # A negative that is also a sample question would teach the matcher both ways.
    samples = {
        normalize(q): topic_id for topic_id, entry in faq.items() for q in entry.questions.all()
    }
    ids: set[str] = set()
    seen: dict[str, str] = {}
    for i, group in groups.items():
        at = ("groups", i)
        if group.id in ids:
            col.add(path, line_of(data, (*at, "id")), f"duplicate group id {group.id!r}")
        ids.add(group.id)
        _check_texts(col, path, data, (*at, "about"), group.about)
        for lang in LANGS:
            questions = group.questions[lang]
            if not questions:
                col.add(
                    path,
                    line_of(data, (*at, "questions")),
                    f"group {group.id!r} has no {lang} questions",
                )
            for j, question in enumerate(questions):
                line = line_of(data, (*at, "questions", lang, j))
                if lang == "zh" and not _CJK_CHAR.search(question):
                    col.add(path, line, f"zh question {question!r} has no Chinese")
                if lang == "en" and not re.search(r"[A-Za-z]{2}", question):
                    col.add(path, line, f"en question {question!r} has no English")
                key = normalize(question)
                if key in samples:
                    col.add(
                        path,
                        line,
                        f"question {question!r} is a sample question of FAQ topic "
                        f"{samples[key]!r}: it cannot be out of scope too",
                    )
                elif key in seen:
                    col.add(path, line, f"question {question!r} is already in {seen[key]!r}")
                seen.setdefault(key, group.id)
    return tuple(groups.values())


def _load_guides(col: _Collector, faq: dict[str, FaqEntry]) -> dict[str, Guide]:
    """Load the five guides, expanding shared steps; every guide of the table must exist."""
    shared = _load_shared_steps(col, faq)
    guides_dir = col.root / "guides"
    for path in sorted(guides_dir.glob("*.yaml")):
        if path.stem not in TUTORIAL_OF_GUIDE:
            col.add(path, 1, f"unknown guide {path.stem!r}; guides are {', '.join(GUIDE_IDS)}")
    guides: dict[str, Guide] = {}
    for guide_id in GUIDE_IDS:
        path = guides_dir / f"{guide_id}.yaml"
        tutorial = TUTORIAL_OF_GUIDE[guide_id]
        if not path.exists():
            col.add(
                path,
                1,
                f"missing guide {guide_id!r} (tutorial {tutorial.key}, {tutorial.steps} steps)",
            )
            continue
        guide = _load_guide(col, path, guide_id, shared, faq)
        if guide is not None:
            guides[guide_id] = guide
    return guides


def _load_shared_steps(col: _Collector, faq: dict[str, FaqEntry]) -> dict[str, SharedStep]:
    path = col.root / "shared_steps.yaml"
    if not path.exists():
        col.add(path, 1, "missing shared steps file")
        return {}
    data = col.read(path)
    parsed = col.model(path, data, _SharedStepsFile) if data is not None else None
    if parsed is None:
        return {}
    for step_id in SHARED_STEP_IDS:
        if step_id not in parsed.steps:
            col.add(path, line_of(data, ("steps",)), f"shared step {step_id!r} is missing")
    for step_id, step in parsed.steps.items():
        if not ID_PATTERN.match(step_id):
            col.add(path, line_of(data, ("steps", step_id)), f"{step_id!r} is not a valid id")
        _check_step_content(col, path, data, ("steps", step_id), step, faq)
    return dict(parsed.steps)


def _load_guide(
    col: _Collector,
    path: Path,
    guide_id: str,
    shared: dict[str, SharedStep],
    faq: dict[str, FaqEntry],
) -> Guide | None:
    data = col.read(path)
    parsed = col.model(path, data, _GuideFile) if data is not None else None
    if parsed is None:
        return None
    found_before = len(col.problems)
    tutorial = TUTORIAL_OF_GUIDE[guide_id]
    if parsed.tutorial != tutorial.key:
        col.add(
            path,
            line_of(data, ("tutorial",)),
            f"guide {guide_id!r} follows tutorial {tutorial.key}, not {parsed.tutorial}",
        )
    _check_numbering(col, path, data, parsed, tutorial)
    _check_sections(col, path, data, parsed)
    _check_texts(col, path, data, ("title",), parsed.title)
    if parsed.intro is not None:
        _check_texts(col, path, data, ("intro",), parsed.intro)
    for i, entry in enumerate(parsed.steps):
        at = ("steps", i)
        if entry.shared is not None and entry.shared not in shared:
            known = ", ".join(sorted(shared)) or "none loaded"
            col.add(
                path,
                line_of(data, (*at, "shared")),
                f"unknown shared step {entry.shared!r} (known: {known})",
            )
        _check_step_content(col, path, data, at, entry, faq)
        _check_when(col, path, data, (*at, "when"), entry.when)
    if len(col.problems) > found_before:
        return None
    return _expand_guide(guide_id, parsed, shared)


def _check_numbering(
    col: _Collector, path: Path, data: Any, parsed: _GuideFile, tutorial: Tutorial
) -> None:
    """Steps run 1..N in order, N being the tutorial's count: staff cite steps by number."""
    for i, entry in enumerate(parsed.steps):
        if entry.n != i + 1:
            col.add(
                path,
                line_of(data, ("steps", i, "n")),
                f"step {entry.n} where step {i + 1} belongs: number steps 1, 2, 3… in order",
            )
            break  # every later step is off by the same slip; one message says it
    if len(parsed.steps) != tutorial.steps:
        col.add(
            path,
            line_of(data, ("steps",)),
            f"{len(parsed.steps)} steps, but tutorial {tutorial.key} has {tutorial.steps}",
        )


def _check_sections(col: _Collector, path: Path, data: Any, parsed: _GuideFile) -> None:
    if not parsed.sections:
        col.add(path, line_of(data, ("sections",)), "a guide needs at least one section")
        return
    if parsed.sections[0].first != 1:
        col.add(path, line_of(data, ("sections", 0, "from")), "the first section must start at 1")
    seen: set[str] = set()
    for i, section in enumerate(parsed.sections):
        if section.id in seen:
            col.add(
                path, line_of(data, ("sections", i, "id")), f"duplicate section id {section.id!r}"
            )
        seen.add(section.id)
        previous = parsed.sections[i - 1] if i else None
        if previous is not None and section.first <= previous.first:
            col.add(
                path,
                line_of(data, ("sections", i, "from")),
                f"section {section.id!r} starts at {section.first}, not after "
                f"{previous.id!r} ({previous.first}): sections go in step order",
            )
        if section.first > len(parsed.steps):
            col.add(
                path,
                line_of(data, ("sections", i, "from")),
                f"section {section.id!r} starts at {section.first}, past the last step",
            )
        _check_texts(col, path, data, ("sections", i, "title"), section.title)


def _check_step_content(
    col: _Collector,
    path: Path,
    data: Any,
    at: tuple[int | str, ...],
    step: SharedStep | _StepEntry,
    faq: dict[str, FaqEntry],
) -> None:
    """Both languages, plain text, well-formed URLs, existing FAQ topics, valid conditions."""
    for name in ("title", "body"):
        text = getattr(step, name)
        if text is not None:
            _check_texts(col, path, data, (*at, name), text)
    for j, note in enumerate(step.notes):
        _check_texts(col, path, data, (*at, "notes", j), note)
        _check_when(col, path, data, (*at, "notes", j, "when"), note.when)
    for j, link in enumerate(step.links):
        if problem := _url_problem(link.url):
            col.add(path, line_of(data, (*at, "links", j, "url")), problem)
        _check_texts(col, path, data, (*at, "links", j, "title"), link.title)
    faq_dir = col.root / "faq"
    for j, topic_id in enumerate(step.topics):
        if topic_id not in faq and not (faq_dir / f"{topic_id}.yaml").exists():
            col.add(
                path,
                line_of(data, (*at, "topics", j)),
                f"FAQ topic {topic_id!r} does not exist (knowledge/faq/{topic_id}.yaml)",
            )
        if topic_id in step.topics[:j]:
            col.add(path, line_of(data, (*at, "topics", j)), f"topic {topic_id!r} listed twice")


_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")


def _check_texts(
    col: _Collector, path: Path, data: Any, at: tuple[int | str, ...], text: Text
) -> None:
    """Each language reads as itself (Chinese has Chinese, English has Latin), plain text."""
    if not _CJK_CHAR.search(text.zh):
        col.add(path, line_of(data, (*at, "zh")), "zh text has no Chinese")
    if not re.search(r"[A-Za-z]{2}", text.en):
        col.add(path, line_of(data, (*at, "en")), "en text has no English")
    for lang in LANGS:
        if _HTML_TAG.search(text[lang]):
            col.add(path, line_of(data, (*at, lang)), "plain text only: the bot escapes HTML")
        for url in URL_IN_TEXT.findall(text[lang]):
            if problem := _url_problem(url):
                col.add(path, line_of(data, (*at, lang)), problem)


def _check_when(
    col: _Collector, path: Path, data: Any, at: tuple[int | str, ...], when: tuple[str, ...]
) -> None:
    for pair in EXCLUSIVE_CONDITIONS:
        if pair <= set(when):
            a, b = sorted(pair)
            col.add(path, line_of(data, at), f"`when` lists both {a} and {b}: nobody matches")


def _expand_guide(guide_id: str, parsed: _GuideFile, shared: dict[str, SharedStep]) -> Guide:
    """The guide with each step placed in its section and shared steps written out in place."""
    steps = []
    for entry in parsed.steps:
        section = [s for s in parsed.sections if s.first <= entry.n][-1]
        base = shared[entry.shared] if entry.shared is not None else None
        steps.append(
            Step(
                n=entry.n,
                section=section.id,
                title=base.title if base else entry.title,
                body=base.body if base else entry.body,
                notes=(base.notes if base else ()) + entry.notes,
                links=(base.links if base else ()) + entry.links,
                topics=tuple(dict.fromkeys((base.topics if base else ()) + entry.topics)),
                when=entry.when,
                shared=entry.shared,
            )
        )
    return Guide(
        id=guide_id,
        title=parsed.title,
        tutorial=parsed.tutorial,
        intro=parsed.intro,
        sections=parsed.sections,
        steps=tuple(steps),
    )


def check_knowledge(root: Path = KNOWLEDGE_DIR) -> tuple[Knowledge | None, list[Problem]]:
    """Load everything under `root`, returning the knowledge (None if broken) and all problems."""
    col = _Collector(root)
    faq = _load_faq(col)
    synonyms = _load_synonyms(col)
    guides = _load_guides(col, faq)
    out_of_scope = _load_out_of_scope(col, faq)
    _check_anchors(col, faq, {g.id for g in synonyms})
    problems = sorted(set(col.problems))
    if problems:
        return None, problems
    knowledge = Knowledge(faq=faq, synonyms=synonyms, guides=guides, out_of_scope=out_of_scope)
    return knowledge, []


def _check_anchors(col: _Collector, faq: dict[str, FaqEntry], concepts: set[str]) -> None:
    for entry in faq.values():
        if entry.anchor is not None and entry.anchor not in concepts:
            path = col.root / "faq" / f"{entry.id}.yaml"
            lines = path.read_text(encoding="utf-8").splitlines()
            line = next((i for i, text in enumerate(lines, 1) if text.startswith("anchor:")), 1)
            col.add(path, line, f"anchor {entry.anchor!r} is not a concept of synonyms.yaml")


@cache
def load_knowledge(root: Path = KNOWLEDGE_DIR) -> Knowledge:
    """The validated knowledge base; raises KnowledgeError listing every problem."""
    knowledge, problems = check_knowledge(root)
    if knowledge is None:
        raise KnowledgeError(problems)
    return knowledge
