"""Compaction: rewrite many small data files as few large ones, in one atomic snapshot.

pyiceberg 0.12 has no rewrite-files action, so this one is assembled from its public pieces:

* plan: ``table.scan(row_filter).plan_files()`` gives the live data files (with the delete files
  that apply to each) of the current snapshot;
* read: ``pyiceberg.io.pyarrow.ArrowScan(...).to_table(tasks)`` reads exactly the chosen files,
  projected onto the current schema;
* write: ``pyiceberg.io.pyarrow.write_file`` with ``pyiceberg.table.WriteTask`` (pyiceberg's own
  Parquet writer: field ids, column statistics, the table's location provider and partition
  path), one task per output file, with a ``PartitionKey`` rebuilt from the source files'
  partition record;
* commit: ``table.transaction()`` -> ``update_snapshot().overwrite()`` with
  ``delete_data_file`` for every replaced file and ``append_data_file`` for every new one,
  committed once. The overwrite producer re-validates on a concurrent-commit retry that every
  replaced file still exists and gained no delete files, so a racing writer makes the commit
  fail rather than lose or duplicate rows.

The snapshot's operation is ``overwrite`` (pyiceberg exposes no ``replace`` producer); its
summary carries ``logflow.operation=compaction``.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .results import CompactionResult

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import FileScanTask, Table

MiB = 1024 * 1024
DEFAULT_TARGET_FILE_SIZE = 128 * MiB
SNAPSHOT_PROPERTY = "logflow.operation"


def _bins(tasks: list[FileScanTask], target: int) -> list[list[FileScanTask]]:
    """Next-fit packing by on-disk size, in commit order; bins of one file are dropped."""
    bins: list[list[FileScanTask]] = []
    current: list[FileScanTask] = []
    size = 0
    for task in tasks:
        file_size = task.file.file_size_in_bytes
        if current and size + file_size > target:
            bins.append(current)
            current, size = [], 0
        current.append(task)
        size += file_size
    if current:
        bins.append(current)
    return [b for b in bins if len(b) >= 2]


def _partition_key(table: Table, data_file: DataFile) -> Any:
    """Rebuild the PartitionKey that makes pyiceberg's writer reproduce ``data_file.partition``."""
    from pyiceberg.partitioning import PartitionFieldValue, PartitionKey

    spec = table.metadata.spec()
    if spec.is_unpartitioned():
        return None
    values = [
        PartitionFieldValue(field=f, value=data_file.partition[i])
        for i, f in enumerate(spec.fields)
    ]
    return PartitionKey(field_values=values, partition_spec=spec, schema=table.schema())


def _write_bin(table: Table, tasks: list[FileScanTask], write_uuid: uuid.UUID,
               task_id: int) -> tuple[DataFile, int]:
    """Read one bin's files and write them back as one data file; returns (file, rows)."""
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan, write_file
    from pyiceberg.table import WriteTask

    schema = table.schema()
    arrow = ArrowScan(table.metadata, table.io, schema, AlwaysTrue()).to_table(tasks)
    key = _partition_key(table, tasks[0].file)
    write_task = WriteTask(write_uuid=write_uuid, task_id=task_id, schema=schema,
                           record_batches=arrow.to_batches(), partition_key=key)
    (data_file,) = list(write_file(table.io, table.metadata, iter([write_task])))
    expected_rows = sum(t.file.record_count for t in tasks)
    if data_file.record_count != expected_rows or arrow.num_rows != expected_rows:
        raise RuntimeError(f"compaction read {arrow.num_rows} rows and wrote "
                           f"{data_file.record_count}, expected {expected_rows}")
    if key is not None and data_file.partition != tasks[0].file.partition:
        raise RuntimeError(f"compaction wrote partition {data_file.partition}, "
                           f"expected {tasks[0].file.partition}")
    return data_file, expected_rows


