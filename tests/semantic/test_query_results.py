"""Every measure type, fan-out, time zones and granularities, filters, segments, order/limit/
offset and ungrouped queries against hand-computed numbers on the shop tables (conftest)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logflow_dagster.core.errors import UsageError


def rows(layer, query, **kw):
    return layer.query(query, **kw).data


def one(layer, query, **kw):
    data = rows(layer, query, **kw)
    assert len(data) == 1
    return data[0]


def test_every_measure_type(layer) -> None:
    r = one(layer, {"measures": [
        "orders.count", "orders.total", "orders.avg_amount", "orders.min_amount",
        "orders.max_amount", "orders.customers", "orders.customers_approx",
        "orders.paid_total", "orders.paid_share"]})
    assert r == {"orders.count": "5", "orders.total": "135", "orders.avg_amount": "33.75",
                 "orders.min_amount": "5", "orders.max_amount": "100", "orders.customers": "3",
                 "orders.customers_approx": "3", "orders.paid_total": "130",
                 "orders.paid_share": repr(130 / 135)}


def test_cube_with_sql_is_a_subquery(layer) -> None:
    assert one(layer, {"measures": ["big_orders.total"]}) == {"big_orders.total": "120"}


def test_fan_out_does_not_inflate_a_sum(layer) -> None:
    # a naive LEFT JOIN orders -> items repeats order 1 (two items): 145, not 135
    r = one(layer, {"measures": ["orders.total", "orders.count", "items.count"]})
    assert r == {"orders.total": "135", "orders.count": "5", "items.count": "4"}
    by_product = rows(layer, {"measures": ["orders.total", "orders.count"],
                              "dimensions": ["items.product"],
                              "order": {"items.product": "asc"}})
    assert by_product == [
        {"items.product": "a", "orders.total": "30", "orders.count": "2"},
        {"items.product": "b", "orders.total": "10", "orders.count": "1"},
        {"items.product": "c", "orders.total": "5", "orders.count": "1"},
        {"items.product": None, "orders.total": "100", "orders.count": "2"}]


def test_many_to_one_join_dimension(layer) -> None:
    data = rows(layer, {"measures": ["orders.total", "customers.count"],
                        "dimensions": ["customers.country"], "order": [["customers.country",
                                                                         "asc"]]})
    assert data == [{"customers.country": "DE", "orders.total": "30", "customers.count": "2"},
                    {"customers.country": "US", "orders.total": "105", "customers.count": "1"}]


@pytest.mark.parametrize(("tz", "granularity", "expected"), [
    ("UTC", "day", [("2024-01-01", 1), ("2024-03-30", 1), ("2024-03-31", 2),
                    ("2024-04-01", 1)]),
    ("Europe/Berlin", "day", [("2024-01-01", 1), ("2024-03-30", 1), ("2024-03-31", 1),
                              ("2024-04-01", 2)]),
    ("Europe/Berlin", "week", [("2024-01-01", 1), ("2024-03-25", 2), ("2024-04-01", 2)]),
    ("UTC", "month", [("2024-01-01", 1), ("2024-03-01", 3), ("2024-04-01", 1)]),
    ("America/New_York", "quarter", [("2023-10-01", 1), ("2024-01-01", 3),
                                     ("2024-04-01", 1)]),
    ("UTC", "year", [("2024-01-01", 5)]),
])
def test_granularities_in_time_zones(layer, tz, granularity, expected) -> None:
    data = rows(layer, {"measures": ["orders.count"], "timezone": tz, "timeDimensions": [
        {"dimension": "orders.created_at", "granularity": granularity}]})
    key = f"orders.created_at.{granularity}"
    assert [(r[key][:10], int(r["orders.count"])) for r in data] == expected
    assert all(r[key].endswith("T00:00:00.000") for r in data)
    assert all(r["orders.created_at"] == r[key] for r in data)


def test_hour_buckets_across_the_dst_switch(layer) -> None:
    data = rows(layer, {"measures": ["orders.count"], "timezone": "Europe/Berlin",
                        "timeDimensions": [{"dimension": "orders.created_at",
                                            "granularity": "hour",
                                            "dateRange": ["2024-03-30", "2024-04-01"]}]})
    assert [r["orders.created_at.hour"] for r in data] == [
        "2024-03-30T23:00:00.000", "2024-03-31T01:00:00.000", "2024-04-01T01:00:00.000",
        "2024-04-01T14:00:00.000"]


def test_date_range_is_in_the_query_time_zone(layer) -> None:
    q = {"measures": ["orders.count"], "timeDimensions": [
        {"dimension": "orders.created_at", "dateRange": ["2024-03-31", "2024-03-31"]}]}
    assert one(layer, q)["orders.count"] == "2"  # UTC: orders 2 and 3
    assert one(layer, {**q, "timezone": "Europe/Berlin"})["orders.count"] == "1"  # order 2


def test_relative_date_ranges_with_injected_now(layer) -> None:
    now = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)

    def count(date_range: str) -> str:
        return one(layer, {"measures": ["orders.count"], "timeDimensions": [
            {"dimension": "orders.created_at", "dateRange": date_range}]},
            now=now)["orders.count"]

    assert count("yesterday") == "1"
    assert count("last 7 days") == "4"
    assert count("this month") == "1"  # order 4 (2024-04-01 12:00 UTC)
    assert count("last month") == "3"
    assert count("this year") == "5"
    assert count("from 2024-03-31 to now") == "3"
    assert count("today") == "0"


FILTERS = [
    ({"member": "orders.status", "operator": "equals", "values": ["paid"]}, 3),
    ({"member": "orders.status", "operator": "equals", "values": ["paid", "open"]}, 5),
    ({"member": "orders.status", "operator": "notEquals", "values": ["paid"]}, 2),
    ({"member": "orders.status", "operator": "contains", "values": ["AI"]}, 3),
    ({"member": "orders.status", "operator": "notContains", "values": ["ai"]}, 2),
    ({"member": "orders.status", "operator": "startsWith", "values": ["op"]}, 2),
    ({"member": "orders.status", "operator": "endsWith", "values": ["id"]}, 3),
    ({"member": "orders.amount", "operator": "gt", "values": ["10"]}, 2),
    ({"member": "orders.amount", "operator": "gte", "values": [10]}, 3),
    ({"member": "orders.amount", "operator": "lt", "values": ["10"]}, 1),
    ({"member": "orders.amount", "operator": "lte", "values": ["10.0"]}, 2),
    ({"member": "orders.amount", "operator": "set"}, 4),
    ({"member": "orders.amount", "operator": "notSet"}, 1),
    ({"member": "orders.amount", "operator": "notEquals", "values": ["5"]}, 4),
    ({"member": "orders.is_paid", "operator": "equals", "values": ["true"]}, 3),
    ({"member": "orders.created_at", "operator": "inDateRange",
      "values": ["2024-03-31", "2024-04-01"]}, 3),
    ({"member": "orders.created_at", "operator": "notInDateRange",
      "values": ["2024-03-31", "2024-04-01"]}, 2),
    ({"member": "orders.created_at", "operator": "beforeDate", "values": ["2024-03-31"]}, 2),
    ({"member": "orders.created_at", "operator": "afterDate", "values": ["2024-03-31"]}, 1),
    ({"member": "orders.created_at", "operator": "beforeOrOnDate",
      "values": ["2024-03-31"]}, 4),
    ({"member": "orders.created_at", "operator": "afterOrOnDate",
      "values": ["2024-03-31T23:30:00"]}, 2),
    ({"or": [{"member": "orders.status", "operator": "equals", "values": ["open"]},
             {"member": "orders.amount", "operator": "gt", "values": ["50"]}]}, 3),
    ({"and": [{"member": "orders.status", "operator": "equals", "values": ["paid"]},
              {"member": "orders.amount", "operator": "lt", "values": ["50"]}]}, 2),
]


@pytest.mark.parametrize(("flt", "expected"), FILTERS)
def test_filter_operators(layer, flt, expected) -> None:
    assert one(layer, {"measures": ["orders.count"], "filters": [flt]})["orders.count"] \
        == str(expected)


def test_measure_filter_is_having(layer) -> None:
    data = rows(layer, {"measures": ["orders.total"], "dimensions": ["orders.status"],
                        "filters": [{"member": "orders.total", "operator": "gt",
                                     "values": ["100"]}]})
    assert data == [{"orders.status": "paid", "orders.total": "130"}]


def test_segments(layer) -> None:
    assert one(layer, {"measures": ["orders.count"], "segments": ["orders.paid"]}) == \
        {"orders.count": "3"}


def test_order_limit_offset(layer) -> None:
    q = {"dimensions": ["orders.id"], "order": {"orders.id": "desc"}, "limit": 2, "offset": 1}
    assert [r["orders.id"] for r in rows(layer, q)] == ["4", "3"]


def test_ungrouped(layer) -> None:
    data = rows(layer, {"dimensions": ["orders.id"], "measures": ["orders.total",
                                                                  "orders.count"],
                        "ungrouped": True, "order": {"orders.id": "asc"}})
    assert [(r["orders.id"], r["orders.total"], r["orders.count"]) for r in data] == [
        ("1", "10", "1"), ("2", "20", "1"), ("3", "5", "1"), ("4", None, "1"),
        ("5", "100", "1")]


def test_result_shape(layer) -> None:
    result = layer.query({"measures": ["orders.total"], "timeDimensions": [
        {"dimension": "orders.created_at", "granularity": "month"}]})
    assert result.source == "raw" and not result.cache_hit
    assert result.rejected["orders.by_day"].startswith("not built")
    assert set(result.snapshots) == {"shop.orders"}
    assert isinstance(result.snapshots["shop.orders"], int)
    assert result.annotation["measures"]["orders.total"]["title"] == "Orders Total"
    assert result.annotation["measures"]["orders.total"]["format"] == "currency"
    td = result.annotation["timeDimensions"]
    assert td["orders.created_at.month"]["shortTitle"] == "Created"
    assert td["orders.created_at"]["type"] == "time"
    assert result.table.num_rows == 3 and "total_ms" in result.timings


@pytest.mark.parametrize("query", [
    {"measures": ["orders.nope"]},
    {"measures": ["orders.status"]},
    {"dimensions": ["orders.count"]},
    {"measures": ["orders.count"], "filters": [
        {"member": "orders.amount", "operator": "contains", "values": ["1"]}]},
    {"measures": ["orders.count"], "filters": [
        {"member": "orders.status", "operator": "gt", "values": ["a"]}]},
    {"measures": ["orders.count"], "filters": [
        {"member": "orders.amount", "operator": "equals", "values": ["1 OR 1=1"]}]},
    {"measures": ["orders.count"], "timeDimensions": [
        {"dimension": "orders.created_at", "dateRange": "the other day"}]},
    {"measures": ["orders.count"], "timeDimensions": [
        {"dimension": "orders.created_at", "dateRange": ["2024-02-01", "2024-01-01"]}]},
    {"measures": ["orders.count"], "timeDimensions": [
        {"dimension": "orders.status", "granularity": "day"}]},
    {"measures": ["orders.count"], "limit": 50_001},
    {"measures": ["orders.count"], "timezone": "Mars/Olympus"},
    {"measures": ["orders.count"], "order": {"orders.total": "desc"}},
    {"measures": ["orders.count"], "bogus": 1},
    {"measures": ['orders.count" FROM x; --']},
])
def test_bad_queries_are_usage_errors(layer, query) -> None:
    with pytest.raises(UsageError):
        layer.query(query)


def test_injection_through_filter_values_is_inert(layer) -> None:
    evil = "paid' OR '1'='1"
    assert one(layer, {"measures": ["orders.count"], "filters": [
        {"member": "orders.status", "operator": "equals", "values": [evil]}]}) == \
        {"orders.count": "0"}
    assert one(layer, {"measures": ["orders.count"], "filters": [
        {"member": "orders.status", "operator": "contains", "values": ["%"]}]}) == \
        {"orders.count": "0"}


COMPOSITE = """\
cubes:
  - name: lines
    sql_table: shop.lines
    joins:
      - name: parcels
        relationship: one_to_many
        sql: "{CUBE}.order_id = {parcels}.order_id AND {CUBE}.line_no = {parcels}.line_no"
    dimensions:
      - {name: order_id, sql: order_id, type: number, primary_key: true}
      - {name: line_no, sql: line_no, type: number, primary_key: true}
      - {name: sku, sql: sku, type: string}
    measures:
      - {name: count, type: count}
      - {name: weight, sql: weight, type: sum}
  - name: parcels
    sql_table: shop.parcels
    dimensions:
      - {name: id, sql: id, type: number, primary_key: true}
      - {name: carrier, sql: carrier, type: string}
    measures:
      - {name: count, type: count}
