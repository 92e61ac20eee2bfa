"""Concurrent ``ingest`` processes writing one table.

Each test spawns 4 processes (``ingest_worker.py``) that set up, wait at a barrier (a "go"
file) and then ingest at the same moment; the commits race and must all land, and DuckDB must
read exactly every source's rows once. The PostgreSQL tests are marked ``services`` (they skip
without a server, or fail under LOGFLOW_REQUIRE_SERVICES=1); one variant uses the embedded
SQLite catalog.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchNamespaceError

from logflow_dagster.lakehouse import CatalogConfig, close_catalog, ensure_namespace, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import iceberg_scan_sql
from logflow_dagster.lakehouse.ingest import ingest
from tests.lakehouse.helpers import PG_URL, require_postgres

WORKER = Path(__file__).with_name("ingest_worker.py")
WORKERS = 4
ROWS = 20_000
START_TIMEOUT = 60.0
RUN_TIMEOUT = 120.0


@dataclass
class PgCatalog:
    """A PostgreSQL catalog with a warehouse in tmp_path and a namespace unique to one test."""

    config: CatalogConfig
    catalog: Catalog
    namespace: str


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[PgCatalog]:
    """The catalog; every table of the namespace and the namespace are dropped afterwards."""
    require_postgres()
    config = CatalogConfig(name="logflow_test", uri=PG_URL,
                           warehouse=(tmp_path / "warehouse").as_uri())
    catalog = open_catalog(config)
    namespace = f"lf_ingest_{uuid.uuid4().hex[:12]}"
    try:
        yield PgCatalog(config, catalog, namespace)
    finally:
        try:
            for ident in catalog.list_tables(namespace):
                catalog.drop_table(ident)
            catalog.drop_namespace(namespace)
        except NoSuchNamespaceError:
            pass
        assert namespace not in {ns[0] for ns in catalog.list_namespaces()}
        close_catalog(catalog)


def make_csv(path: Path, part: int, rows: int = ROWS) -> Path:
    """``rows`` events whose ``id`` is unique across parts (``part * 1e6 + i``)."""
    duckdb.sql(f"""COPY (SELECT {part} * 1000000 + i AS id,
        'C' || lpad(((i + {part} * 7) // 7)::VARCHAR, 7, '0') AS case_id,
        TIMESTAMPTZ '2024-01-01 00:00:00+00' + (i * 37 + {part}) * INTERVAL 1 SECOND AS ts,
        round(((i * 7919 + {part}) % 100000) / 100.0, 2) AS amount,
        ['EU', 'US', 'APAC', 'LATAM'][(i + {part}) % 4 + 1] AS region
        FROM range({rows}) t(i)) TO '{path}' (HEADER)""")
    return path


def run_workers(config: CatalogConfig, table: str, sources: list[Path], tmp_path: Path,
                partition_by: str | None = None) -> list[dict[str, Any]]:
    """Runs one worker per source, released together; returns their JSON results.

    Fails the test (with every worker's stderr) unless all exit 0.
    """
    barrier = tmp_path / f"barrier-{uuid.uuid4().hex[:6]}"
    barrier.mkdir()
    go = barrier / "go"
    procs = []
    for k, src in enumerate(sources):
        cmd = [sys.executable, str(WORKER), str(src), table, "--uri", config.uri,
               "--warehouse", config.warehouse, "--name", config.name,
               "--project-dir", str(tmp_path), "--ready", str(barrier / f"ready{k}"),
               "--go", str(go)]
        if partition_by:
            cmd += ["--partition-by", partition_by]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not all((barrier / f"ready{k}").exists() for k in range(len(sources))):
            dead = [p for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        go.touch()
        outputs = [p.communicate(timeout=RUN_TIMEOUT) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    failed = [(k, p.returncode, err) for k, (p, (_, err)) in enumerate(zip(procs, outputs,
                                                                          strict=True))
              if p.returncode != 0]
    if failed:
        pytest.fail("\n\n".join(f"worker {k} ({sources[k].name}) exited {rc}:\n{_tail(err)}"
                                for k, rc, err in failed))
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


def _tail(stderr: str) -> str:
    """The project's frames of a worker's traceback and its exception lines."""
    lines = stderr.strip().splitlines()
    ours = [f"{line}\n{nxt}" for line, nxt in zip(lines, [*lines[1:], ""], strict=True)
            if line.lstrip().startswith("File ") and "/logflow_dagster/" in line]
    raised = [line for line in lines if re.match(r"[\w.]+(Error|Exception)\b", line)]
    return "\n".join([*ours, "  ...", *(raised[-2:] or lines[-4:])])


def per_source(ice: duckdb.DuckDBPyConnection, table: Any) -> dict[str, tuple[int, int]]:
    """``_source_uri`` -> (rows, distinct ids), read by DuckDB."""
    rows = ice.execute(f"SELECT _source_uri, count(*), count(DISTINCT id) "
                       f"FROM {iceberg_scan_sql(table)} GROUP BY 1").fetchall()
    return {uri: (n, d) for uri, n, d in rows}


def totals(ice: duckdb.DuckDBPyConnection, table: Any) -> tuple[int, int, int]:
    """(rows, distinct ids, sum of ids), read by DuckDB."""
    n, d, s = ice.execute(f"SELECT count(*), count(DISTINCT id), sum(id)::BIGINT "
                          f"FROM {iceberg_scan_sql(table)}").fetchone()
    return int(n), int(d), int(s)


def id_sum(parts: list[int], rows: int) -> int:
    """Sum of the ids :func:`make_csv` writes for ``parts``."""
    return sum(p * 1_000_000 * rows + rows * (rows - 1) // 2 for p in parts)


@pytest.mark.services
def test_four_processes_ingest_one_table(pg, tmp_path, ice):
    """Four different files into one new table (namespace exists), at the same moment."""
    ensure_namespace(pg.catalog, pg.namespace)
    table_name = f"{pg.namespace}.events"
    sources = [make_csv(tmp_path / f"part{k}.csv", k) for k in range(WORKERS)]

    results = run_workers(pg.config, table_name, sources, tmp_path)

    assert [r["rows_written"] for r in results] == [ROWS] * WORKERS
    table = pg.catalog.load_table(table_name)
    assert totals(ice, table) == (WORKERS * ROWS, WORKERS * ROWS, id_sum(list(range(WORKERS)),
                                                                         ROWS))
    assert per_source(ice, table) == {s.as_uri(): (ROWS, ROWS) for s in sources}
    snapshot_ids = {s.snapshot_id for s in table.snapshots()}
    assert {r["snapshot_id"] for r in results} <= snapshot_ids
    live = set(table.inspect.files()["file_path"].to_pylist())
    assert live == {f for r in results for f in r["data_files"]}
    sources_committed = sorted(s.summary["logflow.source"] for s in table.snapshots())
    assert sources_committed == sorted(s.as_uri() for s in sources)


@pytest.mark.services
def test_four_processes_create_namespace_and_table(pg, tmp_path, ice):
    """Nothing exists yet: the four processes race on the namespace, the table and the commit."""
    table_name = f"{pg.namespace}.events"
    rows = 2_000
    sources = [make_csv(tmp_path / f"small{k}.csv", k, rows) for k in range(WORKERS)]

    run_workers(pg.config, table_name, sources, tmp_path)

    table = pg.catalog.load_table(table_name)
    assert totals(ice, table) == (WORKERS * rows, WORKERS * rows,
                                  id_sum(list(range(WORKERS)), rows))
    assert per_source(ice, table) == {s.as_uri(): (rows, rows) for s in sources}


@pytest.mark.services
def test_replace_while_others_append(pg, tmp_path, ice):
    """One process replaces an earlier source while three others append new ones."""
    ensure_namespace(pg.catalog, pg.namespace)
    table_name = f"{pg.namespace}.events"
    replaced = make_csv(tmp_path / "part0.csv", 0)
    first = ingest(replaced, table_name, catalog=pg.catalog, project_dir=tmp_path)
    assert first.rows_written == ROWS
    make_csv(replaced, 9, rows=ROWS // 2)  # same path, new content: ids 9_000_000...
    sources = [replaced] + [make_csv(tmp_path / f"part{k}.csv", k) for k in range(1, WORKERS)]

    results = run_workers(pg.config, table_name, sources, tmp_path)

    assert results[0]["replaced"] and results[0]["rows_written"] == ROWS // 2
    table = pg.catalog.load_table(table_name)
    expected = {replaced.as_uri(): (ROWS // 2, ROWS // 2)}
    expected.update({s.as_uri(): (ROWS, ROWS) for s in sources[1:]})
    assert per_source(ice, table) == expected
    n = ROWS // 2 + (WORKERS - 1) * ROWS
    assert totals(ice, table) == (n, n, id_sum([9], ROWS // 2) + id_sum([1, 2, 3], ROWS))
    live = set(table.inspect.files()["file_path"].to_pylist())
    assert not set(first.data_files) & live


def test_four_processes_embedded_sqlite_catalog(tmp_path, ice):
    """The same race on the embedded SQLite catalog (no server needed)."""
    config = CatalogConfig.embedded(tmp_path)
    catalog = open_catalog(config)
    try:
        ensure_namespace(catalog, "raw")
        rows = 5_000
        sources = [make_csv(tmp_path / f"lite{k}.csv", k, rows) for k in range(WORKERS)]

        run_workers(config, "raw.events", sources, tmp_path)

        table = catalog.load_table("raw.events")
        assert totals(ice, table) == (WORKERS * rows, WORKERS * rows,
                                      id_sum(list(range(WORKERS)), rows))
        assert per_source(ice, table) == {s.as_uri(): (rows, rows) for s in sources}
    finally:
        close_catalog(catalog)
