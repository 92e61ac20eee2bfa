"""Access policies applied to queries and SQL: what :class:`~.layer.SemanticLayer` does for an
identity before it plans, routes or caches anything.

- A semantic query: a member the identity may not see is refused (:class:`Forbidden`); every
  cube the query reads adds its row filter to the query's filters (so the router takes a
  rollup only if it can evaluate them, else the raw tables); masked members are compiled from a
  copy of the model where they read as their mask (and so does every member built on them),
  answered from the raw tables.
- SQL: every project table behind a cube with policies is read through a subquery that applies
  the cube's row filter and hides (``EXCLUDE``) or masks (``REPLACE``) the columns of members
  the identity may not see; a table read by a ``sql:`` cube with policies, or by no cube when
  policies exist, is refused for an identity (only the trusted in-process caller reads it).

Example:
    >>> from logflow_dagster.semantic.loader import load_model_text
    >>> m = load_model_text('''
    ... cubes:
    ...   - name: orders
    ...     sql_table: raw.orders
    ...     dimensions: [{name: tenant, sql: tenant, type: string}]
    ...     measures: [{name: count, type: count}]
    ...     access_policy:
    ...       - role: "*"
    ...         row_level:
    ...           filters:
    ...             - {member: tenant, operator: equals, values: ["{ securityContext.tenant }"]}
    ... ''')
    >>> from logflow_dagster.auth.identity import Identity
    >>> from logflow_dagster.semantic.query import normalize_query
    >>> q = normalize_query({"measures": ["orders.count"]}, m)
    >>> secured, masked = secure_query(q, m, Identity("a", tenant="acme"))
    >>> secured.filters, masked
    ((Filter(member='orders.tenant', operator='equals', values=('acme',)),), None)
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from sqlglot import exp

from ..core.errors import Forbidden
from .filters import render_filter
from .model import Measure, SemanticModel
from .policies import CubeAccess, cube_access
from .query import Filter, FilterGroup, Query, policy_filter
from .snippets import parse_snippet


def has_policies(model: SemanticModel) -> bool:
    """Whether any cube of ``model`` has an access policy."""
    return any(c.access_policy for c in model.cubes.values())


def query_members(q: Query) -> list[str]:
    """Every member a query names (measures, dimensions, time dimensions, filters, segments)."""
    return list(dict.fromkeys([*q.measures, *q.dimensions,
                               *(t.dimension for t in q.time_dimensions),
                               *q.filter_members(), *q.segments]))


def _who(identity: Any) -> str:
    return str(getattr(identity, "id", "this identity"))


def secure_query(q: Query, model: SemanticModel, identity: Any,
                 cubes: set[str] | None = None,
                 memo: dict[frozenset[str], SemanticModel] | None = None
                 ) -> tuple[Query, SemanticModel | None]:
    """``q`` under ``identity``'s policies, and the masked model to compile it with (None
    when no member it reads is masked).

    Args:
        q: The normalized query.
        model: The model.
        identity: The caller (None: trusted, nothing applies).
        cubes: The cubes the query reads (its join tree; default: those of its members).
        memo: Masked models of ``model`` made before, by masked member set (the caller keeps
            it for as long as it keeps the model).

    Raises:
        Forbidden: A member or cube the identity may not see.
    """
    if identity is None or not has_policies(model):
        return q, None
    named = query_members(q)
    cubes = set(cubes or ()) | {model.member(m).cube for m in named}
    extra: list[Filter | FilterGroup] = []
    masked: set[str] = set()
    for name in sorted(cubes):
        access = cube_access(model.cube(name), identity)
        if access.full:
            continue
        if access.visible == frozenset() and not access.masked:
            raise Forbidden(f"cube {name!r} is not accessible to {_who(identity)}")
        for m in named:
            if model.member(m).cube == name and not access.shows(m):
                raise Forbidden(f"member {m!r} is not accessible to {_who(identity)}")
        masked |= access.masked
        if access.row_filter is not None:
            extra.append(policy_filter(access.row_filter, model,
                                       f"cube {name}: access_policy.row_level"))
    if extra:
        q = replace(q, filters=(*q.filters, *extra))
    read = masked & references(model, named)
    if not read:
        return q, None
    key = frozenset(read)
    if memo is None:
        return q, masked_model(model, key)
    if key not in memo:
        memo[key] = masked_model(model, key)
    return q, memo[key]


def references(model: SemanticModel, paths: list[str]) -> set[str]:
    """``paths`` and every member they reference, transitively (``{email}`` in a
    dimension's sql; the leaves of a ``number`` measure)."""
    seen: set[str] = set()
    todo = list(paths)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        member = model.find(path)
        if member is None:
            continue
        snippets = [member.snippet] if member.snippet is not None else []
        snippets += [f.snippet for f in getattr(member, "filters", []) if f.snippet]
        for snippet in snippets:
            todo.extend(ref.resolve(member.cube) for ref in snippet.member_refs())
    return seen


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return exp.Literal.string(str(value)).sql(dialect="duckdb")


def masked_model(model: SemanticModel, masked: frozenset[str]) -> SemanticModel:
    """A copy of ``model`` where each of ``masked`` reads as its mask (NULL by default); a
    member built on a masked one (``{amount}``) reads the mask too."""
    out = copy.deepcopy(model)
    for path in masked:
        member = out.member(path)
        text = _literal(member.mask)
        member.snippet = parse_snippet(text, where=f"mask of {path}")
        member.sql = text
        if isinstance(member, Measure):
            member.type = "number"  # the mask itself, not an aggregate over it
            member.filters = []
    return out


def visible_meta(meta: dict[str, Any], model: SemanticModel, identity: Any) -> dict[str, Any]:
    """Cube's ``/meta`` with only what ``identity`` may see (cubes it cannot see left out)."""
    if identity is None or not has_policies(model):
        return meta
    cubes = []
    for cube in meta.get("cubes", []):
        access = cube_access(model.cube(cube["name"]), identity)
        if access.full:
            cubes.append(cube)
            continue
        kept = dict(cube)
        for key in ("measures", "dimensions", "segments"):
            kept[key] = [m for m in cube.get(key, []) if access.shows(m["name"])]
        if any(kept[k] for k in ("measures", "dimensions", "segments")):
            cubes.append(kept)
    return {**meta, "cubes": cubes}


def _columns(model: SemanticModel, path: str) -> set[str]:
    """The table columns a member reads, through the members it references."""
    out: set[str] = set()
    for ref in references(model, [path]):
        member = model.find(ref)
        if member is not None and member.snippet is not None:
            out |= {c.name for c in member.snippet.ast.find_all(exp.Column)
                    if not c.name.startswith("__lf_")}
    return out


def table_guard(model: SemanticModel, identity: Any, table: str, alias: str,
                scan: exp.Expression, timezone: str = "UTC") -> exp.Expression:
    """How ``identity`` reads ``table`` in SQL: ``scan`` itself (no policy applies), or a
    subquery with the row filter and the hidden/masked columns of its cube's policy.

    Raises:
        Forbidden: The table is behind policies that SQL cannot apply (a ``sql:`` cube), or
            the identity may see nothing of it.
    """
    if identity is None or not has_policies(model):
        return scan
    cubes = [c for c in model.cubes.values() if c.sql_table == table]
    guarded = [c for c in cubes if c.access_policy]
    behind_sql = [c.name for c in model.cubes.values()
                  if c.sql_table is None and c.access_policy and c.sql_ast is not None
                  and table in {f"{t.db}.{t.name}" for t in c.sql_ast.find_all(exp.Table)}]
    if behind_sql:
        raise Forbidden(f"{table}: read by cube {behind_sql[0]!r}, whose access policy SQL "
                        "cannot apply; query the cube instead")
    if not guarded:
        return scan
    if len(guarded) > 1:
        raise Forbidden(f"{table}: several cubes with access policies read it; query them")
    cube = guarded[0]
    access: CubeAccess = cube_access(cube, identity)
    if access.full:
        return scan
    if access.visible == frozenset() and not access.masked:
        raise Forbidden(f"{table} is not accessible to {_who(identity)}")
    hidden_cols: set[str] = set()
    masked_cols: dict[str, Any] = {}
    for m in sorted(access.members):
        if access.visible is not None and m not in access.visible:
            if m in access.masked:
                member = model.member(m)
                plain = member.snippet is not None and isinstance(member.snippet.ast,
                                                                  exp.Column)
                for col in _columns(model, m):
                    if plain:  # the column's own member: its mask wins
                        masked_cols[col] = member.mask
                    else:
                        masked_cols.setdefault(col, None)
            else:
                hidden_cols |= _columns(model, m)
    masked_cols = {c: v for c, v in masked_cols.items() if c not in hidden_cols}
    star_args: dict[str, Any] = {}
    if hidden_cols:
        star_args["except_"] = [exp.column(exp.to_identifier(c, quoted=True))
                               for c in sorted(hidden_cols)]
    if masked_cols:
        star_args["replace"] = [exp.alias_(exp.maybe_parse(_literal(v), dialect="duckdb"),
                                           exp.to_identifier(c, quoted=True))
                                for c, v in sorted(masked_cols.items())]
    inner = scan.copy()
    inner.set("alias", exp.TableAlias(this=exp.to_identifier(cube.name, quoted=True)))
    select = exp.select(exp.Star(**star_args)).from_(inner)
    if access.row_filter is not None:
        flt = policy_filter(access.row_filter, model, f"cube {cube.name}: row_level")
        select = select.where(_condition(flt, model, timezone))
    return exp.Subquery(this=select, alias=exp.TableAlias(
        this=exp.to_identifier(alias, quoted=True)))


def _condition(flt: Filter | FilterGroup, model: SemanticModel, timezone: str
               ) -> exp.Expression:
    from .compiler import Renderer

    if isinstance(flt, FilterGroup):
        parts = [_condition(f, model, timezone) for f in flt.filters]
        return exp.Paren(this=exp.and_(*parts) if flt.kind == "and" else exp.or_(*parts))
    member = model.member(flt.member)
    kind = getattr(member, "type", "string")
    if kind not in ("string", "number", "boolean", "time"):
        kind = "number"
    return render_filter(flt, Renderer(model).dimension(flt.member), kind, timezone)


def table_visible(model: SemanticModel, identity: Any, table: str) -> bool:
    """Whether ``identity`` may read anything of ``table`` (``/v1/tables``, ``logflow
    tables``): False when its policies refuse the table outright."""
    try:
        table_guard(model, identity, table, "t", exp.Table(this=exp.to_identifier("t")))
    except Forbidden:
        return False
    return True
