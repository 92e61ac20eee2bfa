"""LogflowComponent in a real ``create-dagster`` project: listed and scaffolded by ``dg``, checked
by ``dg check defs``, its sensor evaluated and the requested partition materialized against a
real instance, the rows read back from Iceberg with DuckDB; the same definitions as
``build_definitions``; templating, asset-spec overrides, and bad attributes named with a line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from logflow_dagster import LogflowComponent, build_definitions, load_config
from logflow_dagster.samples import events, write_csv

from .dg_project import (
    defs_folder,
    load_project_defs,
    new_project,
    run,
    table_rows,
    tick,
    undocumented,
)

TYPE = "logflow_dagster.LogflowComponent"


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new project with ``dg scaffold defs logflow_dagster.LogflowComponent events`` run."""
    project = new_project(tmp_path_factory.mktemp("dg"), "lf_scaffolded")
    run("dg", "scaffold", "defs", TYPE, "events", cwd=project)
    return project


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch):
    """Puts a project's ``src/`` on sys.path (as an installed project would be)."""
    def put(project: Path) -> Path:
        monkeypatch.syspath_prepend(str(project / "src"))
        return project
    return put


def _ingest(defs: dg.Definitions, instance: dg.DagsterInstance, sensor: str,
            key: dg.AssetKey) -> tuple[str, dg.ExecuteInProcessResult]:
    """Two sensor ticks (a landed file waits one tick), then the requested partition
    materialized through the public API."""
    first = tick(defs, instance, sensor, None)
    assert first.run_requests == []
    second = tick(defs, instance, sensor, first.cursor)
    assert len(second.run_requests) == 1
    partition = second.run_requests[0].partition_key
    result = dg.materialize([defs.resolve_assets_def(key)], instance=instance,
                            partition_key=partition)
    assert result.success
    return partition, result


@pytest.mark.slow
def test_dg_lists_scaffolds_and_checks_the_component(scaffolded: Path) -> None:
    listed = json.loads(run("dg", "list", "components", "--json", cwd=scaffolded).stdout)
    summary = {item["key"]: item["summary"] for item in listed["items"]}[TYPE]
    assert summary.startswith("Files landing in folders become quality-checked Iceberg tables")

    folder = defs_folder(scaffolded) / "events"
    defs_yaml = (folder / "defs.yaml").read_text()
    assert f"type: {TYPE}" in defs_yaml and "config_file: logflow.yaml" in defs_yaml
    config = load_config(folder / "logflow.yaml")
    assert [(s.name, s.landing, s.table) for s in config.sources] == [
        ("events", "landing", "raw.events")]
    assert (folder / "landing").is_dir() and ".logflow/" in (folder / ".gitignore").read_text()

    checked = run("dg", "check", "defs", cwd=scaffolded)  # exit 0, as scaffolded
    assert "All definitions loaded successfully." in checked.stdout

    schema = json.loads(run("dg", "utils", "inspect-component", TYPE, "--defs-yaml-json-schema",
                            cwd=scaffolded).stdout)
    attributes = schema["properties"]["attributes"]
    assert {"config_file", "sources", "checks", "maintenance", "lineage", "catalog",
            "assets"} <= set(attributes["properties"])
    assert undocumented(schema, attributes) == []


@pytest.mark.slow
def test_scaffolded_component_ingests_a_landed_file(scaffolded: Path, on_path) -> None:
    defs = load_project_defs(on_path(scaffolded))
    folder = defs_folder(scaffolded) / "events"
    evs = events(cases=60)
    bad = len(write_csv(folder / "landing" / "orders.csv", evs, bad_every=100))
    assert bad > 0
    with dg.instance_for_test() as instance:
        partition, result = _ingest(defs, instance, "events_landing",
                                    dg.AssetKey(["raw", "events"]))
        assert partition == "landing/orders.csv"
        mat = result.asset_materializations_for_node("raw__events")[0]
        assert mat.metadata["dagster/row_count"].value == len(evs) - bad
        assert mat.metadata["logflow/rows_rejected"].value == bad
        checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
        assert checks == {"row_accounting": True, "row_count": True}
    (count, cases), = table_rows(folder, "raw.events", "count(*), count(DISTINCT case_id)")
    assert count == len(evs) - bad
    assert cases == len({e.case_id for i, e in enumerate(evs) if i % 100 != 99})


