"""Lakehouse plumbing: Iceberg catalog and object storage, an offline DuckDB reader, and
table maintenance (compaction, snapshot expiry with file deletion, orphan removal).

Dagster-free: the Dagster layer wraps these functions; nothing here imports dagster.

Example:
    >>> import tempfile
    >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     catalog = open_catalog(CatalogConfig.embedded(tmp))  # SQLite under tmp/.logflow
    ...     catalog.list_namespaces()
    ...     close_catalog(catalog)
    []
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
