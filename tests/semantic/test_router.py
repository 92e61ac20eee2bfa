"""The rollup router, one rule at a time: each test uses data on which the wrong choice gives a
different number, and asserts the routed answer equals the raw answer and the source chosen.

orders (UTC; Berlin is UTC+1 in winter):

| id | customer | amount | status | created_at           | ISO week | notes                   |
|----|----------|--------|--------|----------------------|----------|-------------------------|
| 1  | 1        | 10     | paid   | 2024-01-29T10:00:00Z | 01-29    |                         |
| 2  | 1        | 20     | paid   | 2024-01-31T23:30:00Z | 01-29    | February 1st in Berlin  |
| 3  | 2        | 5      | open   | 2024-02-01T08:00:00Z | 01-29    | week 01-29 spans months |
| 4  | 3        |        | open   | 2024-02-05T12:00:00Z | 02-05    | amount NULL             |
| 5  | 2        | 100    | paid   | 2024-02-05T13:00:00Z | 02-05    |                         |
| 6  |          | 7      | open   | 2024-02-06T00:30:00Z | 02-05    | no customer             |

customers: id 2 appears twice (a join to it repeats orders 3 and 5); items: order 1 has two.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from logflow_dagster.lakehouse.catalog import CatalogConfig
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.semantic import SemanticLayer

CUSTOMERS = "id,name,country\n1,Ann,DE\n2,Bob,US\n2,Bob2,FR\n3,Cid,DE\n"
ORDERS = ("id,customer_id,amount,status,created_at\n"
          "1,1,10,paid,2024-01-29T10:00:00Z\n"
          "2,1,20,paid,2024-01-31T23:30:00Z\n"
          "3,2,5,open,2024-02-01T08:00:00Z\n"
          "4,3,,open,2024-02-05T12:00:00Z\n"
          "5,2,100,paid,2024-02-05T13:00:00Z\n"
          "6,,7,open,2024-02-06T00:30:00Z\n")
ITEMS = "id,order_id,product\n1,1,a\n2,1,b\n3,2,a\n4,3,c\n5,5,a\n"

MODEL = """\
cubes:
  - name: orders
    sql_table: rt.orders
    joins:
      - {name: customers, relationship: many_to_one, sql: "{CUBE}.customer_id = {customers}.id"}
      - {name: items, relationship: one_to_many, sql: "{CUBE}.id = {items}.order_id"}
    dimensions:
      - {name: id, sql: id, type: number, primary_key: true}
      - {name: status, sql: status, type: string}
      - {name: created_at, sql: created_at, type: time}
    measures:
      - {name: count, type: count}
      - {name: total, sql: amount, type: sum}
      - {name: avg_amount, sql: amount, type: avg}
      - {name: min_amount, sql: amount, type: min}
      - {name: max_amount, sql: amount, type: max}
      - {name: customers, sql: customer_id, type: count_distinct}
      - {name: customers_approx, sql: customer_id, type: count_distinct_approx}
      - {name: paid_total, sql: amount, type: sum, filters: [{sql: "{CUBE}.status = 'paid'"}]}
      - {name: paid_share, sql: "1.0 * {paid_total} / NULLIF({total}, 0)", type: number}
    segments:
      - {name: paid, sql: "{CUBE}.status = 'paid'"}
      - {name: paid_by_dim, sql: "{status} = 'paid'"}
    pre_aggregations:
      - {name: by_week, measures: [count], time_dimension: created_at, granularity: week}
      - name: by_day
        measures: [count, total, avg_amount, min_amount, max_amount, paid_share]
        dimensions: [status]
        segments: [paid]
        time_dimension: created_at
        granularity: day
      - name: distinct_by_day
        measures: [customers, customers_approx, count]
        dimensions: [status]
        time_dimension: created_at
        granularity: day
      - {name: by_country, measures: [total], dimensions: [customers.country]}
      - {name: by_product, measures: [total, count], dimensions: [items.product]}
  - name: customers
    sql_table: rt.customers
    dimensions:
      - {name: id, sql: id, type: number, primary_key: true}
      - {name: country, sql: country, type: string}
  - name: items
    sql_table: rt.items
    dimensions:
      - {name: id, sql: id, type: number, primary_key: true}
      - {name: product, sql: product, type: string}
    measures:
      - {name: count, type: count}
