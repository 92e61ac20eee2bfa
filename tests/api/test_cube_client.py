"""Cube's official JavaScript client (@cubejs-client/core, pinned in tests/js) against
`logflow serve` on the demo project: meta(), load() with time dimensions, filters and segments
through the "Continue wait" path (the hold is 0 s, so the client must retry), the compact and
columnar response formats, sql(), dryRun();
every value equals the Python API's. The CLI answers on the same project while the server
runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from logflow_dagster.semantic import SemanticLayer

from .server import serve

JS = Path(__file__).parents[1] / "js"
QUERIES = [
    {"measures": ["sales.revenue", "sales.events"], "dimensions": ["sales.region"],
     "timeDimensions": [{"dimension": "sales.at", "granularity": "day",
                         "dateRange": ["2024-03-01", "2024-03-07"]}]},
    {"measures": ["sales.orders", "sales.avg_order_amount"], "dimensions": ["sales.activity"],
     "filters": [{"member": "sales.activity", "operator": "contains", "values": ["order"]}],
     "segments": ["sales.eu"]},
    {"measures": ["events.count", "events.cases"], "dimensions": ["events.resource"],
     "timeDimensions": [{"dimension": "events.at", "granularity": "week"}],
     "filters": [{"or": [{"member": "events.activity", "operator": "equals",
                          "values": ["ship order"]},
                         {"member": "events.activity", "operator": "startsWith",
                          "values": ["pay"]}]},
                 {"member": "events.count", "operator": "gt", "values": ["3"]}],
     "order": {"events.resource": "asc"}, "limit": 50},
]


def _node() -> str:
    node = shutil.which("node")
    ready = node and (JS / "node_modules" / "@cubejs-client" / "core").is_dir()
    if not ready:
        why = ("node is not installed" if not node
               else "tests/js/node_modules is missing (run `npm ci` in tests/js)")
        if os.environ.get("LOGFLOW_REQUIRE_SERVICES") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return node


def test_cubes_own_client_reads_what_the_python_api_answers(demo: Path) -> None:
    node = _node()
    with SemanticLayer.from_project(demo) as layer:
        truth = [layer.query(q) for q in QUERIES]
        plans = [layer.plan(q) for q in QUERIES]
        described = layer.meta()
    assert truth[0].source.startswith("rollup:") and all(len(t.data) > 0 for t in truth)
    with serve(demo, "--continue-wait", "0") as url:
        out = subprocess.run([node, str(JS / "cube_client.mjs"), f"{url}/cubejs-api/v1",
                              json.dumps(QUERIES)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        # the CLI works on the same project while the server holds its layer open
        cli = subprocess.run([sys.executable, "-m", "logflow_dagster.cli", "query",
                              json.dumps(QUERIES[1]), "--json", "--project", str(demo)],
                             capture_output=True, text=True, timeout=120)
        assert cli.returncode == 0, cli.stderr
    got = json.loads(out.stdout)
    assert json.loads(cli.stdout)["data"] == truth[1].data
    for load, expected in zip(got["loads"], truth, strict=True):
        assert load["rawData"] == expected.data  # value by value, formatted as Cube does
        assert load["pivotRows"] == len(expected.data)
    assert got["compact"] == got["columnar"] == truth[0].data  # Cube's other response formats
    days = sorted({r["sales.at.day"] for r in truth[0].data})
    assert got["loads"][0]["chartX"] == days  # the client parsed our time values
    assert got["continueWaits"] >= len(QUERIES)  # every load came back through Continue wait
    assert got["sql"] == plans[0].sql
    assert got["dryRun"]["source"] == plans[1].source
    assert got["dryRun"]["normalized"]["segments"] == ["sales.eu"]
    assert got["meta"] == [
        {"name": c["name"], "measures": [[m["name"], m["type"], m["aggType"]]
                                         for m in c["measures"]],
         "dimensions": [[d["name"], d["type"]] for d in c["dimensions"]],
         "segments": [s["name"] for s in c["segments"]]} for c in described["cubes"]]
    assert got["revenueTitle"] == "Sales Revenue"
    assert got["badQuery"]["status"] == 400 and "sales.no_such_member" in \
        got["badQuery"]["message"]
