"""The README's path for a new user: `logflow demo`, then `logflow dev` in the project. The UI
(its GraphQL) runs on the project's own instance and shows the assets, checks, sensors and the
materializations, check results and runs the demo made; the sensors, started with fresh
cursors on that instance, do not ingest the demo's files again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

QUERY = """{
  assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } }
  repositoriesOrError { ... on RepositoryConnection { nodes {
    sensors { name sensorState { status } } } } }
  assetsOrError { ... on AssetConnection { nodes { key { path }
    assetMaterializations(limit: 5) { partition } } } }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                 data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["data"]


RUNS = """{ runsOrError { ... on Runs { results { runId status } } } }"""
CHECKS = """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks {
  checks { name executionForLatestMaterialization { status } } } } } }"""


def _sensors_request_nothing_new(root: Path) -> None:
    """Every landing sensor, evaluated on the project's instance with an empty cursor (as the
    daemon of a fresh `logflow dev` starts it), requests no run for the ingested files."""
    import dagster as dg

    from logflow_dagster import build_definitions, load_config

    config = load_config(root / "logflow.yaml")
    defs = build_definitions(config)
    os.environ["DAGSTER_HOME"] = str(root / ".logflow" / "dagster")
    try:
        with dg.DagsterInstance.get() as instance:
            for source in config.sources:
                sensor = defs.resolve_sensor_def(f"{source.name}_landing")
                first = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
                second = sensor(dg.build_sensor_context(instance=instance, definitions=defs,
                                                        cursor=first.cursor))
                assert not first.run_requests and not second.run_requests, source.name
    finally:
        del os.environ["DAGSTER_HOME"]


@pytest.mark.slow
def test_logflow_dev_shows_what_the_demo_did(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    logflow = Path(sys.executable).with_name("logflow")
    demo = subprocess.run([str(logflow), "demo", str(root)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert demo.returncode == 0, demo.stderr
    assert "logflow dev" in demo.stdout
    _sensors_request_nothing_new(root)
    port = _free_port()
    proc = subprocess.Popen([str(logflow), "dev", "-p", str(port)],  # as the README says
                            cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        data = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                data = _graphql(port, QUERY)
                if data.get("assetNodes"):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert data, "dagster dev did not answer on GraphQL within 120 s"
        nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
        tables = {"raw/orders_csv", "raw/orders_jsonl", "raw/orders_xes"}
        landing = {"landing/orders_csv", "landing/orders_jsonl", "landing/orders_xes"}
        rollups = {"rollups/sales__revenue_by_day", "rollups/events__events_by_activity", "rollups/cases__cases_by_variant"}
        assert set(nodes) == tables | {f"{t}_maintenance" for t in tables} | landing | rollups
        checks = {c["name"] for c in nodes["raw/orders_csv"]["assetChecksOrError"]["checks"]}
        assert "row_accounting" in checks
        sensors = {s["name"]: s["sensorState"]["status"]
                   for repo in data["repositoriesOrError"]["nodes"] for s in repo["sensors"]}
        assert sensors == {"orders_csv_landing": "RUNNING", "orders_jsonl_landing": "RUNNING",
                           "orders_xes_landing": "RUNNING",
                           "logflow_maintenance_thresholds": "RUNNING",
                           "logflow_rollups_automation": "RUNNING"}
        mats = {"/".join(n["key"]["path"]): [m["partition"] for m in n["assetMaterializations"]]
                for n in data["assetsOrError"]["nodes"]}
        assert set(mats["raw/orders_csv"]) == {"landing/csv/orders.csv"}
        assert set(mats["raw/orders_xes"]) == {"landing/xes/orders.xes"}
        runs = _graphql(port, RUNS)["runsOrError"]["results"]
        assert len(runs) >= 3 and {r["status"] for r in runs} <= {"SUCCESS", "FAILURE"}
        evaluated = {"/".join(n["assetKey"]["path"]) + ":" + c["name"]:
                     (c["executionForLatestMaterialization"] or {}).get("status")
                     for n in _graphql(port, CHECKS)["assetNodes"]
                     for c in (n["assetChecksOrError"].get("checks") or [])}
        assert evaluated["raw/orders_csv:row_accounting"] == "SUCCEEDED"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