def _delete_quietly(table: Table, paths: Iterable[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            table.io.delete(path)


def compact(
    table: Table,
    *,
    target_file_size: int = DEFAULT_TARGET_FILE_SIZE,
    min_input_files: int = 2,
    partition_filter: BooleanExpression | str | None = None,
    small_file_ratio: float = 0.75,
) -> CompactionResult:
    """Rewrite small data files into files near ``target_file_size``, per partition.

    Data files of the current snapshot smaller than ``small_file_ratio * target_file_size``
    (on-disk bytes) are grouped by partition; a partition with at least ``min_input_files``
    such files is packed into bins of up to ``target_file_size`` and each bin becomes one new
    file. All replacements land in ONE snapshot, so readers see either the old files or the
    new ones, never both, and every row is kept (checked by row counts before committing).

    Files are left alone when delete files apply to them, when they belong to an older
    partition spec, or when they are not Parquet.

    Args:
        table: A pyiceberg table (refreshed first).
        target_file_size: Desired output size in on-disk bytes (default 128 MiB).
        min_input_files: Minimum small files in a partition before it is compacted (>= 2).
        partition_filter: Row filter choosing which files to consider, e.g.
            ``"source = 'web'"`` or ``EqualTo("source", "web")``; files that may hold
            matching rows are considered, and always rewritten whole.
        small_file_ratio: Files below this fraction of the target count as small.

    Returns:
        A :class:`CompactionResult`; ``committed`` is False when there was nothing to do.

    Raises:
        ValueError: On invalid arguments.
        pyiceberg.exceptions.CommitFailedException: Concurrent commits kept winning.
        pyiceberg.exceptions.ValidationException: A concurrent commit removed a file being
            replaced, or added deletes to it. In both cases nothing was committed and the
            new files were removed again; re-run to compact the new state.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> table.append(pa.table({"id": [3]}))
        >>> table.append(pa.table({"id": [4]}))
        >>> result = compact(table, target_file_size=64 * MiB)
        >>> result.files_before, result.files_after, result.rows
        (3, 1, 4)
        >>> close_catalog(catalog); tmp.cleanup()
    """
    from pyiceberg.exceptions import CommitFailedException, ValidationException
    from pyiceberg.manifest import FileFormat

    if target_file_size <= 0 or min_input_files < 2 or not 0 < small_file_ratio <= 1:
        raise ValueError("need target_file_size > 0, min_input_files >= 2, "
                         "0 < small_file_ratio <= 1")
    started = time.perf_counter()
    table.refresh()
    name = ".".join(table.name())
    before = table.current_snapshot()
    result = CompactionResult(table=name, snapshot_id_before=before and before.snapshot_id,
                              snapshot_id_after=before and before.snapshot_id)
    if before is None:
        result.duration_s = time.perf_counter() - started
        return result

    all_tasks = list(table.scan().plan_files())
    result.files_before = len(all_tasks)
    result.bytes_before = sum(t.file.file_size_in_bytes for t in all_tasks)
    tasks = all_tasks if partition_filter is None else list(
        table.scan(row_filter=partition_filter).plan_files())

    threshold = int(target_file_size * small_file_ratio)
    spec_id = table.metadata.default_spec_id
    groups: dict[Any, list[FileScanTask]] = defaultdict(list)
    for task in tasks:
        data_file = task.file
        if data_file.file_size_in_bytes >= threshold or data_file.spec_id != spec_id:
            continue
        if data_file.file_format != FileFormat.PARQUET:
            continue
        if task.delete_files:
            result.skipped_with_deletes += 1
            continue
        groups[data_file.partition].append(task)

    bins = [b for group in groups.values() if len(group) >= min_input_files
            for b in _bins(group, target_file_size)]
    if not bins:
        result.files_after, result.bytes_after = result.files_before, result.bytes_before
        result.duration_s = time.perf_counter() - started
        return result

    write_uuid = uuid.uuid4()
    written: list[DataFile] = []
    try:
        for i, bin_tasks in enumerate(bins):
            data_file, rows = _write_bin(table, bin_tasks, write_uuid, i)
            written.append(data_file)
            result.rows += rows
    except BaseException:
        _delete_quietly(table, [f.file_path for f in written])
        raise

    replaced = [t.file for b in bins for t in b]
    properties = {SNAPSHOT_PROPERTY: "compaction"}
    try:
        tx = table.transaction()
        with tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
            for data_file in replaced:
                overwrite.delete_data_file(data_file)
            for data_file in written:
                overwrite.append_data_file(data_file)
        tx.commit_transaction()
    except (CommitFailedException, ValidationException):
        # The commit certainly did not land: the new files are garbage.
        _delete_quietly(table, [f.file_path for f in written])
        raise

    after = table.current_snapshot()
    result.snapshot_id_after = after.snapshot_id if after else None
    result.rewritten_files = len(replaced)
    result.rewritten_bytes = sum(f.file_size_in_bytes for f in replaced)
    result.added_files = len(written)
    result.added_bytes = sum(f.file_size_in_bytes for f in written)
    result.partitions = len({t.file.partition for b in bins for t in b})
    result.files_after = result.files_before - result.rewritten_files + result.added_files
    result.bytes_after = result.bytes_before - result.rewritten_bytes + result.added_bytes
    result.duration_s = time.perf_counter() - started
    return result
