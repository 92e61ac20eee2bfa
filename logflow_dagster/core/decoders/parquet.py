"""Parquet: a pass-through of the file's own Arrow data, streamed batch by batch.

The module also holds :func:`cast_overrides`, the vectorized cast of ``options.schema`` overrides
that the binary decoders (Parquet, Avro, XLSX) share: a batch is cast column by column with
``pyarrow.compute.cast``; only when a cast fails is the column bisected to find the values that
do not fit, so the clean path never loops over rows in Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError, LogflowError, RowError, UsageError
from ..schema.types import parse_type
from .base import DecodedBatch, Decoder


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


def _failing_rows(array: pa.Array, target: pa.DataType, offset: int, out: list[int]) -> None:
    """Bisects ``array`` until the values that do not cast are isolated (few casts if few fail)."""
    try:
        pc.cast(array, target)
        return
    except pa.ArrowInvalid:
        if len(array) == 1:
            out.append(offset)
            return
    mid = len(array) // 2
    _failing_rows(array.slice(0, mid), target, offset, out)
    _failing_rows(array.slice(mid), target, offset + mid, out)


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
        rows: list[int] = []
        _failing_rows(column, target, 0, rows)
        for row in rows:
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


class ParquetDecoder(Decoder):
    """Streams a Parquet file's row groups as Arrow batches of ``options.batch_size`` rows.

    The data keeps the file's own Arrow schema; ``options.schema`` overrides are cast, and a
    value that does not fit becomes a :class:`RowError` with its 1-based record number.
    A compressed file (``.parquet.gz``) is decompressed into memory first, since Parquet needs
    random access; local files are opened by path, remote ones through ``fsspec``.

    ``info``: ``row_groups`` and ``rows`` from the footer.

    Example:
        >>> from logflow_dagster.core.source import Source  # doctest: +SKIP
        >>> from logflow_dagster.core.detect.result import Detection  # doctest: +SKIP
        >>> from logflow_dagster.core.decoders import DecodeOptions  # doctest: +SKIP
        >>> dec = ParquetDecoder(Source.open_path("t.parquet"), Detection("parquet"),
        ...                      DecodeOptions(batch_size=10_000))  # doctest: +SKIP
        >>> sum(step.records for step in dec.batches())  # doctest: +SKIP
        25000
    """

    format = "parquet"

    def batches(self) -> Iterator[DecodedBatch]:
        """Yields the file's rows batch by batch, with the rows that failed an override cast.

        Raises:
            DataError: For a file that is not Parquet or is corrupt (naming the file).
            UsageError: For an override type that has no cast from the column's type.
        """
        import pyarrow.parquet as pq

        overrides = parse_overrides(self.options.schema)
        path = self.source.path
        handle: Any = None
        try:
            if self.source.is_local and self.source.compression is None:
                target: Any = path
            elif self.source.compression is not None:
                with self.source.open() as stream:
                    target = handle = pa.BufferReader(stream.read())
            else:
                target = handle = self.source.open_raw()
            pf = pq.ParquetFile(target)
            meta = pf.metadata
        except LogflowError:
            raise
        except Exception as exc:
            if handle is not None:
                handle.close()
            raise DataError(f"not a readable Parquet file: {exc}", source=path) from exc
        self.info["row_groups"] = meta.num_row_groups
        self.info["rows"] = meta.num_rows
        done = 0
        try:
            try:
                steps = pf.iter_batches(batch_size=max(1, self.options.batch_size))
            except Exception as exc:
                raise DataError(f"unreadable Parquet data: {exc}", source=path) from exc
            while True:
                try:
                    batch = next(steps)
                except StopIteration:
                    return
                except Exception as exc:
                    raise DataError(f"corrupt Parquet data after record {done}: {exc}",
                                    source=path, record=done + 1) from exc
                if batch.num_rows == 0:
                    continue
                rows = batch.num_rows
                errors: list[RowError] = []
                if overrides:
                    original = batch
                    batch, misses = cast_overrides(batch, overrides)
                    errors = miss_errors(original, misses, range(done + 1, done + rows + 1))
                done += rows
                yield DecodedBatch(batch if batch.num_rows else None, errors)
        finally:
            pf.close()
            if handle is not None:
                handle.close()


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


__all__ = ["CastMiss", "ParquetDecoder", "cast_overrides", "json_text", "miss_errors",
           "parse_overrides", "type_name", "value_text"]
