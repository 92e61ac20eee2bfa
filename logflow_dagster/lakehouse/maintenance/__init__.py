"""Iceberg table maintenance on pyiceberg 0.12's public API, verified with DuckDB.

Three verbs, each returning a typed result (files and bytes before/after, deleted paths,
duration):

* :func:`compact` rewrites small data files into large ones in one atomic snapshot;
* :func:`expire_snapshots` expires old snapshots and deletes the files only they referenced;
* :func:`remove_orphans` deletes unreferenced objects under the table location.

Example:
    >>> from datetime import timedelta
    >>> from logflow_dagster.lakehouse.maintenance import compact, expire_snapshots
    >>> compact(table).files_after  # doctest: +SKIP
    1
    >>> expire_snapshots(table, older_than=timedelta(days=7)).deleted_paths  # doctest: +SKIP
    402
"""

from __future__ import annotations

from .compaction import DEFAULT_TARGET_FILE_SIZE, MiB, compact
from .expiry import expire_snapshots
from .guard import OtherTables
from .orphans import DEFAULT_ORPHAN_AGE, remove_orphans
from .references import ManifestCache, RefFile, metadata_files, referenced_files, snapshot_files
from .results import CompactionResult, ExpiryResult, MaintenanceResult, OrphanResult

__all__ = [
    "DEFAULT_ORPHAN_AGE",
    "DEFAULT_TARGET_FILE_SIZE",
    "CompactionResult",
    "ExpiryResult",
    "MaintenanceResult",
    "ManifestCache",
    "MiB",
    "OrphanResult",
    "OtherTables",
    "RefFile",
    "compact",
    "expire_snapshots",
    "metadata_files",
    "referenced_files",
    "remove_orphans",
    "snapshot_files",
]
