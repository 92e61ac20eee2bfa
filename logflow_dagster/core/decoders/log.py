"""Log lines (access logs, syslog, logfmt, plain text) to Arrow batches.

The input is read as UTF-8 blocks of whole lines (:func:`iter_text_blocks`); each block is cut
into an Arrow array of lines without a Python loop (newline positions from NumPy, the array
built over the block's own buffer). Regex grammars are applied with
:func:`pyarrow.compute.extract_regex` to the whole array and the fields cast column by column.

- Blank lines (empty or whitespace only) are skipped; they are neither records nor errors.
- A line the grammar does not match, or whose value does not cast, becomes a
  :class:`RowError` with its physical line number, text and byte offset in the UTF-8 stream.
- Timestamps are ``timestamp[us, tz=UTC]``. RFC 3164 lines carry neither year nor zone: the
  year is ``options.extra["year"]`` or else the current UTC year, and the time is read as UTC.
  Application-log grammars (``log4j`` ...) write local times without zone: ``timestamp[us]``,
  fractions of a second kept.
- With a ``multiline`` grammar, lines that do not match continue the record before them (a
  stack trace): they are appended to its ``message`` after ``\n`` and to its ``raw`` text; the
  record keeps the line number and byte offset of its first line. Only lines before the first
  record are bad records. A record continues over at most :data:`MAX_CONTINUATION` lines; the
  lines after are bad records.
- ``logfmt`` keys vary per line, so lines are tokenized in Python; the columns are the keys in
  order of first appearance (each batch carries every key seen so far), typed by
  :class:`TextTyper`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..detect.log_grammar import (
    GRAMMARS,
    LOG_GRAMMARS,
    SNIFF_LINES,
    LogGrammar,
    parse_logfmt,
    sniff_log_grammar,
)
from ..errors import RowError, UsageError
from ..schema.infer import TextTyper
from .base import DecodedBatch, Decoder
from .text_blocks import TextBlock, iter_text_blocks

TIMESTAMP = pa.timestamp("us", tz="UTC")
LOCAL_TIMESTAMP = pa.timestamp("us")

#: Most lines one record of a multiline grammar takes (its first line included).
MAX_CONTINUATION = 100_000
_FRACTION = r"(:\d{2})[,.](\d{1,6})"  # the seconds, then their fraction
_INT = r"^[+-]?\d{1,18}$"
_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})$"
_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class Lines:
    """Non-blank lines of a block, with where each one starts.

    Attributes:
        text: The lines without their terminator (``\\n`` or ``\\r\\n``).
        line: 1-based physical line number of each line.
        offset: Byte offset of each line's first byte in the UTF-8 stream.
    """

    text: pa.StringArray
    line: np.ndarray
    offset: np.ndarray
    #: Continuation lines of each record (joined by ``\n``; null: none), multiline grammars
    tail: pa.StringArray | None = None

    def __len__(self) -> int:
        return len(self.text)

    def slice(self, start: int, stop: int) -> Lines:
        """The lines ``start`` to ``stop`` (exclusive)."""
        tail = None if self.tail is None else self.tail.slice(start, stop - start)
        return Lines(
            self.text.slice(start, stop - start), self.line[start:stop], self.offset[start:stop],
            tail,
        )

    def take(self, indices: np.ndarray) -> Lines:
        """The lines at ``indices``."""
        idx = pa.array(indices, pa.int64())
        tail = None if self.tail is None else self.tail.take(idx)
        return Lines(self.text.take(idx), self.line[indices], self.offset[indices], tail)

    @staticmethod
    def concat(parts: list[Lines]) -> Lines:
        """The lines of ``parts`` one after the other (without tails)."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return Lines(pa.array([], pa.string()), np.zeros(0, np.int64), np.zeros(0, np.int64))
        return Lines(
            pa.concat_arrays([p.text for p in parts]),
            np.concatenate([p.line for p in parts]),
            np.concatenate([p.offset for p in parts]),
        )

    def error(
        self, i: int, reason: str, column: str | None = None, value: str | None = None
    ) -> RowError:
        """A :class:`RowError` for line ``i``."""
        raw = self.text[i].as_py()
        if self.tail is not None and self.tail[i].is_valid:
            raw = f"{raw}\n{self.tail[i].as_py()}"
        return RowError(
            reason,
            line=int(self.line[i]),
            raw=raw,
            byte_offset=int(self.offset[i]),
            column=column,
            value=value,
        )


