"""Normalized query + model -> one sqlglot SELECT (DuckDB dialect).

Every member's SQL was parsed at load (:mod:`.snippets`); here references become AST nodes,
filter values typed literals (:mod:`.filters`), and tables whatever the ``source`` callback
returns for a cube (raw: the snapshot-pinned ``iceberg_scan`` of its table, or its ``sql:``
subquery over such scans). Nothing is pasted into SQL text.

Two plans:

* **direct**: the measures come from one cube that no join of the query's tree multiplies:
  ``SELECT dims, aggregates FROM root LEFT JOIN ... WHERE ... GROUP BY dims HAVING ...``;
* **per-cube**: measures from several cubes, or a cube a one-to-many join multiplies. For each
  measure cube a CTE aggregates it alone, grouped by the query's dimensions: a multiplied cube
  first takes the DISTINCT (dimensions, primary key) pairs of the joined rows, then joins its
  own rows once per pair (Cube's primary-key de-duplication), so a fan-out join never repeats a
  row in a sum. The CTEs meet on the dimensions (``IS NOT DISTINCT FROM``) through the
  DISTINCT dimension tuples of the joined, filtered rows; ``number`` measures over several
  cubes are computed on top.

Example:
    >>> from logflow_dagster.semantic.loader import load_model_text
    >>> from logflow_dagster.semantic.query import normalize_query
    >>> m = load_model_text('''
    ... cubes:
    ...   - name: orders
    ...     sql_table: raw.orders
    ...     measures: [{name: total, sql: amount, type: sum}]
    ...     dimensions: [{name: region, sql: region, type: string}]
    ... ''')
    >>> q = normalize_query({"measures": ["orders.total"], "dimensions": ["orders.region"]}, m)
    >>> c = compile_query(q, m, lambda cube, alias: exp.table_("orders", db="raw", alias=alias))
    >>> print(c.sql)
    SELECT
      "orders".region AS "orders.region",
      SUM("orders".amount) AS "orders.total"
    FROM raw.orders AS orders
    GROUP BY
      "orders".region
    ORDER BY
      "orders.total" DESC,
      "orders.region" ASC
    LIMIT 10000
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from ..core.errors import UsageError
from .filters import bucket, in_range, render_filter
from .joins import JoinTree, join_tree
from .model import Cube, Dimension, Measure, SemanticModel
from .query import Filter, FilterGroup, Query

#: cube, alias -> the FROM item of the cube's rows (a table or an aliased subquery).
Source = Callable[[Cube, str], exp.Expression]


@dataclass
class Compiled:
    """A compiled query.

    Attributes:
        ast: The SELECT.
        sql: ``ast`` in DuckDB's dialect, pretty-printed.
        columns: Output column -> ``dimension``, ``time`` or ``measure`` (in order).
        tree: The join tree used.
        plan: ``direct`` or ``per-cube``.
    """

    ast: exp.Query
    sql: str
    columns: dict[str, str] = field(default_factory=dict)
    tree: JoinTree | None = None
    plan: str = "direct"


def _id(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(_id(name), table=_id(table) if table else None)


class Renderer:
    """Member expressions inside a query whose cubes are aliased by their names."""

    def __init__(self, model: SemanticModel) -> None:
        self.model = model

    @staticmethod
    def alias(cube: str) -> str:
        """The SQL alias of a cube's rows."""
        return cube

    def dimension(self, path: str) -> exp.Expression:
        """The expression of a dimension (references expanded)."""
        dim = self.model.member(path)
        assert dim.snippet is not None
        out = dim.snippet.render(dim.cube, self.alias, self.dimension)
        if not isinstance(out, (exp.Column, exp.Literal, exp.Func, exp.Paren, exp.Cast)):
            out = exp.Paren(this=out)  # keeps its precedence where it is used
        return out

    def condition(self, snippet, cube: str) -> exp.Expression:
        """A segment or measure-filter condition."""
        return exp.Paren(this=snippet.render(cube, self.alias, self.dimension))

    def row_value(self, measure: Measure) -> exp.Expression | None:
        """What a measure aggregates per row (filters applied as CASE WHEN). A ``count``
        without sql counts its cube's primary key (as Cube does: rows a LEFT JOIN did not
        match are not counted; a composite key counts rows where any part is set), or rows
        (None) for a cube without one."""
        value = measure.snippet.render(measure.cube, self.alias, self.dimension) \
            if measure.snippet is not None else None
        if value is None and measure.type == "count":
            keys = [self.dimension(k.path) for k in self.model.cube(measure.cube).primary_keys]
            if len(keys) == 1:
                value = keys[0]
            elif keys:
                value = exp.Case(ifs=[exp.If(
                    this=exp.or_(*[exp.Not(this=exp.Is(this=k, expression=exp.Null()))
                                   for k in keys]),
                    true=exp.Literal.number(1))])
        if measure.filters:
            conds = [self.condition(f.snippet, measure.cube) for f in measure.filters]
            value = exp.Case(ifs=[exp.If(this=exp.and_(*conds),
                                         true=value or exp.Literal.number(1))])
        return value

    def aggregate(self, path: str, ref: Callable[[str], exp.Expression] | None = None
                  ) -> exp.Expression:
        """The aggregate of a measure; ``number`` formulas expand their references with
        ``ref`` (default: their aggregates, recursively)."""
        measure = self.model.measure(path)
        if measure.type == "number":
            assert measure.snippet is not None
            return exp.Paren(this=measure.snippet.render(
                measure.cube, self.alias, lambda p: self._number_ref(p, ref)))
        value = self.row_value(measure)
        if measure.type == "count":
            return exp.Count(this=value if value is not None else exp.Star())
        if measure.type == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[value]))
        if measure.type == "count_distinct_approx":
            return exp.Anonymous(this="approx_count_distinct", expressions=[value])
        func = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[measure.type]
        return func(this=value)

    def _number_ref(self, path: str, ref: Callable[[str], exp.Expression] | None
                    ) -> exp.Expression:
        if isinstance(self.model.find(path), Measure):
            return ref(path) if ref is not None else self.aggregate(path)
        return self.dimension(path)

    def ungrouped(self, path: str) -> exp.Expression:
        """A measure's per-row value for ungrouped queries (count: 1 or NULL)."""
        measure = self.model.measure(path)
        if measure.type == "number":
            assert measure.snippet is not None
            return exp.Paren(this=measure.snippet.render(measure.cube, self.alias,
                                                         self._ungrouped_ref))
        value = self.row_value(measure)
        if measure.type == "count":
            if value is None:
                return exp.Literal.number(1)
            return exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=value,
                                                                  expression=exp.Null())),
                                        true=exp.Literal.number(1))])
        return value  # type: ignore[return-value]

    def _ungrouped_ref(self, path: str) -> exp.Expression:
        return self.ungrouped(path) if isinstance(self.model.find(path), Measure) \
            else self.dimension(path)

    def cubes_of(self, path: str, seen: set[str] | None = None) -> set[str]:
        """Cubes a member reads: its own, those its SQL names, those of its references."""
        seen = seen if seen is not None else set()
        if path in seen:
            return set()
        seen.add(path)
        member = self.model.member(path)
        out = {member.cube}
        snippets = [member.snippet] if member.snippet is not None else []
        if isinstance(member, Measure):
            snippets += [f.snippet for f in member.filters]
        for snippet in snippets:
            out |= snippet.cubes_named(member.cube)
            for ref in snippet.member_refs():
                out |= self.cubes_of(ref.resolve(member.cube), seen)
        return out


