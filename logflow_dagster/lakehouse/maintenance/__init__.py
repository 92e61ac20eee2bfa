"""Iceberg table maintenance on pyiceberg 0.12's public API, verified with DuckDB.

Three verbs, each returning a typed result (files and bytes before/after, deleted paths,
duration):

* :func:`compact` rewrites small data files into large ones in one atomic snapshot;
* :func:`expire_snapshots` expires old snapshots and deletes the files only they referenced;
* :func:`remove_orphans` deletes unreferenced objects under the table location.

Example:
    >>> from datetime import timedelta
    >>> from logflow_dagster.lakehouse.maintenance import compact, expire_snapshots
    >>> import tempfile, pyarrow as pa
    >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
    >>> tmp = tempfile.TemporaryDirectory()
    >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
    >>> catalog.create_namespace("raw")
    >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
    >>> table.append(pa.table({"id": [1, 2]}))
    >>> table.append(pa.table({"id": [3]}))
    >>> compact(table).files_after  # two small files became one
    1
    >>> expire_snapshots(table, older_than=timedelta(0)).deleted_data_files  # the two old ones
    2
    >>> close_catalog(catalog); tmp.cleanup()
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
