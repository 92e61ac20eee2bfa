"""An ingest killed (SIGKILL) mid-stream leaves the table at its previous snapshot.

The killed process has already written data files into the table's ``data/`` folder but never
committed them: readers (pyiceberg, DuckDB) see exactly the earlier rows, a re-run commits the
whole file once, and ``remove_orphans`` deletes exactly the killed run's leftovers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import iceberg_scan_sql, table_fingerprint
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.lakehouse.maintenance import remove_orphans
from tests.lakehouse.helpers import plain

WORKER = Path(__file__).with_name("ingest_worker.py")
FIRST_ROWS = 1_000
BIG_ROWS = 1_500_000
ATTEMPTS = 2  # each one 3x bigger, when the ingest finished before it could be killed
POLL_TIMEOUT = 90.0


def make_csv(path: Path, rows: int, id_base: int) -> Path:
    """``rows`` events with ids ``id_base + i`` (DuckDB writes 1.5M rows in about a second)."""
    duckdb.sql(f"""COPY (SELECT {id_base} + i AS id,
        'C' || lpad((i // 7)::VARCHAR, 8, '0') AS case_id,
        TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 1 SECOND AS ts,
        round((i % 100000) / 100.0, 2) AS amount,
        ['EU', 'US', 'APAC', 'LATAM'][i % 4 + 1] AS region
        FROM range({rows}) t(i)) TO '{path}' (HEADER)""")
    return path


def parquet_files(folder: Path) -> set[str]:
    """Plain paths of the Parquet files under ``folder`` (recursively)."""
    return {str(p) for p in folder.rglob("*.parquet")} if folder.exists() else set()


def counts(ice: duckdb.DuckDBPyConnection, table) -> tuple[int, int, int]:
    """(rows, distinct ids, sum of ids) read by DuckDB."""
    n, d, s = ice.execute(f"SELECT count(*), count(DISTINCT id), coalesce(sum(id), 0)::BIGINT "
                          f"FROM {iceberg_scan_sql(table)}").fetchone()
    return int(n), int(d), int(s)


def ids_sum(base: int, rows: int) -> int:
    """Sum of ``base + i`` for ``i < rows``."""
    return base * rows + rows * (rows - 1) // 2


def start_and_kill(cmd: list[str], data_dir: Path, before: set[str]) -> tuple[set[str], int]:
    """Starts ``cmd``; SIGKILLs it as soon as a new Parquet file shows under ``data_dir``.

    Returns:
        The new files seen at the kill (empty when the process ended first) and the exit code.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + POLL_TIMEOUT
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            new = parquet_files(data_dir) - before
            if new:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return new, proc.returncode
            time.sleep(0.002)
        if proc.poll() is None:
            pytest.fail(f"no data file appeared under {data_dir} within {POLL_TIMEOUT} s")
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate()
    if proc.returncode != 0:
        pytest.fail(f"the ingest process failed on its own (exit {proc.returncode}):\n{err}")
    return set(), proc.returncode


def test_killed_ingest_then_rerun_then_orphans(tmp_path, ice, monkeypatch):
    monkeypatch.delenv("LOGFLOW_CATALOG_URI", raising=False)
    monkeypatch.delenv("LOGFLOW_WAREHOUSE", raising=False)
    config = CatalogConfig.embedded(tmp_path)
    catalog = open_catalog(config)
    try:
        first_src = make_csv(tmp_path / "first.csv", FIRST_ROWS, 0)
        rows = BIG_ROWS
        for attempt in range(1, ATTEMPTS + 1):
            table_name = f"raw.events{attempt}"
            first = ingest(first_src, table_name, catalog=catalog, project_dir=tmp_path)
            table = catalog.load_table(table_name)
            snap, n_snaps = table.current_snapshot().snapshot_id, len(table.snapshots())
            assert first.snapshot_id == snap
            fingerprint = table_fingerprint(ice, table)
            data_dir = Path(plain(table.location())) / "data"
            committed = parquet_files(data_dir)
            assert committed == {plain(f) for f in first.data_files}

            big = make_csv(tmp_path / f"big{attempt}.csv", rows, 10_000_000)
            cmd = [sys.executable, str(WORKER), str(big), table_name, "--uri", config.uri,
                   "--warehouse", config.warehouse, "--name", config.name,
                   "--project-dir", str(tmp_path)]
            leftovers, code = start_and_kill(cmd, data_dir, committed)
            if leftovers:
                break
            rows *= 3  # it finished before the kill: a bigger file, a fresh table
        else:
            pytest.fail(f"the ingest finished before a data file could be seen {ATTEMPTS} times "
                        f"(last with {rows // 3:,} rows); cannot test the crash")
        assert code == -signal.SIGKILL

        # the killed run changed nothing the readers see
        table = catalog.load_table(table_name)
        assert table.current_snapshot().snapshot_id == snap
        assert len(table.snapshots()) == n_snaps
        assert table_fingerprint(ice, table) == fingerprint
        assert counts(ice, table) == (FIRST_ROWS, FIRST_ROWS, ids_sum(0, FIRST_ROWS))
        assert table.scan().to_arrow().num_rows == FIRST_ROWS
        on_disk = parquet_files(data_dir)
        assert leftovers <= on_disk - committed
        leftovers = on_disk - committed  # everything the killed run left (maybe more by now)

        # a re-run commits the whole file exactly once
        rerun = ingest(big, table_name, catalog=catalog, project_dir=tmp_path)
        assert not rerun.skipped and rerun.rows_written == rows
        table = catalog.load_table(table_name)
        assert rerun.snapshot_id == table.current_snapshot().snapshot_id
        total = FIRST_ROWS + rows
        assert counts(ice, table) == (total, total,
                                      ids_sum(0, FIRST_ROWS) + ids_sum(10_000_000, rows))
        by_source = ice.execute(f"SELECT _source_uri, count(*) FROM {iceberg_scan_sql(table)} "
                                "GROUP BY 1 ORDER BY 1").fetchall()
        assert by_source == sorted([(big.as_uri(), rows), (first_src.as_uri(), FIRST_ROWS)])
        live = {plain(f) for f in table.inspect.files()["file_path"].to_pylist()}
        assert not live & leftovers
        assert leftovers <= parquet_files(data_dir)  # still on disk until orphan removal
        after_rerun = table_fingerprint(ice, table)

        # orphan removal deletes exactly the killed run's files
        result = remove_orphans(table, older_than=timedelta(0))

        assert {plain(p) for p in result.orphan_paths} == leftovers
        assert result.deleted_paths == len(leftovers)
        assert parquet_files(data_dir) == live
        table = catalog.load_table(table_name)
        assert table_fingerprint(ice, table) == after_rerun
        assert counts(ice, table)[0] == total
    finally:
        close_catalog(catalog)
