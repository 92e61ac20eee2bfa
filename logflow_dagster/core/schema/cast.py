"""Casting Arrow columns to a wanted type, finding exactly the values that do not fit.

A column is cast with one vectorized ``pyarrow.compute.cast``; only when that fails is it
bisected, so finding k bad values among n costs about k*log2(n) casts and the clean path never
loops over rows in Python. Used by the text typer and by the binary decoders' overrides.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import RowError, UsageError
from .types import parse_type


def failing_rows(array: pa.Array, target: pa.DataType) -> np.ndarray:
    """Indices of the values of ``array`` that do not cast to ``target``.

    Example:
        >>> failing_rows(pa.array(["1", "x", "3", "y"]), pa.int64()).tolist()
        [1, 3]
    """
    out: list[int] = []
    step = 2048  # cast in slices first: one Python call per slice, bisect only failing ones
    for start in range(0, len(array), step):
        _bisect(array.slice(start, step), target, start, out)
    return np.asarray(out, dtype=np.int64)


def numeric_codes(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where a string column holds a number written as a code: a leading ``+`` (``+5``), a
    leading zero (``007``, ``-007``, ``00``, ``007.5``) or ``-0``. Such text does not survive
    a round trip through a number type. Vectorized: it only looks at the first three bytes of
    each value (``0``, ``0.5`` and ``-0.5`` are numbers).

    Example:
        >>> numeric_codes(pa.array(["007", "0", "+5", "-0.5", None, "-0"])).tolist()
        [True, False, True, False, False, True]
    """
    if isinstance(array, pa.ChunkedArray):
        parts = [numeric_codes(chunk) for chunk in array.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
    n = len(array)
    bufs = array.buffers()
    if n == 0 or bufs[2] is None or bufs[2].size == 0:
        return np.zeros(n, dtype=bool)
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(bufs[1], dtype=width)[array.offset : array.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8)
    last = data.size - 1
    start = offsets[:-1]
    length = np.diff(offsets)
    b0 = data[np.minimum(start, last)]
    b1 = data[np.minimum(start + 1, last)]
    b2 = data[np.minimum(start + 2, last)]
    neg = (b0 == 0x2D) & (length > 1)
    d0, d1 = np.where(neg, b1, b0), np.where(neg, b2, b1)
    rest = length - neg
    code = ((b0 == 0x2B) & (length > 1)) | ((d0 == 0x30) & (rest > 1) & (d1 >= 0x30)
                                            & (d1 <= 0x39)) | (neg & (rest == 1) & (d0 == 0x30))
    if array.null_count:
        code &= array.is_valid().to_numpy(zero_copy_only=False)
    return code


def _bisect(array: pa.Array, target: pa.DataType, offset: int, out: list[int]) -> None:
    try:
        pc.cast(array, target)
        return
    except pa.ArrowInvalid:
        if len(array) == 1:
            out.append(offset)
            return
    mid = len(array) // 2
    _bisect(array.slice(0, mid), target, offset, out)
    _bisect(array.slice(mid), target, offset + mid, out)


@dataclass(frozen=True, slots=True)
class CastMiss:
    """A value that did not fit its column's override type.

    Attributes:
        row: Index of the row within the batch given to :func:`cast_overrides`.
        column: The column name.
        value: The value as text.
        expected: The override type (``int64``, ``decimal128(12, 2)`` ...).
    """

    row: int
    column: str
    value: str
    expected: str


def parse_overrides(schema: dict[str, str] | None) -> dict[str, pa.DataType]:
    """Reads ``options.schema`` (column -> type name) into Arrow types.

    Raises:
        UsageError: For an unknown type name.

    Example:
        >>> parse_overrides({"n": "int32"})
        {'n': DataType(int32)}
    """
    return {name: parse_type(text) for name, text in (schema or {}).items()}


def type_name(t: pa.DataType) -> str:
    """A type as users write it in overrides (``float64`` rather than Arrow's ``double``).

    Example:
        >>> type_name(pa.float64()), type_name(pa.timestamp("us"))
        ('float64', 'timestamp[us]')
    """
    if pa.types.is_floating(t):
        return f"float{t.bit_width}"
    return str(t)


def cast_overrides(
    batch: pa.RecordBatch, overrides: dict[str, pa.DataType]
) -> tuple[pa.RecordBatch, list[CastMiss]]:
    """Casts the overridden columns of a batch, dropping the rows whose values do not fit.

    Columns not in the batch are ignored. A row with several bad values yields one
    :class:`CastMiss` per bad value (callers usually keep the first per row).

    Returns:
        The cast batch without the failing rows, and the misses ordered by row.

    Raises:
        UsageError: When Arrow has no cast between the column's type and the override.

    Example:
        >>> batch = pa.record_batch({"n": ["1", "x", "3"]})
        >>> typed, misses = cast_overrides(batch, {"n": pa.int64()})
        >>> typed.column(0).to_pylist(), [(m.row, m.value) for m in misses]
        ([1, 3], [(1, 'x')])
    """
    wanted = {
        i: overrides[name]
        for i, name in enumerate(batch.schema.names)
        if name in overrides and batch.column(i).type != overrides[name]
    }
    if not wanted:
        return batch, []
    misses: list[CastMiss] = []
    cast: dict[int, pa.Array] = {}
    for i, target in wanted.items():
        name, column = batch.schema.names[i], batch.column(i)
        try:
            cast[i] = pc.cast(column, target)
            continue
        except pa.ArrowInvalid:
            pass
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise UsageError(f"cannot convert column {name!r} from {column.type} to {target}: "
                             f"{exc}") from None
        for row in failing_rows(column, target).tolist():
            misses.append(CastMiss(row, name, value_text(column[row].as_py()), type_name(target)))
    if misses:
        keep = np.ones(batch.num_rows, dtype=bool)
        keep[[m.row for m in misses]] = False
        batch = batch.filter(pa.array(keep))
        cast = {i: pc.cast(batch.column(i), target) for i, target in wanted.items()}
        misses.sort(key=lambda m: m.row)
    schema = batch.schema
    for i, target in wanted.items():
        schema = schema.set(i, schema.field(i).with_type(target))
    arrays = [cast.get(i, column) for i, column in enumerate(batch.columns)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema), misses


def value_text(value: Any) -> str:
    """A value as text for error reports (ISO dates, JSON for nested values)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json_text(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")  # as Avro's JSON encoding writes bytes
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)  # Decimal, UUID, timedelta ...


def json_text(value: Any) -> str:
    """JSON text of a decoded value (bytes as latin-1 code points, dates in ISO format).

    Example:
        >>> json_text({"a": b"\\x01", "n": 1})
        '{"a": "\\\\u0001", "n": 1}'
    """
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def miss_errors(
    batch: pa.RecordBatch, misses: list[CastMiss], records: Sequence[int]
) -> list[RowError]:
    """One :class:`RowError` per failing row (its first bad value), raw text as JSON.

    Args:
        batch: The batch given to :func:`cast_overrides`.
        misses: What it reported.
        records: The 1-based record number of each row of ``batch``.
    """
    errors: list[RowError] = []
    seen: set[int] = set()
    for miss in misses:
        if miss.row in seen:
            continue
        seen.add(miss.row)
        row = batch.slice(miss.row, 1).to_pylist()[0]
        errors.append(RowError(
            f"expected {miss.expected} in column {miss.column!r}",
            raw=json_text(row),
            column=miss.column,
            value=miss.value,
            record=int(records[miss.row]),
        ))
    return errors


__all__ = ["CastMiss", "cast_overrides", "failing_rows", "json_text", "miss_errors",
           "numeric_codes",
           "parse_overrides", "type_name", "value_text"]
