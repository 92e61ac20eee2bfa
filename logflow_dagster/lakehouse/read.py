"""Reading a table as of now, a snapshot id or a point in time (time travel), streamed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from ..core.errors import UsageError


def snapshot_for(table: Any, *, snapshot_id: int | None = None,
                 as_of: datetime | None = None) -> Any:
    """The snapshot a read should see: by id, the one current at ``as_of``, or the current.

    Raises:
        UsageError: For an unknown snapshot id or a time before the table's first snapshot.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> table.append(pa.table({"id": [3]}))
        >>> first, second = table.snapshots()
        >>> snapshot_for(table) == second
        True
        >>> snapshot_for(table, snapshot_id=first.snapshot_id) == first
        True
        >>> from datetime import UTC
        >>> try:
        ...     snapshot_for(table, as_of=datetime(2000, 1, 1, tzinfo=UTC))
        ... except UsageError as err:
        ...     print(err)
        table has no snapshot at or before 2000-01-01T00:00:00+00:00
        >>> close_catalog(catalog); tmp.cleanup()
    """
    if snapshot_id is not None and as_of is not None:
        raise UsageError("give a snapshot id or a time, not both")
    if snapshot_id is not None:
        snap = table.snapshot_by_id(snapshot_id)
        if snap is None:
            known = ", ".join(str(s.snapshot_id) for s in table.snapshots()[-5:])
            raise UsageError(f"table has no snapshot {snapshot_id}; recent ones: {known}")
        return snap
    if as_of is not None:
        if as_of.tzinfo is None:
            raise UsageError("the time must carry a zone (e.g. 2026-01-01T00:00:00Z)")
        snap = table.snapshot_as_of_timestamp(int(as_of.timestamp() * 1000))
        if snap is None:
            raise UsageError(f"table has no snapshot at or before {as_of.isoformat()}")
        return snap
    return table.current_snapshot()


def read_table(table: Any, *, snapshot_id: int | None = None, as_of: datetime | None = None,
               columns: tuple[str, ...] = ("*",), row_filter: Any = None,
               limit: int | None = None) -> pa.RecordBatchReader:
    """Streams a table's rows as of now, a snapshot id or a time.

    Args:
        table: A pyiceberg table.
        snapshot_id: Read this snapshot.
        as_of: Read the snapshot that was current at this (zoned) time.
        columns: Columns to read.
        row_filter: A pyiceberg expression or filter string (``"region = 'EU'"``).
        limit: At most this many rows.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> table.append(pa.table({"id": [3]}))
        >>> first_id = table.snapshots()[0].snapshot_id
        >>> old = read_table(table, snapshot_id=first_id).read_all()
        >>> old.num_rows, read_table(table).read_all().num_rows
        (2, 3)
        >>> close_catalog(catalog); tmp.cleanup()
    """
    snap = snapshot_for(table, snapshot_id=snapshot_id, as_of=as_of)
    if snap is None:  # an empty table
        schema = table.schema().as_arrow()
        return pa.RecordBatchReader.from_batches(schema, iter(()))
    kwargs: dict[str, Any] = {"snapshot_id": snap.snapshot_id, "selected_fields": columns}
    if row_filter is not None:
        kwargs["row_filter"] = row_filter
    if limit is not None:
        kwargs["limit"] = limit
    return table.scan(**kwargs).to_arrow_batch_reader()