"""


def test_composite_primary_key_deduplicates_a_fan_out(tmp_path) -> None:
    """Order lines keyed by (order_id, line_no): line (1, 1) ships in two parcels. A sum over
    lines by a parcel dimension counts each line once per group, and the de-duplication must
    use both key parts (order_id alone would merge lines (1, 1) and (1, 2))."""
    from logflow_dagster.lakehouse.catalog import CatalogConfig
    from logflow_dagster.lakehouse.ingest import ingest
    from logflow_dagster.semantic import SemanticLayer

    root = tmp_path / "p"
    (root / "models").mkdir(parents=True)
    (root / "models" / "m.yml").write_text(COMPOSITE)
    (root / "logflow.yaml").write_text("project: p\nsemantic:\n  models: [models]\n")
    files = {"lines": "order_id,line_no,sku,weight\n1,1,a,10\n1,2,b,3\n2,1,a,7\n",
             "parcels": "id,order_id,line_no,carrier\n1,1,1,dhl\n2,1,1,ups\n3,1,2,dhl\n"}
    for name, text in files.items():
        (root / f"{name}.csv").write_text(text)
        ingest(root / f"{name}.csv", f"shop.{name}", catalog=CatalogConfig.embedded(root),
               project_dir=root, lineage=False)
    with SemanticLayer.from_project(root) as layer:
        total = one(layer, {"measures": ["lines.weight", "lines.count", "parcels.count"]})
        assert total == {"lines.weight": "20", "lines.count": "3", "parcels.count": "3"}
        by_carrier = rows(layer, {"measures": ["lines.weight", "lines.count"],
                                  "dimensions": ["parcels.carrier"],
                                  "order": {"parcels.carrier": "asc"}})
        assert by_carrier == [
            {"parcels.carrier": "dhl", "lines.weight": "13", "lines.count": "2"},
            {"parcels.carrier": "ups", "lines.weight": "10", "lines.count": "1"},
            {"parcels.carrier": None, "lines.weight": "7", "lines.count": "1"}]
        assert layer.meta()["cubes"][0]["dimensions"][0]["primaryKey"] is True
