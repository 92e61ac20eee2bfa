"""Parquet: a pass-through of the file's own Arrow data, streamed batch by batch.

``options.schema`` overrides are cast with :func:`..schema.cast.cast_overrides`.

Types the rest of the engine cannot hold are converted when that loses nothing and refused
otherwise (:func:`engine_type`): ``float16`` becomes ``float32``, string and binary views their
plain types, extension types (UUID, JSON ...) their storage type, ``decimal256`` of at most 38
digits ``decimal128``; a wider decimal is refused with a :class:`DataError` naming the column.
INT96 timestamps (Impala, old Spark) are read as ``timestamp[ns]``, exactly; when a value lies
outside what nanoseconds can hold (before 1677-09-21 or after 2262-04-11, such as Spark's
``9999-12-31``) the file's INT96 columns are read as ``timestamp[us]``, still exactly unless
some value has sub-microsecond digits too, which is refused. Encrypted Parquet is refused.
Parquet readers do not check that string data is UTF-8: a row holding invalid UTF-8 (a corrupt
page) is a bad record with its record number, never text that no reader can decode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError, LogflowError, RowError, UsageError
from ..schema.cast import cast_overrides, json_text, miss_errors, parse_overrides
from .base import DecodedBatch, Decoder

#: The first and last microsecond a ``timestamp[ns]`` can hold.
_NS_RANGE_US = (-(2**63) // 1000 + 1, (2**63 - 1) // 1000)

ENCRYPTED = "encrypted Parquet is not supported (the file needs decryption keys)"


class UnsupportedType(Exception):
    """A Parquet column type with no lossless Arrow type the engine can write."""


def engine_type(t: pa.DataType) -> pa.DataType:
    """The type a column of type ``t`` is written as (``t`` itself when the engine holds it).

    Raises:
        UnsupportedType: For a type that has no lossless counterpart (``decimal256(50, 2)``).

    Example:
        >>> engine_type(pa.list_(pa.float16()))
        ListType(list<item: float>)
    """
    if isinstance(t, pa.BaseExtensionType):
        return engine_type(t.storage_type)
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_decimal(t) and t.bit_width != 128:
        if t.precision > 38:
            raise UnsupportedType(str(t))
        return pa.decimal128(t.precision, t.scale)
    if pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        raise UnsupportedType(str(t))
    if pa.types.is_dictionary(t):
        return pa.dictionary(t.index_type, engine_type(t.value_type), t.ordered)
    if pa.types.is_map(t):
        return pa.map_(engine_type(t.key_type), _field(t.item_field), t.keys_sorted)
    if pa.types.is_fixed_size_list(t):
        return pa.list_(_field(t.value_field), t.list_size)
    if pa.types.is_large_list(t):
        return pa.large_list(_field(t.value_field))
    if pa.types.is_list(t):
        return pa.list_(_field(t.value_field))
    if pa.types.is_struct(t):
        return pa.struct([_field(t.field(i)) for i in range(t.num_fields)])
    if pa.types.is_union(t):
        raise UnsupportedType(str(t))
    return t


def _field(f: pa.Field) -> pa.Field:
    return pa.field(f.name, engine_type(f.type), f.nullable, f.metadata)


def _engine_schema(schema: pa.Schema, path: str) -> pa.Schema:
    fields = []
    for f in schema:
        try:
            fields.append(_field(f))
        except UnsupportedType as exc:
            raise DataError(f"unsupported: {exc}", source=path,
                            column=f.name) from None
    return pa.schema(fields, metadata=schema.metadata)


def _to_engine(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Casts the columns whose type differs from ``schema`` (all such casts are lossless)."""
    if batch.schema.remove_metadata().equals(schema.remove_metadata()):
        return batch
    columns = []
    for column, f in zip(batch.columns, schema, strict=True):
        if column.type != f.type:
            if isinstance(column.type, pa.BaseExtensionType):
                column = column.storage
            column = column.cast(f.type) if column.type != f.type else column
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


