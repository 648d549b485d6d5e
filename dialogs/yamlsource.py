"""YAML data files read with line numbers, so every problem names file, line and field.

Shared by survey definitions and annual plans: both are hand-written by admins, and
an error that says ``plan.yaml:14: rounds[2].closes: ...`` is fixed in a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceProblem:
    """One thing wrong with a data file.

    In a spreadsheet (``sheet`` set) ``line`` is the row and ``field`` the column's
    heading, so Excel users find the cell: ``survey.xlsx: sheet survey, row 7, column
    relevant: ...``.
    """

    file: str
    line: int | None
    field: str
    message: str
    sheet: str | None = None

    def __str__(self) -> str:
        if self.sheet is not None:
            where = f"{self.file}: sheet {self.sheet}"
            where += f", row {self.line}" if self.line else ""
            where += f", column {self.field}" if self.field else ""
            return f"{where}: {self.message}"
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(file)'}: {self.message}"


class SourceError(ValueError):
    """A data file that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def field_name(path: Path_) -> str:
    """``rounds[2].closes`` for the path ``("rounds", 2, "closes")``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class LineReader:
    """Turns a composed YAML node tree into plain data, remembering each path's line.

    With ``raw_scalars`` every scalar stays the string the author wrote (``09:00`` is not
    YAML 1.1's base-60 number 540, ``2027-01-31`` is not a date object), for formats
    that parse their own values.
    """

    def __init__(
        self, problems: list[SourceProblem], source: str, *, raw_scalars: bool = False
    ) -> None:
        self.lines: dict[Path_, int] = {}
        self.problems = problems
        self.source = source
        self.raw_scalars = raw_scalars
        self._scalars = yaml.SafeLoader("")

    def read(self, node: yaml.Node, path: Path_ = ()) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in result:
                    self.problems.append(
                        SourceProblem(
                            self.source,
                            key_node.start_mark.line + 1,
                            field_name((*path, key)),
                            "duplicate key",
                        )
                    )
                result[key] = self.read(value_node, (*path, key))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.read(item, (*path, index)) for index, item in enumerate(node.value)]
        if self.raw_scalars:
            return (
                None
                if node.tag.endswith(":null") and node.value in ("", "~", "null")
                else node.value
            )
        return self._scalars.construct_object(node, deep=True)

    def line(self, path: Path_) -> int | None:
        """The line of a path, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def read_text_file(path: str | Path) -> str:
    """A data file's text, or a ``SourceError`` saying why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(
            [SourceProblem(str(path), None, "", f"cannot read the file: {error}")]
        ) from None


def compose(text: str, source: str) -> yaml.Node:
    """Parse YAML into a node tree, or raise a ``SourceError`` naming the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error)
        raise SourceError([SourceProblem(source, line, "", f"invalid YAML: {reason}")]) from None
    if node is None:
        raise SourceError([SourceProblem(source, None, "", "the file is empty")])
    return node
