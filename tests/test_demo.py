"""The README's main command: `logflow demo` converts the sample logs and loses nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from logflow_dagster.samples import events, write_csv


def test_demo_writes_and_queries(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "logflow_dagster.cli", "demo",
                           str(tmp_path / "demo")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "orders.xes" in proc.stdout and "events per activity" in proc.stdout
    out = tmp_path / "demo" / "warehouse"
    evs = events()
    con = duckdb.connect()
    for fmt in ("csv", "jsonl", "xes"):
        assert (out / f"orders_{fmt}.parquet").exists()
    n_csv = con.execute(f"SELECT count(*) FROM '{out / 'orders_csv.parquet'}'").fetchone()[0]
    n_xes = con.execute(f"SELECT count(*) FROM '{out / 'orders_xes.parquet'}'").fetchone()[0]
    quarantined = (out / "orders_csv.quarantine.jsonl").read_text().splitlines()
    assert n_xes == len(evs)
    assert n_csv + len(quarantined) == len(evs)
    bad_lines = write_csv(tmp_path / "again.csv", evs, bad_every=250)
    assert [json.loads(q)["line"] for q in quarantined] == bad_lines
