"""Cube's date ranges: ``[from, to]`` or relative strings, resolved in the query's time zone.

Resolved ranges are local (naive) datetimes with an inclusive end at millisecond precision, as
Cube reports them (``2024-01-31T23:59:59.999``). Relative strings follow Cube's rules:
``today``, ``yesterday``, ``tomorrow``; ``this|last|next <unit>`` (the whole unit: ``last
month`` is the previous calendar month, weeks are ISO weeks); ``last N <units>`` (the N whole
units before the current one: ``last 7 days`` ends yesterday) and ``next N <units>`` (the N
after it); ``from X to Y`` with X and Y an ISO date or time, ``now``, ``today``,
``yesterday``, ``tomorrow``, ``N <units> ago`` or ``N <units> from now``; a single ISO date
(that day).

Example:
    >>> now = datetime(2024, 3, 15, 10, 30)
    >>> resolve_date_range("last 7 days", now)
    ('2024-03-08T00:00:00.000', '2024-03-14T23:59:59.999')
    >>> resolve_date_range(["2024-01-01", "2024-01-31"], now)
    ('2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999')
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from ..core.errors import UsageError

UNITS = ("second", "minute", "hour", "day", "week", "month", "quarter", "year")
_MS = timedelta(milliseconds=1)


def fmt(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sss`` (Cube's local time format)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def trunc(value: datetime, unit: str) -> datetime:
    """The start of the ``unit`` holding ``value`` (weeks start on Monday)."""
    if unit == "second":
        return value.replace(microsecond=0)
    if unit == "minute":
        return value.replace(second=0, microsecond=0)
    if unit == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def shift(value: datetime, unit: str, n: int) -> datetime:
    """``value`` moved by ``n`` units (months clamp the day, as moment.js does)."""
    if unit in ("second", "minute", "hour", "day", "week"):
        return value + timedelta(**{f"{unit}s": n})
    months = n * {"month": 1, "quarter": 3, "year": 12}[unit]
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    import calendar

    last = calendar.monthrange(year, month + 1)[1]
    return value.replace(year=year, month=month + 1, day=min(value.day, last))


def _end(start: datetime, unit: str) -> datetime:
    return shift(trunc(start, unit), unit, 1) - _MS


def _unit(text: str) -> str:
    unit = text.rstrip("s")
    if unit not in UNITS:
        raise UsageError(f"unknown time unit {text!r} (use {', '.join(UNITS)})")
    return unit


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")


def parse_point(text: str, now: datetime) -> tuple[datetime, str]:
    """A point in time and its precision (``day`` for a date, else ``ms``).

    Raises:
        UsageError: Not an ISO date/time or a relative word Cube knows.
    """
    text = text.strip()
    low = text.lower()
    if _ISO.match(text):
        try:
            value = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            raise UsageError(f"can't parse date {text!r}") from None
        return value, "day" if len(text) == 10 else "ms"
    if low == "now":
        return now, "ms"
    words = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if low in words:
        return trunc(now, "day") + timedelta(days=words[low]), "day"
    m = re.fullmatch(r"(\d+)\s+([a-z]+)\s+(ago|from now)", low)
    if m:
        unit = _unit(m.group(2))
        n = int(m.group(1)) * (-1 if m.group(3) == "ago" else 1)
        value = shift(now, unit, n)
        return (trunc(value, "day"), "day") if unit not in ("second", "minute", "hour") \
            else (value, "ms")
    if re.search(r"[+-]\d{2}:?\d{2}$|z$", low) or ("t" in low and low[:4].isdigit()):
        raise UsageError(f"can't parse date {text!r}: give a local time without an offset "
                         "(the query's timezone applies)")
    raise UsageError(f"can't parse date {text!r}")


def _point_range(text: str, now: datetime) -> tuple[datetime, datetime]:
    value, precision = parse_point(text, now)
    if precision == "day":
        return value, _end(value, "day")
    return value, value


def resolve_date_range(value: Any, now: datetime) -> tuple[str, str]:
    """``(from, to)`` local ISO strings, ``to`` inclusive.

    Args:
        value: ``[from, to]`` or a relative string.
        now: The current local time in the query's time zone (naive).

    Raises:
        UsageError: An unparsable range or one that ends before it starts.
    """
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or not all(isinstance(v, str) for v in value):
            raise UsageError(f"dateRange {value!r}: expected [from, to] or a relative string")
        start = _point_range(value[0], now)[0]
        end = _point_range(value[1], now)[1]
    elif isinstance(value, str):
        start, end = _relative(value.strip().lower(), now)
    else:
        raise UsageError(f"dateRange {value!r}: expected [from, to] or a relative string")
    if end < start:
        raise UsageError(f"dateRange {value!r} ends before it starts")
    return fmt(start), fmt(end)


def _relative(text: str, now: datetime) -> tuple[datetime, datetime]:
    m = re.fullmatch(r"(this|last|next)\s+([a-z]+)", text)
    if m and m.group(2).rstrip("s") in UNITS and not m.group(2).endswith("s"):
        unit = _unit(m.group(2))
        base = shift(now, unit, {"this": 0, "last": -1, "next": 1}[m.group(1)])
        return trunc(base, unit), _end(base, unit)
    m = re.fullmatch(r"(last|next)\s+(\d+)\s+([a-z]+)", text)
    if m:
        unit, n = _unit(m.group(3)), int(m.group(2))
        if n < 1:
            raise UsageError(f"dateRange {text!r}: the count must be at least 1")
        if m.group(1) == "last":
            return trunc(shift(now, unit, -n), unit), _end(shift(now, unit, -1), unit)
        return trunc(shift(now, unit, 1), unit), _end(shift(now, unit, n), unit)
    m = re.fullmatch(r"from\s+(.+?)\s+to\s+(.+)", text)
    if m:
        return _point_range(m.group(1), now)[0], _point_range(m.group(2), now)[1]
    if text in ("today", "yesterday", "tomorrow") or _ISO.match(text):
        return _point_range(text, now)
    raise UsageError(f"dateRange {text!r}: can't parse it (use [from, to], 'today', "
                     "'yesterday', 'this|last|next <unit>', 'last N <units>', "
                     "'from X to Y')")
