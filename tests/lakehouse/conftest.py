"""Fixtures for lakehouse tests: an embedded catalog in tmp_path and the offline DuckDB reader.

Builders and the PostgreSQL probe (which fails instead of skipping under
LOGFLOW_REQUIRE_SERVICES=1) live in ``helpers.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from pyiceberg.catalog import Catalog

from logflow_dagster.lakehouse import CatalogConfig, close_catalog, ensure_namespace, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection
from tests.lakehouse.helpers import NAMESPACE


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    """An embedded SQLite catalog with a local warehouse under tmp_path, namespace 'lh'."""
    cat = open_catalog(CatalogConfig.embedded(tmp_path))
    ensure_namespace(cat, NAMESPACE)
    yield cat
    close_catalog(cat)


@pytest.fixture
def ice() -> Iterator[duckdb.DuckDBPyConnection]:
    """The independent reader: DuckDB with the bundled iceberg extension, offline."""
    con = duckdb_connection()
    yield con
    con.close()
