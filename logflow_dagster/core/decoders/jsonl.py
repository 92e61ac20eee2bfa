"""JSON Lines: pyarrow's multi-threaded JSON reader on clean blocks, a per-line path otherwise.

Every newline ends a record in JSON Lines (a newline inside a string is escaped), so lines and
byte offsets of rejected records are exact. String fields are typed like CSV text
(timestamps with zones, dates) by :class:`TextTyper`; fields first seen late add columns.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

from ..errors import DataError, RowError
from ..pipeline_threads import ordered_map
from ..schema import TextTyper
from .base import DecodedBatch, Decoder
from .byte_count import NL, count_byte
from .records import RAW_LIMIT, BadJson, RecordBatcher, clip, limits, parse_record, type_text
from .text_blocks import MappedText, TextBlock, iter_text_blocks


class JsonLinesDecoder(Decoder):
    """Decodes newline-delimited JSON objects.

    Example:
        >>> from logflow_dagster.core.decoders import DecodeOptions, get_decoder
        >>> cls = get_decoder("jsonl")
        >>> cls.format
        'jsonl'
    """

    format = "jsonl"

    def batches(self) -> Iterator[DecodedBatch]:
        opts = self.options
        self.schema: pa.Schema | None = None
        self.typer = TextTyper(opts.schema, threshold=opts.type_threshold,
                               hints=opts.type_hints)
        self.batcher = RecordBatcher()
        self.max_depth, self.max_bytes = limits(opts.extra)
        self.record = 1
        mapped = MappedText.open(self.source, self.detection)
        blocks = iter_text_blocks(self.source, self.detection, opts.block_size, mapped=mapped)
        # blocks are parsed on two threads (pyarrow's single-threaded JSON parse of a block
        # costs 1.14 CPU-s per 1M rows against 1.55 with its own threads); typing, schema
        # growth and the robust path stay in input order on this thread
        for block, table in ordered_map(self._parse_fast, blocks):
            yield from self._block(block.data, block.first_line, block.offset, table)
            if mapped is not None:
                mapped.release(mapped.start + block.offset)
        if self.record == 1:
            raise DataError("no records: the input is empty or only whitespace",
                            source=self.source.path)

    def _block(self, data: bytes | memoryview, line: int, offset: int,
               table: pa.Table | None) -> Iterator[DecodedBatch]:
        if table is not None and self.batcher.text and any(
                n in self.batcher.text and not pa.types.is_string(t)
                for n, t in zip(table.schema.names, table.schema.types, strict=True)):
            table = None  # numbers in a column that holds text as written: keep their text
        if table is None or (table.num_columns == 0 and table.num_rows):
            # refused, or only empty objects and no column known yet: record by record
            yield from self._parse_slow(bytes(data), line, offset)
            return
        table = self.batcher.rename(table)
        self.schema = table.schema if self.schema is None else _grow(self.schema, table.schema)
        self._note_renames()
        for batch in table.combine_chunks().to_batches(max_chunksize=max(self.options.batch_size,
                                                                         table.num_rows)):
            typed, failures = self.typer.apply(batch)
            errors: list[RowError] = []
            if failures:
                errors = self._cast_errors(bytes(data), line, offset, batch.num_rows, failures)
            self.record += batch.num_rows
            yield DecodedBatch(typed, errors)

    def _note_renames(self) -> None:
        if self.batcher.renamed:
            self.info["renamed_columns"] = dict(self.batcher.renamed)

    def _parse_fast(self, block: TextBlock) -> pa.Table | None:
        """pyarrow's parse of a clean block (None when it refuses the block); the columns
        known so far keep their types, new fields are inferred (times as text: see
        :func:`_times_as_text`). Blocks with records nested deeper than the limit or with
        empty objects as values go the robust path, which rejects or keeps them as text."""
        data = block.data
        raw = self.schema
        if raw is not None and self.batcher.renamed:  # pyarrow sees the keys as written
            back = {v: k for k, v in self.batcher.renamed.items()}
            raw = pa.schema([f.with_name(back.get(f.name, f.name)) for f in raw])
        typed = _parse_typed(raw, self.typer)
        for schema in (typed, raw) if typed is not None else (raw,):
            table = _read_block(data, schema)
            if table is None:
                continue
            text = _times_as_text(table.schema, schema)
            if text is not None:
                table = _read_block(data, text)
                if table is None:
                    continue
            if table.num_rows != _count_lines(data):  # blank lines: keep exact mapping simple
                return None
            if len(data) > self.max_bytes and _longest_line(data) > self.max_bytes:
                return None  # (blocks end on lines: only a block with a long line is long)
            if not all(_writable(f.type, self.max_depth - 1) for f in table.schema):
                return None
            try:  # pyarrow 26 builds an invalid list for [null, x] (leading nulls): that
                table.validate()  # block goes the robust path, which builds it correctly
            except pa.ArrowInvalid:
                return None
            return table
        return None

    def _parse_slow(self, data: bytes, line: int, offset: int) -> Iterator[DecodedBatch]:
        records: list[object] = []
        lines: list[int | None] = []
        raws: list[str] = []
        offsets: list[int | None] = []
        errors: list[RowError] = []
        pos = 0
        for i, raw in enumerate(data.split(b"\n")):
            start = pos
            pos += len(raw) + 1
            if len(raw) > self.max_bytes:
                text = raw[:RAW_LIMIT].decode("utf-8", "replace")
                errors.append(RowError(f"record larger than {self.max_bytes} bytes",
                                       line=line + i, raw=text, byte_offset=offset + start))
                continue
            text = raw.decode("utf-8", "replace").rstrip("\r")
            if not text.strip():
                continue
            try:
                records.append(parse_record(text, self.max_depth, self.max_bytes))
            except BadJson as err:
                errors.append(RowError(str(err), line=line + i, raw=clip(text),
                                       byte_offset=offset + start))
                continue
            lines.append(line + i)
            raws.append(text)
            offsets.append(offset + start)
        if self.schema is not None:
            self.batcher.know(self.schema)
        batch, bad = self.batcher.build(records, lines, raws, first_record=self.record,
                                        offsets=offsets)
        self._note_renames()
        if batch is not None:
            self._text_to_schema()
            typed, failures = type_text(batch, self.batcher, self.typer)
            if failures:
                index = [i for i in range(len(records)) if lines[i] not in {b.line for b in bad}]
                for f in failures:
                    for row, value in zip(f.rows.tolist(), f.values, strict=True):
                        k = index[row]
                        bad.append(RowError(f"expected {f.expected} in field {f.column!r}",
                                            line=lines[k], raw=raws[k], byte_offset=offsets[k],
                                            column=f.column, value=value))
            batch = typed
        self.record += len(records) + len(errors)
        all_errors = sorted(errors + bad, key=lambda e: e.line or 0)
        yield DecodedBatch(batch, _dedupe(all_errors))

    def _text_to_schema(self) -> None:
        """Columns that became text are read as text by pyarrow from now on (a block with
        numbers there is refused and read record by record, keeping their text)."""
        if self.schema is None:
            return
        for name in self.batcher.text:
            i = self.schema.get_field_index(name)
            if i >= 0 and not pa.types.is_string(self.schema.field(i).type):
                self.schema = self.schema.set(i, self.schema.field(i).with_type(pa.string()))

    def _cast_errors(self, data: bytes, line: int, offset: int, n: int,
                     failures: list) -> list[RowError]:
        buf = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(buf == 0x0A)
        starts = np.concatenate(([0], newlines + 1))[:n]
        out = []
        for f in failures:
            for row, value in zip(f.rows.tolist(), f.values, strict=True):
                s = int(starts[row])
                e = data.find(b"\n", s)
                raw = data[s : e if e >= 0 else len(data)].decode("utf-8", "replace")
                out.append(RowError(f"expected {f.expected} in field {f.column!r}",
                                    line=line + row, raw=raw.rstrip("\r"),
                                    byte_offset=offset + s, column=f.column, value=value))
        return _dedupe(sorted(out, key=lambda e: e.line or 0))


def _longest_line(data: bytes | memoryview) -> int:
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == NL)
    bounds = np.concatenate(([-1], ends, [len(data)]))
    return int(np.diff(bounds).max()) - 1


def _writable(t: pa.DataType, depth: int) -> bool:
    """False for a type nested deeper than ``depth`` more levels or holding a struct without
    fields (which Parquet cannot write)."""
    if pa.types.is_struct(t):
        return depth > 0 and t.num_fields > 0 and all(_writable(f.type, depth - 1) for f in t)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return depth > 0 and _writable(t.value_type, depth - 1)
    return True


def _read_block(data: bytes | memoryview, schema: pa.Schema | None) -> pa.Table | None:
    """pyarrow's single-threaded JSON parse of one block, or None when it refuses it."""
    parse = pajson.ParseOptions(explicit_schema=schema, newlines_in_values=False,
                                unexpected_field_behavior="infer")
    try:
        return pajson.read_json(pa.BufferReader(data), parse_options=parse,
                                read_options=pajson.ReadOptions(block_size=4 << 20,
                                                                use_threads=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError):
        return None


def _times_as_text(got: pa.Schema, explicit: pa.Schema | None) -> pa.Schema | None:
    """The schema to parse a block again with when pyarrow inferred a timestamp for a new
    field (None otherwise): those fields as text, so :class:`TextTyper` types them as it
    types CSV text. pyarrow reads ISO strings with an offset as naive ``timestamp[s]`` in
    UTC, only when no value has a fraction of a second, and refuses later spellings that
    the typer takes (``+0100``, dates)."""
    known = set(explicit.names) if explicit is not None else set()
    if not any(pa.types.is_timestamp(f.type) and f.name not in known for f in got):
        return None
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_timestamp(f.type)
                      and f.name not in known else f for f in got])


