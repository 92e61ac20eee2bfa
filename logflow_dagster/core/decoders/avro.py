"""Avro object container files, streamed block by block with ``fastavro``.

The writer schema maps to an Arrow schema:

==============================  ============================================
Avro                            Arrow
==============================  ============================================
``["null", T]``                 ``T``, nullable (other fields are not null)
boolean, int, long              bool, int32, int64
float, double                   float32, float64
bytes, fixed                    binary
string, enum                    string
array / map / record            list / ``map<string, T>`` / struct
date, time-millis, time-micros  date32, time32[ms], time64[us]
timestamp-millis/micros/nanos   timestamp[ms/us/ns, tz=UTC]
local-timestamp-millis/...      timestamp[ms/us/ns] (no time zone)
decimal (bytes or fixed)        decimal128(precision, scale) (decimal256 > 38)
uuid                            string
==============================  ============================================

A union of one non-null type (``["null", T]``, in either order) is ``T``, nullable. A union of
several numeric types takes the type that holds all their values exactly: ``["int", "long"]``
is int64, ``["int", "float", "double"]`` and ``["float", "double"]`` are float64. Any other
union of several types (``["string", "long"]``, a record or an array among other types) has
no Arrow equivalent: such a column is a string holding each value's text: a string as it is
(never quoted), a number or boolean as Avro's JSON encoding writes it (``42``, ``1.5``,
``true``), bytes as their latin-1 code points, a record, map or array as its JSON text
(``{"a": 1}``). Which branch a value came from is not kept (the string ``"42"`` and the long
``42`` both read ``42``). A field whose type refers back to an enclosing record (recursive
schemas) is its JSON text too.

Codecs: null, deflate, bzip2, xz, snappy (``cramjam``), zstandard (``backports.zstd`` before
Python 3.14) and lz4 (``lz4``). A file whose codec is unknown, or whose container version is
not 1 (``Obj`` followed by another byte, such as files from Avro before 1.3), is refused
with a :class:`UsageError`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import DataError, LogflowError, RowError, UsageError
from ..schema.cast import cast_overrides, json_text, miss_errors, parse_overrides, value_text
from .base import DecodedBatch, Decoder

Convert = Callable[[Any], Any]

_PRIMITIVES: dict[str, pa.DataType] = {
    "null": pa.null(),
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "bytes": pa.binary(),
    "string": pa.string(),
}

_RECORDS = ("record", "error")

_TIMESTAMPS: dict[str, tuple[str, str | None]] = {
    "timestamp-millis": ("ms", "UTC"),
    "timestamp-micros": ("us", "UTC"),
    "timestamp-nanos": ("ns", "UTC"),
    "local-timestamp-millis": ("ms", None),
    "local-timestamp-micros": ("us", None),
    "local-timestamp-nanos": ("ns", None),
}


@dataclass(frozen=True, slots=True)
class _Mapped:
    """An Avro type in Arrow terms, with the conversion its Python values need (if any)."""

    type: pa.DataType
    nullable: bool = False
    convert: Convert | None = None


class _Recursive(Exception):
    """A named type refers to itself; the enclosing field falls back to JSON text."""


def _as_json(value: Any) -> Any:
    return None if value is None else json_text(value)


def _as_uuid_text(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes) and len(value) == 16:
        return str(uuid.UUID(bytes=value))
    return value


_JSON = _Mapped(pa.string(), True, _as_json)


def _as_union_text(value: Any) -> Any:
    """A value of a union of several types as text: strings as they are, the rest as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, (bool, int, float, dict, list, tuple)):
        return json_text(value)
    return value_text(value)  # dates, times, decimals, UUIDs: ISO or plain text


_UNION_TEXT = _Mapped(pa.string(), True, _as_union_text)

#: Numeric types -> the types that hold each exactly (for unions of several of them)
_EXACT_IN: dict[pa.DataType, set[pa.DataType]] = {
    pa.int32(): {pa.int32(), pa.int64(), pa.float64()},
    pa.int64(): {pa.int64()},
    pa.float32(): {pa.float32(), pa.float64()},
    pa.float64(): {pa.float64()},
}


