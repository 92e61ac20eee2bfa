"""Pluggable Dagster resources: the Iceberg catalog (more follow: storage, DuckDB, lineage)."""

from .catalog import IcebergCatalogResource

__all__ = ["IcebergCatalogResource"]