def _shape(defs: dg.Definitions) -> dict:
    """What the definitions are made of, comparable across two builds."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assets[key.to_user_string()] = (
            node.group_name, sorted(node.kinds), sorted(node.owners),
            {k: v for k, v in node.tags.items() if not k.startswith("dagster/kind/")},
            sorted(k.to_user_string() for k in node.parent_keys),
            type(node.partitions_def).__name__)
    return {
        "assets": assets,
        "checks": sorted(k.to_user_string() for k in graph.asset_check_keys),
        "sensors": sorted(s.name for s in defs.sensors or []),
        "schedules": sorted((s.name, s.cron_schedule, s.job_name) for s in defs.schedules or []),
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs()
                       if not j.name.startswith("__")),
        "resources": {k: (type(v).__name__, v.model_dump())
                      for k, v in (defs.resources or {}).items()},
    }


def test_component_defs_are_build_definitions(scaffolded: Path, on_path) -> None:
    folder = defs_folder(scaffolded) / "events"
    via_dg = _shape(load_project_defs(on_path(scaffolded)))
    classic = _shape(build_definitions(load_config(folder / "logflow.yaml")))
    assert via_dg == classic
    assert set(via_dg["assets"]) == {"landing/events", "raw/events", "raw/events_maintenance"}
    assert via_dg["assets"]["raw/events"][1] == ["iceberg", "python"]
    assert via_dg["checks"] == ["raw/events:row_accounting", "raw/events:row_count"]
    assert via_dg["jobs"] == ["logflow_maintenance"]
    assert set(via_dg["resources"]) == {"duckdb", "logflow_auth", "logflow_catalog",
                                        "logflow_lineage", "logflow_storage"}


OVERRIDES = """\
type: logflow_dagster.LogflowComponent
attributes:
  project: "{{ env.LF_PROJECT }}"
  sources:
    - name: orders
      landing: "${LF_LANDING:-landing}"
      table: "raw.{{ env.LF_TABLE }}"
      error_policy: quarantine
  checks:
    raw.orders:
      - type: row_count
        min: 1
  lineage:
    transport: "off"
  assets:
    key_prefix: lake/bronze
    group_name: ingest
    owners: [team:data]
    tags: {tier: bronze}
    kinds: [iceberg, duckdb]
