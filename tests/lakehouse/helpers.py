"""Table builders and file helpers shared by the lakehouse tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

NAMESPACE = "lh"
PG_URL = os.environ.get("LOGFLOW_TEST_PG_URL",
                        "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database named ``<prefix>_<random>`` (its URL, psycopg2 driver),
    dropped afterwards with any connection still open to it. Checks the server first."""
    import uuid

    import sqlalchemy

    require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as con:
            con.execute(sqlalchemy.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                {"d": name})
            con.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def require_postgres(url: str = PG_URL) -> None:
    """Skip when PostgreSQL is unreachable, or fail when LOGFLOW_REQUIRE_SERVICES=1."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as con:
            con.execute(sqlalchemy.text("SELECT 1"))
    except Exception as exc:
        message = f"PostgreSQL not reachable at {url}: {exc.__class__.__name__}: {exc}"
        if os.environ.get("LOGFLOW_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        engine.dispose()

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("score", pa.float64())])


def batch(start: int, rows: int) -> pa.Table:
    """Deterministic small rows with some nulls."""
    ids = list(range(start, start + rows))
    return pa.table({
        "id": ids,
        "name": [None if i % 7 == 0 else f"n{i}" for i in ids],
        "score": [i * 0.5 for i in ids],
    }, schema=SCHEMA)


def small_file_table(catalog: Catalog, name: str = "events", *, appends: int = 40,
                     files_per_append: int = 5) -> Table:
    """A table of appends * files_per_append one-row data files.

    ``write.target-file-size-bytes=1`` makes pyiceberg's writer put every row in its own file,
    so 40 appends give 200 small files while keeping pyiceberg's per-append metadata cost (which
    grows with the snapshot count) low.
    """
    table = catalog.create_table(f"{NAMESPACE}.{name}", schema=SCHEMA,
                                 properties={"write.target-file-size-bytes": "1"})
    for i in range(appends):
        table.append(batch(i * files_per_append, files_per_append))
    return table


def local_files(table: Table, sub: str = "") -> set[str]:
    """Paths (plain, local) of files under the table location (optionally a subfolder)."""
    root = Path(urlparse(table.location()).path) / sub
    return {str(p) for p in root.rglob("*") if p.is_file()}


def plain(uri: str) -> str:
    """A file:// URI as a plain path."""
    return urlparse(uri).path if uri.startswith("file:") else uri
