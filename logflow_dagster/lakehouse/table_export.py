"""Writing a stream of rows read from a table: to Parquet, CSV or JSON Lines, file or stdout."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import IO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..core.errors import UsageError
from ..core.quality.profile import jsonable

FORMATS = ("parquet", "csv", "jsonl")


def parse_zoned_time(text: str) -> datetime:
    """Reads an ISO 8601 time that names its zone (``Z`` or an offset).

    Raises:
        UsageError: For text that is not such a time.

    Example:
        >>> parse_zoned_time("2026-12-01T08:00:00Z").isoformat()
        '2026-12-01T08:00:00+00:00'
    """
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"bad time {text!r}; use e.g. 2026-12-01T08:00:00Z") from None
    if value.tzinfo is None:
        raise UsageError(f"the time {text!r} must carry a zone (Z or +HH:MM)")
    return value


def format_of(path: str | None, fmt: str | None = None) -> str:
    """The output format: ``fmt`` if given, else from the file name (CSV for stdout).

    Example:
        >>> format_of("out.parquet"), format_of(None), format_of(None, "jsonl")
        ('parquet', 'csv', 'jsonl')
    """
    if fmt is None:
        fmt = path.rsplit(".", 1)[-1].lower() if path and "." in path else "csv"
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}; use a name ending in "
                         f"{', '.join('.' + f for f in FORMATS)}")
    return fmt


def write_rows(reader: pa.RecordBatchReader, path: str | None, fmt: str | None = None) -> int:
    """Streams ``reader`` to ``path`` (stdout when None) batch by batch; returns the rows.

    Example:
        >>> r = pa.RecordBatchReader.from_batches(
        ...     pa.schema([("a", pa.int64())]), [pa.record_batch({"a": [1, 2]})])
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     write_rows(r, f"{tmp}/rows.jsonl")
        ...     pathlib.Path(tmp, "rows.jsonl").read_text().splitlines()
        2
        ['{"a": 1}', '{"a": 2}']
    """
    fmt = format_of(path, fmt)
    if fmt == "parquet":
        if path is None:
            raise UsageError("Parquet needs a file: give --output NAME.parquet")
        rows = 0
        with pq.ParquetWriter(path, reader.schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
        return rows
    if path is None:
        sys.stdout.flush()
        return _text(reader, fmt, sys.stdout.buffer)
    with open(path, "wb") as out:
        return _text(reader, fmt, out)


def _text(reader: pa.RecordBatchReader, fmt: str, out: IO[bytes]) -> int:
    """CSV (one header, even without rows) or JSON Lines, as UTF-8, one batch at a time."""
    rows = 0
    if fmt == "csv":
        head = pa.BufferOutputStream()
        pacsv.write_csv(reader.schema.empty_table(), head)
        out.write(head.getvalue().to_pybytes())
    for batch in reader:
        if fmt == "jsonl":
            out.write("".join(json.dumps({k: jsonable(v) for k, v in row.items()}) + "\n"
                              for row in batch.to_pylist()).encode("utf-8"))
        else:
            buf = pa.BufferOutputStream()
            pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False))
            out.write(buf.getvalue().to_pybytes())
        rows += batch.num_rows
    out.flush()
    return rows

