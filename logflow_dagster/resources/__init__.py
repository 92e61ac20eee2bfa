"""Pluggable Dagster resources: the Iceberg catalog, object storage, DuckDB (offline,
iceberg-ready), OpenLineage and authorization. Swap any of them in
``Definitions(resources=...)``."""

from .auth import AuthResource
from .catalog import IcebergCatalogResource
from .duckdb import LogflowDuckDBResource
from .lineage import OpenLineageResource
from .storage import ObjectStorageResource

__all__ = ["AuthResource", "IcebergCatalogResource", "LogflowDuckDBResource",
           "ObjectStorageResource", "OpenLineageResource"]
