"""`dagster dev` on a scaffolded project: the UI's GraphQL shows the assets, checks, sensors,
and the materializations a `logflow run` made."""

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


@pytest.mark.slow
def test_dagster_dev_shows_the_project(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"}
    demo = subprocess.run([sys.executable, "-m", "logflow_dagster.cli", "demo", str(root)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert demo.returncode == 0, demo.stderr
    port = _free_port()
    env["DAGSTER_HOME"] = str(root / ".logflow" / "dagster")
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.Popen([str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port)],
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
        assert set(nodes) == tables | {f"{t}_maintenance" for t in tables} | landing
        checks = {c["name"] for c in nodes["raw/orders_csv"]["assetChecksOrError"]["checks"]}
        assert "row_accounting" in checks
        sensors = {s["name"]: s["sensorState"]["status"]
                   for repo in data["repositoriesOrError"]["nodes"] for s in repo["sensors"]}
        assert sensors == {"orders_csv_landing": "RUNNING", "orders_jsonl_landing": "RUNNING",
                           "orders_xes_landing": "RUNNING",
                           "logflow_maintenance_thresholds": "RUNNING"}
        mats = {"/".join(n["key"]["path"]): [m["partition"] for m in n["assetMaterializations"]]
                for n in data["assetsOrError"]["nodes"]}
        assert set(mats["raw/orders_csv"]) == {"landing/csv/orders.csv"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
