"""Orphan removal deletes exactly the unreferenced objects, only when old enough."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq

from logflow_dagster.lakehouse.duckdb_reader import table_fingerprint
from logflow_dagster.lakehouse.maintenance import compact, remove_orphans
from tests.lakehouse.helpers import batch, local_files, plain, small_file_table


def _strays(table) -> set[str]:
    root = Path(plain(table.location()))
    stray_parquet = root / "data" / "00000-0-stray.parquet"
    pq.write_table(batch(1000, 3), stray_parquet)
    stray_meta = root / "metadata" / "stray.txt"
    stray_meta.write_text("left behind")
    return {str(stray_parquet), str(stray_meta)}


def test_dry_run_then_delete_exactly_the_strays(catalog, ice):
    table = small_file_table(catalog, appends=4)
    strays = _strays(table)
    expected = table_fingerprint(ice, table)
    disk = local_files(table)

    dry = remove_orphans(table, older_than=timedelta(0), dry_run=True)
    assert {plain(p) for p in dry.orphan_paths} == strays
    assert dry.deleted_paths == 0 and local_files(table) == disk
    assert dry.files_after == dry.files_before == len(disk)

    result = remove_orphans(table, older_than=timedelta(0))

    assert {plain(p) for p in result.orphan_paths} == strays
    assert result.deleted_paths == 2
    assert local_files(table) == disk - strays
    assert result.files_after == result.files_before - 2
    assert result.bytes_before - result.bytes_after == result.orphan_bytes > 0
    assert table_fingerprint(ice, table) == expected


def test_safety_age_keeps_young_orphans(catalog):
    table = small_file_table(catalog, appends=1)
    strays = _strays(table)
    result = remove_orphans(table)  # default: 3 days
    assert result.orphan_paths == [] and result.too_young == 2
    assert strays <= local_files(table)


def test_files_of_older_snapshots_are_not_orphans(catalog, ice):
    table = small_file_table(catalog, appends=4)
    first = table.snapshots()[0].snapshot_id
    compact(table)  # the 20 small files are no longer current, but older snapshots use them
    result = remove_orphans(table, older_than=timedelta(0))
    assert result.orphan_paths == []
    assert table.scan(snapshot_id=first).to_arrow().num_rows == 5
    assert table_fingerprint(ice, table)[0] == 20


def test_metadata_json_beyond_the_log_is_removed(catalog, ice):
    from tests.lakehouse.helpers import NAMESPACE, SCHEMA

    table = catalog.create_table(f"{NAMESPACE}.short_log", schema=SCHEMA,
                                 properties={"write.metadata.previous-versions-max": "2"})
    for i in range(5):
        table.append(batch(i * 3, 3))
    logged = {plain(e.metadata_file) for e in table.metadata.metadata_log}
    assert len(logged) == 2
    on_disk = {p for p in local_files(table, "metadata") if p.endswith(".metadata.json")}
    dropped = on_disk - logged - {plain(table.metadata_location)}
    assert len(dropped) == 3

    result = remove_orphans(table, older_than=timedelta(0))

    assert {plain(p) for p in result.orphan_paths} == dropped
    left = {p for p in local_files(table, "metadata") if p.endswith(".metadata.json")}
    assert left == logged | {plain(table.metadata_location)}
    assert table_fingerprint(ice, table)[0] == 15
