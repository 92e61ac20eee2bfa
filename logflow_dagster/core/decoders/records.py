"""Building Arrow batches from Python records (JSON objects), finding the ones that don't fit.

Used where records exist as Python objects anyway: the robust path of JSON Lines blocks that
pyarrow's reader refuses, and JSON arrays read with ijson. Each key keeps a planned Arrow type;
a value that needs a wider type widens the plan (int -> double), a value that cannot fit
(text in a numeric field) makes its record a bad record.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from ..errors import RowError
from ..schema.types import parse_type


def _widen(current: pa.DataType, value_type: pa.DataType) -> pa.DataType | None:
    if pa.types.is_null(current):
        return value_type
    if pa.types.is_integer(current) and pa.types.is_floating(value_type):
        return pa.float64()
    return None


def _lossy(values: list[Any], t: pa.DataType | None) -> bool:
    """pyarrow truncates 2.5 to 2 (and takes True as 1) when told the type is an integer."""
    return (t is not None and pa.types.is_integer(t)
            and any(isinstance(v, float | bool) for v in values))


def _convert(values: list[Any], t: pa.DataType | None) -> pa.Array:
    if _lossy(values, t):
        raise pa.ArrowInvalid("value does not fit an integer column")
    return pa.array(values, type=t) if t is not None else pa.array(values)


class RecordBatcher:
    """Turns lists of dict records into record batches with a stable, widening schema.

    Example:
        >>> rb = RecordBatcher()
        >>> batch, bad = rb.build([{"a": 1}, {"a": 2.5}, {"a": "x"}], [1, 2, 3], ["", "", ""])
        >>> batch.column("a").to_pylist(), [e.line for e in bad]
        ([1.0, 2.5], [3])
    """

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        given = overrides or {}
        self.types: dict[str, pa.DataType] = {k: parse_type(v) for k, v in given.items()}

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
                bad[i] = RowError(reason, line=lines[i], raw=raws[i], column=column,
                                  value=None if value is None else _text(value),
                                  byte_offset=offsets[i] if offsets else None,
                                  record=first_record + i)

        keys: dict[str, None] = {}
        for i, rec in enumerate(records):
            if not isinstance(rec, dict):
                reject(i, f"expected a JSON object, found {type(rec).__name__}")
                continue
            keys.update(dict.fromkeys(rec))
        if not keys:  # only empty objects: rows of nulls of the columns known so far, if any
            keys = dict.fromkeys(self.types)
            if not keys:
                for i in range(len(records)):
                    reject(i, "JSON object without fields: no column to write it to yet")
        for key in keys:
            self._plan(key, records, bad, reject)
        good = [i for i in range(len(records)) if i not in bad]
        if not good:
            return None, [bad[i] for i in sorted(bad)]
        arrays = []
        for key in keys:
            values = [records[i].get(key) for i in good]
            arrays.append(pa.array(values, type=self.types[key]))
        batch = pa.RecordBatch.from_arrays(arrays, names=list(keys))
        return batch, [bad[i] for i in sorted(bad)]

    def _plan(self, key: str, records: list[Any], bad: dict[int, RowError], reject: Any) -> None:
        idx = [i for i, r in enumerate(records) if i not in bad and isinstance(r, dict)]
        values = [records[i].get(key) for i in idx]
        current = self.types.get(key)
        try:
            arr = _convert(values, current)
            if current is None or (pa.types.is_null(current) and not pa.types.is_null(arr.type)):
                self.types[key] = arr.type
            return
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
        if current is None:
            current = pa.null()
        for i, v in zip(idx, values, strict=True):  # slow path: value by value
            if v is None:
                continue
            try:
                _convert([v], current)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                try:
                    inferred = pa.array([v]).type
                except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                    reject(i, f"unsupported value in field {key!r}", key, v)
                    continue
                wider = _widen(current, inferred)
                if wider is not None:
                    current = wider
                else:
                    reject(i, f"expected {current} in field {key!r}", key, v)
        self.types[key] = current


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