def _parse_typed(raw: pa.Schema | None, typer: TextTyper) -> pa.Schema | None:
    """``raw`` (the block schema as JSON has it) with the text columns planned as
    ``timestamptz`` typed, so pyarrow parses those values while reading (no string array,
    no cast afterwards); None when no column is. pyarrow's JSON reader reads a naive time or
    a date in a zoned column as UTC midnight/time, as :class:`TextTyper` does; for the naive
    ``timestamp`` and ``date`` kinds it differs (it accepts zoned values; it refuses ISO
    dates), so those stay text and are cast after. A block it refuses is parsed again with
    ``raw`` and typed value by value."""
    if raw is None:
        return None
    fields, changed = [], False
    for f in raw:
        plan = typer.plans.get(f.name)
        if plan is not None and plan.kind == "timestamptz" and pa.types.is_string(f.type):
            f, changed = pa.field(f.name, plan.type), True
        fields.append(f)
    return pa.schema(fields) if changed else None


def _count_lines(data: bytes | memoryview) -> int:
    n = count_byte(data, NL)
    return n + (1 if len(data) and data[len(data) - 1] != NL else 0)


def _grow(schema: pa.Schema, seen: pa.Schema) -> pa.Schema:
    fields = list(schema)
    names = set(schema.names)
    fields.extend(f for f in seen if f.name not in names)
    return pa.schema(fields)


def _dedupe(errors: list[RowError]) -> list[RowError]:
    seen: set[int | None] = set()
    out = []
    for e in errors:
        if e.line not in seen:
            seen.add(e.line)
            out.append(e)
    return out
