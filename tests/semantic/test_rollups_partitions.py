"""Partitioned rollups and incremental rebuilds (the shop project of conftest, built in UTC and
Europe/Berlin): the table is partitioned by month of the day bucket; an append touching one day
rebuilds only the partitions around it (the other partitions' files stay as they were) and the
result equals a full build; a changed joined table, or a rollup without
``partition_granularity``, rebuilds the whole table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from logflow_dagster.lakehouse.catalog import CatalogConfig, close_catalog, open_catalog
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.semantic import SemanticLayer
from logflow_dagster.semantic.rollups import local_range, rollups_of

from .conftest import MODEL, make_project

EXTRA = """\
      - name: by_country
        measures: [count, total]
        dimensions: [customers.country]
        time_dimension: created_at
        granularity: day
        partition_granularity: month
      - name: by_status
        measures: [count]
        dimensions: [status]
        time_dimension: created_at
        granularity: day
      - name: by_hour
        measures: [count, total]
        time_dimension: created_at
        granularity: hour
        partition_granularity: hour
"""
ZONES = ["UTC", "Europe/Berlin"]
HEADER = "id,customer_id,amount,status,created_at\n"


def project(root: Path, zones: list[str] = ZONES) -> SemanticLayer:
    model = MODEL.replace("        refresh_key: {every: 1 hour}\n",
                          "        refresh_key: {every: 1 hour}\n" + EXTRA)
    make_project(root, model)
    (root / "logflow.yaml").write_text("project: shop\nsemantic:\n  models: [models]\n"
                                       f"  timezones: [{', '.join(zones)}]\n")
    return SemanticLayer.from_project(root)


def add(root: Path, table: str, name: str, text: str, lineage: bool = False) -> None:
    path = root / "data" / name
    path.write_text(text)
    ingest(path, table, catalog=CatalogConfig.embedded(root), project_dir=root,
           lineage=lineage)


def files(layer: SemanticLayer, table: str) -> dict[str, set[str]]:
    """Partition (month number since 1970) -> data file paths, read from ``inspect.files``."""
    catalog = open_catalog(layer.catalog)
    try:
        rows = catalog.load_table(table).inspect.files().to_pylist()
    finally:
        close_catalog(catalog)
    out: dict[str, set[str]] = {}
    for row in rows:
        (value,) = row["partition"].values()
        out.setdefault(str(value), set()).add(row["file_path"])
    return out


def table_rows(layer: SemanticLayer, table: str, sql: str = "SELECT * FROM r ORDER BY ALL"
               ) -> list[tuple]:
    """The rollup's rows (as ``r``) read back by DuckDB from the Arrow scan."""
    catalog = open_catalog(layer.catalog)
    try:
        arrow = catalog.load_table(table).scan().to_arrow()
    finally:
        close_catalog(catalog)
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    con.register("r", arrow)
    return con.execute(sql).fetchall()


def routed_equals_raw(layer: SemanticLayer, rollup: str, zone: str) -> None:
    raw = SemanticLayer(layer.model, layer.catalog, layer.config)
    raw.use_rollups = False
    for query in ({"measures": ["orders.count", "orders.total"],
                   "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day"}],
                   "timezone": zone},
                  {"measures": ["orders.count"], "dimensions": ["orders.status"],
                   "timeDimensions": [{"dimension": "orders.created_at",
                                       "granularity": "month"}], "timezone": zone}):
        routed, direct = layer.query(query), raw.query(query)
        assert routed.source == f"rollup:{rollup}", routed.rejected
        assert direct.source == "raw"
        assert routed.data == direct.data


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SemanticLayer]:
    root = tmp_path_factory.mktemp("part")
    return root, project(root)


