"""Cube's query JSON, checked against the model and normalized into a typed, canonical form.

:func:`normalize_query` resolves everything a query leaves implicit: relative date ranges
(against an injectable ``now`` in the query's time zone), the default order, the limit, filter
values as text. :meth:`Query.key` is its stable JSON serialization (the result-cache key).
Any problem is a :class:`UsageError` (an HTTP 400 in the API).

Example:
    >>> from logflow_dagster.semantic.loader import load_model_text
    >>> m = load_model_text('''
    ... cubes:
    ...   - name: orders
    ...     sql_table: raw.orders
    ...     measures: [{name: count, type: count}]
    ...     dimensions: [{name: at, sql: ts, type: time}]
    ... ''')
    >>> q = normalize_query({"measures": ["orders.count"], "timeDimensions": [
    ...     {"dimension": "orders.at", "granularity": "day", "dateRange": "yesterday"}]},
    ...     m, now=datetime(2024, 3, 15, 9, 0, tzinfo=UTC))
    >>> q.time_dimensions[0].date_range
    DateRange(start='2024-03-14T00:00:00.000', end='2024-03-14T23:59:59.999')
    >>> q.order
    (('orders.at.day', 'asc'),)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core.errors import UsageError
from .dates import fmt, parse_point, resolve_date_range
from .model import GRANULARITIES, Dimension, Measure, Member, SemanticModel

DEFAULT_LIMIT = 10_000
MAX_LIMIT = 50_000

#: Operators by the type of the member filtered (measures count as ``number``).
OPERATORS: dict[str, frozenset[str]] = {
    "string": frozenset({"equals", "notEquals", "contains", "notContains", "startsWith",
                         "notStartsWith", "endsWith", "notEndsWith", "set", "notSet"}),
    "number": frozenset({"equals", "notEquals", "gt", "gte", "lt", "lte", "set", "notSet"}),
    "boolean": frozenset({"equals", "notEquals", "set", "notSet"}),
    "time": frozenset({"equals", "notEquals", "gt", "gte", "lt", "lte", "set", "notSet",
                       "inDateRange", "notInDateRange", "beforeDate", "beforeOrOnDate",
                       "afterDate", "afterOrOnDate"}),
}
_ALL_OPERATORS = frozenset().union(*OPERATORS.values())
_NO_VALUES = frozenset({"set", "notSet"})
_ONE_VALUE = frozenset({"gt", "gte", "lt", "lte", "beforeDate", "beforeOrOnDate", "afterDate",
                        "afterOrOnDate"})
_TWO_VALUES = frozenset({"inDateRange", "notInDateRange"})
_QUERY_KEYS = frozenset({"measures", "dimensions", "timeDimensions", "filters", "segments",
                         "order", "limit", "offset", "timezone", "ungrouped", "renewQuery",
                         "total", "responseFormat"})


@dataclass(frozen=True)
class DateRange:
    """A resolved range in the query's time zone: local ISO times, ``end`` inclusive (ms)."""

    start: str
    end: str

    def bounds(self) -> tuple[datetime, datetime]:
        """``(start, end_exclusive)`` as naive local datetimes (end + 1 ms)."""
        return (datetime.fromisoformat(self.start),
                datetime.fromisoformat(self.end) + timedelta(milliseconds=1))


@dataclass(frozen=True)
class TimeDimension:
    """A ``timeDimensions`` entry: a column bucketed by ``granularity`` (when given) and/or a
    filter to ``date_range`` (when given)."""

    dimension: str
    granularity: str | None = None
    date_range: DateRange | None = None

    @property
    def key(self) -> str | None:
        """The result column (``orders.created_at.day``), None without granularity."""
        return f"{self.dimension}.{self.granularity}" if self.granularity else None


@dataclass(frozen=True)
class Filter:
    """One member filter; ``values`` are text, as Cube sends them (dates resolved to local
    ISO times for the date operators: ``inDateRange`` holds ``[start, end_inclusive]``)."""

    member: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class FilterGroup:
    """``{"and": [...]}`` or ``{"or": [...]}``."""

    kind: Literal["and", "or"]
    filters: tuple[Filter | FilterGroup, ...]


