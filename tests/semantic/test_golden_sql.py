"""The generated SQL of a set of queries is stable: tests/semantic/golden/<name>.sql holds it.
Regenerate after an intended change with LOGFLOW_REGEN_GOLDEN=1 (and review the diff)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logflow_dagster.semantic.compiler import compile_query
from logflow_dagster.semantic.execute import raw_source
from logflow_dagster.semantic.loader import load_model_text
from logflow_dagster.semantic.query import normalize_query
from logflow_dagster.semantic.tables import TableSnapshot
from tests.semantic.conftest import MODEL

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)
SNAPSHOTS = {t: TableSnapshot(t, f"file:///wh/{t.replace('.', '/')}/metadata/v1.metadata.json",
                              1) for t in ("shop.orders", "shop.customers", "shop.items")}

QUERIES = {
    "count": {"measures": ["orders.count"]},
    "sum_by_status": {"measures": ["orders.total", "orders.avg_amount"],
                      "dimensions": ["orders.status"]},
    "formula": {"measures": ["orders.paid_share", "orders.paid_total"]},
    "day_berlin": {"measures": ["orders.count"], "timezone": "Europe/Berlin",
                   "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day",
                                       "dateRange": "last 7 days"}]},
    "week_range": {"measures": ["orders.count"], "timeDimensions": [
        {"dimension": "orders.created_at", "granularity": "week",
         "dateRange": ["2024-01-01", "2024-03-31"]}]},
    "filters": {"measures": ["orders.count"], "filters": [
        {"member": "orders.status", "operator": "contains", "values": ["pa"]},
        {"or": [{"member": "orders.amount", "operator": "gt", "values": ["10"]},
                {"member": "orders.amount", "operator": "notSet"}]}]},
    "having": {"measures": ["orders.total"], "dimensions": ["orders.status"],
               "filters": [{"member": "orders.total", "operator": "gte", "values": ["100"]}]},
    "segment": {"measures": ["orders.count"], "segments": ["orders.paid"]},
    "fan_out": {"measures": ["orders.total"], "dimensions": ["items.product"]},
    "two_cubes": {"measures": ["orders.total", "items.qty"], "dimensions": ["customers.country"]},
    "many_to_one": {"measures": ["orders.count"], "dimensions": ["customers.name"]},
    "ungrouped": {"dimensions": ["orders.id"], "measures": ["orders.total"], "ungrouped": True,
                  "limit": 3, "offset": 1},
    "sql_cube": {"measures": ["big_orders.total"]},
    "injection": {"measures": ["orders.count"], "filters": [
        {"member": "orders.status", "operator": "equals", "values": ["x'); DROP TABLE t; --"]}]},
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_golden_sql(name: str) -> None:
    model = load_model_text(MODEL)
    query = normalize_query(QUERIES[name], model, now=NOW)
    sql = compile_query(query, model, raw_source(SNAPSHOTS)).sql + "\n"
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("LOGFLOW_REGEN_GOLDEN") == "1" or not path.exists():
        path.write_text(sql)
    assert sql == path.read_text()


def test_normalized_query_key_is_stable() -> None:
    model = load_model_text(MODEL)
    a = normalize_query({"measures": ["orders.count"], "order": {"orders.count": "desc"},
                         "filters": [{"member": "orders.amount", "operator": "gt",
                                      "values": [10]}]}, model, now=NOW)
    b = normalize_query({"filters": [{"member": "orders.amount", "operator": "gt",
                                      "values": ["10"]}], "measures": ["orders.count"]},
                        model, now=NOW)
    assert a.key() == b.key()
    assert a.key().startswith('{"dimensions":[],"filters":[{"member":"orders.amount"')