class AvroSchemaMapper:
    """Maps a parsed Avro writer schema (as ``fastavro`` gives it) to Arrow.

    Example:
        >>> m = AvroSchemaMapper({"type": "record", "name": "R", "fields": [
        ...     {"name": "n", "type": ["null", "long"]}]})
        >>> m.schema
        n: int64
    """

    def __init__(self, schema: Any) -> None:
        self._defs: dict[str, dict[str, Any]] = {}
        self._collect(schema)
        self._done: dict[str, _Mapped] = {}
        self._active: set[str] = set()
        #: True when the file holds plain values (not records), read as one column ``value``
        self.wrap_value = not (isinstance(schema, dict) and schema.get("type") in _RECORDS)
        if self.wrap_value:
            fields = [("value", self._field_type(schema))]
        else:
            self._active.add(schema.get("name", ""))  # a field of the record's own type: JSON
            fields = self._fields(schema)
            self._active.clear()
        self.schema = pa.schema([pa.field(n, m.type, nullable=m.nullable) for n, m in fields])
        #: top-level column -> conversion of its decoded Python values
        self.converters: dict[str, Convert] = {n: m.convert for n, m in fields if m.convert}

    def _collect(self, schema: Any) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self._collect(branch)
        elif isinstance(schema, dict):
            kind = schema.get("type")
            if kind in ("record", "error", "enum", "fixed") and "name" in schema:
                self._defs[schema["name"]] = schema
            for field in schema.get("fields", ()):
                self._collect(field.get("type"))
            for key in ("items", "values"):
                if key in schema:
                    self._collect(schema[key])
            if isinstance(kind, (dict, list)):
                self._collect(kind)

    def _fields(self, record: dict[str, Any]) -> list[tuple[str, _Mapped]]:
        return [(f["name"], self._field_type(f["type"])) for f in record.get("fields", ())]

    def _field_type(self, schema: Any) -> _Mapped:
        try:
            return self.map(schema)
        except _Recursive:
            return _JSON

    def map(self, schema: Any) -> _Mapped:
        """Maps one Avro type.

        Raises:
            ValueError: For a reference to an undefined named type or an unknown type.
        """
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return _Mapped(_PRIMITIVES[schema], schema == "null")
            return self._named(schema)
        if isinstance(schema, list):
            return self._union(schema)
        if not isinstance(schema, dict):
            raise ValueError(f"unsupported Avro type {schema!r}")
        kind = schema.get("type")
        logical = self._logical(schema)
        if logical is not None:
            return logical
        if isinstance(kind, (dict, list)):
            return self.map(kind)
        if kind in ("record", "error", "enum", "fixed"):
            return self._named(schema["name"])
        if kind == "array":
            item = self.map(schema["items"])
            conv = _each(item.convert) if item.convert else None
            return _Mapped(pa.list_(pa.field("item", item.type, item.nullable)), False, conv)
        if kind == "map":
            value = self.map(schema["values"])
            conv = _each_value(value.convert) if value.convert else None
            field = pa.field("value", value.type, value.nullable)
            return _Mapped(pa.map_(pa.string(), field), False, conv)
        return self.map(kind)

    def _named(self, name: str) -> _Mapped:
        if name in self._done:
            return self._done[name]
        if name in self._active:
            raise _Recursive(name)
        schema = self._defs.get(name)
        if schema is None:
            raise ValueError(f"undefined Avro type {name!r}")
        self._active.add(name)
        try:
            kind = schema["type"]
            if kind == "enum":
                mapped = _Mapped(pa.string())
            elif kind == "fixed":
                mapped = self._logical(schema) or _Mapped(pa.binary())
            else:
                fields = self._fields(schema)
                struct = pa.struct([pa.field(n, m.type, m.nullable) for n, m in fields])
                converters = {n: m.convert for n, m in fields if m.convert}
                mapped = _Mapped(struct, False, _record(converters) if converters else None)
        finally:
            self._active.discard(name)
        self._done[name] = mapped
        return mapped

    def _union(self, branches: list[Any]) -> _Mapped:
        others = [b for b in branches if b != "null"]
        nullable = len(others) < len(branches)
        if not others:
            return _Mapped(pa.null(), True)
        if len(others) > 1:
            mapped = [self.map(b) for b in others]
            holders = [_EXACT_IN.get(m.type) for m in mapped]
            if all(h is not None and m.convert is None for h, m in zip(holders, mapped,
                                                                       strict=True)):
                common = set.intersection(*holders)  # type: ignore[arg-type]
                for t in (pa.int64(), pa.float64()):
                    if t in common:
                        return _Mapped(t, True, _as_number(t))
            return _UNION_TEXT
        inner = self.map(others[0])
        return _Mapped(inner.type, nullable or inner.nullable, inner.convert)

    @staticmethod
    def _logical(schema: dict[str, Any]) -> _Mapped | None:
        logical, base = schema.get("logicalType"), schema.get("type")
        if logical == "date" and base == "int":
            return _Mapped(pa.date32())
        if logical == "time-millis" and base == "int":
            return _Mapped(pa.time32("ms"))
        if logical == "time-micros" and base == "long":
            return _Mapped(pa.time64("us"))
        if logical in _TIMESTAMPS and base == "long":
            unit, tz = _TIMESTAMPS[logical]
            return _Mapped(pa.timestamp(unit, tz=tz))
        if logical == "uuid" and base in ("string", "fixed"):
            return _Mapped(pa.string(), False, _as_uuid_text)
        if logical == "decimal" and base in ("bytes", "fixed"):
            precision, scale = schema.get("precision"), schema.get("scale", 0)
            if isinstance(precision, int) and isinstance(scale, int) and 0 <= scale <= precision:
                if 0 < precision <= 38:
                    return _Mapped(pa.decimal128(precision, scale))
                if 38 < precision <= 76:
                    return _Mapped(pa.decimal256(precision, scale))
        return None  # unknown or invalid logical types read as their base type (Avro spec)


