"""Delimited-text dialect sniffing: delimiter, quote, header and decimal comma."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from .result import CsvDialect

#: Delimiters tried, in order of preference when scores tie.
CANDIDATES: tuple[str, ...] = (",", ";", "\t", "|", ":", "^", "~", " ")

_SEP_HINT = re.compile(r"^sep=(.)\r?\n")  # Excel's delimiter hint, a line of its own
_MAX_PREAMBLE = 20
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_NAME = re.compile(r"^[^\W\d][\w .:/()#%-]{0,63}$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_TYPED = re.compile(
    r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^(?i:true|false)$|^\d{4}-\d{2}-\d{2}([T ].*)?$"
)


def _records(text: str, delimiter: str, quotechar: str, limit: int = 200) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quotechar, strict=False)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def _score(rows: list[list[str]]) -> tuple[float, int]:
    """Share of records with the most common field count, and that count."""
    if not rows:
        return 0.0, 0
    counts = Counter(len(r) for r in rows if len(r) > 1)
    if not counts:
        return 0.0, 1
    width, hits = counts.most_common(1)[0]
    return hits / len(rows), width


def sniff_dialect(text: str, *, delimiter: str | None = None,
                  quote: str | None = None) -> tuple[CsvDialect, float]:
    """Finds the dialect of a delimited-text sample.

    Args:
        text: The first part of the input, decoded, ending on a line break when possible.
        delimiter: A delimiter the caller already knows (``--delimiter``, ``.tsv``).
        quote: A quote character the caller already knows (``--quote``).

    Returns:
        The dialect and a confidence (share of sampled records with the expected field count;
        0 when no candidate gives two or more fields).

    Example:
        >>> dialect, confidence = sniff_dialect("a;b;c\\n1;2,5;x\\n2;3,0;y\\n")
        >>> dialect.delimiter, dialect.header, dialect.decimal
        (';', True, ',')
    """
    cut = text.rfind("\n")
    if cut > 0 and cut < len(text) - 1:
        text = text[: cut + 1]
    hint = _SEP_HINT.match(text)
    if hint and not delimiter:
        delimiter = hint.group(1)
    skip = 1 if hint else 0
    text = _after_lines(text, skip)
    quotechar = quote or ('"' if text.count('"') >= text.count("'") else "'")
    share, width, chosen = _best(text, quotechar, delimiter)
    second = 0
    first = first_table(text, quotechar)
    if first:  # a blank line, then more: when the first table has another dialect, it is
        # the file's (what follows is another table, whose records are bad records)
        own = _best(first, quotechar, delimiter)
        rest = text[len(first):]
        if own[1] >= 2 and own[0] >= 0.6 and _score(_records(rest, own[2], quotechar))[1] \
                != own[1]:
            share, width, chosen = own
            blank = len(rest) - len(rest.lstrip("\r\n"))
            second = skip + first.count("\n") + rest.count("\n", 0, blank) + 1
        else:
            first = ""
    lead = _preamble(text, chosen, quotechar, width)
    if lead:
        skip += lead
        text = _after_lines(text, lead)
        share = share if first else _score(_records(text, chosen, quotechar))[0]
    rows = _records(first or text, chosen, quotechar)
    header = _has_header(rows)
    body = rows[1:] if header else rows
    decimal = "," if chosen != "," and _uses_decimal_comma(body) else "."
    return CsvDialect(chosen, quotechar, header, decimal, preamble=skip,
                      second_table=second), share


def _best(text: str, quotechar: str, delimiter: str | None) -> tuple[float, int, str]:
    """(share, width, delimiter) of the best-scoring candidate (``delimiter`` alone if given).
    A space is no candidate for columns aligned with runs of spaces (see :func:`aligned`)."""
    best: tuple[float, int, str] = (0.0, 0, ",")
    spaced = not delimiter and aligned(text)
    for cand in (delimiter,) if delimiter else CANDIDATES:
        if cand == " " and spaced:
            continue
        share, width = _score(_records(text, cand, quotechar))
        lead = _preamble(text, cand, quotechar, width)
        if lead:  # scored on the table after the preamble
            share, width = _score(_records(_after_lines(text, lead), cand, quotechar))
        if share > best[0] + 1e-9 or (share == best[0] and width > best[1] and share > 0):
            best = (share, width, cand)
    return best


def aligned(text: str) -> bool:
    """Columns aligned with runs of spaces (a fixed-width or ``ls -l``-like table): most
    lines hold two or more spaces in a row between words. One space is then no delimiter
    (runs would make empty fields and shift the columns).

    Example:
        >>> aligned("id    name\\n1     ann\\n22    bo\\n"), aligned("id name\\n1 ann\\n")
        (True, False)
    """
    lines = [ln.strip() for ln in text.splitlines()[:100] if ln.strip()]
    return bool(lines) and sum("  " in ln for ln in lines) * 2 > len(lines)


def first_table(text: str, quotechar: str) -> str:
    """The sample's first table when a blank line after two or more lines is followed by
    more text (several tables in one file), else ``""``. A blank line inside a quoted field
    (an odd count of quotes before it) ends no table.

    Example:
        >>> first_table("a,b\\n1,2\\n\\nx;y;z\\n1;2;3\\n", '"')
        'a,b\\n1,2\\n'
        >>> first_table("a,b\\n1,2\\n\\n", '"')
        ''
    """
    pos = 0
    lines = 0
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return ""
        line = text[pos:nl]
        if not line.strip():
            if lines >= 2 and text[nl:].strip() and text.count(quotechar, 0, pos) % 2 == 0:
                return text[:pos]
        else:
            lines += 1
        pos = nl + 1


def _after_lines(text: str, n: int) -> str:
    """``text`` without its first ``n`` lines."""
    pos = 0
    for _ in range(n):
        nl = text.find("\n", pos)
        if nl < 0:
            return ""
        pos = nl + 1
    return text[pos:]


def _preamble(text: str, delimiter: str, quotechar: str, width: int) -> int:
    """Lines before the table: the first lines (at most ``_MAX_PREAMBLE``) that are titles,
    ``# comment`` lines or blank (never another table's lines) and whose field count is not
    the table's ``width``, when the records after them mostly have that width."""
    if width < 2:
        return 0
    lines = text.split("\n", _MAX_PREAMBLE + 1)[:_MAX_PREAMBLE]
    k = 0
    while k < len(lines) and _loose(lines[k]) and _width(lines[k], delimiter, quotechar) != width:
        k += 1
    if k == 0 or k == len(lines):
        return 0
    after = [len(r) for r in _records(_after_lines(text, k), delimiter, quotechar, limit=3)]
    return k if after and after[0] == width and after.count(width) >= min(2, len(after)) else 0


