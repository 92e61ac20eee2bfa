"""One rejected record, with enough context to find and replay it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RowError:
    """A record the decoder or the validator rejected.

    Attributes:
        reason: Why it was rejected (``"expected 10 fields, found 9"``).
        line: 1-based physical line where the record starts, counting every newline
            (also those inside quoted fields); ``None`` for formats without lines.
        raw: The record's raw text as it appears in the (decompressed, UTF-8) input.
        byte_offset: Offset of the record's first byte in the decompressed input, when known.
        column: The offending column, when the error is about one value.
        value: The offending value as text.
        record: 1-based record number within the input (rows of binary formats).

    Example:
        >>> RowError("bad int", line=7, raw="a,b", column="n", value="b").line
        7
    """

    reason: str
    line: int | None = None
    raw: str | None = None
    byte_offset: int | None = None
    column: str | None = None
    value: str | None = None
    record: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Returns the error as a plain dict (quarantine rows, JSON output)."""
        return asdict(self)
