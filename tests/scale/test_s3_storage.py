"""Landing and warehouse on S3-compatible object storage (a real SeaweedFS on loopback).

The engine streams an ``s3://`` input through pyarrow's S3 file system built from the
project's properties; the landing cursor lists an S3 prefix; tables are written, compacted,
expired and cleaned there, and DuckDB reads them from S3 with its httpfs extension.
"""

from __future__ import annotations

import gzip
import io
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from logflow_dagster.config import parse_config
from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import UsageError
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.lakehouse.storage import ObjectStorage
from logflow_dagster.landing import LandingState
from logflow_dagster.samples import events, write_csv
from logflow_dagster.services import (
    Project,
    compact_table,
    expire_table,
    ingest_file,
    landing_ready,
    remove_table_orphans,
)
from tests.scale.conftest import put
from tests.scale.servers import S3Server

pytestmark = pytest.mark.services

CSV = ("id,name,amount\n" + "".join(
    f"{i},n{i},{'n/a' if i == 50 else i * 0.25}\n" for i in range(1, 301))).encode()


def _convert(src: str, dst: Path, props: dict[str, str]) -> object:
    return convert(src, dst, error_policy="quarantine", quarantine=str(dst) + ".q.jsonl",
                   storage_options=props)


def test_engine_streams_csv_gzip_and_parquet_from_s3(s3: S3Server, s3_prefix: str,
                                                     tmp_path: Path) -> None:
    put(s3, f"{s3_prefix}/in/a.csv", CSV)
    put(s3, f"{s3_prefix}/in/a.csv.gz", gzip.compress(CSV))
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(1000)), "v": [i * 0.5 for i in range(1000)]}),
                   buf, row_group_size=100)
    put(s3, f"{s3_prefix}/in/p.parquet", buf.getvalue())
    for name in ("a.csv", "a.csv.gz"):
        result = _convert(f"{s3_prefix}/in/{name}", tmp_path / f"{name}.parquet", s3.properties)
        assert (result.rows_read, result.rows_written, result.rows_rejected) == (300, 299, 1)
        assert result.input == f"{s3_prefix}/in/{name}"
        assert pq.read_table(tmp_path / f"{name}.parquet")["amount"].to_pylist() == [
            i * 0.25 for i in range(1, 301) if i != 50]
        quarantined = (tmp_path / f"{name}.parquet.q.jsonl").read_text()
        assert '"line": 51' in quarantined and "50,n50,n/a" in quarantined
    result = _convert(f"{s3_prefix}/in/p.parquet", tmp_path / "p.parquet", s3.properties)
    assert result.rows_written == 1000
    assert pq.read_table(tmp_path / "p.parquet")["id"].to_pylist() == list(range(1000))


