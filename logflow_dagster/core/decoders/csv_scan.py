"""Vectorized structure of delimited text: record boundaries, physical lines, field counts.

Quotes are special only at the start of a field (as in pyarrow's and Python's CSV readers) and
are doubled inside a quoted field. For well-formed text the quote *parity* before a byte tells
whether it lies inside a quoted field, which numpy computes for a whole block at once. A quote
that opens in the middle of an unquoted field breaks parity; :func:`scan_records` detects that
case and walks the quotes of that block one by one (the only loop, and only over quote
positions of blocks that need it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .byte_count import NL, count_byte

CR = 0x0D
#: Default bounds of one quoted field: a quote that would run further is a stray quote.
MAX_QUOTED_LINES = 1000
MAX_QUOTED_BYTES = 1 << 20

#: Field counts that mark a malformed record (see :func:`malformed_reason`).
UNTERMINATED, TEXT_AFTER_QUOTE, TOO_LONG = -1, -2, -3
_REASONS = {
    UNTERMINATED: "unterminated quoted field",
    TEXT_AFTER_QUOTE: "text after the closing quote of a quoted field",
    TOO_LONG: "a quoted field would run over more than {lines} lines or {mib} MiB (a stray quote?)",
}
_SLICE = 1 << 18


@dataclass(frozen=True)
class RecordScan:
    """Where each record of a block starts and ends, and how many fields it has.

    Attributes:
        starts: Byte index of each record's first byte within the block.
        ends: Byte index just past each record's last byte (before its ``\\n`` / ``\\r\\n``).
        lines: 1-based physical line where each record starts.
        fields: Number of fields of each record (quoted delimiters not counted).
        consumed: Bytes of the block covered by whole records; a trailing partial record
            (an open quote at the block end) starts there.
    """

    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray
    fields: np.ndarray
    consumed: int

    @property
    def malformed(self) -> bool:
        """True when a record is malformed (a negative field count, see
        :func:`malformed_reason`)."""
        return bool(self.fields.size) and int(self.fields.min()) < 0

    @property
    def empty(self) -> np.ndarray:
        """Records with no bytes (blank lines), which are not data."""
        return self.ends <= self.starts


def last_record_end(data: bytes, quote: int, final: bool, parity: int = 0,
                    max_bytes: int = MAX_QUOTED_BYTES) -> int:
    """Index just past the last newline outside quotes, by quote parity (-1 if none).

    ``parity`` is that of the quotes before ``data`` (1 when it starts inside a quoted field).
    A quoted field longer than ``max_bytes`` is a stray quote (:func:`scan_records` rejects
    its line): past that, the last newline is taken as it is.

    Example:
        >>> last_record_end(b'a,"x\\ny"\\nb,c\\npartial', ord('"'), False)
        12
    """
    if final:
        return len(data)
    pos = data.rfind(b"\n")
    if pos < 0:
        return -1
    parity = (parity + count_byte(data, quote, 0, pos)) & 1
    last = pos
    while parity:
        prev = data.rfind(b"\n", 0, pos)
        if last - prev > max_bytes:
            return last + 1
        if prev < 0:
            return -1
        parity ^= count_byte(data, quote, prev, pos) & 1
        pos = prev
    return pos + 1




def malformed_reason(code: int, max_lines: int = MAX_QUOTED_LINES,
                     max_bytes: int = MAX_QUOTED_BYTES) -> str:
    """The reason a record with the (negative) field count ``code`` is rejected."""
    return _REASONS[code].format(lines=max_lines, mib=round(max_bytes / (1 << 20), 2))


def positions(buf: np.ndarray, value: int) -> np.ndarray:
    """Indices of the bytes equal to ``value``, compared in cache-sized slices."""
    if buf.size <= _SLICE:
        return np.flatnonzero(buf == value)
    mask = np.empty(_SLICE, dtype=bool)
    parts = []
    for pos in range(0, buf.size, _SLICE):
        part = buf[pos : pos + _SLICE]
        out = mask[: part.size]
        np.equal(part, value, out=out)
        found = np.flatnonzero(out)
        if found.size:
            parts.append(found + pos)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _in_quotes_at(positions: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """True where a position lies inside a quoted field, by parity of preceding quotes."""
    return (np.searchsorted(quotes, positions) & 1).astype(bool)


def _ends(delim: int, *extra: int) -> np.ndarray:
    """A lookup table: True for the bytes that end a field (and ``extra`` ones)."""
    table = np.zeros(256, dtype=bool)
    table[[delim, NL, CR, *extra]] = True
    return table


def _opening_quotes_ok(buf: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
    """True when every parity-opening quote sits at the start of a field."""
    opening = quotes[0::2]
    if opening.size == 0:
        return True
    ok = _ends(delim)[buf[opening - 1]] if opening[0] > 0 else np.concatenate(
        ([True], _ends(delim)[buf[opening[1:] - 1]]))
    if ok.all():
        return True
    # a doubled quote inside a quoted field: the "opening" quote follows the closing one
    odd = np.flatnonzero(~ok)
    return bool(((quotes[2 * odd - 1] == opening[odd] - 1) & (odd > 0)).all())


def _closing_quotes_ok(buf: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
    """True when every parity-closing quote ends its field: a delimiter, a line end, the end
    of the data or a quote (a doubled one) follows it."""
    after = quotes[1::2] + 1
    if after.size == 0:
        return True
    if after[-1] >= buf.size:  # the last byte: nothing follows
        after = after[:-1]
    return bool(_ends(delim, int(buf[quotes[0]]))[buf[after]].all())


def _pairs_ok(buf: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
    """:func:`_opening_quotes_ok` and :func:`_closing_quotes_ok` with one gather: the byte
    before each opening quote and after each closing one."""
    around = quotes.copy()
    around[0::2] -= 1
    around[1::2] += 1
    np.clip(around, 0, buf.size - 1, out=around)
    seen = buf[around]
    ends = _ends(delim, int(buf[quotes[0]]))  # a quote may follow a closing one (doubled)
    ok = ends[seen]
    if quotes[0] == 0:
        ok[0] = True
    if quotes[-1] == buf.size - 1:
        ok[-1] = True
    if ok.all():
        return True
    # an opening quote after a quote: fine when that one closes (a doubled quote)
    return _opening_quotes_ok(buf, quotes, delim) and _closing_quotes_ok(buf, quotes, delim)


def _spans_ok(quotes: np.ndarray, newlines: np.ndarray, max_lines: int, max_bytes: int) -> bool:
    """True when no parity pair of quotes spans more than the bounds (doubled quotes split a
    field into pairs: the bound is checked per pair, which only makes it looser). Only pairs
    at least ``max_lines`` bytes apart can enclose that many newlines."""
    pairs = quotes[: quotes.size & ~1].reshape(-1, 2)
    if pairs.size == 0:
        return True
    length = pairs[:, 1] - pairs[:, 0]
    if int(length.max()) > max_bytes:
        return False
    long = pairs[length >= max_lines]
    inside = np.searchsorted(newlines, long[:, 1]) - np.searchsorted(newlines, long[:, 0])
    return inside.size == 0 or int(inside.max()) <= max_lines


def quoting_ok(data: bytes | memoryview, *, delimiter: str, quotechar: str, records: int,
               newlines: int = -1, max_lines: int = MAX_QUOTED_LINES,
               max_bytes: int = MAX_QUOTED_BYTES) -> bool:
    """True when quote parity alone describes the quoting of ``data`` exactly: every quote
    opens at a field start, every closing quote ends its field, no quoted field runs past the
    bounds and none is left open. A fast reader's parse of such data is the exact one.

    Args:
        data: Whole records.
        delimiter, quotechar: The dialect.
        records: The records a reader found in ``data`` (the newlines beyond them lie in
            quoted fields or blank lines: when they are few, no field can run too far).
        newlines: The newlines of ``data`` when known (-1: counted here).
        max_lines, max_bytes: How far one quoted field may run.

    Example:
        >>> quoting_ok(b'a,"b,c"\\n', delimiter=",", quotechar='"', records=1)
        True
        >>> quoting_ok(b'a,"b"c\\n', delimiter=",", quotechar='"', records=1)
        False
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = positions(buf, ord(quotechar))
    if quotes.size == 0:
        return True
    if quotes.size & 1:
        return False
    delim = ord(delimiter)
    if not _pairs_ok(buf, quotes, delim):
        return False
    longest = int((quotes[1::2] - quotes[0::2]).max())
    if longest > max_bytes:
        return False
    if newlines < 0 and longest >= max_lines:
        newlines = count_byte(data, NL)
    if longest < max_lines or newlines - records <= max_lines:
        return True  # no quoted field is long enough to hold that many lines
    return _lines_ok(buf, quotes, max_lines)


