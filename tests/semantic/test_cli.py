"""`logflow query`, `logflow meta`, `logflow sql` as a user runs them: JSON shapes, exit codes,
refusals (exit 2, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def logflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_query_json_shape(shop: Path, tmp_path: Path) -> None:
    q = tmp_path / "q.json"
    q.write_text(json.dumps({"measures": ["orders.count"], "dimensions": ["orders.status"],
                             "order": {"orders.status": "asc"}}))
    out = logflow("query", f"@{q}", "--json", "--project", str(shop), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["data"] == [{"orders.status": "open", "orders.count": "2"},
                            {"orders.status": "paid", "orders.count": "3"}]
    assert {"annotation", "source", "sql", "rejected"} <= set(body)
    assert body["source"] == "raw"
    assert body["rejected"]["orders.by_day"].startswith("not built")
    dry = logflow("query", q.read_text(), "--dry-run", "--json", cwd=shop)
    plan = json.loads(dry.stdout)
    assert "data" not in plan and plan["source"] == "raw" and "SELECT" in plan["sql"]
    assert plan["annotation"]["measures"]["orders.count"]["type"] == "number"


def test_meta_json(shop: Path) -> None:
    out = logflow("meta", "--json", cwd=shop)
    cubes = {c["name"]: c for c in json.loads(out.stdout)["cubes"]}
    assert {m["name"]: m["aggType"] for m in cubes["orders"]["measures"]}["orders.total"] \
        == "sum"
    assert cubes["orders"]["segments"][0]["name"] == "orders.paid"


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "COPY (SELECT 1) TO '/tmp/x.csv'",
    "ATTACH '/tmp/x.db'",
    "WITH x AS (SELECT * FROM read_parquet('/tmp/*.parquet')) SELECT * FROM x",
    "INSTALL httpfs",
    "PRAGMA version",
    "SET threads = 1",
    "SELECT 1; SELECT 2",
    "SELECT * FROM 'data/orders.csv'",
])
def test_sql_refusals(shop: Path, sql: str) -> None:
    out = logflow("sql", sql, cwd=shop)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error: sql: ") and "Traceback" not in out.stderr


def test_sql_reads_project_tables(shop: Path) -> None:
    out = logflow("sql", "SELECT o.status, count(*) AS n FROM shop.orders o JOIN shop.customers "
                  "c ON o.customer_id = c.id GROUP BY 1 ORDER BY 1", "--csv", cwd=shop)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "status,n\nopen,2\npaid,3\n"


def test_bad_query_exits_2(shop: Path) -> None:
    out = logflow("query", '{"measures": ["orders.nope"]}', cwd=shop)
    assert out.returncode == 2 and "unknown member 'orders.nope'" in out.stderr
    out = logflow("query", "{not json", cwd=shop)
    assert out.returncode == 2 and "not valid JSON" in out.stderr


def test_the_locked_connection_refuses_files_outside_the_warehouse(layer) -> None:
    import duckdb

    from logflow_dagster.semantic.execute import locked_connection

    con = locked_connection(layer.catalog.warehouse)
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        con.execute("SELECT * FROM read_csv('/etc/passwd')")
    with pytest.raises(duckdb.Error):
        con.execute("SET enable_external_access = true")
    con.close()
