"""Member SQL snippets with Cube's references, parsed once into a sqlglot expression.

Cube writes references in braces: ``{CUBE}.col`` / ``{orders}.col`` (a column of this or of
another cube's table), ``{member}`` / ``{CUBE.member}`` / ``{cube.member}`` (another member's
SQL). Each reference becomes a placeholder identifier before parsing, so the text is parsed
by sqlglot exactly once and every substitution later happens on the AST: nothing of a member,
a value or a table name is ever pasted into SQL text.

Example:
    >>> s = parse_snippet("{CUBE}.amount * {rate}", where="x")
    >>> [r.resolve("orders") for r in s.member_refs()], s.table_refs
    (['orders.rate'], ['CUBE'])
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from ..core.errors import UsageError
from .tables import quiet_parse

_REF = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TABLE_PH = "__lf_t{}__"
_MEMBER_PH = "__lf_m{}__"
#: Cube context variables and functions this layer does not evaluate.
_CONTEXT = ("FILTER_PARAMS", "SECURITY_CONTEXT", "COMPILE_CONTEXT", "SQL_UTILS",
            "FILTER_GROUP", "securityContext")


@dataclass(frozen=True)
class MemberRef:
    """A ``{member}`` / ``{cube.member}`` / ``{CUBE.member}`` reference.

    Attributes:
        cube: The cube named, ``None`` for this cube (``{member}`` or ``{CUBE.member}``).
        name: The member's name.
    """

    cube: str | None
    name: str

    def resolve(self, own_cube: str) -> str:
        """``cube.member``, with this cube for an unqualified reference."""
        return f"{self.cube or own_cube}.{self.name}"


@dataclass
class Snippet:
    """A parsed snippet: ``ast`` with placeholders, and what they stand for.

    Attributes:
        text: The snippet as written.
        ast: The sqlglot expression (never mutated: :meth:`render` works on a copy).
        table_refs: Per table placeholder, the cube named (``CUBE`` for this one).
        members: Per member placeholder, the reference.
    """

    text: str
    ast: exp.Expression
    table_refs: list[str] = field(default_factory=list)
    members: list[MemberRef] = field(default_factory=list)

    def member_refs(self) -> list[MemberRef]:
        """The member references, in order of appearance."""
        return list(self.members)

    def cubes_named(self, own_cube: str) -> set[str]:
        """Cubes whose table columns the snippet reads directly (``{other}.col``)."""
        return {own_cube if t == "CUBE" else t for t in self.table_refs}

    def unqualified_columns(self) -> list[str]:
        """Plain column names (no ``{CUBE}.``): read from the declaring cube's table."""
        return [c.name for c in self.ast.find_all(exp.Column)
                if not c.table and not _placeholder(c.name)]

    def render(self, own_cube: str, table: Callable[[str], str],
               member: Callable[[str], exp.Expression]) -> exp.Expression:
        """The snippet as an expression of the query being built.

        Args:
            own_cube: The cube that declares the snippet.
            table: Cube name -> the SQL alias its rows have in the query.
            member: ``cube.member`` -> that member's expression (already rendered).

        Returns:
            A new expression: ``{cube}.col`` -> ``alias.col``, plain ``col`` ->
            ``own_alias.col``, ``{member}`` -> the member's expression.
        """
        def swap(node: exp.Expression) -> exp.Expression:
            if not isinstance(node, exp.Column):
                return node
            if node.table:
                index = _index(node.table, "t")
                if index is None:
                    return node
                target = self.table_refs[index]
                alias = table(own_cube if target == "CUBE" else target)
                return exp.column(node.this.copy(), table=exp.to_identifier(alias, quoted=True))
            index = _index(node.name, "m")
            if index is not None:
                return member(self.members[index].resolve(own_cube)).copy()
            return exp.column(node.this.copy(),
                              table=exp.to_identifier(table(own_cube), quoted=True))

        return self.ast.copy().transform(swap)


def _placeholder(name: str) -> bool:
    return name.startswith("__lf_") and name.endswith("__")


def _index(name: str, kind: str) -> int | None:
    m = re.fullmatch(rf"__lf_{kind}(\d+)__", name)
    return int(m.group(1)) if m else None


def parse_snippet(text: str, *, where: str, condition: bool = False) -> Snippet:
    """Parses a member/join/segment snippet.

    Args:
        text: The SQL as written in the model.
        where: ``file:line: key.path`` for error messages.
        condition: Whether it is a boolean condition (join ``sql``, segments, filters); only
            affects messages.

    Raises:
        UsageError: Bad SQL, a statement instead of an expression, a subquery or table
            function, or a Cube feature this layer does not support (``unsupported: ...``).
    """
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"{where}: expected SQL text")
    table_refs: list[str] = []
    members: list[MemberRef] = []

    def sub(m: re.Match[str]) -> str:
        inner = m.group(1).strip()
        end = m.end()
        followed_by_column = end < len(text) and text[end] == "."
        if any(inner.startswith(c) for c in _CONTEXT) or "(" in inner:
            raise UsageError(f"{where}: unsupported: {{{inner}}} (Cube context variables "
                             "and member functions)")
        parts = inner.split(".")
        if not all(_NAME.match(p) for p in parts):
            raise UsageError(f"{where}: bad reference {{{inner}}}")
        if len(parts) == 1 and followed_by_column:
            table_refs.append(parts[0])
            return _TABLE_PH.format(len(table_refs) - 1)
        if len(parts) == 1:
            if parts[0] == "CUBE":
                raise UsageError(f"{where}: {{CUBE}} must be followed by .column")
            members.append(MemberRef(None, parts[0]))
        elif len(parts) == 2:
            members.append(MemberRef(None if parts[0] == "CUBE" else parts[0], parts[1]))
        else:
            raise UsageError(f"{where}: unsupported: reference {{{inner}}} (granularity or "
                             "nested references)")
        return _MEMBER_PH.format(len(members) - 1)

    replaced = _REF.sub(sub, text)
    try:
        parsed = quiet_parse(replaced)
    except sqlglot.errors.SqlglotError as err:
        raise UsageError(f"{where}: not valid SQL: {str(err).splitlines()[0]}") from None
    if len(parsed) != 1 or parsed[0] is None:
        raise UsageError(f"{where}: expected one SQL expression")
    ast = parsed[0]
    if isinstance(ast, (exp.Query, exp.Command, exp.DDL, exp.DML, exp.Set, exp.Pragma)) \
            or ast.find(exp.Query) is not None:
        raise UsageError(f"{where}: unsupported: subqueries and statements in member sql")
    if ast.find(exp.Table) is not None:
        raise UsageError(f"{where}: unsupported: table references in member sql")
    kind = "condition" if condition else "expression"
    if isinstance(ast, exp.Alias):
        raise UsageError(f"{where}: expected an SQL {kind}, not an alias")
    return Snippet(text, ast, table_refs, members)
