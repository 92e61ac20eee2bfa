"""Maintenance assets: the threshold sensor asks for compaction, the run compacts and expires."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from logflow_dagster import build_definitions
from logflow_dagster.config import parse_config
from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.lakehouse.ingest import ingest

os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"


def test_threshold_sensor_and_maintenance_run(tmp_path: Path) -> None:
    config = parse_config({"root": str(tmp_path), "maintenance": {
        "small_files": 5, "max_snapshots": 1000, "expire_older_than": "0s"},
        "sources": [{"name": "t", "landing": "landing", "table": "raw.t"}]})
    defs = build_definitions(config)
    for i in range(6):  # six small ingests: six small data files
        f = tmp_path / f"f{i}.csv"
        f.write_text("id,v\n" + "".join(f"{i * 100 + j},{j}\n" for j in range(100)))
        ingest(f, "raw.t", project_dir=tmp_path)
    with dg.instance_for_test() as instance:
        sensor = defs.resolve_sensor_def("logflow_maintenance_thresholds")
        with dg.build_sensor_context(instance=instance, definitions=defs,
                                     resources=defs.resources) as context:
            result = sensor(context)
        assert len(result.run_requests) == 1
        asset = defs.resolve_assets_def(dg.AssetKey(["raw", "t_maintenance"]))
        out = dg.materialize([asset], instance=instance)
        assert out.success
        md = out.get_asset_materialization_events()[0].materialization.metadata
        assert md["logflow/files_before"].value == 6 and md["logflow/files_after"].value == 1
    table = open_catalog(CatalogConfig.embedded(tmp_path)).load_table("raw.t")
    con = duckdb_connection()
    assert con.execute(f"SELECT count(*), sum(id) FROM {iceberg_scan_sql(table)}").fetchone() == (
        600, sum(range(600)))
    assert len(table.snapshots()) == 1  # expired down to the compaction snapshot
    with dg.instance_for_test() as instance:  # under the threshold now: nothing requested
        with dg.build_sensor_context(instance=instance, definitions=defs,
                                     resources=defs.resources) as context:
            result = defs.resolve_sensor_def("logflow_maintenance_thresholds")(context)
        assert result.run_requests == []
