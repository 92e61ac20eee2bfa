"""The quarantine file: one JSON line per rejected record, never a record lost."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import IO

from .row_error import RowError


class QuarantineWriter:
    """Appends rejected records to a JSON Lines file, readable by DuckDB's ``read_json``.

    Each line holds ``source``, ``line``, ``byte_offset``, ``record``, ``column``, ``value``,
    ``reason`` and ``raw`` (the record's text as it was in the input).

    Example:
        >>> w = QuarantineWriter("/tmp/q.jsonl", source="in.csv")  # doctest: +SKIP
        >>> w.write([RowError("bad", line=3, raw="1,x")])  # doctest: +SKIP
        >>> w.close()  # doctest: +SKIP
    """

    def __init__(self, path: str, *, source: str) -> None:
        self.path = path
        self.source = source
        self.count = 0
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        self._fh: IO[str] | None = open(path, "w", encoding="utf-8", buffering=1 << 20)

    def write(self, errors: Iterable[RowError]) -> None:
        """Writes rejected records."""
        assert self._fh is not None, "quarantine writer is closed"
        for err in errors:
            row = {"source": self.source, **err.to_dict()}
            self._fh.write(json.dumps(row, ensure_ascii=False, default=str))
            self._fh.write("\n")
            self.count += 1

    def close(self) -> None:
        """Flushes and closes the file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
