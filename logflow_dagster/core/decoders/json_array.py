"""JSON documents: a top-level array of records (streamed element by element), or one object.

A top-level object whose one list-valued key holds objects (``{"data": [...]}``) yields those
records; any other object is one record. Array elements are parsed one at a time with the
standard library's C scanner over a sliding text buffer, so each record's physical line is
known, memory stays bounded by the largest record (at most ``json_max_record_bytes``) and
nesting by ``json_max_depth`` (see :mod:`.records`). A document with anything after its end
(a second value, trailing text), a single scalar, or nothing at all is a :class:`DataError`;
an element that is not valid JSON is a bad record with its line and text, and ends the array
(what follows cannot be told apart from it).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

from ..errors import DataError, RowError
from ..schema import TextTyper
from .base import DecodedBatch, Decoder
from .records import (
    DECODER,
    RAW_LIMIT,
    BadJson,
    RecordBatcher,
    check_depth,
    clip,
    decode_value,
    json_text,
    limits,
    type_text,
)
from .text_blocks import utf8_blocks

_WS = " \t\r\n"
_STEP = 1 << 20


class _Text:
    """The input as a sliding text buffer with line accounting."""

    def __init__(self, blocks: Iterator[bytes], path: str, first_byte: int | None = 0) -> None:
        self.blocks = blocks
        self.path = path
        #: byte offset of buf[pos] in the input (None when the input is transcoded: its
        #: offsets are not those of the UTF-8 text read here)
        self.byte = first_byte
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.line = 1  # physical line of buf[pos]
        self.offset = 0  # characters before buf[0]
        self.eof = False

    def fill(self, want: int = _STEP) -> bool:
        """Appends at least ``want`` more characters (fewer at the end); False at EOF."""
        if self.eof:
            return False
        self.buf, self.offset = self.buf[self.pos :], self.offset + self.pos
        self.pos = 0
        parts, got = [self.buf], 0
        while got < want:
            block = next(self.blocks, None)
            try:
                text = self.decoder.decode(block or b"", final=block is None)
            except UnicodeDecodeError as err:
                raise DataError(f"not valid UTF-8: {err}", source=self.path,
                                line=self.line) from None
            parts.append(text)
            got += len(text)
            if block is None:
                self.eof = True
                break
        self.buf = "".join(parts)
        return got > 0 or not self.eof

    def advance(self, end: int) -> None:
        """Moves to ``end`` (an index in ``buf``), counting the lines and bytes passed."""
        self.line += self.buf.count("\n", self.pos, end)
        if self.byte is not None and end > self.pos:
            seg = self.buf[self.pos : end]
            self.byte += len(seg) if seg.isascii() else len(seg.encode("utf-8"))
        self.pos = end

    def peek(self) -> str:
        """The next character that is not JSON whitespace ('' at EOF), skipping to it."""
        while True:
            end = self.pos
            while end < len(self.buf) and self.buf[end] in _WS:
                end += 1
            self.advance(end)
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def where(self) -> str:
        return f"line {self.line}, character offset {self.offset + self.pos}"


class JsonArrayDecoder(Decoder):
    """Decodes a JSON array of objects (or a single object) in bounded memory.

    Example:
        >>> from logflow_dagster.core.decoders import get_decoder
        >>> get_decoder("json").format
        'json'
    """

    format = "json"

    def batches(self) -> Iterator[DecodedBatch]:
        opts = self.options
        self.typer = TextTyper(opts.schema, threshold=opts.type_threshold,
                               hints=opts.type_hints)
        self.batcher = RecordBatcher()
        self.max_depth, self.max_bytes = limits(opts.extra)
        self.number = 1
        utf8 = (self.detection.encoding or "utf-8").lower().replace("_", "-") in (
            "utf-8", "utf-8-sig", "ascii", "us-ascii")
        text = _Text(utf8_blocks(self.source, self.detection, _STEP), self.source.path,
                     (self.detection.bom or 0) if utf8 else None)
        self.broken = False
        first = text.peek()
        if first == "" or (first.isspace() and _only_space(text)):
            raise DataError("no records: the input is empty or only whitespace",
                            source=self.source.path)
        if first == "[":
            yield from self._array(text)
        elif first == "{":
            yield from self._object(text)
        else:
            got = self._value(text)
            shown = got if isinstance(got, BadJson) else got.text[:40]
            raise DataError(f"a JSON document holding a single value ({shown}), not records "
                            "(an array of objects or an object)", source=self.source.path,
                            line=1)
        if not self.broken and text.peek() != "":
            raise DataError(f"trailing content after the JSON document at {text.where()}",
                            source=self.source.path, line=text.line,
                            value=clip(text.buf[text.pos : text.pos + 80]))

    # -- reading ---------------------------------------------------------------------------

    def _value(self, text: _Text) -> Any:
        """Parses the value at the current position (returns a :class:`BadJson` when it is
        not valid JSON or exceeds a limit, positioned at its start)."""
        want = _STEP
        while True:
            try:
                value, end = decode_value(text.buf, text.pos)
                if end < len(text.buf) or text.eof:
                    break  # a number at the buffer's end may go on in the next block
            except RecursionError:
                return BadJson(f"nested deeper than {self.max_depth} levels")
            except BadJson as err:  # a repeated key: its end is known, the array goes on
                if err.end < len(text.buf) or text.eof:  # type: ignore[attr-defined]
                    return err
            except ValueError as err:
                if text.eof:
                    return BadJson(f"invalid JSON: {_message(err, text)}")
                end = getattr(err, "pos", len(text.buf))
                if end < len(text.buf) - 64 and not str(err).startswith("Unterminated"):
                    return BadJson(f"invalid JSON: {_message(err, text)}")
            if len(text.buf) - text.pos > self.max_bytes:
                raise DataError(f"a JSON value larger than {self.max_bytes} bytes at "
                                f"{text.where()}; the document's structure cannot be followed "
                                "past it", source=self.source.path, line=text.line)
            text.fill(want)
            want *= 2
        value_text = text.buf[text.pos : end]
        bad = None
        if len(value_text) > self.max_bytes // 4 and \
                len(value_text.encode("utf-8", "replace")) > self.max_bytes:
            bad = BadJson(f"record larger than {self.max_bytes} bytes")
        else:
            try:
                check_depth(value, value_text, self.max_depth)
            except BadJson as err:
                bad = err
        if bad is not None:  # the value's end is known: the array goes on after it
            bad.end = end
            return bad
        text.advance(end)
        return _Parsed(value, value_text)

    def _array(self, text: _Text) -> Iterator[DecodedBatch]:
        text.advance(text.pos + 1)  # "["
        pending: list[tuple[Any, int, str, int | None]] = []
        if text.peek() == "]":
            text.advance(text.pos + 1)
            return
        while True:
            line, byte = text.line, text.byte
            got = self._value(text)
            if isinstance(got, BadJson):
                yield from self._flush(pending)
                pending = []
                end = getattr(got, "end", None)
                yield self._bad(str(got), line, text, end)
                if end is None:
                    return
                text.advance(end)
            else:
                pending.append((got.value, line, got.text, byte))
            if len(pending) >= self.options.batch_size:
                yield from self._flush(pending)
                pending = []
            after = text.peek()
            if after == ",":
                text.advance(text.pos + 1)
                text.peek()
                continue
            if after == "]":
                text.advance(text.pos + 1)
                break
            yield from self._flush(pending)
            pending = []
            what = "end of input before ']'" if after == "" else f"{after!r} after a record"
            yield self._bad(f"malformed JSON array: {what}", text.line, text)
            return
        yield from self._flush(pending)

    def _object(self, text: _Text) -> Iterator[DecodedBatch]:
        line = text.line
        got = self._value(text)
        if isinstance(got, BadJson):
            raise DataError(f"not valid JSON: {got}", source=self.source.path, line=line)
        doc = got.value
        lists = [k for k, v in doc.items() if isinstance(v, list) and v and
                 all(isinstance(x, dict) for x in v)]
        if len(lists) != 1:
            yield from self._flush([(doc, line, got.text, None)])
            return
        # the records of {"key": [...]}: found again in the text for their lines
        records = doc[lists[0]]
        starts = _element_lines(got.text, lists[0], len(records), line)
        raws = [json_text(r) for r in records] if starts else []
        for i in range(0, len(records), self.options.batch_size):
            chunk = records[i : i + self.options.batch_size]
            yield from self._flush([(r, starts[i + k] if starts else None,
                                     raws[i + k] if raws else got.text, None)
                                    for k, r in enumerate(chunk)])

    def _bad(self, reason: str, line: int, text: _Text, end: int | None = None
             ) -> DecodedBatch:
        raw = clip(text.buf[text.pos : text.pos + RAW_LIMIT if end is None else end])
        if end is None:
            self.broken = True  # what follows is part of the bad record's text
        error = RowError(reason, line=line, raw=raw, record=self.number, byte_offset=text.byte)
        self.number += 1
        return DecodedBatch(None, [error])

    def _flush(self, items: list[tuple[Any, int | None, str, int | None]]
               ) -> Iterator[DecodedBatch]:
        if not items:
            return
        records = [r for r, _, _, _ in items]
        lines = [ln for _, ln, _, _ in items]
        raws = [clip(t) for _, _, t, _ in items]
        offsets = [b for _, _, _, b in items]
        number = self.number
        batch, bad = self.batcher.build(records, lines, raws, first_record=number,
                                        offsets=offsets)
        if self.batcher.renamed:
            self.info["renamed_columns"] = dict(self.batcher.renamed)
        if batch is not None:
            typed, failures = type_text(batch, self.batcher, self.typer)
            rejected = {b.record for b in bad}
            good = [i for i in range(len(records)) if number + i not in rejected]
            for f in failures:
                for row, value in zip(f.rows.tolist(), f.values, strict=True):
                    k = good[row]
                    bad.append(RowError(f"expected {f.expected} in field {f.column!r}",
                                        line=lines[k], record=number + k, raw=raws[k],
                                        byte_offset=offsets[k], column=f.column, value=value))
            batch = typed
        self.number += len(records)
        bad.sort(key=lambda e: e.record or 0)
        seen: set[int | None] = set()
        yield DecodedBatch(batch, [e for e in bad if not (e.record in seen or seen.add(e.record))])


class _Parsed:
    __slots__ = ("text", "value")

    def __init__(self, value: Any, text: str) -> None:
        self.value = value
        self.text = text


def _only_space(text: _Text) -> bool:
    """True when the rest of the input is whitespace (form feeds too, which JSON has not)."""
    while text.buf[text.pos :].isspace():
        if not text.fill():
            return True
    return False


def _message(err: ValueError, text: _Text) -> str:
    """A JSON error with the line of its position in the input."""
    pos = getattr(err, "pos", None)
    msg = getattr(err, "msg", str(err))
    if pos is None:
        return msg
    line = text.line + text.buf.count("\n", text.pos, pos)
    return f"{msg} (line {line}, character offset {text.offset + pos})"


def _element_lines(doc: str, key: str, n: int, first_line: int) -> list[int] | None:
    """The physical line of each of the ``n`` elements of ``doc[key]`` (a list of objects),
    found by parsing the document's text again; None when it cannot be followed."""
    text = _Text(iter(()), "")
    text.buf, text.eof, text.line = doc, True, first_line
    try:
        text.advance(1)  # "{"
        while text.peek() == '"':
            name, end = json.JSONDecoder().raw_decode(doc, text.pos)
            text.advance(end)
            if text.peek() != ":":
                return None
            text.advance(text.pos + 1)
            if name == key and text.peek() == "[":
                text.advance(text.pos + 1)
                lines = []
                for _ in range(n):
                    text.peek()
                    lines.append(text.line)
                    _, end = DECODER.raw_decode(doc, text.pos)
                    text.advance(end)
                    if text.peek() == ",":
                        text.advance(text.pos + 1)
                return lines
            text.peek()
            _, end = DECODER.raw_decode(doc, text.pos)
            text.advance(end)
            if text.peek() == ",":
                text.advance(text.pos + 1)
    except ValueError:
        return None
    return None


__all__ = ["JsonArrayDecoder"]