class ParquetDecoder(Decoder):
    """Streams a Parquet file's row groups as Arrow batches of ``options.batch_size`` rows.

    The data keeps the file's own Arrow schema, but for the types :func:`engine_type`
    converts; ``options.schema`` overrides are cast, and a value that does not fit becomes a
    :class:`RowError` with its 1-based record number. A file without rows gives one empty
    batch with its schema. A compressed file (``.parquet.gz``) is decompressed into memory
    first, since Parquet needs random access; local files are opened by path, remote ones
    through ``fsspec``.

    ``info``: ``row_groups`` and ``rows`` from the footer; ``int96_unit`` when the file has
    INT96 timestamps.

    Example:
        >>> import tempfile, pyarrow.parquet as pq
        >>> from logflow_dagster.core.source import Source
        >>> from logflow_dagster.core.detect.result import Detection
        >>> from logflow_dagster.core.decoders import DecodeOptions
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     pq.write_table(pa.table({"id": range(5)}), f"{tmp}/t.parquet")
        ...     dec = ParquetDecoder(Source.open_path(f"{tmp}/t.parquet"), Detection("parquet"),
        ...                          DecodeOptions(batch_size=2))
        ...     [step.records for step in dec.batches()], dec.info["rows"]
        ([2, 2, 1], 5)
    """

    format = "parquet"

    def batches(self) -> Iterator[DecodedBatch]:
        """Yields the file's rows batch by batch, with the rows that failed an override cast.

        Raises:
            DataError: For a file that is not Parquet or is corrupt (naming the file), or a
                column type that cannot be written losslessly (naming the column).
            UsageError: For an override type that has no cast from the column's type, and for
                encrypted Parquet.
        """
        overrides = parse_overrides(self.options.schema)
        path = self.source.path
        handle: Any = None
        try:
            target, handle = self._target()
            pf = self._open(target)
            meta = pf.metadata
            int96 = [pf.schema.column(i).path for i in range(len(pf.schema))
                     if pf.schema.column(i).physical_type == "INT96"]
            if int96:
                unit = self._int96_unit(target, int96, pf.schema_arrow)
                self.info["int96_unit"] = unit
                if unit != "ns":
                    pf.close()
                    pf = self._open(target, coerce_int96_timestamp_unit=unit)
            schema = _engine_schema(pf.schema_arrow, path)
        except LogflowError:
            if handle is not None:
                handle.close()
            raise
        except Exception as exc:
            if handle is not None:
                handle.close()
            raise self._unreadable("not a readable Parquet file", exc) from exc
        self.info["row_groups"] = meta.num_row_groups
        self.info["rows"] = meta.num_rows
        done = 0
        try:
            if meta.num_rows == 0:  # the schema is still worth writing
                yield DecodedBatch(pa.RecordBatch.from_pylist([], schema=schema))
                return
            try:
                steps = pf.iter_batches(batch_size=max(1, self.options.batch_size))
            except Exception as exc:
                raise self._unreadable("unreadable Parquet data", exc) from exc
            while True:
                try:
                    batch = next(steps)
                except StopIteration:
                    return
                except Exception as exc:
                    raise self._unreadable(f"corrupt Parquet data after record {done}", exc,
                                           record=done + 1) from exc
                if batch.num_rows == 0:
                    continue
                batch = _to_engine(batch, schema)
                batch, errors = invalid_utf8(batch, done + 1)
                rows = batch.num_rows + len(errors)
                if overrides:
                    original = batch
                    batch, misses = cast_overrides(batch, overrides)
                    dropped = {e.record for e in errors}  # rows invalid_utf8 took out
                    records = [r for r in range(done + 1, done + rows + 1) if r not in dropped]
                    errors += miss_errors(original, misses, records)
                done += rows
                yield DecodedBatch(batch if batch.num_rows else None, errors)
        finally:
            pf.close()
            if handle is not None:
                handle.close()

    def _target(self) -> tuple[Any, Any]:
        """What :class:`pyarrow.parquet.ParquetFile` opens, and the handle to close."""
        if self.source.is_local and self.source.compression is None:
            with open(self.source.path, "rb") as f:
                if f.read(4) == b"PARE":
                    raise UsageError(f"{self.source.path}: {ENCRYPTED}")
            return self.source.path, None
        if self.source.compression is not None:
            with self.source.open() as stream:
                handle = pa.BufferReader(stream.read())
        else:
            handle = self.source.open_raw()
        if handle.read(4) == b"PARE":
            handle.close()
            raise UsageError(f"{self.source.path}: {ENCRYPTED}")
        handle.seek(0)
        return handle, handle

    @staticmethod
    def _open(target: Any, **kwargs: Any) -> Any:
        import pyarrow.parquet as pq

        if hasattr(target, "seek"):
            target.seek(0)
        return pq.ParquetFile(target, **kwargs)

    def _unreadable(self, what: str, exc: Exception, record: int | None = None) -> LogflowError:
        if "decrypt" in str(exc).lower() or "encrypt" in str(exc).lower():
            return UsageError(f"{self.source.path}: {ENCRYPTED}")
        if isinstance(exc, pa.ArrowNotImplementedError):
            return DataError(f"unsupported: {exc}", source=self.source.path, record=record)
        return DataError(f"{what}: {exc}", source=self.source.path, record=record)

    def _int96_unit(self, target: Any, columns: list[str], arrow_schema: pa.Schema) -> str:
        """``ns`` when every INT96 value fits nanoseconds, else ``us`` (read twice to check no
        sub-microsecond digit is lost).

        Raises:
            DataError: When a column needs both (naming the column and the record).
        """
        tops = list(dict.fromkeys(c.split(".")[0] for c in columns))
        ns_file = self._open(target)
        us_file = self._open(target, coerce_int96_timestamp_unit="us")
        try:
            done = 0
            out_of_range = None
            sub_us: tuple[str, int] | None = None
            for ns, us in zip(ns_file.iter_batches(columns=tops, batch_size=65_536),
                              us_file.iter_batches(columns=tops, batch_size=65_536),
                              strict=True):
                for name in tops:
                    a, b = _timestamps(ns.column(name)), _timestamps(us.column(name))
                    for ns_arr, us_arr in zip(a, b, strict=True):
                        ticks = us_arr.cast(pa.int64())
                        fits = pc.and_(pc.greater_equal(ticks, _NS_RANGE_US[0]),
                                       pc.less_equal(ticks, _NS_RANGE_US[1]))
                        if out_of_range is None and not pc.all(fits).as_py():
                            out_of_range = name
                        frac = pc.not_equal(
                            pc.subtract(ns_arr.cast(pa.int64()), pc.multiply(ticks, 1000)), 0)
                        frac = pc.and_(pc.fill_null(fits, False), pc.fill_null(frac, False))
                        if sub_us is None and pc.any(frac).as_py():
                            sub_us = (name, done + pc.index(frac, True).as_py() + 1)
                done += ns.num_rows
                if out_of_range and sub_us:
                    raise DataError(
                        "unsupported: INT96 timestamps with both dates outside 1677-2262 and "
                        "sub-microsecond digits: no Arrow unit holds them exactly",
                        source=self.source.path, column=sub_us[0], record=sub_us[1])
            return "us" if out_of_range else "ns"
        finally:
            ns_file.close()
            us_file.close()


