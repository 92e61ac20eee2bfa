"""Running compiled SQL on DuckDB over the pinned Iceberg snapshots, and shaping the rows the
way Cube's ``/load`` returns them.

The connection is offline (iceberg/avro extensions from their packages) and locked down
before any query runs: session time zone UTC (naive timestamps count as UTC),
``allowed_directories`` = the local warehouse, ``enable_external_access = false`` (no file or
network access outside it: ``read_csv('/etc/passwd')`` fails even if it got past the parser)
and ``lock_configuration = true`` (no SET can undo that). DuckDB 1.5.5 supports all three.
A warehouse on object storage is read without that lockdown (DuckDB needs external access for
it); the parser guard still applies.

Value formats follow Cube's REST API: numbers (measures and number dimensions) as strings
(Cube's documented behaviour: "The REST API returns numeric measure and dimension values as
strings", to keep 64-bit integers and decimals exact in JSON; clients cast with
``castNumerics``); times as ``YYYY-MM-DDTHH:MM:SS.sss`` in the query's time zone without an
offset; booleans as JSON booleans; NULL as null.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

from sqlglot import exp

from .dates import fmt
from .model import Cube
from .tables import TableSnapshot, pin_tables

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from .compiler import Source


def raw_source(snapshots: dict[str, TableSnapshot]) -> Source:
    """The cubes' own tables: ``sql_table`` as its pinned ``iceberg_scan``, ``sql`` as a
    subquery whose tables are pinned the same way."""
    def source(cube: Cube, alias: str) -> exp.Expression:
        if cube.sql_table:
            from ..core.errors import UsageError

            snap = snapshots.get(cube.sql_table)
            if snap is None:
                raise UsageError(f"no table {cube.sql_table!r} in the catalog")
            return snap.scan(alias)
        pinned = pin_tables(cube.sql_ast, snapshots)
        return exp.Subquery(this=pinned, alias=exp.TableAlias(
            this=exp.to_identifier(alias, quoted=True)))
    return source


def local_path(warehouse: str) -> str | None:
    """The folder of a ``file://`` (or plain path) warehouse, None for object storage."""
    parsed = urlparse(warehouse)
    if parsed.scheme in ("", "file"):
        return unquote(parsed.path) if parsed.scheme else warehouse
    return None


def locked_connection(warehouse: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that reads the warehouse and nothing else (see the module doc)."""
    from ..lakehouse.duckdb_reader import duckdb_connection

    con = duckdb_connection()
    con.execute("SET TimeZone = 'UTC'")
    folder = local_path(warehouse)
    if folder is not None:
        con.execute("SET allowed_directories = $dirs", {"dirs": [folder.rstrip("/") + "/"]})
        con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def run(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Runs ``sql``; the result as an Arrow table."""
    return con.execute(sql).fetch_arrow_table()


def format_value(value: Any, kind: str, zone: ZoneInfo) -> Any:
    """One value as Cube's ``/load`` gives it (see the module doc).

    Example:
        >>> z = ZoneInfo("UTC")
        >>> format_value(3, "measure", z), format_value(2.5, "measure", z)
        ('3', '2.5')
        >>> format_value(datetime(2024, 3, 1, 8), "time", z), format_value(None, "time", z)
        ('2024-03-01T08:00:00.000', None)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(zone).replace(tzinfo=None)
        return fmt(value)
    if isinstance(value, date):
        return fmt(datetime(value.year, value.month, value.day))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value if isinstance(value, str) else str(value)


def to_data(table: pa.Table, columns: dict[str, str], time_keys: dict[str, str],
            timezone: str) -> list[dict[str, Any]]:
    """Rows keyed like Cube: every output column, and for each time dimension with a
    granularity also its plain name (``orders.created_at`` beside ``orders.created_at.day``;
    the first granularity wins).

    Args:
        table: The query's result.
        columns: Output column -> kind (``dimension``, ``time``, ``measure``).
        time_keys: Bucket column -> plain dimension name.
        timezone: The query's time zone (for zoned values in ``dimensions``).
    """
    zone = ZoneInfo(timezone)
    names = table.column_names
    out = []
    for row in table.to_pylist():
        item: dict[str, Any] = {}
        for name in names:
            item[name] = format_value(row[name], columns.get(name, "dimension"), zone)
        for key, plain in time_keys.items():
            item.setdefault(plain, item.get(key))
        out.append(item)
    return out
