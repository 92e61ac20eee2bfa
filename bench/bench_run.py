"""Benchmark of the Dagster project path: `logflow run` from files landing to committed tables.

Prints (1) the latency from one file landing to its rows being committed and readable, through
one `logflow run` pass (sensor ticks with the settle interval, the Dagster run, the Iceberg
commit), and (2) 20 files ingested with 1 vs 2 worker processes, with the speed-up.
Not a test: nothing asserts on time. Run: python bench/bench_run.py [--rows-per-file N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def make_files(folder: Path, files: int, rows: int) -> None:
    """Writes `files` event-log CSVs of `rows` rows each, deterministically, with DuckDB."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for f in range(files):
        con.execute(f"""COPY (SELECT 'C{f}-' || (i // 8) AS case_id,
            ['register','check','approve','ship','pay'][i % 5 + 1] AS activity,
            TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i * 7 + {f}) SECOND AS timestamp,
            'user' || (hash(i + {f}) % 200) AS resource, round((hash(i * 3) % 100000) / 100.0, 2)
            AS amount, ['EU','US','APAC'][i % 3 + 1] AS region
            FROM range({rows}) t(i)) TO '{folder / f"events_{f:02d}.csv"}' (HEADER)""")
    con.close()


def logflow(*args: str) -> dict:
    env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"}
    out = subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"logflow {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout)


def project(root: Path) -> None:
    from logflow_dagster.scaffold import init_project

    init_project(root)
    (root / "landing" / "events").mkdir(parents=True, exist_ok=True)
    (root / "logflow.yaml").write_text(
        "sources:\n  - name: events\n    landing: landing/events\n    table: raw.events\n"
        "    partition_by: ['day(timestamp)']\n")


def rows_in(root: Path) -> int:
    from logflow_dagster.lakehouse import CatalogConfig, open_catalog
    from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql

    table = open_catalog(CatalogConfig.embedded(root)).load_table("raw.events")
    return duckdb_connection().execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}"
                                       ).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-file", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="logflow-bench-run-"))
    try:
        files = tmp / "files"
        make_files(files, args.files, args.rows_per_file)
        # (1) landing -> committed, one file
        one = tmp / "latency"
        project(one)
        logflow("run", "--project", str(one), "--json")  # warm: create instance and catalog
        landed = time.perf_counter()
        shutil.copy(files / "events_00.csv", one / "landing" / "events" / "events_00.csv")
        summary = logflow("run", "--project", str(one), "--json")
        latency = time.perf_counter() - landed
        assert summary["runs"] == 1 and rows_in(one) == args.rows_per_file
        print(f"landing -> committed through `logflow run`: {latency:.2f} s for "
              f"{args.rows_per_file:,} rows (includes the 1 s settle tick and process start)")
        # (2) 20 files, 1 vs 2 workers
        times = {}
        for workers in (1, 2):
            root = tmp / f"w{workers}"
            project(root)
            for f in sorted(files.iterdir()):
                shutil.copy(f, root / "landing" / "events" / f.name)
            start = time.perf_counter()
            summary = logflow("run", "--project", str(root), "--workers", str(workers), "--json")
            times[workers] = time.perf_counter() - start
            total = args.files * args.rows_per_file
            assert summary["runs"] == args.files and summary["failed_runs"] == 0
            assert rows_in(root) == total, "rows lost or duplicated"
            print(f"{args.files} files ({total:,} rows), {workers} worker(s): "
                  f"{times[workers]:.2f} s, {total / times[workers]:,.0f} rows/s")
        print(f"speed-up with 2 workers: {times[1] / times[2]:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