@dataclass(frozen=True)
class Query:
    """A normalized query (every member checked, ``cube.member`` paths).

    Attributes:
        measures, dimensions, segments: In the order asked.
        time_dimensions: See :class:`TimeDimension`.
        filters: Top-level filters (AND); groups nest.
        order: ``(key, "asc"|"desc")`` where key is a measure, dimension or time-dimension
            result column (``orders.created_at.day``).
        limit, offset: Rows (limit at most :data:`MAX_LIMIT`).
        timezone: IANA name; time buckets and date ranges are in this zone.
        ungrouped: Rows as they are, no GROUP BY.
    """

    measures: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    time_dimensions: tuple[TimeDimension, ...] = ()
    filters: tuple[Filter | FilterGroup, ...] = ()
    segments: tuple[str, ...] = ()
    order: tuple[tuple[str, str], ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    timezone: str = "UTC"
    ungrouped: bool = False
    extras: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON form (Cube's key names)."""
        def flt(f: Filter | FilterGroup) -> dict[str, Any]:
            if isinstance(f, FilterGroup):
                return {f.kind: [flt(x) for x in f.filters]}
            return {"member": f.member, "operator": f.operator, "values": list(f.values)}

        return {
            "measures": list(self.measures), "dimensions": list(self.dimensions),
            "timeDimensions": [
                {"dimension": t.dimension, "granularity": t.granularity,
                 "dateRange": [t.date_range.start, t.date_range.end] if t.date_range else None}
                for t in self.time_dimensions],
            "filters": [flt(f) for f in self.filters], "segments": list(self.segments),
            "order": [list(o) for o in self.order], "limit": self.limit,
            "offset": self.offset, "timezone": self.timezone, "ungrouped": self.ungrouped}

    def key(self) -> str:
        """Stable compact JSON of :meth:`to_dict` (equal queries, equal keys)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def filter_members(self) -> list[str]:
        """Every member a filter reads (groups flattened)."""
        out: list[str] = []

        def walk(f: Filter | FilterGroup) -> None:
            if isinstance(f, FilterGroup):
                for x in f.filters:
                    walk(x)
            elif f.member not in out:
                out.append(f.member)

        for f in self.filters:
            walk(f)
        return out

    def output_keys(self) -> list[str]:
        """Result columns in order: dimensions, time-dimension buckets, measures."""
        return [*self.dimensions, *(t.key for t in self.time_dimensions if t.key),
                *self.measures]


def _strings(raw: dict[str, Any], key: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"query.{key}: expected a list of member names")
    return list(dict.fromkeys(value))


def _visible(model: SemanticModel, path: str, where: str, public: bool = True) -> Member:
    try:
        member = model.member(path)
    except UsageError as err:
        raise UsageError(f"{where}: {err}") from None
    if public and (not member.public or not model.cubes[member.cube].public):
        raise UsageError(f"{where}: {path!r} is not public")
    return member


def normalize_query(raw: Any, model: SemanticModel, *, now: datetime | None = None
                    ) -> Query:
    """Checks a Cube query against ``model`` and normalizes it.

    Args:
        raw: The query (a mapping as parsed from JSON).
        model: The semantic model.
        now: The current time (aware; default: the clock) for relative date ranges.

    Raises:
        UsageError: Unknown or hidden members, a member of the wrong kind, an operator that
            does not fit the member's type, a bad date range, limit or time zone.
    """
    if not isinstance(raw, dict):
        raise UsageError("query: expected a JSON object")
    for key in raw:
        if key not in _QUERY_KEYS:
            raise UsageError(f"query: unknown key {key!r}")
    tz_name = raw.get("timezone") or "UTC"
    try:
        zone = ZoneInfo(tz_name) if isinstance(tz_name, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    if zone is None:
        raise UsageError(f"query.timezone: unknown time zone {tz_name!r} (use an IANA name)")
    local_now = (now or datetime.now(UTC)).astimezone(zone).replace(tzinfo=None)

    measures = _strings(raw, "measures")
    for m in measures:
        if not isinstance(_visible(model, m, "query.measures"), Measure):
            raise UsageError(f"query.measures: {m!r} is not a measure")
    dimensions = _strings(raw, "dimensions")
    for d in dimensions:
        if not isinstance(_visible(model, d, "query.dimensions"), Dimension):
            raise UsageError(f"query.dimensions: {d!r} is not a dimension")
    segments = _strings(raw, "segments")
    for s in segments:
        model_s = _visible(model, s, "query.segments")
        if type(model_s).__name__ != "Segment":
            raise UsageError(f"query.segments: {s!r} is not a segment")
    tds = _time_dimensions(raw.get("timeDimensions") or [], model, local_now)
    filters = tuple(_filter(f, model, local_now, f"query.filters.{i}")
                    for i, f in enumerate(_list(raw.get("filters"), "query.filters")))
    limit = raw.get("limit", DEFAULT_LIMIT)
    if limit is None:
        limit = DEFAULT_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise UsageError(f"query.limit: expected a whole number >= 0, got {limit!r}")
    if limit > MAX_LIMIT:
        raise UsageError(f"query.limit: {limit} is over the maximum of {MAX_LIMIT}")
    offset = raw.get("offset") or 0
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise UsageError(f"query.offset: expected a whole number >= 0, got {offset!r}")
    ungrouped = raw.get("ungrouped", False)
    if not isinstance(ungrouped, bool):
        raise UsageError("query.ungrouped: expected true or false")
    if not (measures or dimensions or any(t.granularity for t in tds)):
        raise UsageError("query: ask for at least one measure, dimension or time dimension "
                         "with a granularity")
    query = Query(tuple(measures), tuple(dimensions), tds, filters, tuple(segments),
                  (), limit, offset, tz_name, ungrouped)
    order = _order(raw, query)
    return Query(query.measures, query.dimensions, query.time_dimensions, query.filters,
                 query.segments, order, limit, offset, tz_name, ungrouped)


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(f"{where}: expected a list")
    return value


def _time_dimensions(raw: Any, model: SemanticModel, now: datetime
                     ) -> tuple[TimeDimension, ...]:
    out = []
    for i, item in enumerate(_list(raw, "query.timeDimensions")):
        where = f"query.timeDimensions.{i}"
        if not isinstance(item, dict) or not isinstance(item.get("dimension"), str):
            raise UsageError(f"{where}: expected {{dimension, granularity, dateRange}}")
        unknown = set(item) - {"dimension", "granularity", "dateRange", "compareDateRange"}
        if unknown or "compareDateRange" in item:
            bad = sorted(unknown) or ["compareDateRange"]
            raise UsageError(f"{where}: unsupported: {bad[0]}")
        dim = _visible(model, item["dimension"], where)
        if not isinstance(dim, Dimension) or dim.type != "time":
            raise UsageError(f"{where}: {item['dimension']!r} is not a time dimension")
        gran = item.get("granularity")
        if gran is not None and gran not in GRANULARITIES:
            raise UsageError(f"{where}.granularity: {gran!r}: expected one of "
                             f"{', '.join(GRANULARITIES)}")
        date_range = None
        if item.get("dateRange") is not None:
            try:
                date_range = DateRange(*resolve_date_range(item["dateRange"], now))
            except UsageError as err:
                raise UsageError(f"{where}.dateRange: {err}") from None
        td = TimeDimension(dim.path, gran, date_range)
        if td not in out:
            out.append(td)
    return tuple(out)


def _member_type(member: Member) -> str:
    return member.type if isinstance(member, Dimension) else "number"  # type: ignore


def policy_filter(raw: Any, model: SemanticModel, where: str) -> Filter | FilterGroup:
    """A row-level filter of an access policy, normalized like a query filter (its members
    may be non-public: a tenant column usually is).

    Example:
        >>> from logflow_dagster.semantic.loader import load_model_text
        >>> m = load_model_text("cubes: [{name: o, sql_table: r.o, dimensions: "
        ...                     "[{name: t, sql: t, type: string, public: false}]}]")
        >>> policy_filter({"member": "o.t", "operator": "equals", "values": ["a"]}, m, "p")
        Filter(member='o.t', operator='equals', values=('a',))
    """
    return _filter(raw, model, datetime.now(UTC).replace(tzinfo=None), where, public=False)


def _filter(raw: Any, model: SemanticModel, now: datetime, where: str,
            public: bool = True) -> Filter | FilterGroup:
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("and", "or"):
        kind = next(iter(raw))
        items = _list(raw[kind], where)
        if not items:
            raise UsageError(f"{where}.{kind}: an empty group")
        return FilterGroup(kind, tuple(_filter(f, model, now, f"{where}.{kind}.{i}", public)
                                       for i, f in enumerate(items)))
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected {{member, operator, values}} or an and/or group")
    unknown = set(raw) - {"member", "dimension", "operator", "values"}
    if unknown:
        raise UsageError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    path = raw.get("member", raw.get("dimension"))
    if not isinstance(path, str):
        raise UsageError(f"{where}.member: expected a member name")
    member = _visible(model, path, where, public)
    if not isinstance(member, (Dimension, Measure)):
        raise UsageError(f"{where}: {path!r} is a segment: put it in query.segments")
    op = raw.get("operator")
    kind = _member_type(member)
    if op not in _ALL_OPERATORS:
        raise UsageError(f"{where}.operator: unknown operator {op!r}")
    if op not in OPERATORS[kind]:
        raise UsageError(f"{where}.operator: {op!r} does not apply to {path!r} (type {kind}; "
                         f"use {', '.join(sorted(OPERATORS[kind]))})")
    values = raw.get("values")
    values = [] if values is None else values
    if not isinstance(values, list) or not all(
            (isinstance(v, (str, int, float)) and not isinstance(v, bool)) or v is None
            or isinstance(v, bool) for v in values):
        raise UsageError(f"{where}.values: expected a list of values")
    if op in _NO_VALUES:
        if values:
            raise UsageError(f"{where}.values: {op} takes no values")
        return Filter(path, op)
    if None in values:
        raise UsageError(f"{where}.values: null is not a value (use set / notSet)")
    if not values:
        raise UsageError(f"{where}.values: {op} needs values")
    if op in _ONE_VALUE and len(values) != 1:
        raise UsageError(f"{where}.values: {op} takes one value")
    text = [_text_value(v, kind, f"{where}.values") for v in values]
    if op in _TWO_VALUES:
        if len(text) != 2:
            raise UsageError(f"{where}.values: {op} takes [from, to]")
        try:
            text = list(resolve_date_range(text, now))
        except UsageError as err:
            raise UsageError(f"{where}.values: {err}") from None
    elif kind == "time":  # relative words resolved: a date stays a date (its whole day)
        resolved = []
        for v in text:
            try:
                moment, precision = parse_point(v, now)
            except UsageError as err:
                raise UsageError(f"{where}.values: {err}") from None
            resolved.append(moment.strftime("%Y-%m-%d") if precision == "day" else fmt(moment))
        text = resolved
    return Filter(path, op, tuple(text))


def _text_value(value: Any, kind: str, where: str) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    if kind == "number":
        try:
            float(text)
        except ValueError:
            raise UsageError(f"{where}: {value!r} is not a number") from None
        if text.strip().lower() in ("nan", "inf", "-inf", "infinity", "-infinity"):
            raise UsageError(f"{where}: {value!r} is not a finite number")
    if kind == "boolean" and text not in ("true", "false"):
        raise UsageError(f"{where}: {value!r} is not true or false")
    return text


def _order(raw: dict[str, Any], query: Query) -> tuple[tuple[str, str], ...]:
    keys = query.output_keys()
    td_by_dim = {t.dimension: t.key for t in query.time_dimensions if t.key}
    if "order" not in raw or raw["order"] is None:
        if query.ungrouped:
            return ()
        first_td = next((t.key for t in query.time_dimensions if t.key), None)
        if first_td:
            return ((first_td, "asc"),)
        if query.measures:
            return ((query.measures[0], "desc"),)
        return ((query.dimensions[0], "asc"),) if query.dimensions else ()
    value = raw["order"]
    pairs: list[tuple[Any, Any]]
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 for p in value):
        pairs = [tuple(p) for p in value]  # type: ignore[misc]
    else:
        raise UsageError("query.order: expected {member: asc|desc} or [[member, asc|desc]]")
    out: list[tuple[str, str]] = []
    for member, direction in pairs:
        if direction not in ("asc", "desc"):
            raise UsageError(f"query.order: {member!r}: expected asc or desc, got "
                             f"{direction!r}")
        key = td_by_dim.get(member, member)
        if key not in keys:
            raise UsageError(f"query.order: {member!r} is not in the query's measures, "
                             "dimensions or time dimensions with a granularity")
        if all(k != key for k, _ in out):
            out.append((key, direction))
    return tuple(out)
