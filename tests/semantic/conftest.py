"""A small shop project for the semantic-layer tests: three CSVs ingested into Iceberg tables of
an embedded catalog, and a model with a one-to-many join (orders -> items) and a many-to-one
join (orders -> customers). Numbers are small enough to check by hand.

orders (amount NULL for order 4; timestamps chosen around the 2024-03-31 DST switch in Berlin):

| id | customer | amount | status | created_at (UTC)      | Berlin local        |
|----|----------|--------|--------|-----------------------|---------------------|
| 1  | 1        | 10.0   | paid   | 2024-03-30T22:30:00Z  | 03-30 23:30 (CET)   |
| 2  | 1        | 20.0   | paid   | 2024-03-31T00:30:00Z  | 03-31 01:30 (CET)   |
| 3  | 2        | 5.0    | open   | 2024-03-31T23:30:00Z  | 04-01 01:30 (CEST)  |
| 4  | 3        |        | open   | 2024-04-01T12:00:00Z  | 04-01 14:00         |
| 5  | 2        | 100.0  | paid   | 2024-01-01T00:00:00Z  | 01-01 01:00         |

items: order 1 has two (a x1, b x2), order 2 one (a x1), order 3 one (c x5).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from logflow_dagster.lakehouse.catalog import CatalogConfig
from logflow_dagster.lakehouse.ingest import ingest

CUSTOMERS = "id,name,country\n1,Ann,DE\n2,Bob,US\n3,Cid,DE\n"
ORDERS = ("id,customer_id,amount,status,created_at\n"
          "1,1,10.0,paid,2024-03-30T22:30:00Z\n"
          "2,1,20.0,paid,2024-03-31T00:30:00Z\n"
          "3,2,5.0,open,2024-03-31T23:30:00Z\n"
          "4,3,,open,2024-04-01T12:00:00Z\n"
          "5,2,100.0,paid,2024-01-01T00:00:00Z\n")
ITEMS = "id,order_id,product,qty\n1,1,a,1\n2,1,b,2\n3,2,a,1\n4,3,c,5\n"

MODEL = """\
cubes:
  - name: orders
    sql_table: shop.orders
    title: Orders
    joins:
      - name: customers
        relationship: belongs_to
        sql: "{CUBE}.customer_id = {customers}.id"
      - name: items
        relationship: has_many
        sql: "{CUBE}.id = {items}.order_id"
    dimensions:
      - {name: id, sql: id, type: number, primary_key: true}
      - {name: status, sql: status, type: string}
      - {name: amount, sql: "{CUBE}.amount", type: number}
      - {name: is_paid, sql: "{status} = 'paid'", type: boolean}
      - {name: created_at, sql: created_at, type: time, title: Created}
    measures:
      - {name: count, type: count}
      - {name: total, sql: amount, type: sum, format: currency}
      - {name: avg_amount, sql: amount, type: avg}
      - {name: min_amount, sql: amount, type: min}
      - {name: max_amount, sql: amount, type: max}
      - {name: customers, sql: customer_id, type: count_distinct}
      - {name: customers_approx, sql: customer_id, type: count_distinct_approx}
      - name: paid_total
        sql: amount
        type: sum
        filters:
          - sql: "{CUBE}.status = 'paid'"
      - name: paid_share
        sql: "1.0 * {paid_total} / {total}"
        type: number
        format: percent
    segments:
      - {name: paid, sql: "{CUBE}.status = 'paid'"}
    pre_aggregations:
      - name: by_day
        measures: [count, total]
        dimensions: [status]
        time_dimension: created_at
        granularity: day
        partition_granularity: month
        refresh_key: {every: 1 hour}
  - name: customers
    sql_table: shop.customers
    dimensions:
      - {name: id, sql: id, type: number, primary_key: true}
      - {name: name, sql: name, type: string}
      - {name: country, sql: country, type: string}
    measures:
      - {name: count, type: count}
  - name: items
    sql_table: shop.items
    dimensions:
      - {name: id, sql: id, type: number, primary_key: true}
      - {name: product, sql: product, type: string}
    measures:
      - {name: count, type: count}
      - {name: qty, sql: qty, type: sum}
  - name: big_orders
    sql: "SELECT id, amount FROM shop.orders WHERE amount >= 20"
    dimensions:
      - {name: id, sql: id, type: number, primary_key: true}
    measures:
      - {name: total, sql: amount, type: sum}
"""


def make_project(root: Path, model: str = MODEL) -> Path:
    """Writes logflow.yaml and the model, ingests the three CSVs; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "shop.yml").write_text(model)
    (root / "logflow.yaml").write_text("project: shop\nsemantic:\n  models: [models]\n")
    catalog = CatalogConfig.embedded(root)
    for name, text in (("customers", CUSTOMERS), ("orders", ORDERS), ("items", ITEMS)):
        path = root / "data" / f"{name}.csv"
        path.write_text(text)
        ingest(path, f"shop.{name}", catalog=catalog, project_dir=root, lineage=False)
    return root


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop project (built once per session: tests only read it)."""
    return make_project(tmp_path_factory.mktemp("shop"))


@pytest.fixture(scope="session")
def layer(shop: Path):
    """Its semantic layer."""
    from logflow_dagster.semantic import SemanticLayer

    return SemanticLayer.from_project(shop)
