"""Rollups: each ``type: rollup`` pre-aggregation as an Iceberg table of stored *parts*.

A rollup ``cube.name`` is the table ``rollups.<cube>__<name>`` of the project's catalog. It is
built by compiling one query (the rollup's dimensions, segments and time bucket, with part
measures) with the ordinary compiler against the raw tables pinned at their current snapshots,
once per configured time zone (``semantic.timezones``); the rows of all zones live in one table
with a ``__timezone`` column (a bucket is a local time of its zone).

Columns:

* ``d__<cube>__<dim>``: a stored dimension (the value as the raw query computes it);
* ``s__<cube>__<segment>``: a segment's condition as a boolean group column;
* ``t__<cube>__<dim>__<granularity>``: the time bucket (naive local time of ``__timezone``);
* ``m__<cube>__<measure>__<part>``: measure parts. ``count``/``sum``/``min``/``max`` are
  stored as themselves (``value``), ``avg`` as ``sum`` + non-null ``count``, a ``number``
  formula over measures as its leaf measures; ``count_distinct``, ``count_distinct_approx``
  and formulas that read columns themselves as their ``value`` at the rollup's grain (served
  at that exact grain only: DuckDB cannot merge its HyperLogLog state in SQL and the
  datasketches library has no DuckDB binding available offline).

Table properties record what it was built from: ``logflow.rollup.sources`` (JSON
``{namespace.table: snapshot_id}``), ``logflow.rollup.definition`` (a hash of the build SQL
of every zone: a changed model makes the rollup stale), ``logflow.rollup.timezones``.
``partition_granularity`` is accepted, but every build rewrites the whole table (one
overwrite snapshot): partial rebuilds are not implemented.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..core.errors import UsageError
from .compiler import Compiled, compile_query, leaf_measures
from .model import Dimension, Measure, Member, PreAggregation, SemanticModel
from .query import MAX_LIMIT, Query, TimeDimension
from .snippets import _index
from .tables import TableSnapshot, table_state

if TYPE_CHECKING:
    import pyarrow as pa

NAMESPACE = "rollups"
ZONE_COLUMN = "__timezone"
PROP_SOURCES = "logflow.rollup.sources"
PROP_DEFINITION = "logflow.rollup.definition"
PROP_TIMEZONES = "logflow.rollup.timezones"
PROP_BUILT_AT = "logflow.rollup.built-at"

#: Leaf measure types stored as parts that merge exactly (re-aggregation allowed).
_PARTS = {"count": (("value", "count"),), "sum": (("value", "sum"),),
          "min": (("value", "min"),), "max": (("value", "max"),),
          "avg": (("sum", "sum"), ("count", "count"))}


def _safe(path: str) -> str:
    return path.replace(".", "__")


@dataclass
class StoredMeasure:
    """How one leaf measure is stored: ``parts`` (kind -> column); ``additive`` when the parts
    merge exactly (re-aggregation allowed), else the column ``value`` is served only at the
    rollup's exact grain."""

    path: str
    type: str
    parts: dict[str, str]
    additive: bool


