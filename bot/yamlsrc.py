"""YAML loading that remembers where every value came from, for `file:line: message` problems."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class LocatedDict(dict):
    """A mapping from YAML that knows the line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict[Any, int]


class LocatedList(list):
    """A sequence from YAML that knows the line of itself and of each of its items."""

    line: int = 0
    item_lines: list[int]


# libyaml's parser is ~5x faster than the pure-Python one; start-up reads some 60 files.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LocatingLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader whose mappings and sequences carry their source lines (1-based)."""


def _construct_mapping(loader: _LocatingLoader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    result = LocatedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LocatingLoader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LocatingLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LocatingLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence
)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a content file, printed as `file:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class YamlError(Exception):
    """A file that is not valid YAML, with the line the parser stopped at."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def load_located(path: Path, display: str | None = None) -> Any:
    """Parse one YAML file into LocatedDict/LocatedList values; raise YamlError on bad syntax."""
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(Problem(display, 1, f"cannot read file: {exc}")) from exc
    try:
        return yaml.load(text, Loader=_LocatingLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise YamlError(Problem(display, line, f"invalid YAML: {reason}")) from exc


def line_of(data: Any, loc: tuple[int | str, ...]) -> int:
    """The source line of the value at `loc` (a pydantic error location), as deep as it exists."""
    line = getattr(data, "line", 1)
    node = data
    for part in loc:
        if isinstance(node, LocatedDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LocatedList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
