"""Typed results of the maintenance verbs (plain dataclasses; ``to_dict()`` for metadata)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(kw_only=True)
class MaintenanceResult:
    """What every maintenance verb reports.

    Attributes:
        table: The table's dotted identifier.
        files_before: Files counted before (what is counted is stated by each subclass).
        files_after: The same count after.
        bytes_before: Bytes of those files before.
        bytes_after: Bytes after.
        deleted_paths: Objects physically deleted from storage.
        duration_s: Wall time of the call.

    Example:
        >>> r = MaintenanceResult(table="raw.events", files_before=200, files_after=1)
        >>> r.files_before - r.files_after
        199
    """

    table: str
    files_before: int = 0
    files_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    deleted_paths: int = 0
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain JSON-friendly values.

        Example:
            >>> MaintenanceResult(table="ns.t").to_dict()["files_before"]
            0
        """
        return asdict(self)


@dataclass(kw_only=True)
class CompactionResult(MaintenanceResult):
    """Result of :func:`~logflow_dagster.lakehouse.maintenance.compact`.

    ``files_*``/``bytes_*`` count the live data files of the current snapshot. Compaction
    deletes nothing physically (``deleted_paths`` is 0): the replaced files stay readable by
    older snapshots until :func:`expire_snapshots` removes them.

    Attributes:
        snapshot_id_before: Current snapshot before (None for an empty table).
        snapshot_id_after: The compaction snapshot, or the unchanged id when nothing was done.
        rewritten_files: Small data files replaced.
        added_files: New data files written.
        rewritten_bytes: Bytes of the replaced files.
        added_bytes: Bytes of the new files.
        rows: Rows moved (equal in the replaced and the new files).
        partitions: Partitions that were compacted.
        skipped_with_deletes: Small files left alone because delete files apply to them.

    Example:
        >>> CompactionResult(table="raw.events", rewritten_files=200, added_files=1).added_files
        1
    """

    snapshot_id_before: int | None = None
    snapshot_id_after: int | None = None
    rewritten_files: int = 0
    added_files: int = 0
    rewritten_bytes: int = 0
    added_bytes: int = 0
    rows: int = 0
    partitions: int = 0
    skipped_with_deletes: int = 0

    @property
    def committed(self) -> bool:
        """True when a new snapshot was committed.

        Example:
            >>> CompactionResult(table="t").committed
            False
        """
        return self.added_files > 0 and self.snapshot_id_after != self.snapshot_id_before


@dataclass(kw_only=True)
class ExpiryResult(MaintenanceResult):
    """Result of :func:`~logflow_dagster.lakehouse.maintenance.expire_snapshots`.

    ``files_*``/``bytes_*`` count every file referenced by any snapshot of the table (data and
    delete files, manifests, manifest lists).

    Attributes:
        expired_snapshot_ids: Snapshots removed from the metadata.
        retained_snapshot_ids: Snapshots left.
        deleted_data_files: Data and delete files physically deleted.
        deleted_manifests: Manifest files deleted.
        deleted_manifest_lists: Manifest lists deleted.
        deleted_bytes: Bytes physically deleted.
        skipped_paths: Unreferenced files kept because they lie outside the table location.
        failed_paths: Files whose deletion raised (left for orphan removal).
        protected_paths: Unreferenced files kept because they belong to another table.

    Example:
        >>> ExpiryResult(table="raw.events", deleted_data_files=3).deleted_data_files
        3
    """

    expired_snapshot_ids: list[int] = field(default_factory=list)
    retained_snapshot_ids: list[int] = field(default_factory=list)
    deleted_data_files: int = 0
    deleted_manifests: int = 0
    deleted_manifest_lists: int = 0
    deleted_bytes: int = 0
    skipped_paths: list[str] = field(default_factory=list)
    failed_paths: list[str] = field(default_factory=list)
    protected_paths: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class OrphanResult(MaintenanceResult):
    """Result of :func:`~logflow_dagster.lakehouse.maintenance.remove_orphans`.

    ``files_*``/``bytes_*`` count every object under the table location.

    Attributes:
        orphan_paths: Unreferenced objects older than the safety age (deleted unless dry run).
        orphan_bytes: Their total size.
        too_young: Unreferenced objects kept because they are newer than the safety age.
        dry_run: True when nothing was deleted on purpose.
        protected_paths: Unreferenced objects kept because they belong to another table
            (under its location or referenced by it).

    Example:
        >>> OrphanResult(table="raw.events", dry_run=True).deleted_paths
        0
    """

    orphan_paths: list[str] = field(default_factory=list)
    orphan_bytes: int = 0
    too_young: int = 0
    dry_run: bool = False
    protected_paths: list[str] = field(default_factory=list)
