"""Ingest assets built from the project config."""

from .ingest import build_ingest_assets, partitions_for

__all__ = ["build_ingest_assets", "partitions_for"]
