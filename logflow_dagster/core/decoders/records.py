"""Building Arrow batches from Python records (JSON objects), finding the ones that don't fit.

Used where records exist as Python objects anyway: the robust path of JSON Lines blocks that
pyarrow's reader refuses, and JSON arrays. Records are parsed by :func:`parse_record`, which
keeps each number's text and bounds nesting depth and size. Each key keeps a planned Arrow
type; a value that needs a wider type widens the plan (int -> double, new struct fields), and
a key whose values have no common Arrow type (numbers and strings, ``[""]`` and ``[[1]]``)
becomes a text column holding each value as written (numbers as their JSON token, nested
values as compact JSON text). Once a batch has been handed on, a column of doubles or nested
values keeps its type: a later value that does not fit it is a bad record (the doubles written
have lost their text, so turning the column to text then would change them: ``2.50`` -> ``2.5``);
integers and booleans may still turn to text, their text being exact. Keys that cannot be
column names as they are (empty, control characters, duplicates after cleaning) are renamed,
and every rename is recorded.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pyarrow as pa

from ..errors import RowError
from ..schema import CastFailure, ColumnPlan, TextTyper
from ..schema.types import parse_type

#: Deepest nesting of arrays/objects a record may have (the record itself is level 1).
MAX_DEPTH = 64
#: Largest record (a JSON Lines line, a JSON array element) in bytes.
MAX_RECORD_BYTES = 64 << 20
#: How much of a rejected record's text is kept as its ``raw``.
RAW_LIMIT = 64 << 10

_INT64 = (-(1 << 63), (1 << 63) - 1)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadJson(ValueError):
    """A record that is not valid JSON or exceeds a limit (the message says which)."""


class JsonFloat(float):
    """A JSON number with a fraction or exponent, keeping its text as written (``2.50``)."""

    __slots__ = ("text",)

    def __new__(cls, text: str) -> JsonFloat:
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


def _no_constant(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON value")


_DUPLICATE = threading.local()  # the first repeated key of the value being parsed


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs) and getattr(_DUPLICATE, "key", None) is None:
        seen: set[str] = set()
        _DUPLICATE.key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
    return out


DECODER = json.JSONDecoder(parse_float=JsonFloat, parse_constant=_no_constant,
                           object_pairs_hook=_object)


def decode_value(text: str, pos: int = 0) -> tuple[Any, int]:
    """``DECODER.raw_decode`` that refuses an object with a repeated key: RFC 8259 leaves its
    meaning open (parsers keep the first, the last or both), so a record holding one is bad,
    never silently reduced to one of its values.

    Raises:
        BadJson: A repeated key (``ValueError`` and ``RecursionError`` as ``raw_decode``).

    Example:
        >>> decode_value('{"a": 1, "b": {"c": 2, "c": 3}}')
        Traceback (most recent call last):
        ...
        logflow_dagster.core.decoders.records.BadJson: duplicate key 'c' in an object
    """
    _DUPLICATE.key = None
    value, end = DECODER.raw_decode(text, pos)
    if _DUPLICATE.key is not None:
        key, _DUPLICATE.key = _DUPLICATE.key, None
        err = BadJson(f"duplicate key {key!r} in an object")
        err.end = end  # type: ignore[attr-defined]
        raise err
    return value, end


def limits(extra: dict[str, Any]) -> tuple[int, int]:
    """The nesting depth and record size limits from ``DecodeOptions.extra``
    (``json_max_depth``, ``json_max_record_bytes``), defaults :data:`MAX_DEPTH` and
    :data:`MAX_RECORD_BYTES`."""
    return (int(extra.get("json_max_depth", MAX_DEPTH)),
            int(extra.get("json_max_record_bytes", MAX_RECORD_BYTES)))


def parse_record(text: str, max_depth: int = MAX_DEPTH,
                 max_bytes: int = MAX_RECORD_BYTES) -> Any:
    """Parses one JSON value (a JSON Lines line), numbers with fractions as :class:`JsonFloat`.

    Raises:
        BadJson: Invalid JSON (trailing content included), ``NaN``/``Infinity``, more than
            ``max_depth`` levels of nesting or more than ``max_bytes`` bytes, a repeated
            key in an object.

    Example:
        >>> parse_record('{"a": 2.50}')["a"].text
        '2.50'
    """
    if len(text) > max_bytes // 4 and len(text.encode("utf-8", "replace")) > max_bytes:
        raise BadJson(f"record larger than {max_bytes} bytes")
    try:
        value, end = decode_value(text, len(text) - len(text.lstrip(" \t\r\n")))
        if text[end:].strip(" \t\r\n"):
            raise json.JSONDecodeError("Extra data", text, end)
    except RecursionError:
        raise BadJson(f"nested deeper than {max_depth} levels") from None
    except BadJson:
        raise
    except ValueError as err:
        raise BadJson(f"invalid JSON: {err}") from None
    check_depth(value, text, max_depth)
    return value


def check_depth(value: Any, text: str, max_depth: int) -> None:
    """Raises :class:`BadJson` when ``value`` (parsed from ``text``) nests deeper than
    ``max_depth``; the walk only runs when ``text`` has that many brackets at all."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > max_depth:
                raise BadJson(f"nested deeper than {max_depth} levels")
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))


