"""The pluggable resources: DuckDB reads the Iceberg tables offline; lineage can be swapped."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from logflow_dagster import build_definitions
from logflow_dagster.auth import ANONYMOUS, Identity, KeyStore, Unauthenticated
from logflow_dagster.config import parse_config
from logflow_dagster.lakehouse.duckdb_reader import iceberg_scan_sql
from logflow_dagster.resources import (
    AuthResource,
    IcebergCatalogResource,
    LogflowDuckDBResource,
    OpenLineageResource,
)
from logflow_dagster.samples import events, write_csv

os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"


def test_swapped_lineage_and_duckdb_query(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    evs = events(cases=15)
    write_csv(tmp_path / "landing" / "a.csv", evs)
    config = parse_config({"root": str(tmp_path), "sources": [
        {"name": "o", "landing": "landing", "table": "raw.o"}]})

    @dg.asset(deps=[dg.AssetKey(["raw", "o"])])
    def order_count(duckdb: LogflowDuckDBResource,
                    logflow_catalog: IcebergCatalogResource) -> int:
        table = logflow_catalog.load_table("raw.o")
        with duckdb.get_connection() as con:
            return con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchone()[0]

    base = build_definitions(config)
    defs = dg.Definitions(assets=[*base.assets, order_count], sensors=base.sensors,
                          resources={**base.resources,
                                     "logflow_lineage": OpenLineageResource(transport="off")})
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("o_files", ["landing/a.csv"])
        ingest = defs.resolve_assets_def(dg.AssetKey(["raw", "o"]))
        assert dg.materialize([ingest], instance=instance, partition_key="landing/a.csv").success
        count = defs.resolve_assets_def(dg.AssetKey(["order_count"]))
        out = dg.materialize([count], instance=instance)
        assert out.output_for_node("order_count") == len(evs)
    assert not (tmp_path / ".logflow" / "openlineage.jsonl").exists()  # lineage swapped off


def test_storage_resource_lists_the_warehouse(tmp_path: Path) -> None:
    config = parse_config({"root": str(tmp_path), "sources": []})
    storage = build_definitions(config).resources["logflow_storage"]
    assert storage.root == (tmp_path / ".logflow" / "warehouse").as_uri()
    (tmp_path / ".logflow" / "warehouse").mkdir(parents=True)
    (tmp_path / ".logflow" / "warehouse" / "x.txt").write_text("x")
    assert [Path(f.path).name for f in storage.storage().list(storage.root)] == ["x.txt"]


def test_auth_resource_defaults_and_api_keys(tmp_path: Path) -> None:
    """Nothing configured: anonymous local access, writes open. With a keys file: keys
    authenticate, writes need a write role."""
    assert AuthResource().authenticator().authenticate(None).id == "anonymous"
    assert AuthResource().authorizer().allowed(ANONYMOUS, "ingest", "raw.o")
    (tmp_path / "logflow.yaml").write_text("auth:\n  keys_file: keys.json\n")
    key = KeyStore(tmp_path / "keys.json").add("bo", roles=["writer"])
    KeyStore(tmp_path / "keys.json").add("cy")
    res = AuthResource(project_dir=str(tmp_path))
    bo = res.authenticator().authenticate(f"Bearer {key}", peer="10.0.0.7")
    assert (bo.id, bo.peer) == ("bo", "10.0.0.7")
    with pytest.raises(Unauthenticated):
        res.authenticator().authenticate("nope")
    assert res.authorizer().allowed(bo, "ingest", "raw.o")
    assert not res.authorizer().allowed(Identity("cy", type="service"), "ingest", "raw.o")
    assert not res.authorizer().allowed(ANONYMOUS, "maintain", "raw.o")