"""


def make(root: Path, zones: list[str] | None = None) -> Path:
    """The project: tables ingested, nothing built."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "rt.yml").write_text(MODEL)
    tz = f"\n  timezones: [{', '.join(zones)}]" if zones else ""
    (root / "logflow.yaml").write_text(f"project: rt\nsemantic:\n  models: [models]{tz}\n")
    catalog = CatalogConfig.embedded(root)
    for name, text in (("customers", CUSTOMERS), ("orders", ORDERS), ("items", ITEMS)):
        path = root / f"{name}.csv"
        path.write_text(text)
        ingest(path, f"rt.{name}", catalog=catalog, project_dir=root, lineage=False)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SemanticLayer:
    """Every rollup built (UTC only)."""
    layer = SemanticLayer.from_project(make(tmp_path_factory.mktemp("rt")))
    layer.build_rollups()
    return layer


def raw_of(layer: SemanticLayer) -> SemanticLayer:
    raw = SemanticLayer(layer.model, layer.catalog, layer.config)
    raw.use_rollups = False
    return raw


def check(layer: SemanticLayer, query: dict, source: str) -> dict[str, str]:
    """Asserts routed == raw and the source; returns ``rejected``."""
    routed = layer.query(query)
    raw = raw_of(layer).query(query)
    assert raw.source == "raw"
    assert routed.source == source, routed.rejected
    assert routed.data == raw.data
    return routed.rejected


def test_not_built_goes_to_raw(tmp_path: Path) -> None:
    layer = SemanticLayer.from_project(make(tmp_path / "p"))
    r = layer.query({"measures": ["orders.count"]})
    assert r.source == "raw" and r.data == [{"orders.count": "6"}]
    assert r.rejected["orders.by_week"].startswith("not built")


def test_members_filter_member_missing(built) -> None:
    # by_week has no status: serving it would ignore the filter (6, not 3)
    q = {"measures": ["orders.count"], "filters": [
        {"member": "orders.status", "operator": "equals", "values": ["paid"]}]}
    rejected = check(built, q, "rollup:orders.by_day")
    assert "orders.status" in rejected["orders.by_week"]
    assert built.query(q).data == [{"orders.count": "3"}]


def test_members_segment_stored_and_derived(built) -> None:
    q = {"measures": ["orders.count"], "segments": ["orders.paid"],
         "timeDimensions": [{"dimension": "orders.created_at", "granularity": "month"}]}
    rejected = check(built, q, "rollup:orders.by_day")
    assert "segment orders.paid" in rejected["orders.by_week"]
    assert [r["orders.count"] for r in built.query(q).data] == ["2", "1"]
    # built on the stored status dimension: distinct_by_day can serve it too
    q2 = {"measures": ["orders.customers"], "segments": ["orders.paid_by_dim"],
          "filters": [{"member": "orders.status", "operator": "equals", "values": ["paid"]}],
          "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day"}]}
    check(built, q2, "rollup:orders.distinct_by_day")


def test_additive_reaggregation_rebuilds_avg_from_parts(built) -> None:
    # a month from days: the average of daily averages would be wrong
    q = {"measures": ["orders.total", "orders.avg_amount", "orders.min_amount",
                      "orders.max_amount", "orders.paid_share", "orders.count"],
         "timeDimensions": [{"dimension": "orders.created_at", "granularity": "month"}]}
    check(built, q, "rollup:orders.by_day")
    feb = built.query(q).data[1]
    assert feb["orders.avg_amount"] == repr(112 / 3) and feb["orders.total"] == "112"


