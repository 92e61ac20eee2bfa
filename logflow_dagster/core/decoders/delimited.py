"""CSV, TSV and any other delimited text, streamed in blocks with exact bad-record lines.

Each block of whole records is first parsed by pyarrow's multi-threaded CSV reader straight
into the planned types (the fast path). Only when that fails (a wrong field count, a value that
does not fit its column) is the block scanned structurally with numpy
(:mod:`.csv_scan`): bad records are cut out with their physical line, byte offset and raw text,
the rest is parsed as text and typed by :class:`TextTyper`, which reports the bad values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..detect.dialect import sniff_dialect
from ..detect.result import CsvDialect
from ..errors import RowError, UsageError
from ..schema import TextTyper
from .base import DecodedBatch, Decoder
from .byte_count import NL, count_byte
from .csv_parts import (
    InvalidRows,
    cut_inside_quotes,
    empty_batch,
    join_records,
    sanitize_names,
)
from .csv_quoting import MAX_QUOTED_BYTES, MAX_QUOTED_LINES, malformed_reason, quoting_ok
from .csv_scan import (
    RecordScan,
    last_record_end,
    recover_lines,
    scan_records,
    swallowed_records,
)
from .parallel_blocks import MappedSplitter, Splitter, _Splitter, ordered_blocks
from .text_blocks import MappedText, utf8_blocks

_TRUE = ["true", "True", "TRUE"]
_FALSE = ["false", "False", "FALSE"]
_RAW_LIMIT = 64 << 10  # longest raw text kept for one rejected record
#: pyarrow's CSV chunk: typed parse of a 16 MiB block of the benchmark's event log, median
#: CPU on this project's 2-core VM: 4 MiB chunks 154 ms, 2 MiB 91 ms, 1 MiB 80 ms, 512 KiB
#: 79 ms (per-chunk overhead grows below that).
_CHUNK = 1 << 20
_SAMPLE_BYTES = 1 << 20  # header search window; 4x this is sampled for type inference


class DelimitedDecoder(Decoder):
    """Decodes delimited text (``csv``, ``tsv``, any one-character delimiter).

    Example:
        >>> from logflow_dagster.core.decoders import DecodeOptions, get_decoder
        >>> from logflow_dagster.core.detect import detect
        >>> from logflow_dagster.core.source import Source
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp, "a.csv")
        ...     _ = path.write_text("id;name\\n1;x\\n2;y\\nthree;z\\n")
        ...     src = Source.open_path(path)
        ...     dec = get_decoder("csv")(src, detect(src), DecodeOptions())
        ...     steps = list(dec.batches())
        >>> sum(s.batch.num_rows for s in steps if s.batch is not None) >= 2
        True
    """

    format = "csv"

    def batches(self) -> Iterator[DecodedBatch]:
        opts = self.options
        mapped = MappedText.open(self.source, self.detection)
        blocks = utf8_blocks(self.source, self.detection, opts.block_size)
        first = (bytes(mapped.view[mapped.start : mapped.start + (1 << 16)]) if mapped
                 else next(blocks, b""))
        head = first[: 1 << 16]
        if b"\r" in head and b"\n" not in head.rstrip(b"\n"):
            raise UsageError(f"{self.source.name}: records end with a bare CR (old Mac line "
                             "ends), whose physical lines this reader does not count; convert "
                             "them first, e.g. tr '\\r' '\\n' < IN > OUT")
        dialect = self.detection.dialect or sniff_dialect(
            first[: 1 << 16].decode("utf-8", "replace"),
            delimiter="\t" if self.detection.format == "tsv" else None,
        )[0]
        self.dialect = dialect
        self.max_lines = int(opts.extra.get("max_quoted_lines", MAX_QUOTED_LINES))
        self.max_bytes = int(opts.extra.get("max_quoted_bytes", MAX_QUOTED_BYTES))
        self.info.update(delimiter=dialect.delimiter, quotechar=dialect.quotechar,
                         header=dialect.header, decimal=dialect.decimal)
        self.typer = TextTyper(opts.schema, threshold=opts.type_threshold,
                               decimal_comma=dialect.decimal == ",",
                               hints=opts.type_hints)
        self.names: list[str] | None = None
        self._blocks_seen = 0
        self._dirty_recently = False
        quote = ord(dialect.quotechar)
        splitter: Splitter = (MappedSplitter(mapped, quote, opts.block_size) if mapped
                              else _Splitter(first, blocks, quote, opts.block_size))
        # Blocks run alone until the header is read and the types are planned (the plan must
        # not depend on which thread gets there first); then two threads take turns.
        while not self.typer.plans:
            task = splitter.next()
            if task is None:
                break
            used, out = self._block(task.data, task.line, task.offset, final=task.final,
                                    newlines=task.newlines)
            yield from out
            splitter.done(task)
            if used < len(task.data):
                splitter.restart(task.data[used:], [], task)
        yield from ordered_blocks(self._block, splitter)
        if self.names and not self.typer.plans:  # header only: the columns, no rows
            yield DecodedBatch(pa.RecordBatch.from_pylist(
                [], schema=pa.schema([(n, pa.string()) for n in self.names])))

    # -- one block -------------------------------------------------------------------------

    def _block(
        self, data: bytes | memoryview, line: int, offset: int, *, final: bool,
        newlines: int = -1,
    ) -> tuple[int, list[DecodedBatch]]:
        """Decodes whole records of ``data`` (``newlines`` of them, -1 if not counted);
        returns bytes used and the batches. Only the typed parse takes a view of a mapped
        file; the rest works on a copy."""
        skipped = 0
        if self.names is None or not self.typer.plans:
            data = bytes(data)
        if self.names is None:
            skipped = self._read_header(data)
            if skipped:
                newlines = -1
                line += count_byte(data, NL, 0, skipped)
                offset += skipped
                data = data[skipped:]
            if not data.strip(b"\r\n"):  # blank lines only (a space is a record)
                return skipped + len(data), []
        if not self.typer.plans:
            self._plan_types(data)
        self._blocks_seen += 1
        # After a dirty block the typed attempt is likely wasted; retry it now and then.
        if not self._dirty_recently or self._blocks_seen % 8 == 0:
            table = self._parse_fast(data, final, newlines)
            if table is not None:
                self._dirty_recently = False
                return skipped + len(data), [DecodedBatch(b) for b in self._batches(table)]
        self._dirty_recently = True
        data = bytes(data)
        scan = self._scan(data, line, final, count_fields=False)
        # a malformed record: pyarrow would read it (merged or rewritten), so it is not asked
        out = None if scan.malformed else self._decode_dirty_by_handler(data, scan, offset)
        if out is None:  # pyarrow and the scanner disagree on records: count fields ourselves
            scan = self._scan(data, line, final)
            out = self._decode_dirty(data, scan, offset)
        return skipped + scan.consumed, out

    def _scan(self, data: bytes, line: int, final: bool, *,
              count_fields: bool = True) -> RecordScan:
        return scan_records(data, delimiter=self.dialect.delimiter,
                            quotechar=self.dialect.quotechar, first_line=line, final=final,
                            count_fields=count_fields, max_lines=self.max_lines,
                            max_bytes=self.max_bytes)

    def _read_header(self, data: bytes) -> int:
        """Sets the column names; returns the bytes the preamble and header took."""
        lead = self._skip_preamble(data)
        return lead + self._read_names(data[lead:])

    def _skip_preamble(self, data: bytes) -> int:
        """Bytes of the preamble lines the dialect found; each is named in the notes."""
        pos = 0
        for line in range(1, self.dialect.preamble + 1):
            nl = data.find(b"\n", pos)
            end = len(data) if nl < 0 else nl + 1
            text = data[pos:end].rstrip(b"\r\n").decode("utf-8", "replace")
            self.detection.notes.append(f"line {line} is a preamble, not a record: {text!r}")
            pos = end
        return pos

    def _read_names(self, data: bytes) -> int:
        """Sets the column names; returns the bytes the header took (0 without one)."""
        end = last_record_end(data[:_SAMPLE_BYTES], ord(self.dialect.quotechar),
                              len(data) <= _SAMPLE_BYTES)
        data = data[: end if end > 0 else len(data)]
        scan = self._scan(data, 1, True)
        nonempty = np.flatnonzero(~scan.empty)
        if nonempty.size == 0:
            self.names = []
            return 0
        i = int(nonempty[0])
        text = data[scan.starts[i] : scan.ends[i]].decode("utf-8", "replace")
        try:
            if scan.fields[i] < 0:  # a stray quote: the names are what the line says
                raise csv.Error(malformed_reason(int(scan.fields[i])))
            cells = next(csv.reader(io.StringIO(text, newline=""), strict=False,
                                    delimiter=self.dialect.delimiter,
                                    quotechar=self.dialect.quotechar), [])
        except csv.Error:  # a stray CR or quote in the first record: split it plainly
            cells = text.split(self.dialect.delimiter)
        if self.dialect.header:
            self.names = sanitize_names(cells)
            renamed = {raw: new for raw, new in zip(cells, self.names, strict=True) if raw != new}
            if renamed:
                self.info["renamed_columns"] = renamed
            end = int(scan.ends[i])
            return end + (2 if data[end : end + 2] == b"\r\n" else 1)
        self.names = [f"column_{k}" for k in range(1, len(cells) + 1)]
        return 0

    def _read_options(self) -> pacsv.ReadOptions:
        # One thread per block: blocks already run on two threads, and pyarrow's own threads
        # cost three times the CPU here (0.41 vs 1.3 CPU-s for 1M rows on 2 cores). pyarrow
        # parses a block in chunks of ``_CHUNK`` bytes: what one chunk's parse touches should
        # stay in the CPU's caches (see _CHUNK).
        return pacsv.ReadOptions(column_names=self.names, use_threads=False, block_size=_CHUNK)

    def _parse_options(self, handler: InvalidRows | None = None) -> pacsv.ParseOptions:
        return pacsv.ParseOptions(
            delimiter=self.dialect.delimiter,
            quote_char=self.dialect.quotechar,
            double_quote=True,
            newlines_in_values=True,
            ignore_empty_lines=True,
            invalid_row_handler=handler,
        )

    def _convert_options(self, types: dict[str, pa.DataType]) -> pacsv.ConvertOptions:
        return pacsv.ConvertOptions(
            column_types=types,
            null_values=list(self.options.null_values),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=_TRUE,
            false_values=_FALSE,
            decimal_point=self.dialect.decimal,
        )

    def _parse_text(self, data: bytes, handler: InvalidRows | None = None) -> pa.Table:
        assert self.names is not None
        types = dict.fromkeys(self.names, pa.string())
        # chunks of _CHUNK bytes, joined by the caller: parsing a 16 MiB block as one chunk
        # took 1.7x the CPU (cache misses), far more than the join costs
        return pacsv.read_csv(pa.BufferReader(data), read_options=self._read_options(),
                              parse_options=self._parse_options(handler),
                              convert_options=self._convert_options(types))

    def _plan_types(self, data: bytes) -> None:
        end = last_record_end(data[: 4 * _SAMPLE_BYTES], ord(self.dialect.quotechar),
                              len(data) <= 4 * _SAMPLE_BYTES)
        data = data[: end if end > 0 else len(data)]
        if data:  # a clean sample: pyarrow's text parse is the sample (no structural scan)
            handler = InvalidRows()
            try:
                text = self._parse_text(data, handler)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                text = None
            if (text is not None and not handler.count and text.num_rows
                    and quoting_ok(data, delimiter=self.dialect.delimiter,
                                   quotechar=self.dialect.quotechar, records=text.num_rows,
                                   max_lines=self.max_lines, max_bytes=self.max_bytes)):
                sample = text.slice(0, self.options.infer_rows)
                self.typer.infer(sample.filter(pa.array(~self._header_again(sample))))
                return
        scan = self._scan(data, 1, True)
        good = np.flatnonzero((scan.fields == len(self.names or [])) & ~scan.empty)
        rows = good[: self.options.infer_rows]
        if rows.size == 0:
            self.typer.infer(pa.table({n: pa.array([], pa.string()) for n in self.names or []}))
            return
        sample = self._parse_good(data, scan, rows, 0, {})[0]
        self.typer.infer(sample.filter(pa.array(~self._header_again(sample))))

    def _header_again(self, table: pa.Table) -> np.ndarray:
        """Rows of ``table`` that repeat the header (every text column holds its own name):
        files joined with their headers, or another table with the same columns. Never data:
        they are bad records, and no sample. One comparison per block when none is there."""
        rows = np.zeros(table.num_rows, dtype=bool)
        if not self.dialect.header or not table.num_rows:
            return rows
        texts = [n for n, f in zip(table.column_names, table.schema, strict=True)
                 if pa.types.is_string(f.type)]
        if len(texts) < len(table.column_names) or not texts:
            return rows  # a typed column holds no name: the cast rejects such a row
        for name in texts:
            same = pc.fill_null(pc.equal(table.column(name), name), False)
            rows_here = np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
            rows = rows_here if name == texts[0] else rows & rows_here
            if not rows.any():
                break
        return rows

    def _parse_fast(self, data: bytes | memoryview, final: bool,
                    newlines: int = -1) -> pa.Table | None:
        """The block parsed straight into the planned types, or ``None`` when it needs the
        careful path. Integers are read as text and cast here, so that a code (``007``,
        ``-0``) is seen: pyarrow would read it as a number. So are floats, so that a number a
        double may not hold (``9007199254740993``, ``0.1000000000000000055511``) is seen (text,
        a length test and a cast cost what pyarrow's own float parsing does)."""
        handler = InvalidRows()
        plans = self.typer.plans  # one snapshot: other threads may swap plans
        numbers = [n for n, p in plans.items() if p.kind in ("int", "float")]
        types = {n: p.type for n, p in plans.items()}
        types.update(dict.fromkeys(numbers, pa.string()))
        try:
            table = pacsv.read_csv(
                pa.BufferReader(data),
                read_options=self._read_options(),
                parse_options=self._parse_options(handler),
                convert_options=self._convert_options(types),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if handler.count or (not final and cut_inside_quotes(table)):
            return None
        if not quoting_ok(data, delimiter=self.dialect.delimiter,
                          quotechar=self.dialect.quotechar, records=table.num_rows,
                          newlines=newlines, max_lines=self.max_lines,
                          max_bytes=self.max_bytes):
            return None  # pyarrow merged or rewrote a malformed record
        if self._header_again(table).any():
            return None  # the careful path rejects it with its line
        for name in numbers:
            i = table.schema.get_field_index(name)
            typed = self.typer.number_text(name, table.column(i))
            if typed is None:
                return None
            table = table.set_column(i, pa.field(name, typed.type), typed)
        return self.typer.mark(table)

    @staticmethod
    def _batches(table: pa.Table) -> list[pa.Table]:
        """A parsed block as one table (its ~1 MiB chunks are not copied into one)."""
        return [table] if table.num_rows else []

    def _decode_dirty_by_handler(
        self, data: bytes, scan: RecordScan, offset: int
    ) -> list[DecodedBatch] | None:
        """One text parse of the block: pyarrow names the records with a wrong field count, the
        scan gives every record's line, offset and text. ``None`` when the two disagree."""
        handler = InvalidRows()
        try:
            text = self._parse_text(data[: scan.consumed], handler)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        records = np.flatnonzero(~scan.empty)
        numbers = [n for n, _ in handler.rows]
        if (None in numbers or text.num_rows + len(numbers) != records.size
                or any(not 1 <= n <= records.size for n in numbers)):
            return None
        width = len(self.names or [])
        errors: dict[int, RowError] = {}
        table: list[int] = []
        for number, found in sorted(handler.rows):
            i = int(records[number - 1])
            nl = data.find(b"\n", int(scan.starts[i]), int(scan.ends[i]))
            if nl >= 0 and swallowed_records(
                    data[nl + 1 : int(scan.ends[i])] + b"\n", width, 0,
                    delimiter=self.dialect.delimiter, quotechar=self.dialect.quotechar,
                    max_lines=self.max_lines, max_bytes=self.max_bytes) is not None:
                return None  # a stray quote swallowed good records: see recover_lines
            errors[i] = self._row_error(data, scan, i, offset,
                                        self._shape(scan, i, found, table))
        bad = np.asarray([records[n - 1] for n in numbers], dtype=np.int64)
        good = np.setdiff1d(records, bad, assume_unique=True)
        return self._typed(data, scan, good, text, offset, errors)

    def _decode_dirty(self, data: bytes, scan: RecordScan, offset: int) -> list[DecodedBatch]:
        width = len(self.names or [])
        scan = recover_lines(data, scan, width, delimiter=self.dialect.delimiter,
                             quotechar=self.dialect.quotechar, max_lines=self.max_lines,
                             max_bytes=self.max_bytes)
        keep = ~scan.empty
        bad_shape = keep & (scan.fields != width)
        good = np.flatnonzero(keep & ~bad_shape)
        errors: dict[int, RowError] = {}
        table: list[int] = []
        for i in np.flatnonzero(bad_shape):
            found = int(scan.fields[i])
            reason = (malformed_reason(found, self.max_lines, self.max_bytes) if found < 0
                      else self._shape(scan, int(i), found, table))
            errors[int(i)] = self._row_error(data, scan, int(i), offset, reason)
        if not good.size:
            return self._typed(data, scan, good, None, offset, errors)
        text, good = self._parse_good(data, scan, good, offset, errors)
        return self._typed(data, scan, good, text, offset, errors)

    def _shape(self, scan: RecordScan, i: int, found: int, table: list[int]) -> str:
        """Why record ``i`` with ``found`` fields is bad. The first such record after a blank
        line may start another table: the reasons of the block's bad records from there on
        name its line (kept in ``table``, one list per block)."""
        reason = f"expected {len(self.names or [])} fields, found {found}"
        if not table and i > 0 and scan.empty[i - 1]:
            table.append(int(scan.lines[i]))
        if table:
            reason += f" (another table from line {table[0]}?)"
        return reason

    def _typed(self, data: bytes, scan: RecordScan, good: np.ndarray, text: pa.Table | None,
               offset: int, errors: dict[int, RowError]) -> list[DecodedBatch]:
        """Types the text of the ``good`` records; bad values join ``errors``."""
        batches: list[DecodedBatch] = []
        again = self._header_again(text) if text is not None and good.size else None
        if again is not None and again.any():
            for row in np.flatnonzero(again).tolist():
                rec = int(good[row])
                errors[rec] = self._row_error(
                    data, scan, rec, offset, f"the header again (another table or a joined "
                                             f"file from line {int(scan.lines[rec])}?)")
            assert text is not None
            text, good = text.filter(pa.array(~again)), good[~again]
        if text is not None and good.size:
            typed, failures = self.typer.apply(text.combine_chunks().to_batches()[0]
                                               if text.num_rows else empty_batch(text))
            for failure in failures:
                for row, value in zip(failure.rows.tolist(), failure.values, strict=True):
                    rec = int(good[row])
                    if rec not in errors:
                        reason = f"expected {failure.expected} in column {failure.column!r}"
                        errors[rec] = self._row_error(data, scan, rec, offset, reason,
                                                      failure.column, value)
            batches.append(DecodedBatch(typed))
        ordered = [errors[k] for k in sorted(errors)]
        if batches:
            batches[0].errors = ordered
        elif ordered:
            batches.append(DecodedBatch(None, ordered))
        return batches

    def _parse_good(self, data: bytes, scan: RecordScan, good: np.ndarray, offset: int,
                    errors: dict[int, RowError]) -> tuple[pa.Table, np.ndarray]:
        """Parses the structurally good records as text with pyarrow; where pyarrow and the
        scanner disagree (a bare CR inside a record), record by record with Python's csv."""
        try:
            text = self._parse_text(join_records(data, scan, good))
            if text.num_rows == good.size:
                return text, good
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        names = self.names or []
        columns: list[list[str | None]] = [[] for _ in names]
        kept: list[int] = []
        nulls = set(self.options.null_values)
        for i in good.tolist():
            raw = data[scan.starts[i] : scan.ends[i]].decode("utf-8", "replace")
            try:
                cells = next(csv.reader([raw], delimiter=self.dialect.delimiter,
                                        quotechar=self.dialect.quotechar, strict=True))
            except (csv.Error, StopIteration) as err:
                errors[i] = self._row_error(data, scan, i, offset, f"malformed record: {err}")
                continue
            if len(cells) != len(names):
                errors[i] = self._row_error(data, scan, i, offset,
                                            f"expected {len(names)} fields, found {len(cells)}")
                continue
            kept.append(i)
            for col, cell in zip(columns, cells, strict=True):
                col.append(None if cell in nulls else cell)
        table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns,
                                                                      strict=True)})
        return table, np.asarray(kept, dtype=np.int64)

    def _row_error(self, data: bytes, scan: RecordScan, i: int, offset: int, reason: str,
                   column: str | None = None, value: str | None = None) -> RowError:
        start, end = int(scan.starts[i]), int(scan.ends[i])
        raw = data[start : min(end, start + _RAW_LIMIT)].decode("utf-8", "replace")
        return RowError(reason, line=int(scan.lines[i]), raw=raw, byte_offset=offset + start,
                        column=column, value=value)


__all__ = ["CsvDialect", "DelimitedDecoder", "sanitize_names"]
