"""The rollup router: strict and explainable. For a query it picks the first rollup (model
order) whose answer is exactly the raw answer, else the raw tables, and gives the reason each
rejected rollup (``cube.name``) could not serve it.

Rules (a rollup is rejected at the first that fails):

1. ``ungrouped`` queries always read raw rows.
2. members: every measure (a ``number`` formula over measures: all its leaf measures), every
   dimension, every filter member and every segment is stored (a segment as its boolean
   column, or rebuilt from stored dimensions when its SQL references only those); a time
   dimension stored only as buckets cannot be asked for as a plain dimension or filtered in
   ``filters`` (use ``timeDimensions.dateRange``).
3. join path: the query's join tree (root and joins) must be the rollup's; a rollup whose
   measure cube is multiplied by a one_to_many join (fan-out) serves nothing.
4. time: buckets nest (second < minute < hour < day < week; day < month < quarter < year;
   week and month never serve each other); a ``dateRange`` must start and end on bucket edges
   of the rollup's grain; a rollup is built per zone of ``semantic.timezones`` and serves a
   query in one of them, or, converted, in another zone when its grain is hour, minute or
   second, the query has a ``dateRange``, the built zone's UTC offset is constant over that
   range and the query zone's offsets differ from it by whole grains (hourly UTC buckets serve
   Europe/Berlin, never Asia/Kolkata at +05:30); a converted rollup is never at the exact grain
   (a zone's repeated hour at a DST fall-back merges two buckets).
5. grain: at a coarser grain (fewer dimensions, a coarser bucket, no bucket) only additive
   measures (stored parts: count, sum, min, max, avg as sum + count, formulas over these) are
   re-aggregated; ``count_distinct``, ``count_distinct_approx`` and formulas reading columns
   are served only at the exact grain, where a stored dimension missing from the query may be
   pinned by a one-value ``equals`` filter and a stored segment by asking for the segment.
6. freshness: the rollup must be built, from the current model definition, in the query's
   zone, from the current snapshot of every table it reads (else ``stale``): Dagster keeps
   rollups fresh; the router never serves an older number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

from .compiler import Compiled, Renderer, order_keys
from .dates import fmt, trunc
from .filters import render_filter
from .joins import JoinTree
from .model import Dimension, Measure, SemanticModel
from .query import Filter, FilterGroup, Query
from .rollups import (
    PROP_DEFINITION,
    PROP_SOURCES,
    PROP_TIMEZONES,
    ZONE_COLUMN,
    Rollup,
)
from .tables import TableSnapshot

#: Which rollup grain serves which query grain.
_FINER = {"second": 0, "minute": 1, "hour": 2, "day": 3, "week": 4, "month": 4, "quarter": 5,
          "year": 6}


def grain_serves(rollup: str, query: str) -> bool:
    """Whether buckets of ``rollup`` granularity combine into ``query`` buckets.

    Example:
        >>> grain_serves("day", "week"), grain_serves("week", "month"), grain_serves("month",
        ...     "quarter")
        (True, False, True)
    """
    if rollup == query:
        return True
    if rollup == "week" or (query == "week" and rollup not in ("second", "minute", "hour",
                                                                "day")):
        return False
    return _FINER[rollup] < _FINER[query]


def _aligned(value: datetime, granularity: str) -> bool:
    return trunc(value, granularity) == value


class Rejected(Exception):
    """A rollup cannot serve the query (the message is the reason)."""


@dataclass
class Route:
    """The router's choice: ``rollup`` (None for raw), its SQL, and ``rejected``."""

    rollup: Rollup | None = None
    compiled: Compiled | None = None
    snapshot: TableSnapshot | None = None
    rejected: dict[str, str] = field(default_factory=dict)


def _pinned(query: Query) -> set[str]:
    return {f.member for f in query.filters
            if isinstance(f, Filter) and f.operator == "equals" and len(f.values) == 1}


