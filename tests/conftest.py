"""Shared fixtures: an offline DuckDB reader and small helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import duckdb
import pytest

os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@pytest.fixture
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB that never downloads extensions (the independent reader)."""
    con = duckdb.connect(config={"autoinstall_known_extensions": "false",
                                 "autoload_known_extensions": "false"})
    yield con
    con.close()