def _loose(line: str) -> bool:
    """A line that can be a preamble line: blank, a ``#`` comment, or a title without any
    delimiter but spaces (a line of another table is not: it has delimiters)."""
    line = line.strip()
    return not line or line.startswith("#") or not any(c in line for c in CANDIDATES[:-1])


def _width(line: str, delimiter: str, quotechar: str) -> int:
    """Fields of one line (0 for a blank line)."""
    line = line.rstrip("\r")
    if not line.strip():
        return 0
    try:
        return len(next(csv.reader([line], delimiter=delimiter, quotechar=quotechar)))
    except (csv.Error, StopIteration):
        return line.count(delimiter) + 1


def _has_header(rows: list[list[str]]) -> bool:
    if len(rows) < 2:
        return bool(rows) and all(cell and not _TYPED.match(cell) for cell in rows[0])
    first, rest = rows[0], rows[1:]
    if any(not cell.strip() for cell in first) or len(set(first)) != len(first):
        return False
    votes = 0
    for i, name in enumerate(first):
        column = [r[i] for r in rest if i < len(r) and r[i] != ""]
        if not column:
            continue
        typed_share = sum(1 for v in column if _TYPED.match(v)) / len(column)
        if typed_share > 0.8 and not _TYPED.match(name):
            votes += 2  # a text cell on top of a typed column: a header
        elif _TYPED.match(name):
            return False  # a typed value in the first row: data
        elif name not in column:
            votes += 1 if len(set(column)) < len(column) else 0
    # No typed evidence either way: names that look like identifiers make a header.
    return votes > 0 or all(_NAME.match(cell) for cell in first)


def _uses_decimal_comma(rows: list[list[str]]) -> bool:
    if not rows:
        return False
    width = max(len(r) for r in rows)
    for i in range(width):
        column = [r[i] for r in rows if i < len(r) and r[i] != ""]
        if column and sum(1 for v in column if _COMMA_DECIMAL.match(v)) / len(column) > 0.5:
            return all(_NUMBER.match(v) for v in column)
    return False
