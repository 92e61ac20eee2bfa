"""YAML documents with the line of every key: model errors name ``file:line: key.path``.

Example:
    >>> doc = read_yaml_text("cubes:\\n  - name: a\\n    sql_table: raw.a\\n", "m.yml")
    >>> doc.data["cubes"][0]["name"], doc.line(("cubes", 0, "sql_table"))
    ('a', 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ..core.errors import UsageError
from .model import Location

Path = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """A parsed YAML document and the 1-based line of each key path in it."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def at(self, path: Path) -> Location:
        """The :class:`Location` of ``path``."""
        return Location(self.file, self.line(path), tuple(path))


def _index(node: yaml.Node, path: Path, out: dict[Path, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, key.value)
            out.setdefault(sub, key.start_mark.line + 1)
            _index(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*path, i)
            out.setdefault(sub, item.start_mark.line + 1)
            _index(item, sub, out)


def read_yaml_text(text: str, file: str) -> YamlDoc:
    """Parses ``text`` (the content of ``file``).

    Raises:
        UsageError: Not valid YAML, naming the file and line.
    """
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        problem = getattr(err, "problem", None) or str(err)
        raise UsageError(f"{where}: not valid YAML: {problem}") from None
    lines: dict[Path, int] = {}
    if node is not None:
        _index(node, (), lines)
    return YamlDoc(file, data, lines)
