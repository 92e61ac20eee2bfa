"""Result formats chosen by the ``Accept`` header: JSON (default), Arrow IPC stream, CSV.

Example:
    >>> wanted("text/csv, application/json;q=0.5"), wanted(None), wanted(ARROW)
    ('csv', 'json', 'arrow')
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv"


def wanted(accept: str | None) -> str:
    """``arrow``, ``csv`` or ``json`` for an ``Accept`` header (the first listed wins)."""
    for part in (accept or "").split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media == ARROW:
            return "arrow"
        if media == CSV:
            return "csv"
        if media in ("application/json", "*/*", "application/*"):
            return "json"
    return "json"


def arrow_bytes(table: pa.Table) -> bytes:
    """``table`` as an Arrow IPC stream."""
    import pyarrow as pa

    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """Rows as CSV with a header line (NULL as an empty field).

    Example:
        >>> csv_text(["a", "b"], [{"a": 1, "b": None}])
        'a,b\\r\\n1,\\r\\n'
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()


def column_types(table: pa.Table) -> list[dict[str, str]]:
    """``[{"name", "type"}]`` of a table (Arrow type names)."""
    return [{"name": f.name, "type": str(f.type)} for f in table.schema]


def json_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts (times as ISO text, decimals and big integers exact as
    text where a JSON number would lose them)."""
    import datetime as dt
    import decimal

    def value(v: Any) -> Any:
        if isinstance(v, dt.datetime | dt.date | dt.time):
            return v.isoformat()
        if isinstance(v, decimal.Decimal):
            return str(v)
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53:
            return str(v)
        if isinstance(v, bytes):
            return v.hex()
        if isinstance(v, dt.timedelta):
            return v.total_seconds()
        if isinstance(v, list):
            return [value(x) for x in v]
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, float) and not math.isfinite(v):  # NaN and inf are not JSON
            return None if v != v else str(v)
        return v

    return [{k: value(v) for k, v in row.items()} for row in table.to_pylist()]
