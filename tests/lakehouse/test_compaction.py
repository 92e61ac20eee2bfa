"""Compaction keeps every row (DuckDB checksum), cuts the file count, and commits one snapshot."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.exceptions import ValidationException
from pyiceberg.expressions import EqualTo
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import LongType, NestedField, StringType, TimestampType

from logflow_dagster.lakehouse.duckdb_reader import table_fingerprint
from logflow_dagster.lakehouse.maintenance import compact, compaction
from tests.lakehouse.helpers import NAMESPACE, local_files, plain, small_file_table

EVENT_SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=False),
    NestedField(2, "source", StringType(), required=False),
    NestedField(3, "ts", TimestampType(), required=False),
)
EVENT_ARROW = pa.schema([("id", pa.int64()), ("source", pa.string()), ("ts", pa.timestamp("us"))])
DAY0 = datetime(2026, 11, 1)


def _events(start: int, days: int = 3, sources: tuple[str, ...] = ("a",)) -> pa.Table:
    rows = [(start + i * len(sources) + j, s, DAY0 + timedelta(days=i, hours=start % 24))
            for i in range(days) for j, s in enumerate(sources)]
    return pa.table({"id": [r[0] for r in rows], "source": [r[1] for r in rows],
                     "ts": [r[2] for r in rows]}, schema=EVENT_ARROW)


def test_200_small_files_become_one(catalog, ice):
    table = small_file_table(catalog)
    assert len(table.inspect.files()) == 200
    before = table_fingerprint(ice, table)
    snapshots_before = len(table.snapshots())
    parent = table.current_snapshot().snapshot_id

    result = compact(table)

    assert result.committed
    assert (result.files_before, result.files_after) == (200, 1)
    assert (result.rewritten_files, result.added_files, result.rows) == (200, 1, 200)
    assert result.bytes_after < result.bytes_before
    assert table_fingerprint(ice, table) == before == (200, before[1])
    assert len(table.snapshots()) == snapshots_before + 1
    snap = table.current_snapshot()
    assert snap.snapshot_id == result.snapshot_id_after and snap.parent_snapshot_id == parent
    assert snap.summary.operation.value == "overwrite"
    assert snap.summary["logflow.operation"] == "compaction"
    assert snap.summary["total-records"] == "200"
    assert len(table.inspect.files()) == 1
    # the new file was written by pyiceberg's writer: it carries Parquet field ids
    new_file = table.inspect.files()["file_path"][0].as_py()
    field = pq.read_schema(plain(new_file)).field("id")
    assert field.metadata[b"PARQUET:field_id"] == b"1"
    # time travel to the pre-compaction snapshot still sees the same rows
    assert table.scan(snapshot_id=parent).to_arrow().num_rows == 200

    again = compact(table)
    assert not again.committed and again.files_after == 1
    assert len(table.snapshots()) == snapshots_before + 1


def test_target_size_splits_output(catalog, ice):
    table = small_file_table(catalog, appends=20)  # 100 one-row files
    before = table_fingerprint(ice, table)
    sizes = table.inspect.files()["file_size_in_bytes"].to_pylist()
    target = sum(sizes) // 5 + 1

    result = compact(table, target_file_size=target, small_file_ratio=1.0)

    assert 5 <= result.added_files <= 6
    assert result.rewritten_files == 100
    assert table_fingerprint(ice, table) == before
    assert all(s <= target for s in table.inspect.files()["file_size_in_bytes"].to_pylist())


def test_min_input_files_and_large_files_left_alone(catalog, ice):
    table = small_file_table(catalog, appends=1, files_per_append=3)
    assert not compact(table, min_input_files=4).committed
    # every file counts as large when the target is tiny
    assert not compact(table, target_file_size=10).committed
    assert compact(table, min_input_files=3).files_after == 1


def test_day_partitions_compacted_within_partition(catalog, ice):
    spec = PartitionSpec(PartitionField(source_id=3, field_id=1000, transform=DayTransform(),
                                        name="ts_day"))
    table = catalog.create_table(f"{NAMESPACE}.daily", schema=EVENT_SCHEMA, partition_spec=spec)
    for i in range(30):
        table.append(_events(i * 10))  # each append: one row in each of 3 days -> 3 files
    assert len(table.inspect.files()) == 90
    before = table_fingerprint(ice, table)

    result = compact(table)

    assert (result.files_before, result.files_after, result.partitions) == (90, 3, 3)
    assert table_fingerprint(ice, table) == before
    files = table.inspect.files()
    days = sorted(p["ts_day"] for p in files["partition"].to_pylist())
    assert days == [DAY0.date() + timedelta(days=i) for i in range(3)]
    for path, part in zip(files["file_path"].to_pylist(), files["partition"].to_pylist(),
                          strict=True):
        ts = pq.read_table(plain(path)).column("ts").to_pylist()
        assert len(ts) == 30 and {t.date() for t in ts} == {part["ts_day"]}
        assert "ts_day=" in path  # pyiceberg's partition path layout
    per_day = ice.execute(
        f"SELECT ts::DATE, count(*) FROM iceberg_scan('{table.metadata_location}') "
        "GROUP BY 1 ORDER BY 1").fetchall()
    assert [n for _, n in per_day] == [30, 30, 30]


def test_identity_partitions_and_partition_filter(catalog, ice):
    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000,
                                        transform=IdentityTransform(), name="source"))
    table = catalog.create_table(f"{NAMESPACE}.by_source", schema=EVENT_SCHEMA,
                                 partition_spec=spec)
    for i in range(10):
        table.append(_events(i * 10, days=1, sources=("a", "b")))
    before = table_fingerprint(ice, table)

    result = compact(table, partition_filter=EqualTo("source", "a"))

    assert (result.rewritten_files, result.added_files, result.partitions) == (10, 1, 1)
    assert table_fingerprint(ice, table) == before
    parts = [p["source"] for p in table.inspect.files()["partition"].to_pylist()]
    assert sorted(parts) == ["a"] + ["b"] * 10

    assert compact(table, partition_filter="source = 'b'").files_after == 2
    assert table_fingerprint(ice, table) == before


def test_concurrent_delete_makes_compaction_fail_cleanly(catalog, ice, monkeypatch):
    table = small_file_table(catalog, appends=2)
    other = catalog.load_table(table.name())
    written: list[str] = []
    real_write_bin = compaction._write_bin

    def racing_write_bin(*args, **kwargs):
        data_file, rows = real_write_bin(*args, **kwargs)
        written.append(data_file.file_path)
        other.delete("id = 3")  # a concurrent writer removes a file being compacted
        return data_file, rows

    monkeypatch.setattr(compaction, "_write_bin", racing_write_bin)
    with pytest.raises(ValidationException, match="concurrently deleted"):
        compact(table)  # pyiceberg's retry re-validates the files being replaced

    assert written and not any(plain(p) in local_files(table) for p in written)
    assert table_fingerprint(ice, catalog.load_table(table.name()))[0] == 9


def test_files_from_older_schemas_are_projected(catalog, ice):
    table = small_file_table(catalog, appends=2)
    with table.update_schema() as update:
        update.add_column("extra", StringType())
    wide = pa.table({"id": [900, 901], "name": ["w", None], "score": [1.0, 2.0],
                     "extra": ["x", None]})
    table.append(wide)
    before = table_fingerprint(ice, table)
    assert before[0] == 12

    result = compact(table)

    assert result.rewritten_files == 12 and result.added_files == 1
    assert table_fingerprint(ice, table) == before
    extra = ice.execute(f"SELECT id, extra FROM iceberg_scan('{table.metadata_location}') "
                        "WHERE extra IS NOT NULL").fetchall()
    assert extra == [(900, "x")]
