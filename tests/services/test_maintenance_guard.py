"""Orphan removal and expiry never delete another table's files: a table whose location lies
inside another's (as `raw.t/x` once could), or files another table references, survive the
outer table's maintenance, and the inner table still reads back in full with DuckDB."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from logflow_dagster.config import ProjectConfig
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.services import Project, expire_table, remove_table_orphans


def _tables(tmp_path: Path) -> tuple[Project, object, object]:
    project = Project.from_config(ProjectConfig(root=str(tmp_path)))
    with project.open_catalog() as catalog:
        catalog.create_namespace("raw")
        outer = catalog.create_table("raw.t", schema=pa.schema([("a", pa.int64())]))
        # another tool (or an old logflow) put a table inside raw.t's folder
        inner = catalog.create_table("raw.inner", schema=pa.schema([("b", pa.string())]),
                                     location=outer.location() + "/x")
        for i in range(3):
            outer.append(pa.table({"a": pa.array([i], pa.int64())}))
            inner.append(pa.table({"b": [f"v{i}"]}))
    return project, outer, inner


def _read_inner(project: Project) -> list[tuple[str]]:
    table = project.load_table("raw.inner")
    return duckdb_connection().execute(
        f"SELECT b FROM {iceberg_scan_sql(table)} ORDER BY b").fetchall()


def test_orphan_removal_keeps_a_nested_tables_files(tmp_path: Path) -> None:
    project, outer, _ = _tables(tmp_path)
    lost = Path(outer.location().removeprefix("file://")) / "data" / "lost.parquet"
    lost.write_bytes(b"not referenced by anything")
    result = remove_table_orphans(project, "raw.t", older_than="0s")
    assert result.orphan_paths == [f"file://{lost}"]  # the real orphan goes ...
    assert not lost.exists()
    assert any("/x/" in p for p in result.protected_paths)  # ... the inner table's stay
    assert _read_inner(project) == [("v0",), ("v1",), ("v2",)]


def test_expiry_keeps_files_another_table_references(tmp_path: Path) -> None:
    project, _, _ = _tables(tmp_path)
    result = expire_table(project, "raw.t", older_than="0s")
    assert result.expired_snapshot_ids  # it did expire the outer table's old snapshots
    assert _read_inner(project) == [("v0",), ("v1",), ("v2",)]
    outer = project.load_table("raw.t")
    assert duckdb_connection().execute(
        f"SELECT count(*) FROM {iceberg_scan_sql(outer)}").fetchone() == (3,)