def _timestamps(column: pa.Array) -> list[pa.Array]:
    """The timestamp leaves of a column (the column itself, or inside lists and structs)."""
    t = column.type
    if pa.types.is_timestamp(t):
        return [column]
    if pa.types.is_struct(t):
        return [leaf for i in range(t.num_fields) for leaf in _timestamps(column.field(i))]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _timestamps(column.flatten())
    if pa.types.is_map(t):
        return _timestamps(column.keys) + _timestamps(column.items)
    return []


def invalid_utf8(batch: pa.RecordBatch, first: int) -> tuple[pa.RecordBatch, list[RowError]]:
    """``batch`` without its rows holding invalid UTF-8 in a string (at any depth), and those
    rows as errors (``first`` is the batch's first record number). One full validation per
    batch; only a batch that fails it is bisected.

    Example:
        >>> bad = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(
        ...     b"\\0\\0\\0\\0\\1\\0\\0\\0\\2\\0\\0\\0"), pa.py_buffer(b"a\\xff")])
        >>> kept, errors = invalid_utf8(pa.record_batch({"s": bad}), 10)
        >>> kept.num_rows, errors[0].record, errors[0].column
        (1, 11, 's')
        >>> print(errors[0].raw)
        {"s": "\\\\xff"}
    """
    if _valid(batch):
        return batch, []
    bad: list[int] = []
    _bisect_invalid(batch, 0, bad)
    errors = []
    for row in bad:
        one = batch.slice(row, 1)
        cells = {name: (col.to_pylist()[0] if _valid(col) else _lossy_text(col))
                 for name, col in zip(one.schema.names, one.columns, strict=True)}
        errors.append(RowError("invalid UTF-8 in a string column (corrupt Parquet data)",
                               raw=json_text(cells), record=first + row,
                               column=next(n for n, c in zip(one.schema.names, one.columns,
                                                             strict=True) if not _valid(c))))
    drop = set(bad)
    keep = pa.array([i not in drop for i in range(batch.num_rows)])
    return batch.filter(keep), errors


def _valid(data: pa.RecordBatch | pa.Array) -> bool:
    try:
        data.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _bisect_invalid(batch: pa.RecordBatch, offset: int, out: list[int]) -> None:
    if _valid(batch):
        return
    if batch.num_rows == 1:
        out.append(offset)
        return
    half = batch.num_rows // 2
    _bisect_invalid(batch.slice(0, half), offset, out)
    _bisect_invalid(batch.slice(half), offset + half, out)


def _lossy_text(column: pa.Array) -> str:
    """A one-value string column's bytes as text (invalid bytes as ``\\xNN``); nested
    values are named only."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        raw = column.cast(pa.large_binary() if pa.types.is_large_string(column.type)
                          else pa.binary()).to_pylist()[0]
        return raw.decode("utf-8", "backslashreplace")
    return f"<{column.type} holding invalid UTF-8>"