def _as_number(t: pa.DataType) -> Convert:
    if pa.types.is_floating(t):
        return lambda v: None if v is None else float(v)
    return lambda v: v


def _each(convert: Convert) -> Convert:  # array items
    return lambda v: None if v is None else [convert(x) for x in v]


def _each_value(convert: Convert) -> Convert:  # map values
    return lambda v: None if v is None else {k: convert(x) for k, x in v.items()}


def _record(converters: dict[str, Convert]) -> Convert:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        out = dict(value)
        for name, conv in converters.items():
            out[name] = conv(out.get(name))
        return out

    return convert


class AvroDecoder(Decoder):
    """Reads an Avro object container file as Arrow batches (see the module for the types).

    Records stream block by block from the decompressed input; memory is bounded by
    ``options.batch_size`` records plus one Avro block. A record whose values Arrow rejects
    (a decimal wider than its declared precision) or that fails an ``options.schema``
    override becomes a :class:`RowError` with its 1-based record number and its JSON text.
    When a block is corrupt, the records before it are kept and one :class:`RowError` stands
    for the rest of the file.

    ``info``: ``codec``, and ``avro_record``: the full name of the writer schema's record.

    Example:
        >>> import tempfile, fastavro
        >>> from logflow_dagster.core.source import Source
        >>> from logflow_dagster.core.detect.result import Detection
        >>> from logflow_dagster.core.decoders import DecodeOptions
        >>> schema = {"type": "record", "name": "Event", "fields": [{"name": "id", "type": "long"}]}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     with open(f"{tmp}/events.avro", "wb") as f:
        ...         fastavro.writer(f, schema, [{"id": i} for i in range(5)])
        ...     dec = AvroDecoder(Source.open_path(f"{tmp}/events.avro"), Detection("avro"),
        ...                       DecodeOptions(batch_size=2))
        ...     [step.batch.num_rows for step in dec.batches()]
        [2, 2, 1]
    """

    format = "avro"

    def batches(self) -> Iterator[DecodedBatch]:
        """Yields batches of ``options.batch_size`` records with the records rejected.

        Raises:
            DataError: When the input is not an Avro container file or its schema is unusable.
        """
        import fastavro

        overrides = parse_overrides(self.options.schema)
        path = self.source.path
        size = max(1, self.options.batch_size)
        head = self.source.head()[:4]
        if head[:3] == b"Obj" and len(head) == 4 and head[3] != 1:
            raise UsageError(f"{path}: Avro container version {head[3]} is not supported "
                             "(only version 1, written since Avro 1.3)")
        with self.source.open() as stream:
            try:
                reader = fastavro.reader(stream)
                mapper = AvroSchemaMapper(reader.writer_schema)
            except LogflowError:
                raise
            except Exception as exc:
                raise DataError(f"not a readable Avro file: {exc}", source=path) from exc
            self.info["codec"] = reader.codec
            _check_codec(reader.codec, path)
            name = reader.writer_schema
            if isinstance(name, dict) and isinstance(name.get("name"), str):
                self.info["avro_record"] = name["name"]
            rows: list[Any] = []
            done = 0  # records read so far
            records = iter(reader)
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except LogflowError:  # a corrupt compressed stream: Source names it
                    raise
                except Exception as exc:
                    corrupt = RowError(f"corrupt Avro data after record {done}: {exc}",
                                       record=done + 1)
                    yield self._build(mapper, rows, done - len(rows), overrides, [corrupt])
                    return
                rows.append(record)
                done += 1
                if len(rows) >= size:
                    yield self._build(mapper, rows, done - len(rows), overrides, [])
                    rows = []
            if rows:
                yield self._build(mapper, rows, done - len(rows), overrides, [])

    def _build(
        self,
        mapper: AvroSchemaMapper,
        rows: list[Any],
        before: int,
        overrides: dict[str, pa.DataType],
        trailing: list[RowError],
    ) -> DecodedBatch:
        """Converts decoded records (numbered from ``before + 1``) to a batch."""
        if not rows:
            return DecodedBatch(None, trailing)
        if mapper.wrap_value:
            rows = [{"value": r} for r in rows]
        numbers = np.arange(before + 1, before + 1 + len(rows), dtype=np.int64)
        if not len(mapper.schema):  # a record type without fields: no column to write to
            return DecodedBatch(None, [RowError("Avro record without fields: no column to "
                                                "write it to", raw=json_text(row), record=int(n))
                                       for row, n in zip(rows, numbers, strict=True)] + trailing)
        errors: list[RowError] = []
        try:
            batch = pa.RecordBatch.from_pylist(self._convert(mapper, rows), schema=mapper.schema)
        except Exception:
            batch, numbers, errors = self._build_each(mapper, rows, numbers)
        if overrides and batch.num_rows:
            checked = batch
            batch, misses = cast_overrides(batch, overrides)
            errors += miss_errors(checked, misses, numbers.tolist())
            errors.sort(key=lambda e: e.record or 0)
        return DecodedBatch(batch if batch.num_rows else None, errors + trailing)

    @staticmethod
    def _convert(mapper: AvroSchemaMapper, rows: list[Any]) -> list[Any]:
        if not mapper.converters:
            return rows
        out = []
        for row in rows:
            row = dict(row)
            for name, conv in mapper.converters.items():
                row[name] = conv(row.get(name))
            out.append(row)
        return out

    def _build_each(
        self, mapper: AvroSchemaMapper, rows: list[Any], numbers: np.ndarray
    ) -> tuple[pa.RecordBatch, np.ndarray, list[RowError]]:
        """Slow path after a batch failed: converts record by record to find the bad ones."""
        good: list[Any] = []
        kept: list[int] = []
        errors: list[RowError] = []
        for i, row in enumerate(rows):
            try:
                converted = self._convert(mapper, [row])
                pa.RecordBatch.from_pylist(converted, schema=mapper.schema)
            except Exception as exc:
                column, value = _bad_field(mapper, row)
                errors.append(RowError(
                    f"cannot convert record: {exc}",
                    raw=json_text(row),
                    column=column,
                    value=value,
                    record=int(numbers[i]),
                ))
                continue
            good.extend(converted)
            kept.append(i)
        batch = pa.RecordBatch.from_pylist(good, schema=mapper.schema)
        return batch, numbers[kept], errors


