"""JSON documents: a top-level array of records (streamed with ijson), or one object.

A top-level object whose one list-valued key holds objects (``{"data": [...]}``) yields those
records; any other object is one record. ijson reports no positions, so rejected records carry
their record number rather than a line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ..errors import DataError, RowError
from ..schema import TextTyper
from .base import DecodedBatch, Decoder
from .records import RecordBatcher


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) \
            else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class JsonArrayDecoder(Decoder):
    """Decodes a JSON array of objects (or a single object) in bounded memory.

    Example:
        >>> from logflow_dagster.core.decoders import get_decoder
        >>> get_decoder("json").format
        'json'
    """

    format = "json"

    def batches(self) -> Iterator[DecodedBatch]:
        import ijson

        opts = self.options
        typer = TextTyper(opts.schema, threshold=opts.type_threshold)
        batcher = RecordBatcher()
        prefix = self._prefix()
        pending: list[Any] = []
        number = 1
        with self.source.open() as stream:
            items = ijson.items(stream, prefix, use_float=True)
            while True:
                try:
                    rec = next(items, StopIteration)
                except (ijson.JSONError, ValueError, UnicodeDecodeError) as err:
                    if number == 1 and not pending:
                        raise DataError(f"not valid JSON: {err}", source=self.source.path,
                                        record=1) from None
                    yield from self._flush(pending, number, batcher, typer)
                    number += len(pending)
                    yield DecodedBatch(None, [RowError(f"malformed JSON after record "
                                                       f"{number - 1}: {err}", record=number)])
                    return
                if rec is StopIteration:
                    break
                pending.append(_plain(rec))
                if len(pending) >= opts.batch_size:
                    yield from self._flush(pending, number, batcher, typer)
                    number += len(pending)
                    pending = []
        yield from self._flush(pending, number, batcher, typer)

    def _prefix(self) -> str:
        head = self.source.head().decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
        if head.startswith("["):
            return "item"
        try:
            doc = json.loads(self.source.head())
        except ValueError:
            return ""
        lists = [k for k, v in doc.items() if isinstance(v, list) and v and
                 all(isinstance(x, dict) for x in v)] if isinstance(doc, dict) else []
        return f"{lists[0]}.item" if len(lists) == 1 else ""

    def _flush(self, records: list[Any], number: int, batcher: RecordBatcher,
               typer: TextTyper) -> Iterator[DecodedBatch]:
        if not records:
            return
        raws = [json.dumps(r, default=str)[:65536] for r in records]
        batch, bad = batcher.build(records, [None] * len(records), raws, first_record=number)
        if batch is not None:
            typed, failures = typer.apply(batch)
            good = [i for i in range(len(records)) if number + i not in {b.record for b in bad}]
            for f in failures:
                for row, value in zip(f.rows.tolist(), f.values, strict=True):
                    k = good[row]
                    bad.append(RowError(f"expected {f.expected} in field {f.column!r}",
                                        record=number + k, raw=raws[k], column=f.column,
                                        value=value))
            batch = typed
        yield DecodedBatch(batch, sorted(bad, key=lambda e: e.record or 0))