"""


@pytest.mark.slow
def test_templating_and_asset_overrides_reach_sensors_checks_and_maintenance(
        tmp_path: Path, on_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LF_PROJECT", "shop")
    monkeypatch.setenv("LF_TABLE", "orders")
    monkeypatch.delenv("LF_LANDING", raising=False)
    project = on_path(new_project(tmp_path, "lf_overrides"))
    folder = defs_folder(project) / "lake"
    (folder / "landing").mkdir(parents=True)
    (folder / "defs.yaml").write_text(OVERRIDES)
    defs = load_project_defs(project)
    shape = _shape(defs)
    table, landing = "lake/bronze/raw/orders", "lake/bronze/landing/orders"
    assert shape["assets"] == {
        landing: ("ingest", ["file"], ["team:data"], {"tier": "bronze"}, [], "NoneType"),
        table: ("ingest", ["duckdb", "iceberg"], ["team:data"], {"tier": "bronze"}, [landing],
                "DynamicPartitionsDefinition"),
        f"{table}_maintenance": ("ingest", ["duckdb", "iceberg"], ["team:data"],
                                 {"tier": "bronze"}, [table], "NoneType")}
    assert shape["checks"] == [f"{table}:row_accounting", f"{table}:row_count"]
    job = defs.resolve_job_def("logflow_maintenance")
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == {
        f"{table}_maintenance"}

    write_csv(folder / "landing" / "a.csv", events(cases=10))
    key = dg.AssetKey(["lake", "bronze", "raw", "orders"])
    with dg.instance_for_test() as instance:
        _, result = _ingest(defs, instance, "orders_landing", key)
        assert {(c.asset_key, c.check_name, c.passed)
                for c in result.get_asset_check_evaluations()} == {
            (key, "row_accounting", True), (key, "row_count", True)}
        maintained = dg.materialize(
            [defs.resolve_assets_def(dg.AssetKey([*key.path[:-1], "orders_maintenance"]))],
            instance=instance)
        assert maintained.success
    assert table_rows(folder, "raw.orders") == [(len(events(cases=10)),)]
    assert not (folder / ".logflow" / "openlineage.jsonl").exists()  # transport: "off"


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def _fails(project: Path, *command: str) -> str:
    proc = run(*command, cwd=project, ok=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Traceback (most recent call last)" not in out
    return re.sub(r"\s+", " ", out)


@pytest.mark.slow
def test_broken_attributes_are_named_with_their_line(tmp_path: Path) -> None:
    project = new_project(tmp_path, "lf_broken")
    run("dg", "scaffold", "defs", TYPE, "events", "--config", "inline", cwd=project)
    defs_yaml = defs_folder(project) / "events" / "defs.yaml"
    good = defs_yaml.read_text()
    assert "config_file" not in good and "table: raw.events" in good

    # a value outside the schema: dg check yaml and dg check defs name key and line
    defs_yaml.write_text(good.replace("error_policy: quarantine", "error_policy: sometimes"))
    line = _line_of(defs_yaml, "error_policy")
    for command in (("dg", "check", "yaml"), ("dg", "check", "defs")):
        out = _fails(project, *command)
        assert f"defs.yaml:{line}" in out, out
        assert "attributes.sources.0.error_policy" in out and "'sometimes'" in out, out

    # what each rule type needs and Dagster's owner format are in the schema too
    defs_yaml.write_text(good.replace("min: 1", "column: amount").replace(
        "type: row_count", "type: range") + "  assets:\n    owners: [bob]\n")
    rule, owner = _line_of(defs_yaml, "type: range"), _line_of(defs_yaml, "owners:")
    for command in (("dg", "check", "yaml"), ("dg", "check", "defs")):
        out = _fails(project, *command)
        assert (f"defs.yaml:{rule} - logflow_dagster.LogflowComponent "
                "attributes.checks.raw.events.0 'max' is a required property") in out, out
        assert f"defs.yaml:{owner} - " in out and "attributes.assets.owners.0 'bob'" in out, out

    # values the schema allows but the builder refuses: named at load time, with the line
    defs_yaml.write_text(good.replace("min: 1", "column: amount").replace(
        "type: row_count", "type: schema").replace("column: amount", "values: ['id:nosuchtype']")
        + "  assets:\n    tags: {'bad tag': x}\n")
    out = _fails(project, "dg", "check", "defs")
    rule, tags = _line_of(defs_yaml, "type: schema"), _line_of(defs_yaml, "tags:")
    assert f"defs.yaml:{rule}: attributes.checks.raw.events.0: " in out, out
    assert f"defs.yaml:{tags}: attributes.assets.tags: " in out, out

    # a bad key in the config_file: the file, its line and the key
    logflow_yaml = defs_yaml.with_name("logflow.yaml")
    logflow_yaml.write_text("sources:\n  - name: events\n    landing: landing\n"
                            "    table: events\n")
    defs_yaml.write_text(f"type: {TYPE}\nattributes:\n  config_file: logflow.yaml\n")
    out = _fails(project, "dg", "check", "defs")
    assert "logflow.yaml:4: sources.0.table: no namespace; use namespace.table" in out, out


def test_component_is_exported_lazily() -> None:
    code = ("import sys, logflow_dagster\nassert 'dagster' not in sys.modules\n"
            "assert 'LogflowComponent' in logflow_dagster.__all__\n"
            "from logflow_dagster import LogflowComponent\nprint(LogflowComponent.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "logflow_dagster.component"
    assert issubclass(LogflowComponent, dg.Component)