#: The package that gives fastavro each codec that needs one
CODEC_PACKAGES = {"snappy": "cramjam", "zstandard": "backports.zstd", "lz4": "lz4"}


def _check_codec(codec: str, path: str) -> None:
    """Refuses a codec fastavro cannot decompress here, by name.

    Raises:
        UsageError: For an unknown codec, or one whose library is not installed.
    """
    from fastavro.read import BLOCK_READERS

    block_reader = BLOCK_READERS.get(codec)
    if block_reader is None:
        known = ", ".join(sorted(BLOCK_READERS))
        raise UsageError(f"{path}: unsupported Avro codec {codec!r} (known: {known})")
    if getattr(block_reader, "__name__", "") == "missing":  # fastavro's missing_codec_lib
        package = CODEC_PACKAGES.get(codec, "its library")
        raise UsageError(f"{path}: Avro codec {codec!r} needs the Python package {package}")


def _bad_field(mapper: AvroSchemaMapper, row: Any) -> tuple[str | None, str | None]:
    """The first top-level field whose value does not convert, with the value as text."""
    if not isinstance(row, dict):
        return None, None
    for field in mapper.schema:
        value = row.get(field.name)
        try:
            conv = mapper.converters.get(field.name)
            pa.array([conv(value) if conv else value], type=field.type)
        except Exception:
            return field.name, value_text(value)
    return None, None


__all__ = ["AvroDecoder", "AvroSchemaMapper"]
