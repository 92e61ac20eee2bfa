"""`logflow demo` and `logflow run` end to end: a scaffolded project, real Dagster runs,
Iceberg tables read back with DuckDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.samples import events, write_csv

ENV = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"}


def logflow(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=ENV)


def test_demo_then_run_picks_up_new_files(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    proc = logflow("demo", str(root))
    assert proc.returncode == 0, proc.stderr
    assert "3 runs" in proc.stdout and "passed / 1 failed" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert "source: rollup:sales.revenue_by_day" in proc.stdout
    assert "same answer: yes" in proc.stdout  # the rollup's numbers are the raw data's
    catalog = open_catalog(CatalogConfig.embedded(root))
    con = duckdb_connection()
    n = len(events())
    counts = {t: con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(catalog.load_table(t))}")
              .fetchone()[0] for t in ("raw.orders_csv", "raw.orders_jsonl", "raw.orders_xes")}
    assert counts["raw.orders_jsonl"] == counts["raw.orders_xes"] == n
    assert counts["raw.orders_csv"] == n - len(range(249, n, 250))
    # nothing new: a second pass runs nothing
    again = logflow("run", "--project", str(root), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["runs"] == 0
    # a new file lands: the next pass ingests exactly it
    write_csv(root / "landing" / "csv" / "more.csv", events(cases=10, seed=3))
    more = json.loads(logflow("run", "--project", str(root), "--json").stdout)
    assert more["runs"] == 1 and more["checks_failed"] == 0
    lineage = [json.loads(line) for line in
              (root / ".logflow" / "openlineage.jsonl").read_text().splitlines()]
    ingests = [e for e in lineage if e["job"]["name"].startswith("raw.")]
    assert [e["eventType"] for e in ingests].count("COMPLETE") == 4  # 3 demo files + 1
    last = ingests[-1]
    assert last["outputs"][0]["name"] == "raw.orders_csv"
    assert last["outputs"][0]["facets"]["version"]["datasetVersion"] == str(
        open_catalog(CatalogConfig.embedded(root)).load_table("raw.orders_csv")
        .current_snapshot().snapshot_id)
    assert more["partitions"] == ["raw.orders_csv:landing/csv/more.csv"]
    table = open_catalog(CatalogConfig.embedded(root)).load_table("raw.orders_csv")
    total = con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchone()[0]
    assert total == counts["raw.orders_csv"] + len(events(cases=10, seed=3))


def test_init_writes_a_loadable_project(tmp_path: Path) -> None:
    proc = logflow("init", str(tmp_path / "p"))
    assert proc.returncode == 0, proc.stderr
    for name in ("logflow.yaml", "definitions.py", "workspace.yaml",
                 ".logflow/dagster/dagster.yaml"):
        assert (tmp_path / "p" / name).exists()
    import runpy

    defs = runpy.run_path(str(tmp_path / "p" / "definitions.py"))["defs"]
    assert len(list(defs.resolve_all_asset_keys())) == 12  # landing, tables, maintenance, rollups


def test_dagster_asset_materialize_cli(tmp_path: Path) -> None:
    """`dagster asset materialize -f definitions.py --select ... --partition ...` works on a
    project whose partitions the sensors registered."""
    root = tmp_path / "demo"
    assert logflow("demo", str(root)).returncode == 0
    env = {**ENV, "DAGSTER_HOME": str(root / ".logflow" / "dagster")}
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run([str(dagster), "asset", "materialize", "-f", "definitions.py",
                           "--select", "raw/orders_csv", "--partition",
                           "landing/csv/orders.csv"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "RUN_SUCCESS" in proc.stderr + proc.stdout


def test_parallel_first_ingests_then_due_maintenance(tmp_path: Path) -> None:
    """Four files into a new partitioned table on two processes (the table is created with its
    spec in one commit, so no writer sees it half made), then the compaction that is due."""
    root = tmp_path / "p"
    assert logflow("init", str(root)).returncode == 0
    text = (root / "logflow.yaml").read_text()
    (root / "logflow.yaml").write_text(text.replace(
        "lineage:", "maintenance:\n  small_files: 3\n  expire_older_than: 0s\nlineage:"))
    expected = 0
    for i in range(4):
        evs = events(cases=20, seed=i)
        write_csv(root / "landing" / "csv" / f"f{i}.csv", evs)
        expected += len(evs)
    out = logflow("run", "--project", str(root), "--workers", "2", "--json")
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)
    assert (summary["runs"], summary["failed_runs"]) == (4, 0)
    assert summary["maintained"] == ["raw/orders_csv_maintenance"]
    table = open_catalog(CatalogConfig.embedded(root)).load_table("raw.orders_csv")
    con = duckdb_connection()
    assert con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchone()[0] == expected
    days = con.execute(f"SELECT count(DISTINCT (timestamp AT TIME ZONE 'UTC')::DATE) FROM {iceberg_scan_sql(table)}"
                       ).fetchone()[0]
    assert len(table.inspect.files()) == days  # one compacted file per day partition
    assert len(table.snapshots()) == 1


def test_demo_with_a_failing_step_says_so_and_exits_1(tmp_path: Path) -> None:
    from logflow_dagster import scaffold

    root = tmp_path / "demo"
    root.mkdir()
    strict = scaffold.LOGFLOW_YAML.format(name="demo").replace(
        "    error_policy: quarantine\n    partition_by", "    error_policy: strict\n"
        "    partition_by", 1)  # the planted bad rows now stop the CSV's run
    (root / "logflow.yaml").write_text(strict)
    out = subprocess.run([sys.executable, "-m", "logflow_dagster.cli", "demo", str(root)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "error: 1 runs failed" in out.stderr  # rollups over the missing table wait
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr
