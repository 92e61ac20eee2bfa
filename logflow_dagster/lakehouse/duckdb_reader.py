"""An independent, offline reader for Iceberg tables: DuckDB with its iceberg extension.

The avro and iceberg extensions come from the ``duckdb-extension-avro`` and
``duckdb-extension-iceberg`` PyPI packages and are loaded from their files; DuckDB is told never
to download or auto-load anything. Reading a table goes through ``iceberg_scan`` on the
table's current ``metadata.json`` (pyiceberg writes no version hint), so DuckDB sees exactly
the snapshot the catalog points at.

Local warehouses work offline; for ``s3://`` warehouses pass the catalog's properties
(``s3.endpoint``, ``s3.access-key-id``, ...): the httpfs extension is loaded from the
``duckdb-extension-httpfs`` package and an S3 secret is made from them.
"""

from __future__ import annotations

import functools
import glob
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import duckdb

if TYPE_CHECKING:
    from pyiceberg.table import Table

_EXTENSION_PACKAGES = ("duckdb_extension_avro", "duckdb_extension_iceberg")  # load order


@functools.cache
def extension_files(packages: tuple[str, ...] = _EXTENSION_PACKAGES) -> tuple[str, ...]:
    """Paths of the bundled avro and iceberg extension binaries, in load order.

    Raises:
        RuntimeError: A package is missing or holds no binary for this DuckDB version.

    Example:
        >>> [os.path.basename(p) for p in extension_files()]
        ['avro.duckdb_extension', 'iceberg.duckdb_extension']
    """
    import importlib

    version = duckdb.__version__
    files: list[str] = []
    for package in packages:
        try:
            module = importlib.import_module(package)
        except ImportError as exc:
            raise RuntimeError(f"{package} is not installed (pip install "
                               f"{package.replace('_', '-')}=={version})") from exc
        root = os.path.join(os.path.dirname(module.__file__ or ""), "extensions")
        found = sorted(glob.glob(os.path.join(root, f"v{version}", "**", "*.duckdb_extension"),
                                 recursive=True))
        if not found:
            available = sorted(os.listdir(root)) if os.path.isdir(root) else []
            raise RuntimeError(f"{package} has no extension for duckdb v{version} under {root} "
                               f"(found: {available or 'nothing'})")
        files.append(found[0])
    return tuple(files)


def duckdb_connection(database: str = ":memory:", *,
                      properties: Mapping[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that can ``iceberg_scan`` and never downloads anything.

    Args:
        database: DuckDB database path; in-memory by default.
        properties: Object-storage properties (pyiceberg's ``s3.*`` keys); when any is set,
            httpfs is loaded from its package and an S3 secret is made from them.

    Returns:
        A connection with the avro and iceberg extensions loaded from the installed packages.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> table.append(pa.table({"id": [3]}))
        >>> con = duckdb_connection()
        >>> con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchall()
        [(3,)]
        >>> close_catalog(catalog); tmp.cleanup()
    """
    con = duckdb.connect(database, config={"autoinstall_known_extensions": "false",
                                           "autoload_known_extensions": "false"})
    try:
        con.execute("SET autoinstall_known_extensions=false")
        con.execute("SET autoload_known_extensions=false")
        for path in extension_files():
            con.execute(f"LOAD {_quote(path)}")
        if properties and any(k.startswith("s3.") for k in properties):
            con.execute(f"LOAD {_quote(extension_files(('duckdb_extension_httpfs',))[0])}")
            con.execute(s3_secret_sql(properties))
    except BaseException:
        con.close()
        raise
    return con


def s3_secret_sql(properties: Mapping[str, str], name: str = "logflow_s3") -> str:
    """``CREATE SECRET`` for DuckDB's httpfs from pyiceberg's ``s3.*`` properties (an
    endpoint other than AWS is addressed path-style; ``http://`` turns TLS off).

    Example:
        >>> s3_secret_sql({"s3.endpoint": "http://127.0.0.1:8333", "s3.access-key-id": "k"})
        "CREATE OR REPLACE SECRET logflow_s3 (TYPE S3, KEY_ID 'k', ENDPOINT '127.0.0.1:8333', \
URL_STYLE 'path', USE_SSL false)"
    """
    parts = ["TYPE S3"]
    for key, option in (("s3.access-key-id", "KEY_ID"), ("s3.secret-access-key", "SECRET"),
                        ("s3.session-token", "SESSION_TOKEN"), ("s3.region", "REGION")):
        if properties.get(key):
            parts.append(f"{option} {_quote(properties[key])}")
    endpoint = properties.get("s3.endpoint")
    if endpoint:
        parsed = urlparse(endpoint if "://" in endpoint else "https://" + endpoint)
        parts.append(f"ENDPOINT {_quote(parsed.netloc + parsed.path.rstrip('/'))}")
        parts.append("URL_STYLE 'path'")
        parts.append(f"USE_SSL {'false' if parsed.scheme == 'http' else 'true'}")
    return f"CREATE OR REPLACE SECRET {name} ({', '.join(parts)})"


def table_properties(table: Table | str) -> dict[str, str]:
    """The object-storage properties a table's files are read with (its FileIO's), for
    :func:`duckdb_connection`; empty for a metadata path or a local table.

    Example:
        >>> table_properties("file:///wh/t/metadata/00001-a.metadata.json")
        {}
    """
    if isinstance(table, str):
        return {}
    props = getattr(getattr(table, "io", None), "properties", None) or {}
    return {k: str(v) for k, v in props.items() if k.startswith("s3.")}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def iceberg_scan_sql(table: Table | str) -> str:
    """The ``iceberg_scan(...)`` table function call for a table's current snapshot.

    Args:
        table: A pyiceberg Table (its ``metadata_location`` is used) or a metadata.json URI.

    Returns:
        SQL text usable wherever a table is, e.g. ``SELECT * FROM <this>``.

    Example:
        >>> iceberg_scan_sql("file:///wh/t/metadata/00001-a.metadata.json")
        "iceberg_scan('file:///wh/t/metadata/00001-a.metadata.json')"
    """
    location = table if isinstance(table, str) else table.metadata_location
    return f"iceberg_scan({_quote(location)})"


def table_fingerprint(con: duckdb.DuckDBPyConnection, table: Table | str,
                      columns: list[str] | None = None) -> tuple[int, int]:
    """Row count and an order-independent content checksum, read by DuckDB.

    The checksum is ``sum(hash(col1, col2, ...))`` over all rows: equal before and after a
    rewrite that keeps every row (and changes none), whatever the file layout.

    Args:
        con: A connection from :func:`duckdb_connection`.
        table: A pyiceberg Table or a metadata.json URI.
        columns: Columns to hash; all top-level columns of the table by default.

    Returns:
        ``(row_count, hash_sum)``; the sum is 0 for an empty table.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> before = table_fingerprint(duckdb_connection(), table)
        >>> table.append(pa.table({"id": [3]}))
        >>> before[0], table_fingerprint(duckdb_connection(), table)[0], before[1] != 0
        (2, 3, True)
        >>> close_catalog(catalog); tmp.cleanup()
    """
    source = iceberg_scan_sql(table)
    if columns is None:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        columns = [row[0] for row in described]
    cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    row = con.execute(
        f"SELECT count(*), coalesce(sum(hash({cols})), 0)::HUGEINT FROM {source}"
    ).fetchall()[0]
    return int(row[0]), int(row[1])
