"""Snapshot expiry deletes exactly the files no remaining snapshot references."""

from __future__ import annotations

from datetime import timedelta

import pyarrow.parquet as pq

from logflow_dagster.lakehouse.duckdb_reader import table_fingerprint
from logflow_dagster.lakehouse.maintenance import compact, expire_snapshots
from tests.lakehouse.helpers import NAMESPACE, SCHEMA, batch, local_files, plain, small_file_table


def _history_table(catalog, name="hist"):
    table = catalog.create_table(f"{NAMESPACE}.{name}", schema=SCHEMA)
    table.append(batch(0, 10))
    table.append(batch(10, 10))
    table.overwrite(batch(100, 5))
    table.append(batch(200, 5))
    table.overwrite(batch(300, 7))
    table.append(batch(400, 3))
    return table


def _live_data(table, snapshot_id=None) -> set[str]:
    """Data files of one snapshot, via pyiceberg's inspect API (independent of our walker)."""
    return {plain(p) for p in table.inspect.files(snapshot_id=snapshot_id)["file_path"].to_pylist()}


def _referenced(table) -> set[str]:
    """Data files, manifests and manifest lists of all snapshots, via inspect."""
    out: set[str] = set()
    for snap in table.snapshots():
        out |= _live_data(table, snap.snapshot_id)
        out.add(plain(snap.manifest_list))
    out |= {plain(p) for p in table.inspect.all_manifests()["path"].to_pylist()}
    return out


def test_expire_all_but_last_deletes_exactly_unreferenced(catalog, ice):
    table = _history_table(catalog)
    all_data = set().union(*(_live_data(table, s.snapshot_id) for s in table.snapshots()))
    current = _live_data(table)
    disk_before = local_files(table)
    assert local_files(table, "data") == all_data
    expected = table_fingerprint(ice, table)
    assert expected[0] == 10
    n_snapshots = len(table.snapshots())

    result = expire_snapshots(table, older_than=timedelta(0), retain_last=1)

    assert len(result.expired_snapshot_ids) == n_snapshots - 1
    assert result.retained_snapshot_ids == [table.current_snapshot().snapshot_id]
    assert local_files(table, "data") == current
    assert result.deleted_data_files == len(all_data - current)
    assert not result.failed_paths and not result.skipped_paths
    disk_after = local_files(table)
    assert len(disk_after) < len(disk_before)
    assert disk_after - disk_before == {plain(table.metadata_location)}  # the expiry commit
    deleted = disk_before - disk_after
    assert len(deleted) == result.deleted_paths
    assert not deleted & _referenced(table)  # nothing a live snapshot needs is gone
    assert _referenced(table) <= disk_after
    assert result.files_after < result.files_before
    assert result.bytes_after < result.bytes_before
    assert table_fingerprint(ice, table) == expected
    assert sorted(table.scan().to_arrow().column("id").to_pylist()) == \
        sorted(ice.execute(f"SELECT id FROM iceberg_scan('{table.metadata_location}')")
               .fetchnumpy()["id"].tolist())


def test_retain_last_and_tags_keep_old_snapshots_readable(catalog, ice):
    table = _history_table(catalog)
    lineage = [s.snapshot_id for s in table.snapshots()]
    tagged = lineage[1]  # after the second append: 20 rows
    table.manage_snapshots().create_tag(tagged, "keep").commit()

    result = expire_snapshots(table, older_than=timedelta(0), retain_last=2)

    kept = set(result.retained_snapshot_ids)
    assert kept == {tagged, lineage[-1], lineage[-2]}
    for snap_id in kept:
        assert _live_data(table, snap_id) <= local_files(table, "data")
    assert table.scan(snapshot_id=tagged).to_arrow().num_rows == 20
    assert ice.execute(f"SELECT count(*) FROM iceberg_scan('{table.metadata_location}', "
                       f"snapshot_from_id={tagged})").fetchall() == [(20,)]


def test_nothing_old_enough_deletes_nothing(catalog):
    table = _history_table(catalog)
    disk = local_files(table)
    result = expire_snapshots(table, older_than=timedelta(days=1))
    assert result.expired_snapshot_ids == [] and result.deleted_paths == 0
    assert local_files(table) >= disk


def test_files_outside_table_location_are_kept(catalog, tmp_path):
    table = catalog.create_table(f"{NAMESPACE}.added", schema=SCHEMA)
    landing = tmp_path / "landing" / "part.parquet"
    landing.parent.mkdir()
    pq.write_table(batch(0, 4), landing)
    table.add_files([landing.as_uri()])
    table.overwrite(batch(50, 2))

    result = expire_snapshots(table, older_than=timedelta(0))

    assert landing.exists()
    assert [plain(p) for p in result.skipped_paths] == [str(landing)]


def test_expire_after_compaction_removes_small_files(catalog, ice):
    table = small_file_table(catalog, appends=10)
    expected = table_fingerprint(ice, table)
    compact(table)
    assert len(local_files(table, "data")) == 51

    result = expire_snapshots(table, older_than=timedelta(0))

    assert result.deleted_data_files == 50
    assert len(local_files(table, "data")) == 1
    assert table_fingerprint(ice, table) == expected
