"""`logflow ingest` as a user runs it: the same service as the Dagster asset (quality rules
evaluated, OpenLineage emitted), table names validated before anything is written, an
unchanged file reported with what the table holds for it, clear exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql

ROWS = [f"O-{i},create,{i}.5,{'XX' if i == 7 else 'EU'}" for i in range(1, 201)]
CSV = "case_id,activity,amount,region\n" + "\n".join(ROWS) + "\nO-999,pay,n/a,US\n"


def logflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(CSV)
    (tmp_path / "logflow.yaml").write_text(
        "sources:\n  - name: a\n    landing: in\n    table: raw.a\n"
        "    error_policy: quarantine\n"
        "checks:\n  raw.a:\n"
        "    - {type: not_null, column: case_id, blocking: true}\n"
        "    - {type: accepted_values, column: region, values: [EU, US]}\n")
    return tmp_path


def _events(root: Path) -> list[dict]:
    path = root / ".logflow" / "openlineage.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_cli_ingest_runs_the_rules_and_emits_lineage(project: Path) -> None:
    out = logflow("ingest", "in/a.csv", "--table", "raw.a", "--json", cwd=project)
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert (payload["rows_read"], payload["rows_written"], payload["rows_rejected"]) == \
        (201, 200, 1)
    checks = {c["name"]: (c["passed"], c["blocking"]) for c in payload["checks"]}
    assert checks == {"row_accounting": (True, True), "not_null_case_id": (True, True),
                      "accepted_values_region": (False, False)}
    assert "check (warning) accepted_values_region failed" in out.stderr
    events = _events(project)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assertions = events[1]["outputs"][0]["facets"]["dataQualityAssertions"]["assertions"]
    assert {(a["assertion"], a["success"]) for a in assertions} >= {
        ("row_accounting", True), ("accepted_values_region", False)}
    table = open_catalog(CatalogConfig.embedded(project)).load_table("raw.a")
    rows = duckdb_connection().execute(
        f"SELECT count(*), sum(amount), count(*) FILTER (region = 'XX') "
        f"FROM {iceberg_scan_sql(table)}").fetchall()
    assert rows == [(200, sum(i + 0.5 for i in range(1, 201)), 1)]


def test_a_failing_blocking_rule_exits_1(project: Path) -> None:
    (project / "in" / "b.csv").write_text("case_id,activity,amount,region\n,x,1.0,EU\n")
    out = logflow("ingest", "in/b.csv", "--table", "raw.a", cwd=project)
    assert out.returncode == 1, out.stderr
    assert "blocking check not_null_case_id failed" in out.stderr
    assert "Traceback" not in out.stderr


def test_an_unchanged_file_reports_what_the_table_holds(project: Path) -> None:
    first = json.loads(logflow("ingest", "in/a.csv", "--table", "raw.a", "--json",
                               cwd=project).stdout)
    again = logflow("ingest", "in/a.csv", "--table", "raw.a", "--json", cwd=project)
    second = json.loads(again.stdout)
    assert second["skipped"] is True
    assert (second["rows_read"], second["rows_written"], second["rows_rejected"]) == \
        (201, 200, 1)
    assert second["snapshot_id"] == first["snapshot_id"]
    assert [c["name"] for c in second["columns"]] == [c["name"] for c in first["columns"]]
    assert "the table holds 200 rows of it" in logflow("ingest", "in/a.csv", "--table", "raw.a",
                                                     cwd=project).stdout


@pytest.mark.parametrize("table", ["raw.a/x", "raw..x", "a.b.c", 'raw."x"', "raw.a b"])
def test_bad_table_names_are_usage_errors_before_anything_is_written(project: Path,
                                                                    table: str) -> None:
    out = logflow("ingest", "in/a.csv", "--table", table, cwd=project)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(f"error: table {table!r}")
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr
    assert not (project / ".logflow" / "warehouse").exists()
