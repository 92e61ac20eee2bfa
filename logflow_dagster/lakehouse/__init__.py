"""Lakehouse plumbing: Iceberg catalog and object storage, an offline DuckDB reader, and
table maintenance (compaction, snapshot expiry with file deletion, orphan removal).

Dagster-free: the Dagster layer wraps these functions; nothing here imports dagster.

Example:
    >>> from logflow_dagster.lakehouse import CatalogConfig, open_catalog  # doctest: +SKIP
    >>> catalog = open_catalog(CatalogConfig.embedded("."))  # doctest: +SKIP
"""

from __future__ import annotations

from .catalog import CatalogConfig, close_catalog, ensure_namespace, open_catalog
from .storage import FileInfo, ObjectStorage, canonical_uri

__all__ = [
    "CatalogConfig",
    "FileInfo",
    "ObjectStorage",
    "canonical_uri",
    "close_catalog",
    "ensure_namespace",
    "open_catalog",
]
