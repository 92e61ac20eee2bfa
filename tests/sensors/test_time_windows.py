"""Time-window partitioning: a daily partition holds the files modified that day (UTC)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from logflow_dagster import build_definitions
from logflow_dagster.config import parse_config
from logflow_dagster.core.errors import UsageError
from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.samples import events, write_csv

os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"


def _land(path: Path, seed: int, when: datetime) -> int:
    evs = events(cases=10, seed=seed)
    write_csv(path, evs)
    ts = when.timestamp()
    os.utime(path, (ts, ts))
    return len(evs)


def test_daily_partitions_hold_the_files_of_their_day(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    day1 = datetime(2024, 3, 1, 9, tzinfo=UTC)
    n_a = _land(landing / "a.csv", 1, day1)
    n_b = _land(landing / "b.csv", 2, day1.replace(hour=23))
    _land(landing / "c.csv", 3, datetime(2024, 3, 2, 1, tzinfo=UTC))
    config = parse_config({"root": str(tmp_path), "sources": [
        {"name": "o", "landing": "landing", "table": "raw.o", "partitioning": "daily",
         "partition_start": "2024-01-01"}]})
    defs = build_definitions(config)
    with dg.instance_for_test() as instance:
        sensor = defs.resolve_sensor_def("o_landing")
        first = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        second = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor,
                                                definitions=defs))
        keys = sorted(r.partition_key for r in second.run_requests)
        assert keys == ["2024-03-01", "2024-03-01", "2024-03-02"]
        asset = defs.resolve_assets_def(dg.AssetKey(["raw", "o"]))
        out = dg.materialize([asset], instance=instance, partition_key="2024-03-01")
        assert out.success
        md = out.get_asset_materialization_events()[0].materialization.metadata
        assert md["logflow/files"].value == 2
        assert md["dagster/row_count"].value == n_a + n_b
    table = open_catalog(CatalogConfig.embedded(tmp_path)).load_table("raw.o")
    got = duckdb_connection().execute(
        f"SELECT count(*), count(DISTINCT _source_uri) FROM {iceberg_scan_sql(table)}").fetchone()
    assert got == (n_a + n_b, 2)


def test_window_partitioning_needs_a_start() -> None:
    with pytest.raises(UsageError, match="partition_start"):
        parse_config({"sources": [{"name": "o", "landing": "l", "table": "raw.o",
                                   "partitioning": "daily"}]})
