"""Rollups across time zones: hourly UTC buckets serve a query in a zone whose offsets differ
by whole hours over its dateRange (Europe/Berlin, across its DST switch), never one at +05:30
(Asia/Kolkata), and never without a dateRange; every routed answer equals the raw one."""

from __future__ import annotations

from pathlib import Path

import pytest

from logflow_dagster.semantic import SemanticLayer

from .conftest import MODEL, make_project

HOURLY = MODEL.replace("""        refresh_key: {every: 1 hour}
""", """        refresh_key: {every: 1 hour}
      - name: by_hour
        measures: [count, total]
        time_dimension: created_at
        granularity: hour
""")


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory):
    root = make_project(tmp_path_factory.mktemp("zones"), HOURLY)
    with SemanticLayer.from_project(root) as layer:
        layer.build_rollups()
        yield layer


def _both(layer: SemanticLayer, query: dict) -> tuple:
    routed = layer.query(query)
    layer.use_rollups = False
    try:
        raw = layer.query(query)
    finally:
        layer.use_rollups = True
    assert routed.data == raw.data
    return routed, raw


@pytest.mark.parametrize("granularity", ["hour", "day", "month"])
def test_hourly_utc_buckets_serve_berlin(layer, granularity: str) -> None:
    q = {"measures": ["orders.count", "orders.total"], "timezone": "Europe/Berlin",
         "timeDimensions": [{"dimension": "orders.created_at", "granularity": granularity,
                             "dateRange": ["2024-03-30", "2024-04-01"]}]}
    routed, _ = _both(layer, q)
    assert routed.source == "rollup:orders.by_hour"
    if granularity != "hour":  # day buckets never convert
        assert "Europe/Berlin" in routed.rejected["orders.by_day"]
    # Berlin days differ from UTC days around the 2024-03-31 switch (see conftest)
    if granularity == "day":
        assert [(r["orders.created_at.day"][:10], r["orders.count"]) for r in routed.data] == [
            ("2024-03-30", "1"), ("2024-03-31", "1"), ("2024-04-01", "2")]


def test_half_hour_offsets_and_open_ranges_go_raw(layer) -> None:
    kolkata = {"measures": ["orders.count"], "timezone": "Asia/Kolkata",
               "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day",
                                   "dateRange": ["2024-03-30", "2024-04-01"]}]}
    routed, _ = _both(layer, kolkata)
    assert routed.source == "raw"
    assert "Asia/Kolkata" in routed.rejected["orders.by_hour"]
    no_range = {"measures": ["orders.count"], "timezone": "Europe/Berlin",
                "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day"}]}
    routed, _ = _both(layer, no_range)
    assert routed.source == "raw" and "dateRange" in routed.rejected["orders.by_hour"]
    # the same query in UTC, the built zone, is served as before
    routed, _ = _both(layer, {**no_range, "timezone": "UTC"})
    assert routed.source.startswith("rollup:")


def test_a_converted_rollup_is_never_the_exact_grain(tmp_path: Path) -> None:
    """count_distinct is stored only at the exact grain: converted buckets may merge (a DST
    fall-back repeats a local hour), so it is served raw in another zone."""
    model = HOURLY.replace("        measures: [count, total]\n        time_dimension: "
                           "created_at\n        granularity: hour\n",
                           "        measures: [count, customers]\n        time_dimension: "
                           "created_at\n        granularity: hour\n")
    root = make_project(tmp_path / "p", model)
    with SemanticLayer.from_project(root) as layer:
        layer.build_rollups()
        q = {"measures": ["orders.customers"], "timezone": "Europe/Berlin",
             "timeDimensions": [{"dimension": "orders.created_at", "granularity": "hour",
                                 "dateRange": ["2024-03-30", "2024-04-01"]}]}
        routed, _ = _both(layer, q)
        assert routed.source == "raw"
        utc = {**q, "timezone": "UTC"}
        assert layer.query(utc).source == "rollup:orders.by_hour"