def split_lines(block: TextBlock) -> Lines:
    """Cuts a block into its non-blank lines, vectorized.

    Example:
        >>> lines = split_lines(TextBlock(b"a\\r\\n\\nbc\\n", first_line=3, offset=10))
        >>> lines.text.to_pylist(), lines.line.tolist(), lines.offset.tolist()
        (['a', 'bc'], [3, 5], [10, 14])
    """
    data = block.data
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 0x0A).astype(np.int64)
    if len(buf) and buf[-1] != 0x0A:
        ends = np.append(ends, np.int64(len(buf)))
    n = len(ends)
    if n == 0:
        return Lines(pa.array([], pa.string()), np.zeros(0, np.int64), np.zeros(0, np.int64))
    starts = np.empty(n, np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    stops = ends - ((ends > starts) & (buf[np.maximum(ends - 1, 0)] == 0x0D))
    # Pieces alternate line, terminator, line ...; the even ones are the lines.
    bounds = np.empty(2 * n, np.int64)
    bounds[0::2] = starts
    bounds[1::2] = stops
    pieces = pa.Array.from_buffers(
        pa.large_binary(), 2 * n - 1, [None, pa.py_buffer(bounds), pa.py_buffer(data)]
    )
    raw = pieces.take(pa.array(np.arange(0, 2 * n - 1, 2, dtype=np.int64)))
    try:
        text = raw.cast(pa.large_string())
    except pa.ArrowInvalid:  # bytes that are not UTF-8: U+FFFD, as for other encodings
        text = pa.array([b.decode("utf-8", "replace") for b in raw.to_pylist()], pa.large_string())
    text = text.cast(pa.string())
    keep = pc.invert(pc.or_(pc.equal(pc.utf8_length(text), 0), pc.utf8_is_space(text)))
    mask = keep.to_numpy(zero_copy_only=False)
    numbers = block.first_line + np.arange(n, dtype=np.int64)
    return Lines(text.filter(keep), numbers[mask], (block.offset + starts)[mask])


class _Failures:
    """The first failing column of each row of a batch (one error per rejected record)."""

    def __init__(self, rows: int) -> None:
        self.bad = np.zeros(rows, dtype=bool)
        self.found: dict[int, tuple[str, str, str | None]] = {}

    def add(self, column: str, mask: np.ndarray, values: pa.Array, expected: str) -> None:
        new = np.flatnonzero(mask & ~self.bad)
        taken = values.take(pa.array(new, pa.int64())).to_pylist()
        for row, value in zip(new.tolist(), taken, strict=True):
            reason = f"{column} value is not a valid {expected}"
            self.found[row] = (column, reason, None if value is None else str(value))
        self.bad |= mask


def _np(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _to_int(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    ok = pc.fill_null(pc.match_substring_regex(values, _INT), False)
    return pc.cast(pc.if_else(ok, values, _NULL), pa.int64()), _np(pc.is_valid(values)) & ~_np(ok)


def _cast_or_null(values: pa.Array, to: pa.DataType) -> tuple[pa.Array, list[int]]:
    """Casts, nulling the values the cast refuses; found by bisection (few casts per bad value)."""
    try:
        return pc.cast(values, to), []
    except pa.ArrowInvalid:
        if len(values) == 1:
            return pa.nulls(1, to), [0]
    mid = len(values) // 2
    left, bad_left = _cast_or_null(values.slice(0, mid), to)
    right, bad_right = _cast_or_null(values.slice(mid), to)
    return pa.concat_arrays([left, right]), bad_left + [mid + i for i in bad_right]


def _to_iso_timestamp(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    ok = _np(pc.match_substring_regex(values, _ISO))
    # a well-formed but impossible date (2003-02-30) still fails the cast
    typed, refused = _cast_or_null(pc.if_else(pa.array(ok), values, _NULL), TIMESTAMP)
    ok[refused] = False
    return typed, _np(pc.is_valid(values)) & ~ok


def _to_clock_timestamp(
    values: pa.Array, fmt: str, day_pattern: str | None, year: int,
    to: pa.DataType = TIMESTAMP,
) -> tuple[pa.Array, np.ndarray]:
    fraction = None
    if to == LOCAL_TIMESTAMP:  # 18:01:47,978 or 14:32:52.123456: strptime has no fraction
        digits = pc.struct_field(pc.extract_regex(values, r":\d{2}[,.](?P<f>\d{1,6})"), [0])
        micros = pc.cast(pc.utf8_slice_codeunits(pc.binary_join_element_wise(
            digits, "000000", ""), 0, 6), pa.int64())
        fraction = pc.cast(pc.fill_null(micros, 0), pa.duration("us"))
        values = pc.replace_substring_regex(
            pc.replace_substring_regex(values, _FRACTION, r"\1"), r"^(\d{4}-\d{2}-\d{2})T", r"\1 ")
    text = values
    if "%Y" not in fmt and "%y" not in fmt:  # no year written (RFC 3164): prefix one
        text = pc.binary_join_element_wise(str(year), values, " ")
        fmt = "%Y " + fmt
    typed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
    ok = pc.is_valid(typed)
    if day_pattern:  # strptime rolls 31 Feb over to 2/3 March: compare the written day
        day = pc.cast(pc.struct_field(pc.extract_regex(values, day_pattern), [0]), pa.int64())
        risky = pc.and_(ok, pc.fill_null(pc.greater_equal(day, 29), False))
        if pc.any(risky).as_py():
            local = typed
            if "%z" in fmt:  # the written day is local: parse again as if written in UTC
                naive = pc.replace_substring_regex(text, r"[+-]\d{4}$", "+0000")
                naive = pc.if_else(risky, naive, _NULL)  # only days 29-31 can roll over
                local = pc.strptime(naive, format=fmt, unit="us", error_is_null=True)
            same = pc.fill_null(pc.equal(pc.day(local), day), False)
            ok = pc.and_(ok, pc.or_(pc.invert(risky), same))
    typed = pc.if_else(ok, typed, pa.scalar(None, typed.type))
    if fraction is not None:
        typed = pc.add(typed, fraction)
    return typed.cast(to), _np(pc.is_valid(values)) & ~_np(ok)


class _RegexParser:
    """Applies a regex grammar to a run of lines."""

    def __init__(self, grammar: LogGrammar, year: int) -> None:
        self.grammar = grammar
        self.year = year
        self.reason = f"line does not match the {grammar.name} grammar"
        self.schema = pa.schema(
            [
                (name, {"int": pa.int64(), "timestamp": TIMESTAMP,
                        "local_timestamp": LOCAL_TIMESTAMP}.get(kind, pa.string()))
                for name, kind in grammar.columns
            ]
        )

    def _clean(self, name: str, values: pa.Array) -> pa.Array:
        nulls = pc.equal(values, "")
        if name in self.grammar.nil:
            nulls = pc.or_(nulls, pc.equal(values, "-"))
        values = pc.if_else(nulls, _NULL, values)
        if name in self.grammar.unescape:
            values = pc.replace_substring_regex(values, r'\\(["\\])', r"\1")
        if name in self.grammar.bom:
            values = pc.replace_substring_regex(values, "^\ufeff", "")
        return values

    def _typed(self, name: str, kind: str, values: pa.Array) -> tuple[pa.Array, np.ndarray, str]:
        fmt = self.grammar.timestamp_format
        if kind == "int":
            typed, bad = _to_int(values)
            if name != "pri":
                return typed, bad, "integer"
            bad |= _np(pc.greater(typed, 191))
            typed = pc.if_else(pa.array(bad), pa.scalar(None, pa.int64()), typed)
            return typed, bad, "syslog priority (0-191)"
        if kind == "timestamp" and fmt == "iso8601":
            typed, bad = _to_iso_timestamp(values)
            return typed, bad, "ISO 8601 timestamp"
        if kind in ("timestamp", "local_timestamp") and fmt:
            to = TIMESTAMP if kind == "timestamp" else LOCAL_TIMESTAMP
            typed, bad = _to_clock_timestamp(values, fmt, self.grammar.day_pattern, self.year, to)
            return typed, bad, f"timestamp ({fmt})"
        return values, np.zeros(len(values), dtype=bool), "string"

    def parse(self, lines: Lines) -> DecodedBatch:
        struct = pc.extract_regex(lines.text, self.grammar.pattern)
        matched = _np(struct.is_valid())
        errors = [lines.error(int(i), self.reason) for i in np.flatnonzero(~matched)]
        rows = np.flatnonzero(matched)
        if len(rows) == 0:
            return DecodedBatch(None, errors)
        fields = struct.filter(pa.array(matched))
        failures = _Failures(len(rows))
        arrays: dict[str, pa.Array] = {}
        tails = None if lines.tail is None else lines.tail.filter(pa.array(matched))
        for name, kind in self.grammar.columns:
            if name in ("facility", "severity"):
                continue
            values = self._clean(name, fields.field(name))
            if name == "message" and tails is not None and tails.null_count < len(tails):
                joined = pc.binary_join_element_wise(pc.fill_null(values, ""), tails, "\n")
                values = pc.coalesce(joined, values)
            typed, bad, expected = self._typed(name, kind, values)
            if bad.any():
                failures.add(name, bad, values, expected)
            arrays[name] = typed
        if self.grammar.derives_priority:
            pri = arrays["pri"]
            arrays["facility"] = pc.divide(pri, 8)
            arrays["severity"] = pc.subtract(pri, pc.multiply(arrays["facility"], 8))
        batch = pa.RecordBatch.from_arrays(
            [arrays[f.name] for f in self.schema], schema=self.schema
        )
        if failures.found:
            batch = batch.filter(pa.array(~failures.bad))
            for row, (column, reason, value) in failures.found.items():
                errors.append(lines.error(int(rows[row]), reason, column, value))
            errors.sort(key=lambda e: e.line or 0)
        return DecodedBatch(batch if batch.num_rows else None, errors)


class _LogfmtParser:
    """Tokenizes logfmt lines and types the columns with a :class:`TextTyper`."""

    def __init__(self, typer: TextTyper) -> None:
        self.typer = typer
        self.keys: dict[str, None] = {}

    def parse(self, lines: Lines) -> DecodedBatch:
        errors: list[RowError] = []
        records: list[dict[str, str | None]] = []
        kept: list[int] = []
        for i, text in enumerate(lines.text.to_pylist()):
            record = parse_logfmt(text)
            if record is None:
                errors.append(lines.error(i, "line does not match the logfmt grammar"))
                continue
            self.keys.update(dict.fromkeys(record))
            records.append(record)
            kept.append(i)
        if not records:
            return DecodedBatch(None, errors)
        names = list(self.keys)
        batch = pa.RecordBatch.from_arrays(
            [pa.array([r.get(k) for r in records], pa.string()) for k in names], names=names
        )
        typed, cast_failures = self.typer.apply(batch)
        seen: set[int] = set()
        for failure in cast_failures:
            for row, value in zip(failure.rows.tolist(), failure.values, strict=True):
                if row not in seen:
                    seen.add(row)
                    reason = f"{failure.column} value is not a valid {failure.expected}"
                    errors.append(lines.error(kept[row], reason, failure.column, value))
        errors.sort(key=lambda e: e.line or 0)
        return DecodedBatch(typed if typed.num_rows else None, errors)


class _LineParser:
    """Every line is a record with one ``line`` column."""

    def parse(self, lines: Lines) -> DecodedBatch:
        return DecodedBatch(pa.RecordBatch.from_arrays([lines.text], names=["line"]))


class LogDecoder(Decoder):
    """Decodes log lines with the grammar named by the detection, or sniffed from the input.

    ``self.info`` gets ``log_grammar`` (and ``log_grammar_share`` when sniffed,
    ``syslog_year`` for RFC 3164).

    Example:
        >>> import pathlib, tempfile
        >>> from logflow_dagster.core.decoders import DecodeOptions
        >>> from logflow_dagster.core.detect.result import Detection
        >>> from logflow_dagster.core.source import Source
        >>> line = '10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "-"'
        >>> det = Detection("log", encoding="utf-8", log_grammar="combined")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = pathlib.Path(tmp, "access.log").write_text(line + "\\n")
        ...     src = Source.open_path(f"{tmp}/access.log")
        ...     out = list(LogDecoder(src, det, DecodeOptions()).batches())
        >>> out[0].batch.column("status").to_pylist(), out[0].batch.column("path").to_pylist()
        ([200], ['/'])
    """

    format = "log"

    def batches(self) -> Iterator[DecodedBatch]:
        """Yields batches of at most ``options.batch_size`` records and the rejected lines."""
        pending: list[Lines] = []
        parser: _RegexParser | _LogfmtParser | _LineParser | None = None
        blocks = iter_text_blocks(self.source, self.detection, self.options.block_size)
        for block in blocks:
            lines = split_lines(block)
            if parser is None:
                pending.append(lines)
                if (
                    self.detection.log_grammar is None
                    and sum(len(p) for p in pending) < SNIFF_LINES
                ):
                    continue
                parser = self._parser(pending)
                for run in pending:
                    yield from self._emit(parser, run)
                pending = []
                continue
            yield from self._emit(parser, lines)
        if parser is None:
            parser = self._parser(pending)
            for run in pending:
                yield from self._emit(parser, run)
        if self._carry is not None:  # the last record of a multiline grammar
            yield from self._emit(parser, Lines.concat([]), final=True)

    _carry: Lines | None = None

    def _emit(
        self, parser: _RegexParser | _LogfmtParser | _LineParser, lines: Lines,
        final: bool = False,
    ) -> Iterator[DecodedBatch]:
        if isinstance(parser, _RegexParser) and parser.grammar.multiline:
            lines = self._records(parser.grammar.pattern, lines, final)
        size = max(1, self.options.batch_size)
        for start in range(0, len(lines), size):
            yield parser.parse(lines.slice(start, min(start + size, len(lines))))

    def _records(self, pattern: str, lines: Lines, final: bool) -> Lines:
        """Groups lines into records (a matching line and the lines that follow it until the
        next); the last record is held back until the next block shows where it ends.

        Lines before the first record are returned as records of their own (bad ones)."""
        if self._carry is not None:
            lines = Lines.concat([self._carry, lines])
            self._carry = None
        if not len(lines):
            return lines
        matched = _np(pc.match_substring_regex(lines.text, pattern))
        starts = np.flatnonzero(matched)
        if not len(starts):
            return lines  # no record to continue (a carry always starts with one)
        end = len(lines)
        if not final and end - starts[-1] < MAX_CONTINUATION:
            self._carry = lines.slice(int(starts[-1]), end)
            end, starts = int(starts[-1]), starts[:-1]
        lead = np.arange(int(starts[0]) if len(starts) else end, dtype=np.int64)
        if not len(starts):
            return lines.take(lead)
        # each record's continuation: lines after its start, before the next start or the cap
        cont = np.flatnonzero(~matched[: end])
        cont = cont[cont > starts[0]]
        owner = np.searchsorted(starts, cont, side="right") - 1
        room = cont - starts[owner] < MAX_CONTINUATION
        orphans, cont, owner = cont[~room], cont[room], owner[room]
        counts = np.bincount(owner, minlength=len(starts))
        offsets = np.zeros(len(starts) + 1, dtype=np.int32)
        np.cumsum(counts, out=offsets[1:])
        joined = pc.binary_join(pa.ListArray.from_arrays(
            pa.array(offsets), lines.text.take(pa.array(cont, pa.int64()))), "\n")
        tail = pc.if_else(pa.array(counts > 0), joined, pa.scalar(None, pa.string()))
        heads = lines.take(starts)
        records = Lines(heads.text, heads.line, heads.offset, tail)
        if not len(lead) and not len(orphans):
            return records
        # bad lines (before the first record, past the cap) keep their place in line order
        extra = lines.take(np.concatenate([lead, orphans]))
        extra = Lines(extra.text, extra.line, extra.offset,
                      pa.nulls(len(extra), pa.string()))
        order = np.argsort(np.concatenate([records.line, extra.line]), kind="stable")
        both = Lines(pa.concat_arrays([records.text, extra.text]),
                     np.concatenate([records.line, extra.line]),
                     np.concatenate([records.offset, extra.offset]),
                     pa.concat_arrays([records.tail, extra.tail]))
        return both.take(order)

    def _parser(self, sample: list[Lines]) -> _RegexParser | _LogfmtParser | _LineParser:
        name = self.detection.log_grammar
        if name is None:
            head: list[str] = []
            for run in sample:
                head.extend(run.text.slice(0, SNIFF_LINES - len(head)).to_pylist())
            name, share = sniff_log_grammar(head)
            self.info["log_grammar_share"] = share
        if name not in GRAMMARS:
            choices = ", ".join(LOG_GRAMMARS)
            raise UsageError(f"unknown log grammar {name!r}; choose one of {choices}")
        self.info["log_grammar"] = name
        if name == "line":
            return _LineParser()
        if name == "logfmt":
            typer = TextTyper(self.options.schema, threshold=self.options.type_threshold)
            return _LogfmtParser(typer)
        year = self._year()
        if name == "syslog3164":
            self.info["syslog_year"] = year
        return _RegexParser(GRAMMARS[name], year)

    def _year(self) -> int:
        year = self.options.extra.get("year")
        if year is None:
            return datetime.now(UTC).year
        try:
            return int(year)
        except (TypeError, ValueError):
            raise UsageError(f"option year must be an integer, got {year!r}") from None
