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
With a time dimension and ``partition_granularity`` (hour/day/week/month/quarter/year; week
and quarter partition by day and month) the table is partitioned by that transform of the time
bucket column. A rebuild then replaces only the touched partitions when it can prove which
(:func:`partition_plan`): only the time dimension's table changed, only by appends or our
ingest's overwrites, and the changed data files carry bounds of the time column; the rows of
the local range ``[start, end)`` (whole partitions, one more on each side, aligned to buckets,
the same range in every zone) are recomputed and replaced in one overwrite. Anything else
rebuilds the whole table.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..core.errors import UsageError
from .compiler import Compiled, compile_query, leaf_measures
from .model import Dimension, Measure, Member, PreAggregation, SemanticModel
from .query import MAX_LIMIT, DateRange, Query, TimeDimension
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

    def build_query(self, timezone: str, local_range: tuple[datetime, datetime] | None = None
                    ) -> Query:
        """The query whose rows are the rollup's rows in ``timezone`` (those of the time
        dimension's local ``[start, end)`` when ``local_range`` is given)."""
        outputs = [p for p in self.part_members if p.split(".", 1)[1].startswith("__ru_m_")]
        seg_dims = [p for p in self.part_members if p.split(".", 1)[1].startswith("__ru_s_")]
        tds: tuple[TimeDimension, ...] = ()
        if self.time:
            window = None
            if local_range is not None:
                end = local_range[1] - timedelta(milliseconds=1)
                window = DateRange(local_range[0].isoformat(timespec="milliseconds"),
                                   end.isoformat(timespec="milliseconds"))
            tds = (TimeDimension(self.time[0], self.time[1], window),)
        return Query(measures=tuple(outputs), dimensions=(*self.dimensions, *seg_dims),
                     time_dimensions=tds, timezone=timezone, limit=MAX_LIMIT)

    def compile(self, source: Any, timezone: str,
                local_range: tuple[datetime, datetime] | None = None) -> Compiled:
        """The build SELECT in ``timezone`` (no ORDER BY / LIMIT), optionally restricted to a
        local range of the time dimension."""
        assert self.build_model is not None
        compiled = compile_query(self.build_query(timezone, local_range), self.build_model,
                                 source)
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
        rows: Rows written (all zones; with ``partitions`` those of the ranges rebuilt).
        snapshot_id: The new Iceberg snapshot.
        sources: ``namespace.table`` -> snapshot id read.
        timezones: Zones built.
        schema: ``[{name, type}]`` of the table.
        lineage: Column -> source columns ``namespace.table.column``; ``aggregated`` marks
            measure columns (the others are group-by columns).
        seconds: Build time.
        mode: ``full`` (the whole table rewritten) or ``partitions`` (only a local range).
        partitions: With ``partitions``: the local ``[start, end)`` ranges of the time bucket
            rebuilt (``[{"start", "end"}]``, ISO, the same in every zone); else empty.
        total_rows: Rows in the table after the build (all zones).
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
    mode: str = "full"
    partitions: list[dict[str, str]] = field(default_factory=list)
    total_rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"rollup": self.rollup, "table": self.table, "rows": self.rows,
                "snapshot_id": self.snapshot_id, "sources": dict(self.sources),
                "timezones": list(self.timezones), "schema": list(self.schema),
                "lineage": dict(self.lineage), "aggregated": list(self.aggregated),
                "seconds": self.seconds, "mode": self.mode,
                "partitions": [dict(p) for p in self.partitions],
                "total_rows": self.total_rows}


def _rows(rollup: Rollup, snapshots: dict[str, TableSnapshot], timezones: list[str],
          warehouse: str, local_range: tuple[datetime, datetime] | None = None) -> pa.Table:
    import pyarrow as pa

    from .execute import locked_connection, raw_source, run

    parts = []
    con = locked_connection(warehouse)
    try:
        for zone in timezones:
            compiled = rollup.compile(raw_source(snapshots), zone, local_range)
            table = run(con, compiled.sql)
            table = table.rename_columns([rollup.output_column(c) for c in table.column_names])
            parts.append(table.append_column(ZONE_COLUMN, pa.array([zone] * table.num_rows,
                                                                   pa.string())))
    finally:
        con.close()
    return pa.concat_tables(parts)