@dataclass
class Rollup:
    """A pre-aggregation resolved against its model: table, columns and the build query.

    Attributes:
        pre: The pre-aggregation.
        table: ``rollups.<cube>__<name>``.
        dimensions: Dimension path -> column.
        segments: Segment path -> column.
        time: ``(time dimension path, granularity, column)`` or None.
        measures: Leaf measure path -> :class:`StoredMeasure`.
        served: The rollup's measures (as listed) -> their leaf measures.
        build_model: The model plus the synthetic part measures / segment dimensions.
        part_members: Synthetic member path -> column (the build query's outputs).
    """

    pre: PreAggregation
    table: str
    dimensions: dict[str, str] = field(default_factory=dict)
    segments: dict[str, str] = field(default_factory=dict)
    time: tuple[str, str, str] | None = None
    measures: dict[str, StoredMeasure] = field(default_factory=dict)
    served: dict[str, list[str]] = field(default_factory=dict)
    build_model: SemanticModel | None = None
    part_members: dict[str, str] = field(default_factory=dict)
    lineage: dict[str, list[str]] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """``cube.name``."""
        return self.pre.path

    def build_query(self, timezone: str) -> Query:
        """The query whose rows are the rollup's rows in ``timezone``."""
        outputs = [p for p in self.part_members if p.split(".", 1)[1].startswith("__ru_m_")]
        seg_dims = [p for p in self.part_members if p.split(".", 1)[1].startswith("__ru_s_")]
        tds = (TimeDimension(self.time[0], self.time[1]),) if self.time else ()
        return Query(measures=tuple(outputs), dimensions=(*self.dimensions, *seg_dims),
                     time_dimensions=tds, timezone=timezone, limit=MAX_LIMIT)

    def compile(self, source: Any, timezone: str) -> Compiled:
        """The build SELECT in ``timezone`` (no ORDER BY / LIMIT)."""
        assert self.build_model is not None
        compiled = compile_query(self.build_query(timezone), self.build_model, source)
        for key in ("order", "limit", "offset"):
            compiled.ast.set(key, None)
        compiled.sql = compiled.ast.sql(dialect="duckdb", pretty=True)
        return compiled

    def output_column(self, key: str) -> str:
        """The table column of a build output (member path or time bucket key)."""
        if key in self.dimensions:
            return self.dimensions[key]
        if key in self.part_members:
            return self.part_members[key]
        if self.time and key == f"{self.time[0]}.{self.time[1]}":
            return self.time[2]
        raise KeyError(key)

    def fingerprint(self, timezones: list[str]) -> str:
        """A hash of the build SQL in every zone (with placeholder tables)."""
        def placeholder(cube: Any, alias: str) -> exp.Expression:
            src = cube.sql_table or cube.sql
            return exp.Table(this=exp.to_identifier(f"{alias}:{src}", quoted=True))

        text = "\n".join([self.table, *timezones,
                          *(self.compile(placeholder, z).sql for z in timezones)])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def source_tables(self) -> set[str]:
        """The ``namespace.table`` names the build reads."""
        tree = self.compile(lambda cube, alias: exp.Table(
            this=exp.to_identifier(alias, quoted=True)), "UTC").tree
        assert tree is not None and self.build_model is not None
        out: set[str] = set()
        for name in tree.cubes:
            cube = self.build_model.cube(name)
            if cube.sql_table:
                out.add(cube.sql_table)
            else:
                from .tables import tables_in

                out |= tables_in(cube.sql_ast)
        return out


def _synthetic(model: SemanticModel, additions: list[Member]) -> SemanticModel:
    cubes = dict(model.cubes)
    touched: dict[str, Any] = {}
    for member in additions:
        cube = touched.get(member.cube)
        if cube is None:
            cube = copy.copy(cubes[member.cube])
            cube.measures, cube.dimensions = dict(cube.measures), dict(cube.dimensions)
            touched[member.cube] = cubes[member.cube] = cube
        target = cube.measures if isinstance(member, Measure) else cube.dimensions
        target[member.name] = member
    return SemanticModel(cubes, list(model.files))


def _columns_read(model: SemanticModel, path: str, seen: set[str] | None = None) -> list[str]:
    """``cube.column`` source columns a member reads (for column lineage)."""
    seen = seen if seen is not None else set()
    if path in seen:
        return []
    seen.add(path)
    member = model.find(path)
    if member is None:
        return []
    snippets = [member.snippet] if member.snippet is not None else []
    if isinstance(member, Measure):
        snippets += [f.snippet for f in member.filters]
        if member.snippet is None and member.type == "count":
            keys = model.cube(member.cube).primary_keys
            if keys:
                return [c for k in keys for c in _columns_read(model, k.path, seen)]
    out: list[str] = []
    for snippet in snippets:
        if snippet is None:
            continue
        for col in snippet.ast.find_all(exp.Column):
            name = col.name
            if name.startswith("__lf_"):
                continue
            owner = member.cube
            index = _index(col.table, "t") if col.table else None
            if index is not None:
                ref = snippet.table_refs[index]
                owner = member.cube if ref == "CUBE" else ref
            out.append(f"{owner}.{name}")
        for ref in snippet.member_refs():
            out += _columns_read(model, ref.resolve(member.cube), seen)
    return list(dict.fromkeys(out))