def _leaves(model: SemanticModel, r: Rollup, path: str) -> list[str]:
    """Stored leaf measures a query measure needs; Rejected when one is not stored."""
    if path in r.measures:
        return [path]
    if path in r.served:
        return r.served[path]
    measure = model.measure(path)
    if measure.type == "number" and measure.snippet is not None \
            and not measure.snippet.unqualified_columns() and not measure.snippet.table_refs:
        refs = [ref.resolve(measure.cube) for ref in measure.snippet.member_refs()]
        if refs and all(isinstance(model.find(x), Measure) for x in refs):
            return [leaf for x in refs for leaf in _leaves(model, r, x)]
    raise Rejected(f"measure {path} is not stored in the rollup")


class _Check:
    """Checks one rollup against one query and writes its SELECT."""

    def __init__(self, model: SemanticModel, query: Query, r: Rollup, tree: JoinTree) -> None:
        self.model, self.q, self.r, self.tree = model, query, r, tree
        self.renderer = Renderer(model)
        #: The built zone whose buckets are converted to the query's zone (None: same zone).
        self.convert_from: str | None = None

    def static(self) -> None:
        """Every rule that does not need the built table (Rejected with the reason)."""
        q, r, model = self.q, self.r, self.model
        if q.ungrouped:
            raise Rejected("ungrouped query (rows, not aggregates)")
        filter_measures = [m for m in q.filter_members() if isinstance(model.find(m), Measure)]
        measures = list(dict.fromkeys([*q.measures, *filter_measures]))
        leaves = {m: _leaves(model, r, m) for m in measures}
        for d in q.dimensions:
            if d not in r.dimensions:
                why = " (stored only as time buckets)" if r.time and d == r.time[0] else ""
                raise Rejected(f"dimension {d} is not stored in the rollup{why}")
        for f in q.filter_members():
            if isinstance(model.find(f), Dimension) and f not in r.dimensions:
                if r.time and f == r.time[0]:
                    raise Rejected(f"filter on {f}: stored only as {r.time[1]} buckets (filter "
                                   "it with timeDimensions.dateRange)")
                raise Rejected(f"filter member {f} is not stored in the rollup")
        for s in q.segments:
            self.segment(s)
        for td in q.time_dimensions:
            self._time(td)
        rtree = r.compile(lambda cube, alias: exp.Table(
            this=exp.to_identifier(alias, quoted=True)), "UTC").tree
        assert rtree is not None
        leaf_cubes = {model.member(x).cube for x in r.measures}
        fanned = sorted(c for c in leaf_cubes if rtree.multiplied(c))
        if fanned:
            raise Rejected(f"fan-out: a one_to_many join of the rollup multiplies the rows of "
                           f"{', '.join(fanned)}")
        if (rtree.root, sorted(map(tuple, rtree.key()))) != \
                (self.tree.root, sorted(map(tuple, self.tree.key()))):
            raise Rejected(f"join path differs: the query joins {_describe(self.tree)}, the "
                           f"rollup {_describe(rtree)}")
        if not self.exact_grain():
            for m, ls in leaves.items():
                bad = [x for x in ls if not r.measures[x].additive]
                if bad:
                    kind = r.measures[bad[0]].type
                    raise Rejected(f"measure {m} needs {bad[0]} ({kind}), which is not "
                                   "additive: served only at the rollup's exact grain "
                                   f"({self._grain_text()})")

    def _grain_text(self) -> str:
        items = [*self.r.dimensions, *self.r.segments]
        if self.r.time:
            items.append(f"{self.r.time[0]}.{self.r.time[1]}")
        return ", ".join(items) or "no dimensions"

    def exact_grain(self) -> bool:
        """Whether every query group is exactly one rollup group."""
        q, r = self.q, self.r
        if self.convert_from is not None:
            return False
        pinned = _pinned(q)
        if any(d not in q.dimensions and d not in pinned for d in r.dimensions):
            return False
        if any(s not in q.segments for s in r.segments):
            return False
        if r.time:
            tds = [t for t in q.time_dimensions if t.dimension == r.time[0]]
            if not tds or any(t.granularity != r.time[1] for t in tds):
                return False
        return True

    def _time(self, td) -> None:
        r = self.r
        if r.time and td.dimension == r.time[0]:
            if td.granularity and not grain_serves(r.time[1], td.granularity):
                raise Rejected(f"granularity {td.granularity} cannot be built from "
                               f"{r.time[1]} buckets")
            if td.date_range is not None:
                start, end = td.date_range.bounds()
                for edge in (start, end):
                    if not _aligned(edge, r.time[1]):
                        raise Rejected(f"dateRange edge {fmt(edge)} is not on a {r.time[1]} "
                                       f"bucket edge in {self.q.timezone}")
            return
        if td.dimension not in r.dimensions:
            raise Rejected(f"time dimension {td.dimension} is not stored in the rollup")

    def segment(self, path: str) -> exp.Expression:
        """The segment's condition over the rollup's columns; Rejected when not stored."""
        if path in self.r.segments:
            return _col(self.r.segments[path])
        seg = self.model.segment(path)
        snippet = seg.snippet
        refs = [ref.resolve(seg.cube) for ref in snippet.member_refs()] if snippet else []
        if snippet is not None and refs and not snippet.table_refs \
                and not snippet.unqualified_columns() \
                and all(x in self.r.dimensions for x in refs):
            return exp.Paren(this=snippet.render(seg.cube, lambda c: "r", self.dim))
        raise Rejected(f"segment {path} is not stored in the rollup (nor built only on its "
                       "dimensions)")

    # -- the SELECT over the rollup ------------------------------------------------------
    def dim(self, path: str) -> exp.Expression:
        """A stored dimension's column."""
        return _col(self.r.dimensions[path])

    def measure(self, path: str) -> exp.Expression:
        """A measure merged from its stored parts (formulas over merged leaves)."""
        stored = self.r.measures.get(path)
        if stored is None:
            return self.renderer.aggregate(path, ref=self.measure)
        p = {k: _col(v) for k, v in stored.parts.items()}
        if not stored.additive:
            value: exp.Expression = exp.Min(this=p["value"])
            if stored.type in ("count_distinct", "count_distinct_approx"):
                value = exp.Coalesce(this=value, expressions=[exp.Literal.number(0)])
            return value
        if stored.type == "count":
            return exp.Coalesce(this=exp.Cast(this=exp.Sum(this=p["value"]),
                                              to=exp.DataType.build("BIGINT")),
                                expressions=[exp.Literal.number(0)])
        if stored.type == "sum":
            return exp.Sum(this=p["value"])
        if stored.type in ("min", "max"):
            return (exp.Min if stored.type == "min" else exp.Max)(this=p["value"])
        total = exp.Cast(this=exp.Sum(this=p["sum"]), to=exp.DataType.build("DOUBLE"))
        count = exp.Nullif(this=exp.Sum(this=p["count"]), expression=exp.Literal.number(0))
        return exp.Div(this=total, expression=count)

    def _condition(self, f: Filter | FilterGroup,
                   value: Callable[[str], exp.Expression]) -> exp.Expression:
        if isinstance(f, FilterGroup):
            parts = [self._condition(x, value) for x in f.filters]
            return exp.Paren(this=exp.and_(*parts) if f.kind == "and" else exp.or_(*parts))
        member = self.model.member(f.member)
        kind = member.type if isinstance(member, Dimension) else "number"
        return render_filter(f, value(f.member), kind, self.q.timezone)

    def select(self, snapshot: TableSnapshot) -> Compiled:
        """The query's SELECT over the rollup table."""
        q, r = self.q, self.r
        groups: list[tuple[str, exp.Expression, str]] = \
            [(d, self.dim(d), "dimension") for d in q.dimensions]
        where: list[exp.Expression] = []
        for td in q.time_dimensions:
            if r.time and td.dimension == r.time[0]:
                col: exp.Expression = _col(r.time[2])
                if self.convert_from is not None:  # buckets of the built zone, as instants
                    from .filters import local_to_instant, to_local

                    instant = exp.Anonymous(this="timezone", expressions=[
                        exp.Literal.string(self.convert_from), col])
                    if td.granularity:
                        groups.append((td.key, exp.Anonymous(this="date_trunc", expressions=[
                            exp.Literal.string(td.granularity),
                            to_local(instant, q.timezone)]), "time"))
                    if td.date_range is not None:
                        start, end = td.date_range.bounds()
                        where += [exp.GTE(this=instant.copy(), expression=local_to_instant(
                                      fmt(start), q.timezone)),
                                  exp.LT(this=instant.copy(), expression=local_to_instant(
                                      fmt(end), q.timezone))]
                    continue
                if td.granularity:
                    groups.append((td.key, exp.Anonymous(this="date_trunc", expressions=[
                        exp.Literal.string(td.granularity), col]), "time"))
                if td.date_range is not None:
                    start, end = td.date_range.bounds()
                    where += [exp.GTE(this=col.copy(), expression=_ts(start)),
                              exp.LT(this=col.copy(), expression=_ts(end))]
            else:
                from .filters import bucket, in_range

                if td.granularity:
                    groups.append((td.key, bucket(self.dim(td.dimension), td.granularity,
                                                  q.timezone), "time"))
                if td.date_range is not None:
                    where.append(in_range(self.dim(td.dimension), td.date_range, q.timezone))
        zone = (self.convert_from or q.timezone) if r.time else None
        if zone is not None:
            where.append(exp.EQ(this=_col(ZONE_COLUMN), expression=exp.Literal.string(zone)))
        having = []
        for f in q.filters:
            members = _members(f)
            if any(isinstance(self.model.find(m), Measure) for m in members):
                having.append(self._condition(f, self.measure))
            else:
                where.append(self._condition(f, self.dim))
        where += [self.segment(s) for s in q.segments]
        items = [exp.alias_(e, _id(k)) for k, e, _ in groups]
        items += [exp.alias_(self.measure(m), _id(m)) for m in q.measures]
        select = exp.select(*items).from_(snapshot.scan("r"))
        if zone is None:  # every zone holds the same rows: read the first
            select = select.where(exp.EQ(this=_col(ZONE_COLUMN), expression=exp.Subquery(
                this=exp.select(exp.Min(this=_col(ZONE_COLUMN))).from_(snapshot.scan("r")))))
        if where:
            select = select.where(exp.and_(*where))
        if groups:
            select = select.group_by(*[e.copy() for _, e, _ in groups])
        if having:
            select = select.having(exp.and_(*having))
        if order_keys(q):
            select = select.order_by(*[exp.Ordered(this=exp.column(_id(k)), desc=d == "desc")
                                       for k, d in order_keys(q)])
        select = select.limit(q.limit)
        if q.offset:
            select = select.offset(q.offset)
        columns = {k: kind for k, _, kind in groups}
        columns.update({m: "measure" for m in q.measures})
        return Compiled(select, select.sql(dialect="duckdb", pretty=True), columns, self.tree,
                        "rollup")