def _lines_ok(buf: np.ndarray, quotes: np.ndarray, max_lines: int) -> bool:
    """True when no parity pair of quotes encloses more than ``max_lines`` newlines (only
    pairs at least ``max_lines`` bytes apart can)."""
    opening, closing = quotes[0::2], quotes[1::2]
    long = (closing - opening) >= max_lines
    newlines = positions(buf, NL)
    inside = (np.searchsorted(newlines, closing[long])
              - np.searchsorted(newlines, opening[long]))
    return bool(inside.size == 0 or int(inside.max()) <= max_lines)


def _walk_quotes(data: bytes, quotes: np.ndarray, newlines: np.ndarray, delim: int, *,
                 final: bool, max_lines: int, max_bytes: int
                 ) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The real quotes of ``data`` (opening and closing ones, doubled ones in pairs), walked
    one by one, and the malformed quoted fields as (opening quote position, code).

    A quote opens a field only at a field start; elsewhere it is a literal character. A quoted
    field that is not closed, has text after its closing quote or runs past the bounds makes
    its record malformed: the walk goes on at the next line, so a stray quote costs its own
    line. Outside ``final`` data, a field still open at the end within the bounds is left
    open (its record continues in the next block).
    """
    qs = quotes.tolist()
    real: list[int] = []
    bad: list[tuple[int, int]] = []
    n, size = len(qs), len(data)
    i = 0
    while i < n:
        pos = qs[i]
        before = data[pos - 1] if pos > 0 else NL
        if before not in (delim, NL, CR):
            i += 1  # a quote inside an unquoted field: literal
            continue
        j = i + 1
        while j + 1 < n and qs[j + 1] == qs[j] + 1:
            j += 2  # doubled quotes inside the field
        close = qs[j] if j < n else -1
        end = close if close >= 0 else size
        lines = int(np.searchsorted(newlines, end) - np.searchsorted(newlines, pos))
        code = 0
        if lines > max_lines or end - pos > max_bytes:
            code = TOO_LONG
        elif close < 0:
            if not final:
                real.append(pos)  # open at the block end: the record continues
                break
            code = UNTERMINATED
        elif close + 1 < size and data[close + 1] not in (delim, NL, CR):
            code = TEXT_AFTER_QUOTE
        if code == 0:
            real.extend(qs[i : j + 1])
            i = j + 1
            continue
        bad.append((pos, code))
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        i = int(np.searchsorted(quotes, nl, side="right"))
    return np.asarray(real, dtype=np.int64), bad


def scan_records(
    data: bytes,
    *,
    delimiter: str,
    quotechar: str,
    first_line: int,
    final: bool = True,
    count_fields: bool = True,
    max_lines: int = MAX_QUOTED_LINES,
    max_bytes: int = MAX_QUOTED_BYTES,
) -> RecordScan:
    """Splits a block of whole records and counts their fields, all vectorized.

    Quote parity describes well-formed text; where it does not (a quote inside an unquoted
    field, text after a closing quote, a quoted field left open or running past the bounds)
    the quotes of the block are walked one by one (:func:`_walk_quotes`), and a malformed
    record gets a negative field count (:func:`malformed_reason`) and ends with its first line.

    Args:
        data: UTF-8 bytes starting at a record start.
        delimiter: One-character field separator.
        quotechar: One-character quote.
        first_line: Physical line number of ``data[0]``.
        final: True at EOF: a quoted field left open there is malformed.
        count_fields: False skips counting fields (``fields`` is then zero for every
            well-formed record), the costly part, for callers that learn them elsewhere.
        max_lines, max_bytes: How far one quoted field may run.

    Example:
        >>> s = scan_records(b'a,b\\n"x\\ny",z\\n\\nq\\n', delimiter=",", quotechar='"',
        ...                  first_line=1)
        >>> s.lines.tolist(), s.fields.tolist(), s.empty.tolist()
        ([1, 2, 4, 5], [2, 2, 1, 1], [False, False, True, False])
    """
    delim, quote = ord(delimiter), ord(quotechar)
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = positions(buf, quote)
    newlines = positions(buf, NL)
    bad: list[tuple[int, int]] = []
    if quotes.size and not (
            (not final or quotes.size % 2 == 0)
            and _opening_quotes_ok(buf, quotes, delim) and _closing_quotes_ok(buf, quotes, delim)
            and _spans_ok(quotes, newlines, max_lines, max_bytes)):
        quotes, bad = _walk_quotes(data, quotes, newlines, delim, final=final,
                                   max_lines=max_lines, max_bytes=max_bytes)
    boundaries = newlines[~_in_quotes_at(newlines, quotes)] if quotes.size else newlines
    consumed = int(boundaries[-1]) + 1 if boundaries.size else 0
    if consumed < len(data) and (final or quotes.size % 2 == 0):
        boundaries = np.append(boundaries, len(data))  # a last record without a newline
        consumed = len(data)
    starts = np.concatenate(([0], boundaries[:-1] + 1)) if boundaries.size else np.zeros(0, int)
    ends = boundaries.copy()
    # strip the \r of \r\n endings
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == CR)
    ends = ends - has_cr
    lines = np.searchsorted(newlines, starts) + first_line
    if count_fields:
        delims = positions(buf, delim)
        if quotes.size and delims.size:
            delims = delims[~_in_quotes_at(delims, quotes)]
        fields = np.searchsorted(delims, ends) - np.searchsorted(delims, starts) + 1
    else:
        fields = np.zeros(len(starts), np.int64)
    if bad:
        at = np.asarray([p for p, _ in bad], dtype=np.int64)
        rec = np.searchsorted(starts, at, side="right") - 1
        fields[rec] = np.asarray([c for _, c in bad], dtype=np.int64)
    return RecordScan(starts, ends, lines.astype(np.int64), fields.astype(np.int64), consumed)


def recover_lines(data: bytes, scan: RecordScan, width: int, *, delimiter: str,
                  quotechar: str, max_lines: int = MAX_QUOTED_LINES,
                  max_bytes: int = MAX_QUOTED_BYTES) -> RecordScan:
    """Splits a record of the wrong field count that spans lines, when its lines after the
    first are, read on their own, well-quoted records of ``width`` fields: its quoted field
    was then opened by a stray quote that swallowed them. The first line becomes a malformed
    record (:data:`UNTERMINATED`), the others are records again. A record whose continuation
    lines do not read so (a real multi-line value, a quote inside them) stays whole.

    Example:
        >>> data = b'1,"a,b\\n2,x,y\\n3,",x",d\\n'
        >>> s = scan_records(data, delimiter=",", quotechar='"', first_line=1)
        >>> s.fields.tolist()
        [4]
        >>> r = recover_lines(data, s, 3, delimiter=",", quotechar='"')
        >>> r.lines.tolist(), r.fields.tolist()
        ([1, 2, 3], [-1, 3, 3])
    """
    candidates = [i for i in np.flatnonzero((scan.fields >= 0) & (scan.fields != width)
                                            & ~scan.empty).tolist()
                  if data.find(b"\n", int(scan.starts[i]), int(scan.ends[i])) >= 0]
    if not candidates:
        return scan
    parts: list[RecordScan] = []
    done = 0
    for i in candidates:
        start, end = int(scan.starts[i]), int(scan.ends[i])
        nl = data.find(b"\n", start, end)
        rest = data[nl + 1 : end] + b"\n"
        sub = swallowed_records(rest, width, int(scan.lines[i]) + 1, delimiter=delimiter,
                                quotechar=quotechar, max_lines=max_lines,
                                max_bytes=max_bytes)
        if sub is None:
            continue
        first_end = nl - 1 if nl > start and data[nl - 1] == CR else nl
        parts.append(_take(scan, done, i))
        parts.append(RecordScan(np.array([start]), np.array([first_end]),
                                scan.lines[i : i + 1], np.array([UNTERMINATED]), 0))
        keep = sub.starts < len(rest) - 1  # not the newline added above
        parts.append(RecordScan(sub.starts[keep] + nl + 1, sub.ends[keep] + nl + 1,
                                sub.lines[keep], sub.fields[keep], 0))
        done = i + 1
    if not parts:
        return scan
    parts.append(_take(scan, done, len(scan.starts)))
    return RecordScan(*(np.concatenate([getattr(p, f) for p in parts]).astype(np.int64)
                        for f in ("starts", "ends", "lines", "fields")), scan.consumed)


def swallowed_records(rest: bytes, width: int, first_line: int, *, delimiter: str,
                      quotechar: str, max_lines: int = MAX_QUOTED_LINES,
                      max_bytes: int = MAX_QUOTED_BYTES) -> RecordScan | None:
    """The records of ``rest`` (the lines of a record after its first, newline-terminated)
    when they are all well-quoted records of ``width`` fields, else ``None``: see
    :func:`recover_lines`."""
    sub = scan_records(rest, delimiter=delimiter, quotechar=quotechar, first_line=first_line,
                       max_lines=max_lines, max_bytes=max_bytes)
    real = ~sub.empty
    if not (quoting_ok(rest, delimiter=delimiter, quotechar=quotechar,
                       records=int(real.sum()), max_lines=max_lines, max_bytes=max_bytes)
            and (sub.fields[real] == width).all()):
        return None
    return sub


def _take(scan: RecordScan, a: int, b: int) -> RecordScan:
    return RecordScan(scan.starts[a:b], scan.ends[a:b], scan.lines[a:b], scan.fields[a:b], 0)
