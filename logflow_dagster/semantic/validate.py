"""Whole-model checks, run once at load: references resolve, members do not reference each
other in a cycle, joins name real cubes and are unambiguous, formulas reference measures,
pre-aggregations name members they can reach. Each error names ``file:line: key.path``.
"""

from __future__ import annotations

from .joins import check_join_paths, shortest_paths
from .model import Cube, Dimension, Location, Measure, Member, Segment, SemanticModel
from .snippets import Snippet


def validate_model(model: SemanticModel) -> None:
    """Raises a :class:`UsageError` for the first problem of ``model``."""
    for cube in model.cubes.values():
        for join in cube.joins.values():
            _check_join(model, cube, join)
        for member in [*cube.dimensions.values(), *cube.measures.values(),
                       *cube.segments.values()]:
            _check_member(model, cube, member)
    _check_cycles(model)
    check_join_paths(model)
    for cube in model.cubes.values():
        for pre in cube.pre_aggregations.values():
            _check_pre_aggregation(model, cube, pre)


def _where(member: Member) -> Location:
    loc = member.location
    return member.sql_location or Location(loc.file, loc.line, (*loc.path, "sql"))


def _check_tables(model: SemanticModel, cube: Cube, snippet: Snippet, where: Location,
                  allowed: set[str] | None = None) -> None:
    for name in snippet.table_refs:
        target = cube.name if name == "CUBE" else name
        if target not in model.cubes:
            raise where.error(f"{{{name}}}: no cube {name!r}")
        if allowed is not None and target not in allowed:
            raise where.error(f"unsupported: {{{name}}}.column here (only "
                              f"{', '.join(sorted(allowed))})")


def _check_join(model: SemanticModel, cube: Cube, join) -> None:
    if join.target not in model.cubes:
        raise join.location.error(f"join to an unknown cube {join.target!r} (cubes: "
                                  f"{', '.join(model.cubes)})")
    _check_tables(model, cube, join.snippet, join.location, {cube.name, join.target})
    for ref in join.snippet.member_refs():
        path = ref.resolve(cube.name)
        found = model.find(path)
        if not isinstance(found, Dimension) or found.cube not in (cube.name, join.target):
            raise join.location.error(f"{{{ref.name if ref.cube is None else path}}}: "
                                      f"expected a dimension of {cube.name} or {join.target}")


def _check_member(model: SemanticModel, cube: Cube, member: Member) -> None:
    snippets: list[tuple[Snippet, Location]] = []
    if member.snippet is not None:
        snippets.append((member.snippet, _where(member)))
    if isinstance(member, Measure):
        snippets += [(f.snippet, f.location) for f in member.filters if f.snippet]
    for snippet, where in snippets:
        own_only = {cube.name} if isinstance(member, Measure) else None
        _check_tables(model, cube, snippet, where, own_only)
        for ref in snippet.member_refs():
            path = ref.resolve(cube.name)
            target = model.find(path)
            if target is None:
                if ref.cube is None and ref.name in model.cubes:
                    raise where.error(f"{{{ref.name}}} is a cube: write {{{ref.name}}}.column "
                                      "or {cube.member}")
                raise where.error(f"unknown member {path!r} in {{...}}")
            _check_reference(member, target, path, where, snippet is member.snippet)
    if isinstance(member, Measure) and member.type == "number" and member.snippet is not None \
            and not any(isinstance(model.find(r.resolve(cube.name)), Measure)
                        for r in member.snippet.member_refs()) and not _has_aggregate(member):
        raise _where(member).error("a number measure must reference measures ({count}) "
                                   "or aggregate its cube's columns")


def _has_aggregate(member: Member) -> bool:
    from sqlglot import exp

    return member.snippet is not None and member.snippet.ast.find(exp.AggFunc) is not None


def _check_reference(member: Member, target: Member, path: str, where: Location,
                     own_sql: bool) -> None:
    if isinstance(target, Segment):
        raise where.error(f"{path!r} is a segment: reference a dimension")
    if isinstance(member, Measure) and member.type == "number" and own_sql:
        if isinstance(target, Measure):
            return
        raise where.error(f"a number measure references {path!r}, which is not a measure")
    if isinstance(member, Measure) and target.cube != member.cube:
        raise where.error(f"unsupported: a {member.type} measure reading another cube's member "
                          f"{path!r}")
    if isinstance(target, Measure):
        kind = "measure" if isinstance(member, Measure) else type(member).__name__.lower()
        raise where.error(f"unsupported: a {kind} referencing the measure {path!r} "
                          "(only number measures combine measures)")


def _check_cycles(model: SemanticModel) -> None:
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(path: str, chain: list[str]) -> None:
        if state.get(path) == 2:
            return
        member = model.find(path)
        if state.get(path) == 1:
            cycle = " -> ".join([*chain[chain.index(path):], path])
            raise _where(model.find(chain[chain.index(path)])).error(  # type: ignore[arg-type]
                f"member references form a cycle: {cycle}")
        if member is None or member.snippet is None:
            state[path] = 2
            return
        state[path] = 1
        for ref in member.snippet.member_refs():
            visit(ref.resolve(member.cube), [*chain, path])
        state[path] = 2

    for cube in model.cubes.values():
        for name in [*cube.dimensions, *cube.measures, *cube.segments]:
            visit(f"{cube.name}.{name}", [])


def _check_pre_aggregation(model: SemanticModel, cube: Cube, pre) -> None:
    reachable = set(shortest_paths(model, cube.name))
    checks = [("measures", Measure, pre.measures), ("dimensions", Dimension, pre.dimensions),
              ("segments", Segment, pre.segments)]
    if pre.time_dimension:
        checks.append(("time_dimension", Dimension, [pre.time_dimension]))
    for key, kind, members in checks:
        for path in members:
            where = pre.member_locations.get(path, pre.location)
            found = model.find(path)
            if found is None:
                raise where.error(f"unknown member {path!r}")
            if not isinstance(found, kind):
                raise where.error(f"{path!r} is not a {kind.__name__.lower()}")
            if found.cube not in reachable:
                raise where.error(f"{path!r}: cube {found.cube!r} is not reachable by joins "
                                  f"from {cube.name!r}")
            if key == "time_dimension" and found.type != "time":  # type: ignore[union-attr]
                raise where.error(f"{path!r} is not a time dimension")