def resolve_rollup(model: SemanticModel, pre: PreAggregation) -> Rollup:
    """The :class:`Rollup` of a pre-aggregation (columns, parts, the build model)."""
    r = Rollup(pre, f"{NAMESPACE}.{pre.cube}__{pre.name}")
    additions: list[Member] = []
    for d in pre.dimensions:
        r.dimensions[d] = f"d__{_safe(d)}"
        r.lineage[r.dimensions[d]] = _columns_read(model, d)
    for s in pre.segments:
        seg = model.segment(s)
        name = f"__ru_s_{seg.name}"
        additions.append(Dimension(name=name, cube=seg.cube, sql=seg.sql, type="boolean",
                                   snippet=seg.snippet, location=seg.location))
        col = f"s__{_safe(s)}"
        r.segments[s] = col
        r.part_members[f"{seg.cube}.{name}"] = col
        r.lineage[col] = _columns_read(model, s)
    if pre.time_dimension:
        gran = pre.granularity or "day"
        col = f"t__{_safe(pre.time_dimension)}__{gran}"
        r.time = (pre.time_dimension, gran, col)
        r.lineage[col] = _columns_read(model, pre.time_dimension)
    for m in pre.measures:
        leaves = leaf_measures(model, [m])
        if leaves != [m] and not all(isinstance(model.find(x.resolve(model.measure(m).cube)),
                                                Measure)
                                     for x in model.measure(m).snippet.member_refs()):
            leaves = [m]  # a formula mixing dimensions: stored as its value
        r.served[m] = leaves
        for leaf in leaves:
            if leaf in r.measures:
                continue
            measure = model.measure(leaf)
            parts = _PARTS.get(measure.type, (("value", None),))
            stored = StoredMeasure(leaf, measure.type, {}, measure.type in _PARTS)
            for kind, agg in parts:
                name = f"__ru_m_{measure.name}__{kind}"
                if agg is None:  # exact-grain value: the measure itself
                    synth = replace(measure, name=name, public=True)
                else:
                    synth = replace(measure, name=name, type=agg, public=True)
                additions.append(synth)
                col = f"m__{_safe(leaf)}__{kind}"
                stored.parts[kind] = col
                r.part_members[f"{measure.cube}.{name}"] = col
                r.lineage[col] = _columns_read(model, leaf)
            r.measures[leaf] = stored
    r.build_model = _synthetic(model, additions)
    return r


def rollups_of(model: SemanticModel, names: list[str] | None = None) -> list[Rollup]:
    """The model's rollups (all, or those named ``cube.name`` / ``cube__name`` / ``name``).

    Raises:
        UsageError: A name that matches no pre-aggregation.
    """
    out = [resolve_rollup(model, p) for p in model.pre_aggregations()]
    if not names:
        return out
    chosen = []
    for name in names:
        hits = [r for r in out if name in (r.path, r.table.split(".", 1)[1], r.pre.name,
                                            r.table)]
        if not hits:
            known = ", ".join(r.path for r in out) or "none"
            raise UsageError(f"unknown rollup {name!r} (rollups: {known})")
        chosen += [h for h in hits if h not in chosen]
    return chosen


@dataclass
class BuildResult:
    """One rollup built.

    Attributes:
        rollup: ``cube.name``.
        table: ``rollups.<cube>__<name>``.
        rows: Rows written (all zones).
        snapshot_id: The new Iceberg snapshot.
        sources: ``namespace.table`` -> snapshot id read.
        timezones: Zones built.
        schema: ``[{name, type}]`` of the table.
        lineage: Column -> source columns ``namespace.table.column``; ``aggregated`` marks
            measure columns (the others are group-by columns).
        seconds: Build time.
    """

    rollup: str
    table: str
    rows: int
    snapshot_id: int | None
    sources: dict[str, int | None]
    timezones: list[str]
    schema: list[dict[str, str]]
    lineage: dict[str, list[str]]
    aggregated: list[str]
    seconds: float
    metadata_location: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"rollup": self.rollup, "table": self.table, "rows": self.rows,
                "snapshot_id": self.snapshot_id, "sources": dict(self.sources),
                "timezones": list(self.timezones), "schema": list(self.schema),
                "lineage": dict(self.lineage), "aggregated": list(self.aggregated),
                "seconds": self.seconds}