def test_missing_s3_object_is_a_usage_error(s3: S3Server, s3_prefix: str,
                                            tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        _convert(f"{s3_prefix}/nope.csv", tmp_path / "x.parquet", s3.properties)


def _project(tmp_path: Path, s3: S3Server, landing: str, warehouse: str) -> Project:
    config = parse_config({"root": str(tmp_path), "catalog": {
        "uri": f"sqlite:///{tmp_path}/catalog.db", "warehouse": warehouse,
        "properties": s3.properties},
        "sources": [{"name": "orders", "landing": landing, "table": "raw.orders",
                     "error_policy": "quarantine"}]})
    return Project.from_config(config)


def test_landing_on_s3_lists_settles_and_keys_by_uri(s3: S3Server, s3_prefix: str,
                                                     tmp_path: Path) -> None:
    project = _project(tmp_path, s3, f"{s3_prefix}/landing/*.csv", f"{s3_prefix}/wh")
    source = project.config.sources[0]
    put(s3, f"{s3_prefix}/landing/a.csv", CSV)
    put(s3, f"{s3_prefix}/landing/skip.json", b"{}")
    put(s3, f"{s3_prefix}/landing/.hidden.csv", CSV)
    state = LandingState()
    assert landing_ready(project, source, state) == []  # seen once: settling
    ready = landing_ready(project, source, state)
    assert [(key, f.size) for key, f, _ in ready] == [(f"{s3_prefix}/landing/a.csv", len(CSV))]
    assert landing_ready(project, source, state) == []
    time.sleep(1.1)  # S3 LastModified has one-second resolution
    put(s3, f"{s3_prefix}/landing/a.csv", CSV)  # identical bytes again: not re-run
    landing_ready(project, source, state)
    assert landing_ready(project, source, state) == []
    put(s3, f"{s3_prefix}/landing/a.csv", CSV + b"301,d,4.0\n")  # changed: re-run
    landing_ready(project, source, state)
    again = landing_ready(project, source, state)
    assert [key for key, _, _ in again] == [f"{s3_prefix}/landing/a.csv"]
    assert again[0][2] != ready[0][2]


def test_ingest_from_s3_into_s3_warehouse_then_maintain(s3: S3Server, s3_prefix: str,
                                                        tmp_path: Path) -> None:
    project = _project(tmp_path, s3, f"{s3_prefix}/landing", f"{s3_prefix}/wh")
    source = project.config.sources[0]
    evs = events(cases=30)
    reports = []
    for i in range(3):
        local = tmp_path / f"o{i}.csv"
        write_csv(local, evs[i::3], bad_every=17)
        put(s3, f"{s3_prefix}/landing/o{i}.csv", local)
        reports.append(ingest_file(project, f"{s3_prefix}/landing/o{i}.csv", source=source))
    assert all(r.balanced for r in reports)
    written = sum(r.result.rows_written for r in reports)
    assert written + sum(r.result.rows_rejected for r in reports) == len(evs)
    table = project.load_table("raw.orders")
    assert table.metadata_location.startswith(f"{s3_prefix}/wh/")
    store = ObjectStorage.for_table(table)
    assert all(f.path.startswith(f"{s3_prefix}/wh/raw/orders/") for f in store.list(
        table.location()))
    con = duckdb_connection(properties=s3.properties)
    sql = f"SELECT count(*), count(DISTINCT _source_uri) FROM {iceberg_scan_sql(table)}"
    assert con.execute(sql).fetchall() == [(written, 3)]
    checksum_before = con.execute(f"SELECT sum(hash(case_id, activity, amount))::HUGEINT "
                                  f"FROM {iceberg_scan_sql(table)}").fetchall()

    compacted = compact_table(project, "raw.orders")
    assert compacted.files_before == 3 and compacted.files_after == 1
    table = project.load_table("raw.orders")
    assert con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchall() == [
        (written,)]
    assert con.execute(f"SELECT sum(hash(case_id, activity, amount))::HUGEINT "
                       f"FROM {iceberg_scan_sql(table)}").fetchall() == checksum_before
    expired = expire_table(project, "raw.orders", older_than=timedelta(0))
    assert expired.deleted_data_files == 3 and not expired.failed_paths
    table = project.load_table("raw.orders")
    live = {task.file.file_path for task in table.scan().plan_files()}
    stored = {f.path for f in store.list(f"{table.location()}/data")}
    assert len(live) == 1 and stored == live  # the compacted-away files are gone from S3
    stray = f"{s3_prefix}/wh/raw/orders/data/stray.parquet"
    put(s3, stray, b"PAR1junk")
    orphans = remove_table_orphans(project, "raw.orders", older_than=timedelta(0))
    assert orphans.orphan_paths == [stray] and not store.exists(stray)
    table = project.load_table("raw.orders")
    assert con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchall() == [
        (written,)]


def test_per_source_storage_options_over_catalog_properties(s3: S3Server, s3_prefix: str,
                                                            tmp_path: Path) -> None:
    """A local warehouse, an S3 landing whose credentials only the source's options hold."""
    config = parse_config({"root": str(tmp_path), "catalog": {
        "properties": {"s3.access-key-id": "wrong", "s3.secret-access-key": "wrong"}},
        "sources": [{"name": "o", "landing": f"{s3_prefix}/in", "table": "raw.o",
                     "error_policy": "quarantine",
                     "options": {"storage_options": s3.properties}}]})
    project = Project.from_config(config)
    put(s3, f"{s3_prefix}/in/a.csv", CSV)
    state = LandingState()
    landing_ready(project, config.sources[0], state)
    (_key, file, _), = landing_ready(project, config.sources[0], state)
    report = ingest_file(project, file.uri, source=config.sources[0])
    assert (report.result.rows_written, report.result.rows_rejected) == (299, 1)
    assert project.load_table("raw.o").location().startswith("file://")