def test_partitioned_then_only_touched_partitions_rebuilt(shop) -> None:
    root, layer = shop
    (first,) = layer.build_rollups(["orders.by_day"])
    assert first.mode == "full" and first.partitions == []
    catalog = open_catalog(layer.catalog)
    try:
        spec = catalog.load_table(first.table).spec()
    finally:
        close_catalog(catalog)
    assert [str(f.transform) for f in spec.fields] == ["month"]
    before = files(layer, first.table)
    # months since 1970: 648 = 2024-01, 650 = 2024-03, 651 = 2024-04
    assert set(before) == {"648", "650", "651"}

    add(root, "shop.orders", "jan.csv", HEADER + "6,1,7.5,paid,2024-01-15T10:00:00Z\n"
                                                 "7,3,2.5,open,2024-01-15T18:00:00Z\n")
    (again,) = layer.build_rollups(["orders.by_day"])
    assert again.mode == "partitions"
    assert again.partitions == [{"start": "2023-12-01T00:00:00", "end": "2024-03-01T00:00:00"}]
    after = files(layer, first.table)
    assert after["650"] == before["650"] and after["651"] == before["651"]
    assert after["648"] != before["648"]
    assert again.total_rows == first.total_rows + 2 * 2  # one new day bucket per zone
    assert again.rows < again.total_rows
    from logflow_dagster.assets.rollups import rollup_metadata

    metadata = rollup_metadata(layer.config, again)
    assert (metadata["logflow/mode"], metadata["dagster/row_count"]) == (
        "partitions", again.total_rows)
    assert metadata["logflow/partitions"].value == again.partitions
    for zone in ZONES:
        routed_equals_raw(layer, "orders.by_day", zone)

    partial = table_rows(layer, first.table)
    assert table_rows(layer, first.table, "SELECT __timezone, sum(m__orders__count__value) "
                      "FROM r GROUP BY ALL ORDER BY ALL") == [("Europe/Berlin", 7), ("UTC", 7)]
    catalog = open_catalog(layer.catalog)
    try:
        catalog.drop_table(first.table)
    finally:
        close_catalog(catalog)
    (full,) = layer.build_rollups(["orders.by_day"])
    assert full.mode == "full"
    assert table_rows(layer, first.table) == partial


def test_reingest_replacing_rows_is_partial(tmp_path: Path) -> None:
    root = tmp_path / "r"
    layer = project(root)
    layer.build_rollups(["orders.by_day"])
    add(root, "shop.orders", "feb.csv", HEADER + "6,1,7.5,paid,2024-02-10T10:00:00Z\n", True)
    (first,) = layer.build_rollups(["orders.by_day"])
    assert first.mode == "full"  # row lineage added a column: the schema changed
    # the same source again: our ingest deletes its earlier rows (10 Feb) and appends 20 Jun
    add(root, "shop.orders", "feb.csv", HEADER + "6,1,9.5,paid,2024-06-20T10:00:00Z\n", True)
    (again,) = layer.build_rollups(["orders.by_day"])
    assert again.mode == "partitions"
    assert again.partitions == [{"start": "2024-01-01T00:00:00", "end": "2024-08-01T00:00:00"}]
    for zone in ZONES:
        routed_equals_raw(layer, "orders.by_day", zone)
    assert table_rows(layer, first.table, "SELECT sum(m__orders__total__value) FROM r "
                      "WHERE __timezone = 'UTC'") == [(135.0 + 9.5,)]


def test_cli_build_json_shows_mode_and_ranges(tmp_path: Path) -> None:
    root = tmp_path / "c"
    project(root)

    def build() -> dict:
        out = subprocess.run([sys.executable, "-m", "logflow_dagster.cli", "rollups", "build",
                              "orders.by_day", "--json", "--project", str(root)],
                             capture_output=True, text=True, env={**os.environ,
                                                                  "OPENLINEAGE_DISABLED": "true"})
        assert out.returncode == 0, out.stderr
        (result,) = json.loads(out.stdout)
        return result

    assert build()["mode"] == "full"
    add(root, "shop.orders", "apr.csv", HEADER + "6,1,7.5,paid,2024-04-20T10:00:00Z\n")
    result = build()
    assert (result["mode"], result["partitions"]) == (
        "partitions", [{"start": "2024-03-01T00:00:00", "end": "2024-06-01T00:00:00"}])


