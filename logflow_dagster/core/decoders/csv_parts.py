"""Helpers of the delimited-text decoder: header names, pyarrow's rejected rows, joining the
good records of a block."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .csv_scan import RecordScan


class InvalidRows:
    """Collects the rows pyarrow's parser rejects for their field count: with one parsing
    thread, ``row.number`` is the 1-based number of the record among non-blank records."""

    def __init__(self) -> None:
        self.count = 0
        self.rows: list[tuple[int | None, int]] = []  # (number, fields found)

    def __call__(self, row: pacsv.InvalidRow) -> str:
        self.count += 1
        self.rows.append((row.number, row.actual_columns))
        return "skip"


def sanitize_names(names: list[str]) -> list[str]:
    """Makes header names usable: blanks get ``column_N``, repeats get ``_2``, ``_3``.

    Example:
        >>> sanitize_names(["id", "", "id", " name "])
        ['id', 'column_2', 'id_2', 'name']
    """
    out: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(names, start=1):
        name = raw.strip() or f"column_{i}"
        base, n = name, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        out.append(name)
    return out


def cut_inside_quotes(table: pa.Table) -> bool:
    """True when the block was cut inside a quoted field (a quote in an unquoted field fooled
    the parity count): pyarrow then closes the field at the end of the data, so the last
    row's last value ends with the newline where the block was cut."""
    if table.num_rows == 0:
        return False
    last = table.column(table.num_columns - 1)
    if not pa.types.is_string(last.type) and not pa.types.is_large_string(last.type):
        return False  # a typed last column cannot hold a newline: the cut was clean
    value = last[table.num_rows - 1].as_py()
    return isinstance(value, str) and value.endswith("\n")


def join_records(data: bytes, scan: RecordScan, rows: np.ndarray) -> bytes:
    """The bytes of the selected records, newline-terminated, copying runs not records."""
    if rows.size == 0:
        return b""
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    parts: list[bytes] = []
    for run in np.split(rows, breaks):
        parts.append(data[scan.starts[run[0]] : scan.ends[run[-1]]])
        parts.append(b"\n")
    return b"".join(parts)


def empty_batch(table: pa.Table) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=table.schema)
