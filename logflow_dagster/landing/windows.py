"""Time windows: a daily or hourly partition holds the files modified in it (UTC).

Example:
    >>> window_key("daily", 1_709_283_600 * 10**9)
    '2024-03-01'
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_FORMATS = {"daily": "%Y-%m-%d", "hourly": "%Y-%m-%d-%H:00"}
_LENGTHS = {"daily": timedelta(days=1), "hourly": timedelta(hours=1)}


def window_key(partitioning: str, mtime_ns: int) -> str:
    """The daily/hourly partition key of a file modified at ``mtime_ns`` (UTC).

    Example:
        >>> window_key("hourly", 1_709_283_600 * 10**9)
        '2024-03-01-09:00'
    """
    when = datetime.fromtimestamp(mtime_ns / 1e9, UTC)
    return when.strftime(_FORMATS[partitioning])


def window_bounds(partitioning: str, key: str) -> tuple[int, int]:
    """The ``[start, end)`` of a window key, in nanoseconds since the epoch.

    Example:
        >>> lo, hi = window_bounds("daily", "2024-03-01")
        >>> (hi - lo) // 10**9
        86400
    """
    start = datetime.strptime(key, _FORMATS[partitioning]).replace(tzinfo=UTC)
    end = start + _LENGTHS[partitioning]
    return int(start.timestamp()) * 10**9, int(end.timestamp()) * 10**9
