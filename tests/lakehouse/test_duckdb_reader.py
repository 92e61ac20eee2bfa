"""The DuckDB reader loads the bundled extensions, never downloads, and reads Iceberg tables."""

from __future__ import annotations

import os

import duckdb

from logflow_dagster.lakehouse.duckdb_reader import (
    duckdb_connection,
    extension_files,
    iceberg_scan_sql,
    table_fingerprint,
)
from tests.lakehouse.helpers import NAMESPACE, SCHEMA, batch


def test_extension_files_are_the_packaged_binaries():
    avro, iceberg = extension_files()
    assert os.path.basename(avro) == "avro.duckdb_extension"
    assert os.path.basename(iceberg) == "iceberg.duckdb_extension"
    assert f"v{duckdb.__version__}" in iceberg and "duckdb_extension_iceberg" in iceberg


def test_connection_is_offline_and_loaded():
    con = duckdb_connection()
    try:
        settings = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions')").fetchall())
        assert settings == {"autoinstall_known_extensions": "false",
                            "autoload_known_extensions": "false"}
        loaded = {r[0] for r in con.execute(
            "SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
        assert {"avro", "iceberg"} <= loaded
    finally:
        con.close()


def test_scan_sql_and_fingerprint(catalog, ice):
    table = catalog.create_table(f"{NAMESPACE}.t", schema=SCHEMA)
    table.append(batch(0, 6))
    assert iceberg_scan_sql(table) == f"iceberg_scan('{table.metadata_location}')"
    assert iceberg_scan_sql("file:///a/it's.json") == "iceberg_scan('file:///a/it''s.json')"
    rows = ice.execute(f"SELECT id, name FROM {iceberg_scan_sql(table)} ORDER BY id").fetchall()
    assert rows == [(i, None if i % 7 == 0 else f"n{i}") for i in range(6)]

    count, digest = table_fingerprint(ice, table)
    assert count == 6
    assert table_fingerprint(ice, table, ["id", "name", "score"]) == (count, digest)
    assert table_fingerprint(ice, table, ["id"])[1] != digest
    table.append(batch(6, 1))
    assert table_fingerprint(ice, table)[0] == 7
    assert table_fingerprint(ice, table)[1] != digest
