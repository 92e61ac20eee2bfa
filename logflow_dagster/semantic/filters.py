"""Query filters as sqlglot conditions: Cube's operators over an already rendered member
expression, values as typed literals (never SQL text).

Semantics (Cube's): ``equals`` with several values is ``IN``; ``notEquals``, ``notContains``,
``notStartsWith`` and ``notEndsWith`` also keep NULLs; ``contains``, ``startsWith`` and
``endsWith`` ignore case and treat ``%`` and ``_`` as themselves; date ranges are in the
query's time zone, ``inDateRange`` includes its end (to the millisecond); ``beforeDate`` is
before the value's start, ``afterDate`` after its end (a date-only value is the whole day).

Example:
    >>> col = exp.column("region", "orders")
    >>> render_filter(Filter("orders.region", "contains", ("e'u",)), col, "string", "UTC").sql()
    "CONTAINS(LOWER(orders.region), LOWER('e''u'))"
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlglot import exp

from .dates import fmt, parse_point
from .query import DateRange, Filter


def local_to_instant(value: str, timezone: str) -> exp.Expression:
    """``timezone('<tz>', CAST('<local time>' AS TIMESTAMP))``: a local time of the query's zone
    as a TIMESTAMPTZ."""
    return exp.Anonymous(this="timezone", expressions=[
        exp.Literal.string(timezone),
        exp.Cast(this=exp.Literal.string(value), to=exp.DataType.build("TIMESTAMP"))])


def as_instant(expr: exp.Expression) -> exp.Expression:
    """``CAST(expr AS TIMESTAMPTZ)`` (naive timestamps count as UTC: the session zone)."""
    return exp.Cast(this=expr, to=exp.DataType.build("TIMESTAMPTZ"))


def to_local(expr: exp.Expression, timezone: str) -> exp.Expression:
    """The instant ``expr`` as a naive local time of ``timezone``."""
    return exp.Anonymous(this="timezone", expressions=[exp.Literal.string(timezone),
                                                       as_instant(expr)])


def bucket(expr: exp.Expression, granularity: str, timezone: str) -> exp.Expression:
    """``date_trunc('<granularity>', <local time>)`` (weeks are ISO weeks, Monday first)."""
    return exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string(granularity),
                                                         to_local(expr, timezone)])


def in_range(expr: exp.Expression, date_range: DateRange, timezone: str) -> exp.Expression:
    """``start <= expr < end + 1 ms``, both edges local times of ``timezone``."""
    start, end = date_range.bounds()
    value = as_instant(expr)
    return exp.and_(exp.GTE(this=value, expression=local_to_instant(fmt(start), timezone)),
                    exp.LT(this=value.copy(), expression=local_to_instant(fmt(end), timezone)))


def _point(value: str) -> tuple[str, str]:
    """(start, exclusive end) of a filter value: a date is its day, a time its millisecond."""
    moment, precision = parse_point(value, datetime(2000, 1, 1))
    step = timedelta(days=1) if precision == "day" else timedelta(milliseconds=1)
    return fmt(moment), fmt(moment + step)


def _literal(value: str, kind: str) -> exp.Expression:
    if kind == "number":
        return exp.Literal.number(repr(float(value)) if "e" in value.lower() else value.strip())
    if kind == "boolean":
        return exp.Boolean(this=value == "true")
    return exp.Literal.string(value)


def _any(items: list[exp.Expression]) -> exp.Expression:
    return items[0] if len(items) == 1 else exp.Paren(this=exp.or_(*items))


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def render_filter(flt: Filter, expr: exp.Expression, kind: str, timezone: str
                  ) -> exp.Expression:
    """The condition of one filter.

    Args:
        flt: The normalized filter.
        expr: The member's expression (a column or an aggregate).
        kind: ``string``, ``number``, ``boolean`` or ``time`` (measures: ``number``).
        timezone: The query's time zone (time filters).
    """
    op, values = flt.operator, flt.values
    e = expr.copy
    if op == "set":
        return exp.Not(this=exp.Is(this=e(), expression=exp.Null()))
    if op == "notSet":
        return exp.Is(this=e(), expression=exp.Null())
    keep_null = exp.Is(this=e(), expression=exp.Null())
    if kind == "time":
        return _time_filter(op, values, e, timezone, keep_null)
    if op in ("equals", "notEquals"):
        lits = [_literal(v, kind) for v in values]
        cond: exp.Expression = exp.EQ(this=e(), expression=lits[0]) if len(lits) == 1 \
            else exp.In(this=e(), expressions=lits)
        if op == "equals":
            return cond
        return exp.Paren(this=exp.or_(exp.Not(this=cond), keep_null))
    compare = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
    if op in compare:
        return compare[op](this=e(), expression=_literal(values[0], kind))
    fn = {"contains": "contains", "notContains": "contains", "startsWith": "starts_with",
          "notStartsWith": "starts_with", "endsWith": "ends_with",
          "notEndsWith": "ends_with"}[op]
    matches = [_fn(fn, _fn("lower", e()), _fn("lower", exp.Literal.string(v))) for v in values]
    if op.startswith("not"):
        return exp.Paren(this=exp.or_(exp.Not(this=_any(matches)), keep_null))
    return _any(matches)


def _time_filter(op: str, values: tuple[str, ...], e, timezone: str,
                 keep_null: exp.Expression) -> exp.Expression:
    if op in ("inDateRange", "notInDateRange"):
        cond = in_range(e(), DateRange(values[0], values[1]), timezone)
        return cond if op == "inDateRange" else exp.Not(this=exp.Paren(this=cond))
    value = as_instant(e())
    if op in ("equals", "notEquals"):
        items = []
        for v in values:
            start, _ = _point(v)
            items.append(exp.EQ(this=value.copy(), expression=local_to_instant(start, timezone)))
        cond = _any(items)
        return cond if op == "equals" else exp.Paren(this=exp.or_(exp.Not(this=cond),
                                                                  keep_null))
    start, end = _point(values[0])
    table = {"beforeDate": (exp.LT, start), "beforeOrOnDate": (exp.LT, end),
             "afterDate": (exp.GTE, end), "afterOrOnDate": (exp.GTE, start),
             "gt": (exp.GT, start), "gte": (exp.GTE, start), "lt": (exp.LT, start),
             "lte": (exp.LTE, start)}
    node, edge = table[op]
    return node(this=value, expression=local_to_instant(edge, timezone))
