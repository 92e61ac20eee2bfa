"""Nested and exotic types (structs, lists, maps, decimals, times, ns timestamps, uuids) go
into Iceberg and come back through DuckDB, and a re-ingest passes the schema policy."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq

from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.lakehouse.ingest import ingest

LINEAGE = "EXCLUDE (_source_uri, _source_hash, _ingested_at)"


def _rows(root: Path, name: str) -> list[tuple]:
    table = open_catalog(CatalogConfig.embedded(root)).load_table(name)
    return duckdb_connection().execute(
        f"SELECT * {LINEAGE} FROM {iceberg_scan_sql(table)} ORDER BY 1").fetchall()


def test_parquet_nested_types_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "n.parquet"
    pq.write_table(pa.table({
        "id": [1, 2],
        "d": pa.array([decimal.Decimal("1.23"), decimal.Decimal("4.56")], pa.decimal128(10, 2)),
        "s": pa.array([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]),
        "l": [[1, 2], []],
        "ts": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC), None], pa.timestamp("ns", "UTC")),
        "t": pa.array([dt.time(1, 2), dt.time(3, 4)], pa.time64("us")),
    }), src)
    ingest(src, "raw.n", project_dir=tmp_path)
    again = ingest(src, "raw.n", project_dir=tmp_path, force=True)
    assert again.replaced and again.rows_written == 2
    rows = _rows(tmp_path, "raw.n")
    assert [r[:4] for r in rows] == [(1, decimal.Decimal("1.23"), {"a": 1, "b": "x"}, [1, 2]),
                                     (2, decimal.Decimal("4.56"), {"a": 2, "b": "y"}, [])]
    assert rows[0][4] == dt.datetime(2024, 1, 1, tzinfo=dt.UTC) and rows[1][4] is None
    assert rows[1][5] == dt.time(3, 4)


def test_avro_map_uuid_date_round_trip(tmp_path: Path) -> None:
    schema = {"type": "record", "name": "r", "fields": [
        {"name": "id", "type": "long"}, {"name": "m", "type": {"type": "map", "values": "int"}},
        {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}}]}
    key = str(uuid.uuid4())
    src = tmp_path / "a.avro"
    with src.open("wb") as f:
        fastavro.writer(f, fastavro.parse_schema(schema),
                        [{"id": 1, "m": {"k": 1}, "u": key, "day": dt.date(2024, 1, 2)}])
    ingest(src, "raw.a", project_dir=tmp_path)
    assert ingest(src, "raw.a", project_dir=tmp_path, force=True).replaced
    assert _rows(tmp_path, "raw.a") == [(1, {"k": 1}, key, dt.date(2024, 1, 2))]
