"""The join graph of a model: which cubes a query can combine, along which joins, and where a
join can repeat a cube's rows (fan-out).

Joins are directed as declared (like Cube: a join declared on ``orders`` to ``customers`` lets
a query rooted at ``orders`` reach ``customers``). A query's tree is rooted at one of its cubes
from which all of them are reachable; between two cubes the shortest path is taken, and two
different shortest paths are an ambiguity the loader refuses.

Example:
    >>> from logflow_dagster.semantic.loader import load_model_text
    >>> m = load_model_text('''
    ... cubes:
    ...   - name: orders
    ...     sql_table: raw.orders
    ...     joins: [{name: customers, relationship: belongs_to,
    ...              sql: "{CUBE}.customer_id = {customers}.id"}]
    ...   - name: customers
    ...     sql_table: raw.customers
    ... ''')
    >>> tree = join_tree(m, ["customers", "orders"])
    >>> tree.root, [j.target for j in tree.joins], tree.multiplied("customers")
    ('orders', ['customers'], True)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..core.errors import UsageError
from .model import Join, SemanticModel


@dataclass
class JoinTree:
    """The joins a query uses.

    Attributes:
        root: The cube the FROM starts at.
        joins: LEFT JOINs in order; each join's source is the root or an earlier target.
    """

    root: str
    joins: list[Join] = field(default_factory=list)

    @property
    def cubes(self) -> list[str]:
        """The root, then each joined cube."""
        return [self.root, *(j.target for j in self.joins)]

    def multiplied(self, cube: str) -> bool:
        """Whether some join of the tree can repeat rows of ``cube`` (walking the tree away
        from it crosses a join in its one-to-many direction).

        Example:
            >>> JoinTree("a").multiplied("a")
            False
        """
        seen = {cube}
        todo = deque([cube])
        while todo:
            here = todo.popleft()
            for join in self.joins:
                if here in (join.source, join.target):
                    other = join.target if here == join.source else join.source
                    if other in seen:
                        continue
                    if join.multiplies(here):
                        return True
                    seen.add(other)
                    todo.append(other)
        return False

    def key(self) -> list[list[str]]:
        """A JSON-ready description: ``[[source, target, relationship], ...]``."""
        return [[j.source, j.target, j.relationship] for j in self.joins]


def shortest_paths(model: SemanticModel, root: str) -> dict[str, list[Join]]:
    """The shortest join path from ``root`` to every cube it reaches.

    Raises:
        UsageError: Two different shortest paths reach a cube (an ambiguous join path),
            naming the root's joins and both paths.
    """
    paths: dict[str, list[Join]] = {root: []}
    todo = deque([root])
    while todo:
        here = todo.popleft()
        for join in model.cubes[here].joins.values():
            if join.target not in model.cubes:
                continue
            candidate = [*paths[here], join]
            known = paths.get(join.target)
            if known is None:
                paths[join.target] = candidate
                todo.append(join.target)
            elif len(known) == len(candidate) and known != candidate:
                cube = model.cubes[root]
                raise cube.location.error(
                    f"ambiguous join path from {root!r} to {join.target!r}: "
                    f"{_describe(root, known)} and {_describe(root, candidate)} (remove one "
                    "join or model the second path as its own cube)")
    return paths


def _describe(root: str, path: list[Join]) -> str:
    return " -> ".join([root, *(j.target for j in path)])


def check_join_paths(model: SemanticModel) -> None:
    """Refuses ambiguous join paths from any cube (see :func:`shortest_paths`)."""
    for name in model.cubes:
        shortest_paths(model, name)


def join_tree(model: SemanticModel, cubes: list[str]) -> JoinTree:
    """The join tree of a query over ``cubes`` (in the query's order of mention): rooted at the
    cube that reaches all others with the fewest joins (the first such on a tie).

    Raises:
        UsageError: No cube of the query reaches all the others.
    """
    wanted = list(dict.fromkeys(cubes))
    best: JoinTree | None = None
    for root in wanted:
        paths = shortest_paths(model, root)
        if not all(c in paths for c in wanted):
            continue
        joins: list[Join] = []
        for cube in wanted:
            for join in paths[cube]:
                if join not in joins:
                    joins.append(join)
        if best is None or len(joins) < len(best.joins):
            best = JoinTree(root, joins)
    if best is None:
        raise UsageError(f"cannot join cubes {', '.join(wanted)}: no cube has joins reaching "
                         "all the others")
    return best
