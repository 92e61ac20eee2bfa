"""The quarantine file: one JSON line per rejected record, never a record lost."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import IO

from .row_error import RowError

# characters that some readers (Python's str.splitlines, JavaScript) take as line breaks:
# escaped inside JSON strings so that one record stays one line for every reader
# (json.dumps already escapes the control characters below U+0020)
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


class QuarantineWriter:
    """Appends rejected records to a JSON Lines file, readable by DuckDB's ``read_json``.

    Each line holds ``source``, ``line``, ``byte_offset``, ``record``, ``column``, ``value``,
    ``reason`` and ``raw`` (the record's text as it was in the input).

    Example:
        >>> import json, pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     w = QuarantineWriter(f"{tmp}/q.jsonl", source="in.csv")
        ...     w.write([RowError("expected int64", line=3, raw="1,x", column="n", value="x")])
        ...     w.close()
        ...     entry = json.loads(pathlib.Path(tmp, "q.jsonl").read_text())
        >>> entry["line"], entry["column"], entry["raw"]
        (3, 'n', '1,x')
    """

    def __init__(self, path: str, *, source: str) -> None:
        self.path = path
        self.source = source
        self.count = 0
        self._fh: IO[str] | None = None
        self._closed = False

    def _open(self) -> IO[str]:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._fh = open(self.path, "w", encoding="utf-8", buffering=1 << 20)
        return self._fh

    def write(self, errors: Iterable[RowError]) -> None:
        """Writes rejected records (the file is created, or emptied, at the first)."""
        assert not self._closed, "quarantine writer is closed"
        fh = self._fh or self._open()
        for err in errors:
            row = {"source": self.source, **err.to_dict()}
            fh.write(json.dumps(row, ensure_ascii=False, default=str).translate(_LINE_BREAKS))
            fh.write("\n")
            self.count += 1

    def close(self, *, finished: bool = True) -> None:
        """Flushes and closes the file. A run that ``finished`` without a bad record leaves an
        empty file (an earlier run's records do not linger); one that stopped before its first
        bad record leaves the path as it found it."""
        if self._fh is None and finished and not self._closed:
            self._open()
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._closed = True