def leaf_measures(model: SemanticModel, paths: list[str]) -> list[str]:
    """Measures computed inside their cube: non-``number`` ones and ``number`` ones that read
    columns themselves; ``number`` formulas over measures only are expanded."""
    out: list[str] = []
    for path in paths:
        measure = model.measure(path)
        if measure.type == "number" and measure.snippet is not None \
                and not measure.snippet.unqualified_columns() \
                and not measure.snippet.table_refs:
            inner = [r.resolve(measure.cube) for r in measure.snippet.member_refs()]
            leaves = leaf_measures(model, inner)
        else:
            leaves = [path]
        out.extend(x for x in leaves if x not in out)
    return out


def order_keys(q: Query) -> list[tuple[str, str]]:
    """The ORDER BY of a query's result: the asked order, then every group column ascending,
    so that rows tied on the asked order come in one deterministic order and a LIMIT keeps the
    same rows whichever source (raw or a rollup) answers."""
    ordered = {k for k, _ in q.order}
    ties = [] if q.ungrouped else [
        k for k in (*q.dimensions, *(t.key for t in q.time_dimensions if t.key))
        if k not in ordered]
    return [*q.order, *((k, "asc") for k in ties)]


class Compiler:
    """Compiles one query; subclass and override :meth:`from_item` to read other tables."""

    def __init__(self, model: SemanticModel, query: Query, source: Source) -> None:
        self.model, self.query, self.source = model, query, source
        self.r = Renderer(model)

    def from_item(self, cube: str) -> exp.Expression:
        """The cube's rows, aliased by its name."""
        return self.source(self.model.cube(cube), Renderer.alias(cube))

    # -- pieces -------------------------------------------------------------------------
    def _measure_paths(self) -> list[str]:
        q = self.query
        extra = [m for m in q.filter_members() if isinstance(self.model.find(m), Measure)]
        return list(dict.fromkeys([*q.measures, *extra]))

    def _tree(self, leaves: list[str]) -> JoinTree:
        q = self.query
        paths = [*leaves, *q.dimensions, *(t.dimension for t in q.time_dimensions),
                 *q.filter_members(), *q.segments]
        cubes: list[str] = []
        for p in paths:
            for c in [self.model.member(p).cube, *sorted(self.r.cubes_of(p))]:
                if c not in cubes:
                    cubes.append(c)
        return join_tree(self.model, cubes)

    def _from(self, select: exp.Select, tree: JoinTree) -> exp.Select:
        select = select.from_(self.from_item(tree.root))
        for join in tree.joins:
            assert join.snippet is not None
            on = join.snippet.render(join.source, Renderer.alias, self.r.dimension)
            select = select.join(self.from_item(join.target), on=on, join_type="left")
        return select

    def _groups(self) -> list[tuple[str, exp.Expression, str]]:
        q = self.query
        out = [(d, self.r.dimension(d), "dimension") for d in q.dimensions]
        for td in q.time_dimensions:
            if td.key:
                out.append((td.key, bucket(self.r.dimension(td.dimension), td.granularity,
                                           q.timezone), "time"))
        return out

    def _split_filters(self) -> tuple[list[Filter | FilterGroup], list[Filter | FilterGroup]]:
        dims, measures = [], []
        for f in self.query.filters:
            members = _members(f)
            kinds = {isinstance(self.model.find(m), Measure) for m in members}
            if len(kinds) > 1:
                raise UsageError("query.filters: a group mixes measures and dimensions")
            (measures if True in kinds else dims).append(f)
        return dims, measures

    def _condition(self, f: Filter | FilterGroup,
                   value: Callable[[str], exp.Expression]) -> exp.Expression:
        if isinstance(f, FilterGroup):
            parts = [self._condition(x, value) for x in f.filters]
            joined = exp.and_(*parts) if f.kind == "and" else exp.or_(*parts)
            return exp.Paren(this=joined)
        member = self.model.member(f.member)
        kind = member.type if isinstance(member, Dimension) else "number"
        return render_filter(f, value(f.member), kind, self.query.timezone)

    def _where(self, dim_filters: list[Filter | FilterGroup]) -> list[exp.Expression]:
        q = self.query
        out = [self._condition(f, self.r.dimension) for f in dim_filters]
        for td in q.time_dimensions:
            if td.date_range is not None:
                out.append(in_range(self.r.dimension(td.dimension), td.date_range, q.timezone))
        for s in q.segments:
            seg = self.model.segment(s)
            out.append(self.r.condition(seg.snippet, seg.cube))
        return out

    def _finish(self, select: exp.Select) -> exp.Select:
        q = self.query
        keys = order_keys(q)
        if keys:
            select = select.order_by(*[exp.Ordered(this=_col(k), desc=d == "desc")
                                       for k, d in keys])
        select = select.limit(q.limit)
        if q.offset:
            select = select.offset(q.offset)
        return select

    # -- plans --------------------------------------------------------------------------
    def compile(self) -> Compiled:
        """The query's SELECT."""
        q = self.query
        measures = self._measure_paths()
        leaves = leaf_measures(self.model, measures)
        tree = self._tree(leaves)
        dim_filters, measure_filters = self._split_filters()
        groups = self._groups()
        columns = {k: kind for k, _, kind in groups}
        columns.update({m: "measure" for m in q.measures})
        measure_cubes = list(dict.fromkeys(self.model.member(m).cube for m in leaves))
        if q.ungrouped:
            ast = self._ungrouped(tree, groups, dim_filters, measure_filters)
            plan = "ungrouped"
        elif len(measure_cubes) <= 1 and not any(tree.multiplied(c) for c in measure_cubes):
            ast = self._direct(tree, groups, dim_filters, measure_filters)
            plan = "direct"
        else:
            ast = self._per_cube(tree, groups, dim_filters, measure_filters, leaves,
                                 measure_cubes)
            plan = "per-cube"
        return Compiled(ast, ast.sql(dialect="duckdb", pretty=True), columns, tree, plan)

    def _direct(self, tree, groups, dim_filters, measure_filters) -> exp.Select:
        q = self.query
        items = [exp.alias_(e, _id(k)) for k, e, _ in groups]
        items += [exp.alias_(self.r.aggregate(m), _id(m)) for m in q.measures]
        select = self._from(exp.select(*items), tree)
        where = self._where(dim_filters)
        if where:
            select = select.where(exp.and_(*where))
        if groups:
            select = select.group_by(*[e.copy() for _, e, _ in groups])
        having = [self._condition(f, self.r.aggregate) for f in measure_filters]
        if having:
            select = select.having(exp.and_(*having))
        return self._finish(select)

    def _ungrouped(self, tree, groups, dim_filters, measure_filters) -> exp.Select:
        q = self.query
        items = [exp.alias_(e, _id(k)) for k, e, _ in groups]
        items += [exp.alias_(self.r.ungrouped(m), _id(m)) for m in q.measures]
        select = self._from(exp.select(*items), tree)
        where = self._where(dim_filters)
        where += [self._condition(f, self.r.ungrouped) for f in measure_filters]
        if where:
            select = select.where(exp.and_(*where))
        return self._finish(select)

    def _per_cube(self, tree, groups, dim_filters, measure_filters, leaves,
                  measure_cubes) -> exp.Select:
        q = self.query
        where = self._where(dim_filters)
        dim_names = [f"__d{i}" for i in range(len(groups))]
        leaf_col = {m: f"__m{i}" for i, m in enumerate(leaves)}
        ctes: list[tuple[str, exp.Select]] = []
        for n, cube in enumerate(measure_cubes):
            mine = [m for m in leaves if self.model.member(m).cube == cube]
            aggs = [exp.alias_(self.r.aggregate(m), _id(leaf_col[m])) for m in mine]
            if tree.multiplied(cube):
                pks = self.model.cube(cube).primary_keys
                if not pks:
                    raise UsageError(f"cube {cube!r} needs a primary_key dimension: a join of "
                                     "this query can repeat its rows, and its measures are "
                                     "de-duplicated by that key")
                pk_names = [f"__pk{i}" for i in range(len(pks))]
                keys = exp.select(*[exp.alias_(e.copy(), _id(d))
                                    for (_, e, _), d in zip(groups, dim_names, strict=True)],
                                  *[exp.alias_(self.r.dimension(k.path), _id(n))
                                    for k, n in zip(pks, pk_names, strict=True)])
                keys = self._from(keys.distinct(), tree)
                if where:
                    keys = keys.where(exp.and_(*[w.copy() for w in where]))
                ctes.append((f"__keys{n}", keys))
                agg = exp.select(*[_col(d, "__k") for d in dim_names], *aggs).from_(
                    exp.alias_(exp.to_table(f'"__keys{n}"'), _id("__k"), table=True))
                agg = agg.join(self.from_item(cube), on=exp.and_(*[
                    exp.EQ(this=self.r.dimension(k.path), expression=_col(n, "__k"))
                    for k, n in zip(pks, pk_names, strict=True)]), join_type="inner")
                group_cols = [_col(d, "__k") for d in dim_names]
            else:
                agg = self._from(exp.select(*[exp.alias_(e.copy(), _id(d)) for (_, e, _), d
                                              in zip(groups, dim_names, strict=True)], *aggs),
                                 tree)
                if where:
                    agg = agg.where(exp.and_(*[w.copy() for w in where]))
                group_cols = [e.copy() for _, e, _ in groups]
            if group_cols:
                agg = agg.group_by(*group_cols)
            ctes.append((f"__agg{n}", agg))
        cte_of = {c: f"__agg{n}" for n, c in enumerate(measure_cubes)}

        def leaf_ref(path: str) -> exp.Expression:
            measure = self.model.measure(path)
            column = _col(leaf_col[path], cte_of[measure.cube])
            if measure.type in ("count", "count_distinct", "count_distinct_approx"):
                return exp.Coalesce(this=column, expressions=[exp.Literal.number(0)])
            return column

        def value(path: str) -> exp.Expression:
            if path in leaf_col:
                return leaf_ref(path)
            return self.r.aggregate(path, ref=value)

        if groups:
            dims = self._from(exp.select(*[exp.alias_(e.copy(), _id(d)) for (_, e, _), d
                                           in zip(groups, dim_names, strict=True)]).distinct(),
                              tree)
            if where:
                dims = dims.where(exp.and_(*[w.copy() for w in where]))
            ctes.append(("__dims", dims))
            final = exp.select(*[exp.alias_(_col(d, "__dims"), _id(k))
                                 for (k, _, _), d in zip(groups, dim_names, strict=True)])
            final = final.from_(exp.to_table('"__dims"'))
            for name in cte_of.values():
                on = exp.and_(*[exp.NullSafeEQ(this=_col(d, "__dims"), expression=_col(d, name))
                                for d in dim_names])
                final = final.join(exp.to_table(f'"{name}"'), on=on, join_type="left")
        else:
            names = list(cte_of.values())
            final = exp.select().from_(exp.to_table(f'"{names[0]}"'))
            for name in names[1:]:
                final = final.join(exp.to_table(f'"{name}"'), join_type="cross")
        final = final.select(*[exp.alias_(value(m), _id(m)) for m in q.measures])
        conds = [self._condition(f, value) for f in measure_filters]
        if conds:
            final = final.where(exp.and_(*conds))
        for name, body in ctes:
            final = final.with_(_id(name), as_=body)
        return self._finish(final)


def _members(f: Filter | FilterGroup) -> list[str]:
    if isinstance(f, Filter):
        return [f.member]
    return [m for x in f.filters for m in _members(x)]


def compile_query(query: Query, model: SemanticModel, source: Source) -> Compiled:
    """Compiles a normalized query.

    Args:
        query: From :func:`~.query.normalize_query`.
        model: The model the query was normalized against.
        source: cube, alias -> its FROM item (see :func:`~.execute.raw_source`).

    Raises:
        UsageError: Cubes without a join path, a fan-out without a primary key, a filter group
            mixing measures and dimensions.
    """
    return Compiler(model, query, source).compile()
