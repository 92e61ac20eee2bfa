"""Quoting of delimited text: checking it vectorized, walking it where it is wrong.

A quote opens a field only at its start; inside, a doubled quote stands for one. Quote *parity*
describes well-formed text exactly, and numpy checks that for a whole block (:func:`quoting_ok`):
every parity-opening quote at a field start, every closing one followed by a field end, no
quoted field past the bounds (a stray quote would otherwise swallow the lines after it). Where
the check fails, :func:`walk_quotes` walks the quotes one by one (only in such blocks) and
names the malformed quoted fields, whose record then costs its own line.
"""

from __future__ import annotations

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


def _ends(delim: int, *extra: int) -> np.ndarray:
    """A lookup table: True for the bytes that end a field (and ``extra`` ones)."""
    table = np.zeros(256, dtype=bool)
    table[[delim, NL, CR, *extra]] = True
    return table


def opening_quotes_ok(buf: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
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


def closing_quotes_ok(buf: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
    """True when every parity-closing quote ends its field: a delimiter, a line end, the end
    of the data or a quote (a doubled one) follows it."""
    after = quotes[1::2] + 1
    if after.size == 0:
        return True
    if after[-1] >= buf.size:  # the last byte: nothing follows
        after = after[:-1]
    return bool(_ends(delim, int(buf[quotes[0]]))[buf[after]].all())


def _pairs_ok(buf: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
    """:func:`opening_quotes_ok` and :func:`closing_quotes_ok` with one gather: the byte
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
    return opening_quotes_ok(buf, quotes, delim) and closing_quotes_ok(buf, quotes, delim)


def spans_ok(quotes: np.ndarray, newlines: np.ndarray, max_lines: int, max_bytes: int) -> bool:
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


def walk_quotes(data: bytes, quotes: np.ndarray, newlines: np.ndarray, delim: int, *,
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
