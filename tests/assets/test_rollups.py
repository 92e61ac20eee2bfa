"""Rollups as Dagster assets on the demo project (`logflow init --samples`): one asset per
pre-aggregation downstream of its table's ingest asset, eager automation, materialization
metadata (row count, column schema, column lineage, snapshot id), and the OpenLineage events
of an ingest and a rollup build valid against the official JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from logflow_dagster.config import load_config
from logflow_dagster.definitions_builder import build_definitions
from logflow_dagster.scaffold import init_project
from logflow_dagster.services import Project, ingest_file

SPEC = Path("/work/shared/spec/openlineage")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rdemo")
    init_project(root, samples=True)
    project = Project.load(root)
    ingest_file(project, root / "landing" / "csv" / "orders.csv",
                source=project.source("orders_csv"))
    return root


def test_one_eager_asset_per_rollup_downstream_of_its_table(demo: Path) -> None:
    defs = build_definitions(load_config(str(demo / "logflow.yaml")))
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    expected = {"rollups/sales__revenue_by_day", "rollups/events__events_by_activity",
                "rollups/cases__cases_by_variant"}
    assert expected <= keys
    node = graph.get(dg.AssetKey(["rollups", "sales__revenue_by_day"]))
    assert dg.AssetKey(["raw", "orders_csv"]) in node.parent_keys
    assert node.automation_condition is not None
    assert "eager" in str(node.automation_condition.get_label() or
                          type(node.automation_condition).__name__).lower() or \
        node.automation_condition == dg.AutomationCondition.eager()


def test_materialize_rollup_metadata_and_routing(demo: Path) -> None:
    defs = build_definitions(load_config(str(demo / "logflow.yaml")))
    key = dg.AssetKey(["rollups", "sales__revenue_by_day"])
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={key})
    result = job.execute_in_process()
    assert result.success
    mat = result.asset_materializations_for_node("rollups__sales__revenue_by_day")[0]
    md = mat.metadata
    assert md["dagster/row_count"].value > 0
    cols = [c.name for c in md["dagster/column_schema"].value.columns]
    assert "m__sales__avg_order_amount__sum" in cols and "__timezone" in cols
    lineage = md["dagster/column_lineage"].value.deps_by_column
    assert sorted((d.asset_key.to_user_string(), d.column_name)
                  for d in lineage["m__sales__revenue__value"]) == [
        ("raw/orders_csv", "activity"), ("raw/orders_csv", "amount")]
    assert md["logflow/snapshot_id"].value.isdigit()
    from logflow_dagster.services.semantic import open_layer

    plan = open_layer(demo).plan({"measures": ["sales.revenue"], "dimensions": ["sales.region"]})
    assert plan.source == "rollup:sales.revenue_by_day"


def _validator():
    jsonschema = pytest.importorskip("jsonschema")
    from referencing import Registry, Resource

    resources = []
    for path in [SPEC / "OpenLineage.json", *sorted((SPEC / "facets").glob("*.json"))]:
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    main = json.loads((SPEC / "OpenLineage.json").read_text())
    facets = {json.loads(p.read_text())["$id"]: json.loads(p.read_text())
              for p in (SPEC / "facets").glob("*.json")}
    cls = jsonschema.validators.validator_for(main)
    return cls(main, registry=registry), facets, cls, registry


def _validate_facets(event: dict, facets: dict, cls, registry) -> int:
    """Validates every facet against the schema its ``_schemaURL`` names; returns how many."""
    count = 0

    def walk(node):
        nonlocal count
        if isinstance(node, dict):
            url = node.get("_schemaURL")
            if isinstance(url, str) and "#/$defs/" in url and "/facets/" in url:
                base, _, name = url.partition("#/$defs/")
                schema_id = next((i for i in facets if i.rsplit("/", 1)[-1] ==
                                  base.rsplit("/", 1)[-1]), None)
                assert schema_id is not None, f"no schema for {url}"
                sub = {"$ref": f"{schema_id}#/$defs/{name}"}
                cls(sub, registry=registry).validate(node)
                count += 1
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(event)
    return count


def test_openlineage_events_validate(demo: Path) -> None:
    from logflow_dagster.services.semantic import build_rollups

    build_rollups(demo, ["events.events_by_activity"])
    path = demo / ".logflow" / "openlineage.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    validator, facets, cls, registry = _validator()
    jobs = {(e["job"]["name"], e["eventType"]) for e in events}
    assert ("raw.orders_csv", "COMPLETE") in jobs
    assert ("rollups.events__events_by_activity", "START") in jobs
    assert ("rollups.events__events_by_activity", "COMPLETE") in jobs
    checked = 0
    for event in events:
        validator.validate(event)
        checked += _validate_facets(event, facets, cls, registry)
    assert checked > len(events)
    done = next(e for e in events if e["job"]["name"] == "rollups.events__events_by_activity"
                and e["eventType"] == "COMPLETE")
    fields = done["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert fields["m__events__cases__value"]["inputFields"][0]["transformations"][0][
        "subtype"] == "AGGREGATION"
    assert fields["d__events__activity"]["inputFields"][0]["transformations"][0][
        "subtype"] == "IDENTITY"
