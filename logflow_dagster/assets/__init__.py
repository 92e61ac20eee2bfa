"""Ingest and maintenance assets built from the project config, and their keys."""

from .ingest import build_ingest_assets, partitions_for
from .specs import landing_key, maintenance_key, table_key

__all__ = ["build_ingest_assets", "landing_key", "maintenance_key", "partitions_for",
           "table_key"]
