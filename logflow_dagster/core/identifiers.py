"""Table identifiers (``namespace.table``), validated in one place for every entry point.

A name that reaches the catalog unchecked can lose data: ``raw.t/x`` would put a table's files
inside table ``raw.t``'s folder, where ``raw.t``'s orphan removal deletes them. So every part
is a plain identifier: a letter or ``_`` first, then letters, digits or ``_``, at most 128
characters; exactly one namespace level.

Example:
    >>> TableName.parse("raw.orders").namespace
    'raw'
    >>> TableName.parse("raw.t/x")
    Traceback (most recent call last):
    ...
    logflow_dagster.core.errors.exceptions.UsageError: table 'raw.t/x': ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UsageError

_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
RULE = ("namespace.table, each part a letter or _ followed by letters, digits or _ "
        "(at most 128 characters)")


def identifier_problem(name: str) -> str | None:
    """Why ``name`` is not a valid ``namespace.table``, or None when it is.

    Example:
        >>> identifier_problem("raw.orders") is None, identifier_problem("raw..x")
        (True, 'empty part')
    """
    if not isinstance(name, str) or not name:
        return "empty name"
    parts = name.split(".")
    if len(parts) == 1:
        return "no namespace"
    if any(not p for p in parts):
        return "empty part"
    if len(parts) > 2:
        return "nested namespaces are not supported"
    for part in parts:
        if not _PART.fullmatch(part):
            bad = sorted({c for c in part if not (c.isascii() and (c.isalnum() or c == "_"))})
            if bad:
                return f"{part!r} holds {', '.join(map(repr, bad))}"
            return f"{part!r} must start with a letter or _ and have at most 128 characters"
    return None


@dataclass(frozen=True)
class TableName:
    """A validated ``namespace.table``.

    Example:
        >>> str(TableName.parse("raw.orders")), TableName.parse("raw.orders").name
        ('raw.orders', 'orders')
    """

    namespace: str
    name: str

    @classmethod
    def parse(cls, text: str) -> TableName:
        """Validates ``text``.

        Raises:
            UsageError: Naming the table, what is wrong and the rule.
        """
        problem = identifier_problem(text)
        if problem is not None:
            raise UsageError(f"table {text!r}: {problem}; use {RULE}")
        namespace, name = text.split(".")
        return cls(namespace, name)

    def __str__(self) -> str:
        return f"{self.namespace}.{self.name}"


def validate_table_name(text: str) -> str:
    """Returns ``text`` when it is a valid ``namespace.table``, else raises UsageError.

    Example:
        >>> validate_table_name("raw.orders")
        'raw.orders'
    """
    return str(TableName.parse(text))