def test_non_additive_only_at_exact_grain(built) -> None:
    # customers by month summed from days would count customer 1 twice in January
    q = {"measures": ["orders.customers"],
         "timeDimensions": [{"dimension": "orders.created_at", "granularity": "month"}]}
    rejected = check(built, q, "raw")
    assert "not additive" in rejected["orders.distinct_by_day"]
    assert [r["orders.customers"] for r in built.query(q).data] == ["1", "2"]
    # the exact grain, status pinned by a one-value equals filter: served
    exact = {"measures": ["orders.customers", "orders.customers_approx"],
             "filters": [{"member": "orders.status", "operator": "equals", "values": ["paid"]}],
             "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day"}]}
    check(built, exact, "rollup:orders.distinct_by_day")
    # two values do not pin it: a customer of both statuses would count twice
    two = {**exact, "filters": [{"member": "orders.status", "operator": "equals",
                                 "values": ["paid", "open"]}]}
    assert "not additive" in check(built, two, "raw")["orders.distinct_by_day"]


def test_grains_nest_week_never_serves_month(built) -> None:
    q = {"measures": ["orders.count"],
         "timeDimensions": [{"dimension": "orders.created_at", "granularity": "month"}]}
    rejected = check(built, q, "rollup:orders.by_day")
    assert "month cannot be built from week" in rejected["orders.by_week"]
    assert [r["orders.count"] for r in built.query(q).data] == ["2", "4"]
    week = {"measures": ["orders.count"],
            "timeDimensions": [{"dimension": "orders.created_at", "granularity": "week"}]}
    check(built, week, "rollup:orders.by_week")
    year = {"measures": ["orders.count"],
            "timeDimensions": [{"dimension": "orders.created_at", "granularity": "year"}]}
    assert "cannot be built from week" in check(built, year, "rollup:orders.by_day")[
        "orders.by_week"]


def test_date_range_must_align_to_buckets(built) -> None:
    # 01-31 00:00 .. 02-05 12:30: orders 2, 3, 4; whole edge days would add order 5
    q = {"measures": ["orders.count"], "timeDimensions": [{
        "dimension": "orders.created_at",
        "dateRange": ["2024-01-31T00:00:00", "2024-02-05T12:30:00"]}]}
    rejected = check(built, q, "raw")
    assert "not on a day bucket edge" in rejected["orders.by_day"]
    assert built.query(q).data == [{"orders.count": "3"}]
    aligned = {"measures": ["orders.count"], "timeDimensions": [{
        "dimension": "orders.created_at", "dateRange": ["2024-01-30", "2024-02-04"]}]}
    rejected = check(built, aligned, "rollup:orders.by_day")
    assert "week bucket edge" in rejected["orders.by_week"]


def test_time_zone_of_the_build(tmp_path: Path) -> None:
    q = {"measures": ["orders.count"], "timezone": "Europe/Berlin",
         "timeDimensions": [{"dimension": "orders.created_at", "granularity": "month"}]}
    utc_only = SemanticLayer.from_project(make(tmp_path / "utc"))
    utc_only.build_rollups(["orders.by_day", "orders.by_week"])
    rejected = check(utc_only, q, "raw")
    assert "Europe/Berlin" in rejected["orders.by_day"]
    # order 2 is February in Berlin: UTC buckets would say January 2
    assert [r["orders.count"] for r in utc_only.query(q).data] == ["1", "5"]
    both = SemanticLayer.from_project(make(tmp_path / "both", ["UTC", "Europe/Berlin"]))
    both.build_rollups(["orders.by_day"])
    check(both, q, "rollup:orders.by_day")
    check(both, {**q, "timezone": "UTC"}, "rollup:orders.by_day")