def test_range_edge_on_an_ambiguous_local_hour(tmp_path: Path) -> None:
    # Berlin 2024-10-27: 02:00-03:00 local happens twice (00:00-01:00Z CEST, 01:00-02:00Z
    # CET). A new row at 02:30Z (03:30 CET) rebuilds local hours [02:00, 05:00): the 02:00
    # bucket holds rows of both occurrences, whichever instant "02:00" is taken to be.
    root = tmp_path / "h"
    layer = project(root, ["Europe/Berlin"])
    add(root, "shop.orders", "fall.csv", HEADER + "6,1,1.0,paid,2024-10-27T00:30:00Z\n"
                                                  "7,1,2.0,paid,2024-10-27T01:30:00Z\n")
    layer.build_rollups(["orders.by_hour"])
    add(root, "shop.orders", "late.csv", HEADER + "8,1,4.0,paid,2024-10-27T02:30:00Z\n")
    (again,) = layer.build_rollups(["orders.by_hour"])
    assert again.mode == "partitions"
    assert again.partitions == [{"start": "2024-10-27T02:00:00", "end": "2024-10-27T05:00:00"}]
    query = {"measures": ["orders.count", "orders.total"], "timezone": "Europe/Berlin",
             "timeDimensions": [{"dimension": "orders.created_at", "granularity": "hour",
                                 "dateRange": ["2024-10-27", "2024-10-27"]}]}
    raw = SemanticLayer(layer.model, layer.catalog, layer.config)
    raw.use_rollups = False
    routed = layer.query(query)
    assert routed.source == "rollup:orders.by_hour", routed.rejected
    assert routed.data == raw.query(query).data
    assert [(r["orders.count"], r["orders.total"]) for r in routed.data] == [
        ("2", "3"), ("1", "4")]


def test_local_range_per_zone_and_bucket_alignment(shop) -> None:
    _, layer = shop
    (by_day,) = rollups_of(layer.model, ["orders.by_day"])
    # 2024-04-30 22:30 UTC is May 1 in Berlin: April +- 1 (UTC) joined with May +- 1 (Berlin)
    t = datetime(2024, 4, 30, 22, 30, tzinfo=UTC)
    assert local_range(by_day, t, t, ZONES) == (datetime(2024, 3, 1), datetime(2024, 7, 1))
    by_day.pre.partition_granularity = "week"
    by_day.time = (by_day.time[0], "day", by_day.time[2])
    # a Wednesday: its week (Mon 04-29) +- 1 week, in both zones
    t = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert local_range(by_day, t, t, ZONES) == (datetime(2024, 4, 22), datetime(2024, 5, 13))


def test_joined_dimension_change_rebuilds_everything(tmp_path: Path) -> None:
    layer = project(tmp_path / "j")
    (first,) = layer.build_rollups(["orders.by_country"])
    assert first.mode == "full"
    add(tmp_path / "j", "shop.orders", "apr.csv", HEADER + "8,2,1.0,paid,2024-04-02T08:00:00Z\n")
    (orders_only,) = layer.build_rollups(["orders.by_country"])
    assert orders_only.mode == "partitions"
    routed_country = {"measures": ["orders.total"], "dimensions": ["customers.country"],
                      "timeDimensions": [{"dimension": "orders.created_at",
                                          "granularity": "day"}]}
    add(tmp_path / "j", "shop.customers", "more.csv", "id,name,country\n4,Dan,FR\n")
    add(tmp_path / "j", "shop.orders", "fr.csv", HEADER + "9,4,3.0,paid,2024-04-03T08:00:00Z\n")
    (both,) = layer.build_rollups(["orders.by_country"])
    assert both.mode == "full" and both.partitions == []
    add(tmp_path / "j", "shop.customers", "move.csv", "id,name,country\n5,Eve,IT\n")
    (customers_only,) = layer.build_rollups(["orders.by_country"])
    assert customers_only.mode == "full"
    raw = SemanticLayer(layer.model, layer.catalog, layer.config)
    raw.use_rollups = False
    routed = layer.query(routed_country)
    assert routed.source == "rollup:orders.by_country"
    assert routed.data == raw.query(routed_country).data
    assert [r["orders.total"] for r in routed.data if r["customers.country"] == "FR"] == ["3"]


def test_without_partition_granularity_full_as_before(tmp_path: Path) -> None:
    layer = project(tmp_path / "n")
    (first,) = layer.build_rollups(["orders.by_status"])
    add(tmp_path / "n", "shop.orders", "jan.csv", HEADER + "6,1,7.5,paid,2024-01-15T10:00:00Z\n")
    (again,) = layer.build_rollups(["orders.by_status"])
    assert first.mode == again.mode == "full"
    catalog = open_catalog(layer.catalog)
    try:
        assert catalog.load_table(first.table).spec().fields == ()
        assert len(catalog.load_table(first.table).inspect.files()) >= 1
    finally:
        close_catalog(catalog)