def clip(text: str) -> str:
    """A rejected record's text as kept in ``raw`` (at most :data:`RAW_LIMIT` characters)."""
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT]


def json_text(value: Any) -> str:
    """Compact JSON text of a parsed value, numbers as written.

    Example:
        >>> json_text(parse_record('{"a": [1, 2.50, "x", null, true]}'))
        '{"a":[1,2.50,"x",null,true]}'
    """
    if isinstance(value, dict):
        return "{" + ",".join(f"{_dumps(k)}:{json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    return _dumps(value) if isinstance(value, str) else scalar_text(value)


def _dumps(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def scalar_text(value: Any) -> str:
    """A scalar as its JSON text; a string as itself."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, JsonFloat):
        return value.text
    if isinstance(value, float):
        return repr(value)
    return str(value)


class _Text:
    """Marker type: the values have no common Arrow type; the column holds JSON text."""


TEXT = _Text()
_Type = pa.DataType | _Text


def type_of(value: Any) -> _Type:
    """The Arrow type that holds ``value`` exactly, or :data:`TEXT`."""
    if value is None:
        return pa.null()
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64() if _INT64[0] <= value <= _INT64[1] else TEXT
    if isinstance(value, float):
        return pa.float64() if value - value == 0 else TEXT  # 1e400 parses as inf
    if isinstance(value, str):
        return pa.string()
    if isinstance(value, dict):
        if not value:
            return TEXT  # a struct without fields cannot be written (Parquet has none)
        fields = []
        for k, v in value.items():
            t = type_of(v)
            if t is TEXT:
                return TEXT
            fields.append(pa.field(k, t))
        return pa.struct(fields)
    if isinstance(value, list):
        item: _Type = pa.null()
        for v in value:
            item = merge(item, type_of(v))
            if item is TEXT:
                return TEXT
        return pa.list_(item)
    return TEXT


def merge(a: _Type, b: _Type) -> _Type:
    """The narrowest type holding values of ``a`` and of ``b`` exactly, or :data:`TEXT`."""
    if a is TEXT or b is TEXT:
        return TEXT
    if a == b or pa.types.is_null(b):
        return a
    if pa.types.is_null(a):
        return b
    if {a, b} == {pa.int64(), pa.float64()}:
        return pa.float64()
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields = {f.name: f.type for f in a}
        for f in b:
            t = merge(fields[f.name], f.type) if f.name in fields else f.type
            if t is TEXT:
                return TEXT
            fields[f.name] = t
        return pa.struct(list(fields.items()))
    if pa.types.is_list(a) and pa.types.is_list(b):
        item = merge(a.value_type, b.value_type)
        return TEXT if item is TEXT else pa.list_(item)
    return TEXT


def _nested(t: pa.DataType) -> bool:
    return pa.types.is_struct(t) or pa.types.is_list(t)


def _text_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json_text(value)
    return scalar_text(value)


class RecordBatcher:
    """Turns lists of dict records into record batches with a stable, widening schema.

    Attributes:
        types: The planned Arrow type per written column name.
        text: Columns that hold values as JSON text (their values had no common type).
        renamed: Original key -> written column name, for every key that was renamed.

    Example:
        >>> rb = RecordBatcher()
        >>> batch, bad = rb.build([{"a": 1}, {"a": 2.5}, {"a": "x"}], [1, 2, 3], ["", "", ""])
        >>> batch.column("a").to_pylist(), bad, rb.text
        (['1', '2.5', 'x'], [], {'a'})
    """

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        given = overrides or {}
        self.types: dict[str, pa.DataType] = {k: parse_type(v) for k, v in given.items()}
        self.text: set[str] = set()
        self.renamed: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._taken: set[str] = set()
        self._fixed: set[str] = set(self.types)  # types already handed out (or given)

    def name_of(self, key: str) -> str:
        """The column name of a JSON key: control characters as ``_``, an empty key as
        ``column``, made unique with ``_2``, ``_3`` ... in the order keys are first seen."""
        name = self._names.get(key)
        if name is not None:
            return name
        base = _CONTROL.sub("_", key) or "column"
        name, n = base, 1
        while name in self._taken:
            n += 1
            name = f"{base}_{n}"
        self._names[key] = name
        self._taken.add(name)
        if name != key:
            self.renamed[key] = name
        return name

    def rename(self, data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
        """``data`` with its columns named as :meth:`name_of` says."""
        names = [self.name_of(n) for n in data.schema.names]
        return data if names == data.schema.names else data.rename_columns(names)

    def know(self, schema: pa.Schema) -> None:
        """Takes the types of columns written by another path (pyarrow's reader) as planned."""
        for f in schema:
            if f.name not in self.types or pa.types.is_null(self.types[f.name]):
                self.types[f.name] = f.type
            self._fixed.add(f.name)

    def build(
        self,
        records: list[Any],
        lines: list[int | None],
        raws: list[str],
        *,
        first_record: int = 1,
        offsets: list[int | None] | None = None,
    ) -> tuple[pa.RecordBatch | None, list[RowError]]:
        """Builds a batch from ``records``; returns it with the records that did not fit."""
        bad: dict[int, RowError] = {}

        def reject(i: int, reason: str, column: str | None = None, value: Any = None) -> None:
            if i not in bad:
                bad[i] = RowError(reason, line=lines[i], raw=clip(raws[i]), column=column,
                                  value=None if value is None else clip(_text_value(value)),
                                  byte_offset=offsets[i] if offsets else None,
                                  record=first_record + i)

        keys: dict[str, str] = {}  # written name -> JSON key (first one seen)
        rows: list[dict[str, Any]] = []
        for i, rec in enumerate(records):
            if not isinstance(rec, dict):
                reject(i, f"expected a JSON object, found {_kind(rec)}")
                rows.append({})
                continue
            if all(k in self._names and self._names[k] == k for k in rec):
                row = rec
            else:
                row = {self.name_of(k): v for k, v in rec.items()}
            rows.append(row)
            for k in row:
                keys.setdefault(k, k)
        if not keys:  # only empty objects: rows of nulls of the columns known so far, if any
            keys = dict.fromkeys(self.types, "")
            if not keys:
                for i in range(len(records)):
                    reject(i, "JSON object without fields: no column to write it to yet")
        for key in keys:
            self._plan(key, rows, bad, reject)
        good = [i for i in range(len(records)) if i not in bad]
        if not good:
            return None, [bad[i] for i in sorted(bad)]
        arrays = []
        for key in keys:
            values = [rows[i].get(key) for i in good]
            if key in self.text:
                arrays.append(pa.array([_text_value(v) for v in values], type=pa.string()))
            else:
                arrays.append(pa.array(values, type=self.types[key]))
            self._fixed.add(key)
        batch = pa.RecordBatch.from_arrays(arrays, names=list(keys))
        return batch, [bad[i] for i in sorted(bad)]

    def _plan(self, key: str, rows: list[dict[str, Any]], bad: dict[int, RowError],
              reject: Any) -> None:
        if key in self.text:
            return
        current: _Type = self.types.get(key, pa.null())
        idx = [i for i in range(len(rows)) if i not in bad]
        planned = current
        for i in idx:
            planned = merge(planned, type_of(rows[i].get(key)))
            if planned is TEXT:
                break
        if planned is not TEXT:
            self.types[key] = planned
            return
        if key in self._fixed and (_nested(current) or pa.types.is_floating(current)):
            # batches of nested values or of doubles are written already: what does not fit
            # them is a bad record (a struct column cannot be widened to text afterwards, and
            # written doubles have lost their text: 2.50 would come back as 2.5)
            for i in idx:
                v = rows[i].get(key)
                t = merge(current, type_of(v))
                if t is TEXT:
                    reject(i, f"expected {current} in field {key!r}", key, v)
                else:
                    current = t
            self.types[key] = current
            return
        self.text.add(key)
        self.types[key] = pa.string()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def type_text(batch: pa.RecordBatch, batcher: RecordBatcher,
              typer: TextTyper) -> tuple[pa.RecordBatch, list[CastFailure]]:
    """Types a batch built by ``batcher`` with ``typer``: JSON strings are typed like CSV text
    (dates, zoned times); a column that holds mixed values as text stays text as written,
    unless its strings were typed already (then every value is typed as text, and one that
    does not fit is a bad record)."""
    for key in list(batcher.text):
        plan = typer.plans.get(key)
        if plan is not None and plan.kind not in ("string", "native"):
            batcher.text.discard(key)  # decided again, value by value, with the next batch
        elif plan is None or plan.kind != "string":
            typer.plans[key] = ColumnPlan(key, "string", pa.string())
    return typer.apply(batch)
