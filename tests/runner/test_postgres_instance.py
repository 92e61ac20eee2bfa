"""Production-style storage: the Dagster instance on PostgreSQL (dagster-postgres) and the
Iceberg catalog on PostgreSQL; a sensor tick and the partition run it requests, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from logflow_dagster import build_definitions
from logflow_dagster.config import parse_config
from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.samples import events, write_jsonl
from tests.lakehouse.helpers import fresh_database


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    with fresh_database("lf_dagster") as url:
        yield url


@pytest.mark.services
def test_sensor_and_ingest_on_postgres(tmp_path: Path, pg_database: str) -> None:
    landing = tmp_path / "landing" / "jsonl"
    landing.mkdir(parents=True)
    evs = events(cases=40)
    write_jsonl(landing / "a.jsonl", evs)
    config = parse_config({"root": str(tmp_path), "catalog": {
        "uri": pg_database, "warehouse": (tmp_path / "warehouse").as_uri()},
        "sources": [{"name": "orders", "landing": "landing/jsonl", "table": "raw.orders"}]})
    defs = build_definitions(config)
    overrides = {"telemetry": {"enabled": False},
                 "storage": {"postgres": {"postgres_url": pg_database}}}  # as dagster.yaml
    with dg.instance_for_test(overrides=overrides) as instance:
        assert "Postgres" in type(instance.run_storage).__name__
        sensor = defs.resolve_sensor_def("orders_landing")
        cursor = None
        requests = []
        for _ in range(2):  # the file must hold still for one tick
            result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                    definitions=defs))
            for req in result.dynamic_partitions_requests or []:
                instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
            requests += result.run_requests or []
            cursor = result.cursor
        assert [r.partition_key for r in requests] == ["landing/jsonl/a.jsonl"]
        asset = defs.resolve_assets_def(dg.AssetKey(["raw", "orders"]))
        out = dg.materialize([asset], instance=instance, partition_key=requests[0].partition_key)
        assert out.success
        assert instance.get_dynamic_partitions("orders_files") == ["landing/jsonl/a.jsonl"]
        records = instance.fetch_materializations(dg.AssetKey(["raw", "orders"]), limit=5).records
        assert len(records) == 1
    catalog = open_catalog(CatalogConfig(uri=pg_database,
                                         warehouse=(tmp_path / "warehouse").as_uri()))
    table = catalog.load_table("raw.orders")
    n = duckdb_connection().execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchone()[0]
    assert n == len(evs)
    catalog.engine.dispose()