def test_fan_out_and_join_path(built) -> None:
    by_product = {"measures": ["orders.total"], "dimensions": ["items.product"]}
    assert "fan-out" in check(built, by_product, "raw")["orders.by_product"]
    # the rollup joins customers, whose id 2 is repeated: orders 3 and 5 count twice there
    total = {"measures": ["orders.total"]}
    rejected = check(built, total, "rollup:orders.by_day")
    assert built.query(total).data == [{"orders.total": "142"}]
    by_country = {"measures": ["orders.total"], "dimensions": ["customers.country"]}
    rejected = check(built, by_country, "rollup:orders.by_country")
    assert "dimension customers.country" in rejected["orders.by_day"]
    no_dims = {"measures": ["orders.total"], "filters": [
        {"member": "orders.status", "operator": "equals", "values": ["open"]}]}
    rej = check(built, {**no_dims, "segments": ["orders.paid"]}, "rollup:orders.by_day")
    assert "join path differs" not in rej.get("orders.by_country", "")


def test_join_path_differs_is_rejected(tmp_path: Path) -> None:
    layer = SemanticLayer.from_project(make(tmp_path / "j"))
    layer.build_rollups(["orders.by_country"])
    q = {"measures": ["orders.total"]}
    rejected = check(layer, q, "raw")
    assert "join path differs" in rejected["orders.by_country"]
    assert layer.query(q).data == [{"orders.total": "142"}]


def test_stale_rollup_is_not_served(tmp_path: Path) -> None:
    root = make(tmp_path / "s")
    layer = SemanticLayer.from_project(root)
    layer.build_rollups(["orders.by_day"])
    q = {"measures": ["orders.count"]}
    assert layer.query(q).source == "rollup:orders.by_day"
    more = root / "more.csv"
    more.write_text("id,customer_id,amount,status,created_at\n7,1,1,paid,2024-02-07T10:00:00Z\n")
    ingest(more, "rt.orders", catalog=CatalogConfig.embedded(root), project_dir=root,
           lineage=False)
    rejected = check(layer, q, "raw")
    assert rejected["orders.by_day"].startswith("stale: built from snapshot")
    assert layer.query(q).data == [{"orders.count": "7"}]
    layer.build_rollups(["orders.by_day"])
    check(layer, q, "rollup:orders.by_day")


def test_ungrouped_goes_to_raw(built) -> None:
    q = {"measures": ["orders.total"], "dimensions": ["orders.status"], "ungrouped": True}
    rejected = check(built, q, "raw")
    assert all(r.startswith("ungrouped") for r in rejected.values())


def test_cache_hit_and_new_snapshot_invalidates(tmp_path: Path) -> None:
    root = make(tmp_path / "c")
    layer = SemanticLayer.from_project(root)
    q = {"measures": ["orders.count"]}
    first = layer.query(q)
    second = layer.query(q)
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert second.data == first.data == [{"orders.count": "6"}]
    more = root / "more.csv"
    more.write_text("id,customer_id,amount,status,created_at\n7,1,1,paid,2024-02-07T10:00:00Z\n")
    ingest(more, "rt.orders", catalog=CatalogConfig.embedded(root), project_dir=root,
           lineage=False)
    third = layer.query(q)
    assert third.cache_hit is False and third.data == [{"orders.count": "7"}]


@pytest.mark.services
def test_redis_cache(tmp_path: Path) -> None:
    import os

    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        client.ping()
    except redis.exceptions.ConnectionError as err:
        if os.environ.get("LOGFLOW_REQUIRE_SERVICES") == "1":
            pytest.fail(f"no Redis on 127.0.0.1:6379: {err}")
        pytest.skip("no Redis on 127.0.0.1:6379")
    from logflow_dagster.semantic.cache import RedisCache

    client.flushdb()
    root = make(tmp_path / "r")
    one = SemanticLayer.from_project(root)
    one.cache = RedisCache(client=client)
    two = SemanticLayer.from_project(root)
    two.cache = RedisCache(client=client)
    q = {"measures": ["orders.total"], "dimensions": ["orders.status"]}
    assert one.query(q).cache_hit is False
    shared = two.query(q)
    assert shared.cache_hit is True and shared.data == one.query(q).data
    client.flushdb()