def _members(f: Filter | FilterGroup) -> list[str]:
    if isinstance(f, Filter):
        return [f.member]
    return [m for x in f.filters for m in _members(x)]


def _id(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(name: str) -> exp.Column:
    return exp.column(_id(name), table=_id("r"))


def _ts(value: datetime) -> exp.Expression:
    return exp.Cast(this=exp.Literal.string(fmt(value)), to=exp.DataType.build("TIMESTAMP"))


def _describe(tree: JoinTree) -> str:
    if not tree.joins:
        return f"{tree.root} alone"
    return ", ".join(f"{j.source}->{j.target} ({j.relationship})" for j in tree.joins)


def freshness(r: Rollup, props: dict[str, str], current: dict[str, int | None],
              definition: str, timezone: str | None) -> str | None:
    """Why a built rollup may not be served (None when it may).

    Args:
        r: The rollup.
        props: Its table's properties.
        current: Current snapshot id of every table the rollup reads.
        definition: The current :meth:`Rollup.fingerprint`.
        timezone: The query's zone (None when the rollup has no time bucket).
    """
    if props.get(PROP_DEFINITION) != definition:
        return "stale: built from another model definition (rebuild it)"
    try:
        built = json.loads(props.get(PROP_SOURCES, "{}"))
        zones = json.loads(props.get(PROP_TIMEZONES, "[]"))
    except ValueError:
        return "stale: unreadable build properties"
    for table, snap in sorted(current.items()):
        if table not in built or built[table] != snap:
            return (f"stale: built from snapshot {built.get(table)} of {table}, the current "
                    f"snapshot is {snap}")
    if timezone is not None and timezone not in zones:
        return (f"built for time zones {', '.join(zones)}; the query is in {timezone} (add it "
                "to semantic.timezones)")
    return None


#: Grains whose buckets convert between zones, in seconds.
_CONVERTIBLE = {"hour": 3600, "minute": 60, "second": 1}


def conversion_zone(r: Rollup, props: dict[str, str], query: Query) -> str | None:
    """A built zone of ``r`` whose buckets give exactly the query zone's answer, or None.

    Conditions: the rollup's grain is hour, minute or second; the query has a ``dateRange`` on
    the rollup's time dimension (the instants to check); over that range (a day wider each
    side) the built zone's UTC offset is constant (its buckets are then exact instant
    intervals, none merged by a DST fall-back) and the query zone's offsets differ from it by
    whole buckets (each bucket lies in one local bucket of the query's zone).

    Example:
        >>> from datetime import datetime
        >>> _offsets_ok("UTC", "Europe/Berlin", 3600, datetime(2024, 3, 1),
        ...             datetime(2024, 4, 30))
        True
        >>> _offsets_ok("UTC", "Asia/Kolkata", 3600, datetime(2024, 3, 1), datetime(2024, 4, 1))
        False
    """
    if r.time is None or r.time[1] not in _CONVERTIBLE:
        return None
    ranges = [td.date_range for td in query.time_dimensions
              if td.dimension == r.time[0] and td.date_range is not None]
    if not ranges:
        return None
    start = min(d.bounds()[0] for d in ranges)
    end = max(d.bounds()[1] for d in ranges)
    try:
        zones = json.loads(props.get(PROP_TIMEZONES, "[]"))
    except ValueError:
        return None
    for zone in zones:
        if _offsets_ok(zone, query.timezone, _CONVERTIBLE[r.time[1]], start, end):
            return zone
    return None


def _offsets_ok(built: str, wanted: str, step: int, start: datetime, end: datetime) -> bool:
    """Whether ``built``'s offset is constant and ``wanted``'s differs from it by multiples of
    ``step`` seconds, sampled every 6 hours from a day before ``start`` to a day after ``end``
    (zone offsets last for days at least)."""
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    if end - start > timedelta(days=366 * 50):
        return False
    a, b = ZoneInfo(built), ZoneInfo(wanted)
    moment = (start - timedelta(days=1)).replace(tzinfo=UTC)
    last = (end + timedelta(days=1)).replace(tzinfo=UTC)
    first_offset = moment.astimezone(a).utcoffset()
    while moment <= last:
        offset_a, offset_b = moment.astimezone(a).utcoffset(), moment.astimezone(b).utcoffset()
        if offset_a != first_offset or offset_a is None or offset_b is None:
            return False
        if (offset_b - offset_a).total_seconds() % step:
            return False
        moment += timedelta(hours=6)
    return True


def route(model: SemanticModel, query: Query, tree: JoinTree, rollups: list[Rollup],
          state: Callable[[Rollup], tuple[TableSnapshot, dict[str, str]] | None],
          current: Callable[[Rollup], dict[str, int | None]],
          definition: Callable[[Rollup], str]) -> Route:
    """Picks the first rollup that answers ``query`` exactly (see the module doc).

    Args:
        model: The semantic model.
        query: The normalized query.
        tree: The query's join tree (from its raw compilation).
        rollups: Candidates, in order.
        state: Rollup -> its built table's snapshot and properties (None: not built).
        current: Rollup -> current snapshot id of each table it reads.
        definition: Rollup -> its current fingerprint.
    """
    out = Route()
    for r in rollups:
        check = _Check(model, query, r, tree)
        try:
            check.static()
            built = state(r)
            if built is None:
                raise Rejected("not built yet (logflow rollups build, logflow run or Dagster)")
            snapshot, props = built
            zone = query.timezone if r.time else None
            why = freshness(r, props, current(r), definition(r), zone)
            if why and zone is not None and why.startswith("built for time zones"):
                check.convert_from = conversion_zone(r, props, query)
                if check.convert_from is None:
                    raise Rejected(f"{why}; other zones are served only from hour, minute or "
                                   "second buckets, for a dateRange over which the offsets "
                                   "differ by whole buckets")
                check.static()  # again: a converted rollup is never at the exact grain
            elif why:
                raise Rejected(why)
            compiled = check.select(snapshot)
        except Rejected as err:
            out.rejected[r.path] = str(err)
            continue
        out.rollup, out.compiled, out.snapshot = r, compiled, snapshot
        break
    return out
