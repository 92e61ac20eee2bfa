"""Delimited-text dialect sniffing: delimiter, quote, header and decimal comma."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from .result import CsvDialect

#: Delimiters tried, in order of preference when scores tie.
CANDIDATES: tuple[str, ...] = (",", ";", "\t", "|", ":", "^", "~", " ")

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
    counts = Counter(len(r) for r in rows)
    width, hits = counts.most_common(1)[0]
    if width < 2:
        return 0.0, width
    return hits / len(rows), width


def sniff_dialect(text: str, *, delimiter: str | None = None) -> tuple[CsvDialect, float]:
    """Finds the dialect of a delimited-text sample.

    Args:
        text: The first part of the input, decoded, ending on a line break when possible.
        delimiter: A delimiter the caller already knows (``--delimiter``, ``.tsv``).

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
    quotechar = '"' if text.count('"') >= text.count("'") else "'"
    best: tuple[float, int, str] = (0.0, 0, ",")
    for cand in (delimiter,) if delimiter else CANDIDATES:
        share, width = _score(_records(text, cand, quotechar))
        if share > best[0] + 1e-9 or (share == best[0] and width > best[1] and share > 0):
            best = (share, width, cand)
    share, _, chosen = best
    rows = _records(text, chosen, quotechar)
    header = _has_header(rows)
    body = rows[1:] if header else rows
    decimal = "," if chosen != "," and _uses_decimal_comma(body) else "."
    return CsvDialect(chosen, quotechar, header, decimal), share


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
