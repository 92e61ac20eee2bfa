"""Time travel: read as of now, a snapshot id or a time."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from logflow_dagster.core.errors import UsageError
from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.lakehouse.read import read_table


def test_read_as_of_snapshot_and_time(tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text("id,v\n" + "".join(f"{i},{i}\n" for i in range(100)))
    second = tmp_path / "b.csv"
    second.write_text("id,v\n" + "".join(f"{i},{i}\n" for i in range(100, 130)))
    r1 = ingest(first, "raw.t", project_dir=tmp_path)
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    r2 = ingest(second, "raw.t", project_dir=tmp_path)
    table = open_catalog(CatalogConfig.embedded(tmp_path)).load_table("raw.t")
    summary = table.current_snapshot().summary
    assert (summary["logflow.rows-read"], summary["logflow.rows-rejected"]) == ("30", "0")
    assert summary["logflow.profile-checksum"] == r2.checksum
    assert read_table(table).read_all().num_rows == 130
    assert read_table(table, snapshot_id=r1.snapshot_id).read_all().num_rows == 100
    assert read_table(table, snapshot_id=r2.snapshot_id).read_all().num_rows == 130
    assert read_table(table, as_of=between).read_all().num_rows == 100
    got = read_table(table, columns=("id",), row_filter="id >= 120").read_all()
    assert sorted(got.column("id").to_pylist()) == list(range(120, 130))
    with pytest.raises(UsageError):
        read_table(table, snapshot_id=1)
    with pytest.raises(UsageError):
        read_table(table, as_of=datetime(2000, 1, 1, tzinfo=UTC))


def _logflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args],
                          capture_output=True, text=True, timeout=120)


def test_read_command_time_travel_and_outputs(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("id,v\n" + "".join(f"{i},x{i}\n" for i in range(50)))
    second.write_text("id,v\n" + "".join(f"{i},y{i}\n" for i in range(50, 80)))
    r1 = ingest(first, "raw.t", project_dir=tmp_path)
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.01)
    ingest(second, "raw.t", project_dir=tmp_path)
    where = ("--project", str(tmp_path))

    now = _logflow("read", "raw.t", "--json", "--columns", "id,v", *where)
    assert now.returncode == 0, now.stderr
    assert sorted(json.loads(line)["id"] for line in now.stdout.splitlines()) == list(range(80))
    old = _logflow("read", "raw.t", "--snapshot-id", str(r1.snapshot_id), "--json", *where)
    assert len(old.stdout.splitlines()) == 50
    csv_out = tmp_path / "then.csv"
    asof = _logflow("read", "raw.t", "--as-of", between, "--where", "id >= 40",
                    "-o", str(csv_out), *where)
    assert asof.returncode == 0, asof.stderr
    pq_out = tmp_path / "all.parquet"
    assert _logflow("read", "raw.t", "-o", str(pq_out), *where).returncode == 0
    con = duckdb.connect()
    assert con.execute(f"SELECT count(*), min(id), max(v) FROM read_csv('{csv_out}')"
                       ).fetchone() == (10, 40, "x49")
    assert con.execute(f"SELECT count(*), count(DISTINCT _source_uri) FROM '{pq_out}'"
                       ).fetchone() == (80, 2)

    for bad in (["--as-of", "2026-01-01"], ["--snapshot-id", "1"], ["-o", "x.xlsx"]):
        out = _logflow("read", "raw.t", *bad, *where)
        assert out.returncode == 2 and out.stderr.startswith("error: "), out.stderr
        assert "Traceback" not in out.stderr