def _rows(rollup: Rollup, snapshots: dict[str, TableSnapshot], timezones: list[str],
          warehouse: str) -> pa.Table:
    import pyarrow as pa

    from .execute import locked_connection, raw_source, run

    parts = []
    con = locked_connection(warehouse)
    try:
        for zone in timezones:
            compiled = rollup.compile(raw_source(snapshots), zone)
            table = run(con, compiled.sql)
            table = table.rename_columns([rollup.output_column(c) for c in table.column_names])
            parts.append(table.append_column(ZONE_COLUMN, pa.array([zone] * table.num_rows,
                                                                   pa.string())))
    finally:
        con.close()
    return pa.concat_tables(parts)


def _table_lineage(rollup: Rollup, model: SemanticModel, catalog_tables: dict[str, str]
                   ) -> dict[str, list[str]]:
    """Rollup column -> ``namespace.table.column`` (cube columns mapped to their tables)."""
    out: dict[str, list[str]] = {}
    for col, reads in rollup.lineage.items():
        items = []
        for item in reads:
            cube, _, column = item.partition(".")
            table = catalog_tables.get(cube)
            items.append(f"{table}.{column}" if table else item)
        out[col] = list(dict.fromkeys(items))
    return out


def build_rollup(rollup: Rollup, catalog: Any, warehouse: str, timezones: list[str],
                 model: SemanticModel) -> BuildResult:
    """Builds (overwrites) one rollup table from the raw tables at their current snapshots.

    Args:
        rollup: From :func:`rollups_of`.
        catalog: An open pyiceberg catalog.
        warehouse: The warehouse URI (for the locked DuckDB connection).
        timezones: Zones to build (``semantic.timezones``).
        model: The semantic model (for lineage).
    """
    from pyiceberg.exceptions import NoSuchTableError

    from ..lakehouse.catalog import ensure_namespace
    from ..lakehouse.schema_policy import iceberg_ready
    from .tables import resolve_snapshots

    t0 = time.perf_counter()
    snapshots = resolve_snapshots(catalog, rollup.source_tables())
    table = iceberg_ready(_rows(rollup, snapshots, timezones, warehouse))
    ensure_namespace(catalog, NAMESPACE)
    props = {PROP_SOURCES: json.dumps({t: s.snapshot_id for t, s in sorted(snapshots.items())}),
             PROP_DEFINITION: rollup.fingerprint(timezones),
             PROP_TIMEZONES: json.dumps(list(timezones)),
             PROP_BUILT_AT: str(int(time.time() * 1000))}
    try:
        ice = catalog.load_table(rollup.table)
        if not _same_schema(ice.schema().as_arrow(), table.schema):
            catalog.drop_table(rollup.table)
            raise NoSuchTableError(rollup.table)
    except NoSuchTableError:
        ice = catalog.create_table(rollup.table, schema=table.schema)
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Delete operation did not match")
        with ice.transaction() as tx:
            tx.overwrite(table)
            tx.set_properties(**props)
    ice = catalog.load_table(rollup.table)
    snap = ice.current_snapshot()
    cube_tables = {c.name: c.sql_table for c in model.cubes.values() if c.sql_table}
    aggregated = [c for m in rollup.measures.values() for c in m.parts.values()]
    return BuildResult(
        rollup=rollup.path, table=rollup.table, rows=table.num_rows,
        snapshot_id=snap.snapshot_id if snap else None,
        sources={t: s.snapshot_id for t, s in snapshots.items()}, timezones=list(timezones),
        schema=[{"name": f.name, "type": str(f.type)} for f in table.schema],
        lineage=_table_lineage(rollup, model, cube_tables), aggregated=aggregated,
        seconds=round(time.perf_counter() - t0, 3), metadata_location=ice.metadata_location)


def _same_schema(a: pa.Schema, b: pa.Schema) -> bool:
    import pyarrow as pa

    def norm(t: pa.DataType) -> str:
        if pa.types.is_large_string(t) or pa.types.is_string(t):
            return "string"
        return str(t)

    return [(f.name, norm(f.type)) for f in a] == [(f.name, norm(f.type)) for f in b]


def rollup_state(catalog: Any, rollup: Rollup) -> tuple[TableSnapshot, dict[str, str]] | None:
    """The built table's pinned snapshot and properties, or None when not built."""
    state = table_state(catalog, rollup.table)
    if state is None or state[1] is None:
        return None
    location, snapshot_id, properties = state
    return TableSnapshot(rollup.table, location, snapshot_id), dict(properties)
