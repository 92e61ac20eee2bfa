"""The demo's sales and process-mining models answer on the sample event log (ingested into a
temp project as `logflow init --samples` writes it), checked against DuckDB on the same CSV."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from logflow_dagster.lakehouse.catalog import CatalogConfig
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.scaffold import init_project
from logflow_dagster.semantic import SemanticLayer


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[SemanticLayer, Path]:
    root = tmp_path_factory.mktemp("demo")
    init_project(root, samples=True)
    csv = root / "landing" / "csv" / "orders.csv"
    ingest(csv, "raw.orders_csv", catalog=CatalogConfig.embedded(root), project_dir=root,
           error_policy="quarantine", lineage=False)
    return SemanticLayer.from_project(root), csv


def _truth(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_sales_by_region(demo) -> None:
    layer, csv = demo
    data = layer.query({"measures": ["sales.orders", "sales.revenue"],
                        "dimensions": ["sales.region"], "order": {"sales.region": "asc"}}).data
    con = duckdb.connect()
    good = f"(SELECT * FROM read_csv('{csv}', all_varchar=true) WHERE amount <> 'n/a')"
    truth = _truth(con, f"SELECT region, count(DISTINCT case_id), "
                        f"round(sum(CASE WHEN activity = 'create order' THEN amount::DOUBLE END), 2) "
                        f"FROM {good} GROUP BY 1 ORDER BY 1")
    assert [(r["sales.region"], int(r["sales.orders"]), round(float(r["sales.revenue"]), 2))
            for r in data] == truth


def test_process_mining_cases_variants_rework(demo) -> None:
    layer, _ = demo
    r = layer.query({"measures": ["cases.count", "cases.variants", "cases.rework_rate",
                                  "cases.avg_throughput_hours"]}).data[0]
    assert int(r["cases.count"]) == 200
    # prefixes of the 7-step process (3..7 steps), plus those the quarantined rows cut short
    assert int(r["cases.variants"]) >= 5
    assert float(r["cases.rework_rate"]) == 0.0  # the sample repeats no step
    assert float(r["cases.avg_throughput_hours"]) > 0
    by_activity = layer.query({"measures": ["events.count", "events.cases"],
                               "dimensions": ["events.activity"],
                               "filters": [{"member": "events.activity", "operator": "equals",
                                            "values": ["create order"]}]}).data
    assert by_activity[0]["events.cases"] == by_activity[0]["events.count"]
    joined = layer.query({"measures": ["events.count"], "dimensions": ["cases.variant"],
                          "limit": 1}).data
    assert joined and " > " in joined[0]["cases.variant"]
