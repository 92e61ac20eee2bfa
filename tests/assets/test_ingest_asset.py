"""The Dagster layer on a real instance: sensor ticks with a real cursor, partition runs,
the row-accounting check, rows read back from Iceberg with DuckDB."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from logflow_dagster import build_definitions
from logflow_dagster.config import parse_config
from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.samples import events, write_csv

os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "landing" / "csv").mkdir(parents=True)
    return tmp_path


def _defs(root: Path) -> dg.Definitions:
    config = parse_config({"root": str(root), "sources": [
        {"name": "orders", "landing": "landing/csv", "table": "raw.orders",
         "error_policy": "quarantine", "partition_by": ["day(timestamp)"]}]})
    return build_definitions(config)


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None):
    sensor = defs.resolve_sensor_def("orders_landing")
    ctx = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    result = sensor(ctx)
    for req in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    return result


def _materialize(defs: dg.Definitions, instance: dg.DagsterInstance, key: str):
    asset = defs.resolve_assets_def(dg.AssetKey(["raw", "orders"]))  # resources bound
    return dg.materialize([asset], instance=instance, partition_key=key)


def _rows(root: Path) -> int:
    table = open_catalog(CatalogConfig.embedded(root)).load_table("raw.orders")
    return duckdb_connection().execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchone()[0]


def test_sensor_cursor_and_partition_runs(project: Path) -> None:
    defs = _defs(project)
    with dg.instance_for_test() as instance:
        landing = project / "landing" / "csv"
        evs = events(cases=60)
        write_csv(landing / "a.csv", evs, bad_every=100)
        # tick 1: the file is new; it waits a tick in case it is still being written
        r1 = _tick(defs, instance, None)
        assert r1.run_requests == []
        # tick 2: size held still -> one run request and one new partition
        r2 = _tick(defs, instance, r1.cursor)
        assert [r.partition_key for r in r2.run_requests] == ["landing/csv/a.csv"]
        assert instance.get_dynamic_partitions("orders_files") == ["landing/csv/a.csv"]
        result = _materialize(defs, instance, "landing/csv/a.csv")
        assert result.success
        mat = result.asset_materializations_for_node("raw__orders")[0]
        bad = len(range(99, len(evs), 100))
        assert mat.metadata["dagster/row_count"].value == len(evs) - bad
        assert mat.metadata["logflow/rows_rejected"].value == bad
        checks = result.get_asset_check_evaluations()
        assert [(c.check_name, c.passed) for c in checks] == [("row_accounting", True)]
        assert _rows(project) == len(evs) - bad
        # tick 3: nothing changed -> nothing to do
        r3 = _tick(defs, instance, r2.cursor)
        assert r3.run_requests == []
        # the same bytes dropped again (new mtime): no run
        shutil.copy(landing / "a.csv", landing / "a.tmp")
        os.replace(landing / "a.tmp", landing / "a.csv")
        r4 = _tick(defs, instance, r3.cursor)
        r5 = _tick(defs, instance, r4.cursor)
        assert r4.run_requests == [] and r5.run_requests == []
        # a changed file re-runs its partition, and replaces its rows
        time.sleep(0.01)
        write_csv(landing / "a.csv", evs[:100])
        r6 = _tick(defs, instance, r5.cursor)
        r7 = _tick(defs, instance, r6.cursor)
        assert [r.partition_key for r in r7.run_requests] == ["landing/csv/a.csv"]
        assert r7.run_requests[0].run_key != r2.run_requests[0].run_key
        assert _materialize(defs, instance, "landing/csv/a.csv").success
        assert _rows(project) == 100


def test_half_written_file_waits(project: Path) -> None:
    defs = _defs(project)
    with dg.instance_for_test() as instance:
        path = project / "landing" / "csv" / "b.csv"
        path.write_text("case_id,activity\n")
        r1 = _tick(defs, instance, None)
        with path.open("a") as f:  # still growing between ticks
            f.write("O-1,create order\n")
        r2 = _tick(defs, instance, r1.cursor)
        assert r2.run_requests == []
        r3 = _tick(defs, instance, r2.cursor)
        assert [r.partition_key for r in r3.run_requests] == ["landing/csv/b.csv"]


def test_repository_project_loads() -> None:
    """The root definitions.py (what `dagster dev` loads) builds without error."""
    import runpy

    root = Path(__file__).resolve().parents[2]
    defs = runpy.run_path(str(root / "definitions.py"))["defs"]
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    tables = {"raw/orders_csv", "raw/orders_jsonl", "raw/orders_xes"}
    landing = {"landing/orders_csv", "landing/orders_jsonl", "landing/orders_xes"}
    rollups = {"rollups/sales__revenue_by_day", "rollups/events__events_by_activity", "rollups/cases__cases_by_variant"}
    assert keys == tables | {f"{t}_maintenance" for t in tables} | landing | rollups
    assert {s.name for s in defs.sensors} == {"orders_csv_landing", "orders_jsonl_landing",
                                               "orders_xes_landing",
                                               "logflow_maintenance_thresholds",
                                               "logflow_rollups_automation"}
    assert [s.name for s in defs.schedules] == ["logflow_maintenance_schedule"]


def test_a_rerun_of_an_unchanged_file_reports_what_the_table_holds(project: Path) -> None:
    defs = _defs(project)
    evs = events(cases=30)
    write_csv(project / "landing" / "csv" / "a.csv", evs, bad_every=50)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("orders_files", ["landing/csv/a.csv"])
        first = _materialize(defs, instance, "landing/csv/a.csv")
        again = _materialize(defs, instance, "landing/csv/a.csv")  # same bytes: skipped
    md1 = first.asset_materializations_for_node("raw__orders")[0].metadata
    md2 = again.asset_materializations_for_node("raw__orders")[0].metadata
    assert md2["logflow/skipped"].value is True
    for key in ("dagster/row_count", "logflow/rows_read", "logflow/rows_rejected"):
        assert md2[key].value == md1[key].value > 0 or key == "logflow/rows_rejected"
    assert md2["dagster/row_count"].value == _rows(project)
    assert [c.name for c in md2["dagster/column_schema"].schema.columns] == \
        [c.name for c in md1["dagster/column_schema"].schema.columns] != []
    assert md2["logflow/snapshot_id"].value == md1["logflow/snapshot_id"].value
    checks = {c.check_name: c.passed for c in again.get_asset_check_evaluations()}
    assert checks == {"row_accounting": True}


def test_the_profile_is_a_table_with_one_row_per_column(project: Path) -> None:
    defs = _defs(project)
    evs = events(cases=20)
    write_csv(project / "landing" / "csv" / "a.csv", evs)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("orders_files", ["landing/csv/a.csv"])
        out = _materialize(defs, instance, "landing/csv/a.csv")
    md = out.asset_materializations_for_node("raw__orders")[0].metadata
    profile = md["logflow/profile"]
    assert isinstance(profile, dg.TableMetadataValue)
    rows = {r.data["column"]: r.data for r in profile.records}
    assert set(rows) == {"case_id", "activity", "timestamp", "resource", "amount", "region",
                         "note"}
    assert rows["case_id"]["nulls"] == 0 and rows["case_id"]["distinct"] == 20
    assert rows["note"]["null_ratio"] == pytest.approx(1 - 20 / len(evs))
    assert rows["amount"]["min"] == str(min(e.amount for e in evs))
    assert rows["activity"]["entropy"] > 0 and rows["amount"]["entropy"] is None
    assert isinstance(md["logflow/rows_per_s"].value, float)