def _window_rows(rollup: Rollup, snapshots: dict[str, TableSnapshot], timezones: list[str],
                 warehouse: str, window: tuple[datetime, datetime]) -> pa.Table:
    """The rows whose bucket lies in the local ``window``: computed over a day more on each
    side (a local edge inside a DST gap or overlap maps to an uncertain instant), then cut to
    the buckets of the window exactly."""
    import pyarrow as pa
    import pyarrow.compute as pc

    assert rollup.time is not None
    day = timedelta(days=1)
    rows = _rows(rollup, snapshots, timezones, warehouse, (window[0] - day, window[1] + day))
    column = rows[rollup.time[2]]
    keep = pc.and_(pc.greater_equal(column, pa.scalar(window[0], column.type)),
                   pc.less(column, pa.scalar(window[1], column.type)))
    return rows.filter(keep)


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


#: ``partition_granularity`` -> the Iceberg transform of the time bucket column.
PARTITION_TRANSFORMS = {"hour": "hour", "day": "day", "week": "day", "month": "month",
                        "quarter": "month", "year": "year"}
_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_FIXED = {"second": timedelta(seconds=1), "minute": timedelta(minutes=1),
          "hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}


def truncate(t: datetime, unit: str) -> datetime:
    """The start of the ``unit`` holding ``t`` (weeks start on Monday, as DuckDB's).

    Example:
        >>> truncate(datetime(2024, 5, 17, 10, 30), "quarter")
        datetime.datetime(2024, 4, 1, 0, 0)
        >>> truncate(datetime(2024, 5, 17, 10, 30), "week")
        datetime.datetime(2024, 5, 13, 0, 0)
    """
    if unit in _MONTHS:
        month = (t.month - 1) // _MONTHS[unit] * _MONTHS[unit] + 1
        return datetime(t.year, month, 1)
    if unit == "week":
        day = datetime(t.year, t.month, t.day)
        return day - timedelta(days=day.weekday())
    size = int(_FIXED[unit].total_seconds())
    day = datetime(t.year, t.month, t.day)
    return day + timedelta(seconds=int((t - day).total_seconds()) // size * size)


def shift(t: datetime, unit: str, n: int) -> datetime:
    """``t`` (a unit start) moved by ``n`` units.

    Example:
        >>> shift(datetime(2024, 11, 1), "quarter", 1)
        datetime.datetime(2025, 2, 1, 0, 0)
    """
    if unit in _MONTHS:
        months = t.year * 12 + t.month - 1 + n * _MONTHS[unit]
        return t.replace(year=months // 12, month=months % 12 + 1)
    return t + n * _FIXED[unit]


def local_range(rollup: Rollup, lo: datetime, hi: datetime, timezones: list[str]
                ) -> tuple[datetime, datetime]:
    """The local bucket range ``[start, end)`` to rebuild for source instants ``lo..hi``
    (aware UTC): in every zone the partitions holding them plus one on each side, widened to
    bucket starts; the union over zones."""
    from zoneinfo import ZoneInfo

    assert rollup.time is not None and rollup.pre.partition_granularity
    gran, part = rollup.time[1], rollup.pre.partition_granularity
    starts, ends = [], []
    for zone in timezones:
        first = lo.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        last = hi.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        starts.append(truncate(shift(truncate(truncate(first, gran), part), part, -1), gran))
        end = shift(truncate(truncate(last, gran), part), part, 2)
        ends.append(end if truncate(end, gran) == end else shift(truncate(end, gran), gran, 1))
    return min(starts), max(ends)


def _time_field(rollup: Rollup, model: SemanticModel, catalog: Any) -> tuple[str, int] | None:
    """``(table, field id)`` of the raw timestamp column the time dimension is, or None (a
    computed dimension, a cube over SQL, a column that is not a timestamp)."""
    from pyiceberg.types import TimestampType, TimestamptzType

    assert rollup.time is not None
    dim = model.find(rollup.time[0])
    cube = model.cube(rollup.time[0].split(".", 1)[0])
    if dim is None or dim.snippet is None or not cube.sql_table:
        return None
    ast = dim.snippet.ast
    if not isinstance(ast, exp.Column) or ast.name.startswith("__lf_"):
        return None
    schema = catalog.load_table(cube.sql_table).schema()
    found = next((f for f in schema.fields if f.name.lower() == ast.name.lower()), None)
    if found is None or not isinstance(found.field_type, TimestampType | TimestamptzType):
        return None
    return cube.sql_table, found.field_id


def _changed_bounds(source: Any, since: int, current: int, field_id: int
                    ) -> tuple[datetime, datetime] | None:
    """The UTC min/max of column ``field_id`` over the data files added or deleted by the
    snapshots after ``since`` up to ``current``; None unless each is an append or an overwrite
    or delete of our ingest under the schema of ``since`` and every such file has bounds."""
    from pyiceberg.manifest import DataFileContent, ManifestContent, ManifestEntryStatus
    from pyiceberg.table.snapshots import Operation

    lows: list[int] = []
    highs: list[int] = []
    base = source.snapshot_by_id(since)
    snap = source.snapshot_by_id(current)
    while snap is not None and base is not None and snap.snapshot_id != since:
        if snap.schema_id != base.schema_id:
            return None  # the table's schema changed
        summary = snap.summary
        op = summary.operation if summary is not None else None
        ours = summary is not None and "logflow.source" in summary.additional_properties
        if not (op == Operation.APPEND or (op in (Operation.OVERWRITE, Operation.DELETE)
                                           and ours)):
            return None
        for manifest in snap.manifests(source.io):
            if manifest.added_snapshot_id != snap.snapshot_id:
                continue
            if manifest.content != ManifestContent.DATA:
                return None
            for entry in manifest.fetch_manifest_entry(source.io, discard_deleted=False):
                if entry.status == ManifestEntryStatus.EXISTING:
                    continue
                data = entry.data_file
                if data.content != DataFileContent.DATA:
                    return None
                low = (data.lower_bounds or {}).get(field_id)
                high = (data.upper_bounds or {}).get(field_id)
                if low is None or high is None:
                    return None
                lows.append(int.from_bytes(low, "little", signed=True))
                highs.append(int.from_bytes(high, "little", signed=True))
        snap = source.snapshot_by_id(snap.parent_snapshot_id) \
            if snap.parent_snapshot_id is not None else None
    if snap is None or not lows:
        return None
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return (epoch + timedelta(microseconds=min(lows)),
            epoch + timedelta(microseconds=max(highs)))


def partition_plan(rollup: Rollup, catalog: Any, properties: dict[str, str],
                   snapshots: dict[str, TableSnapshot], timezones: list[str],
                   model: SemanticModel) -> tuple[datetime, datetime] | None:
    """The local range a rebuild may limit itself to, or None for a full rebuild.

    Partial only when the rollup is partitioned, its definition and zones are those recorded,
    exactly one source table changed, it is the time dimension's table and no other cube of
    the build reads it, and :func:`_changed_bounds` bounds the change.
    """
    if rollup.time is None or rollup.pre.partition_granularity not in PARTITION_TRANSFORMS:
        return None
    if properties.get(PROP_DEFINITION) != rollup.fingerprint(timezones) or \
            properties.get(PROP_TIMEZONES) != json.dumps(list(timezones)):
        return None
    try:
        recorded = json.loads(properties.get(PROP_SOURCES, ""))
    except json.JSONDecodeError:
        return None
    if set(recorded) != set(snapshots):
        return None
    changed = [t for t, s in snapshots.items() if recorded[t] != s.snapshot_id]
    if len(changed) != 1 or recorded[changed[0]] is None \
            or snapshots[changed[0]].snapshot_id is None:
        return None
    found = _time_field(rollup, model, catalog)
    if found is None or found[0] != changed[0]:
        return None
    tree = rollup.compile(lambda cube, alias: exp.Table(
        this=exp.to_identifier(alias, quoted=True)), "UTC").tree
    assert tree is not None and rollup.build_model is not None
    readers = [name for name in tree.cubes
               if changed[0] in _cube_tables(rollup.build_model.cube(name))]
    if len(readers) != 1:
        return None
    bounds = _changed_bounds(catalog.load_table(changed[0]), recorded[changed[0]],
                             snapshots[changed[0]].snapshot_id, found[1])
    if bounds is None:
        return None
    return local_range(rollup, bounds[0], bounds[1], timezones)


def _cube_tables(cube: Any) -> set[str]:
    if cube.sql_table:
        return {cube.sql_table}
    from .tables import tables_in

    return tables_in(cube.sql_ast)


def _partition_spec_matches(ice: Any, rollup: Rollup) -> bool:
    fields = ice.spec().fields
    if rollup.time is None or rollup.pre.partition_granularity not in PARTITION_TRANSFORMS:
        return not fields
    want = PARTITION_TRANSFORMS[rollup.pre.partition_granularity]
    try:
        source_id = ice.schema().find_field(rollup.time[2]).field_id
    except ValueError:  # no such column: the table is rebuilt
        return False
    return [(f.source_id, str(f.transform)) for f in fields] == [(source_id, want)]


def _partition(ice: Any, rollup: Rollup) -> None:
    """Adds the partition field of a partitioned rollup to a new table."""
    from pyiceberg.transforms import DayTransform, HourTransform, MonthTransform, YearTransform

    if rollup.time is None or rollup.pre.partition_granularity not in PARTITION_TRANSFORMS:
        return
    transform = {"hour": HourTransform, "day": DayTransform, "month": MonthTransform,
                 "year": YearTransform}[PARTITION_TRANSFORMS[rollup.pre.partition_granularity]]
    with ice.update_spec() as update:
        update.add_field(rollup.time[2], transform(), f"{rollup.time[2]}_part")


def build_rollup(rollup: Rollup, catalog: Any, warehouse: str, timezones: list[str],
                 model: SemanticModel) -> BuildResult:
    """Builds one rollup table from the raw tables at their current snapshots: the touched
    partitions only when :func:`partition_plan` proves which, else the whole table.

    Args:
        rollup: From :func:`rollups_of`.
        catalog: An open pyiceberg catalog.
        warehouse: The warehouse URI (for the locked DuckDB connection).
        timezones: Zones to build (``semantic.timezones``).
        model: The semantic model (for lineage).
    """
    import warnings

    from pyiceberg.exceptions import NoSuchTableError
    from pyiceberg.expressions import AlwaysTrue, And, GreaterThanOrEqual, LessThan

    from ..lakehouse.catalog import ensure_namespace
    from ..lakehouse.schema_policy import iceberg_ready
    from .tables import resolve_snapshots

    t0 = time.perf_counter()
    snapshots = resolve_snapshots(catalog, rollup.source_tables())
    ensure_namespace(catalog, NAMESPACE)
    try:
        ice = catalog.load_table(rollup.table)
    except NoSuchTableError:
        ice = None
    window = None
    if ice is not None and ice.current_snapshot() is not None \
            and _partition_spec_matches(ice, rollup):
        window = partition_plan(rollup, catalog, dict(ice.properties), snapshots, timezones,
                                model)
    table = iceberg_ready(_window_rows(rollup, snapshots, timezones, warehouse, window)
                          if window is not None else _rows(rollup, snapshots, timezones,
                                                           warehouse))
    props = {PROP_SOURCES: json.dumps({t: s.snapshot_id for t, s in sorted(snapshots.items())}),
             PROP_DEFINITION: rollup.fingerprint(timezones),
             PROP_TIMEZONES: json.dumps(list(timezones)),
             PROP_BUILT_AT: str(int(time.time() * 1000))}
    if ice is not None and (not _same_schema(ice.schema().as_arrow(), table.schema)
                            or not _partition_spec_matches(ice, rollup)):
        catalog.drop_table(rollup.table)
        ice, window = None, None
        table = iceberg_ready(_rows(rollup, snapshots, timezones, warehouse))
    if ice is None:
        ice = catalog.create_table(rollup.table, schema=table.schema)
        _partition(ice, rollup)
        ice = catalog.load_table(rollup.table)
    where: Any = AlwaysTrue()
    if window is not None:
        assert rollup.time is not None
        where = And(GreaterThanOrEqual(rollup.time[2], window[0].isoformat()),
                    LessThan(rollup.time[2], window[1].isoformat()))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Delete operation did not match")
        with ice.transaction() as tx:
            tx.overwrite(table, overwrite_filter=where)
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
        seconds=round(time.perf_counter() - t0, 3), metadata_location=ice.metadata_location,
        mode="full" if window is None else "partitions",
        partitions=[] if window is None else [{"start": window[0].isoformat(),
                                               "end": window[1].isoformat()}],
        total_rows=int(snap.summary["total-records"] or 0) if snap and snap.summary
        else table.num_rows)


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
