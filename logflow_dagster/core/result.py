"""The typed result of an ingest step (the ``--json`` output of ``logflow convert``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class IngestResult:
    """What one conversion did, with the accounting that proves nothing was lost.

    ``rows_read == rows_written + rows_rejected`` always holds. ``table``, ``snapshot_id``,
    ``data_files``, ``skipped`` and ``replaced`` are set by an ingest into an Iceberg table.
    ``renamed_columns`` maps every input name that was written under another name (an empty
    JSON key, control characters, a duplicate after cleaning) to the written column name.

    Example:
        >>> r = IngestResult(input="a.csv", output="a.parquet", format="csv",
        ...                  rows_read=3, rows_written=2, rows_rejected=1)
        >>> r.to_dict()["rows_read"]
        3
    """

    input: str
    output: str
    format: str
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    compression: str | None = None
    quarantine: str | None = None
    columns: list[dict[str, str]] = field(default_factory=list)
    checksum: str | None = None
    duration_s: float = 0.0
    rows_per_s: float = 0.0
    bytes_per_s: float = 0.0
    bytes_read: int = 0
    files: list[str] = field(default_factory=list)
    table: str | None = None
    snapshot_id: int | None = None
    data_files: list[str] = field(default_factory=list)
    skipped: bool = False
    source_hash: str | None = None
    replaced: bool = False
    profile: dict[str, Any] = field(default_factory=dict)
    detection: dict[str, Any] = field(default_factory=dict)
    errors_sample: list[dict[str, Any]] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """True when every record read is accounted for."""
        return self.rows_read == self.rows_written + self.rows_rejected

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def to_json(self) -> str:
        """One JSON object on one line."""
        return json.dumps(self.to_dict(), default=str, ensure_ascii=False)
