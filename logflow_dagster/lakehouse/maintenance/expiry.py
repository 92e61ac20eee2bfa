"""Snapshot expiry that also deletes the files only expired snapshots referenced.

pyiceberg 0.12's ``table.maintenance.expire_snapshots()`` removes snapshots from the metadata
but leaves every file on storage. Here: walk all snapshots before, expire, walk the snapshots
left after (re-read from the catalog, so a concurrent commit's files count as live), and delete
the difference with the table's FileIO. A file any remaining snapshot references, or any
current/logged metadata file, is never deleted.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING

from ..storage import utcnow
from .guard import OtherTables
from .references import ManifestCache, RefFile, is_under, metadata_files, snapshot_files
from .results import ExpiryResult

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata

DELETE_WORKERS = 8
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _expirable(metadata: TableMetadata, older_than: timedelta, retain_last: int) -> list[int]:
    """Snapshots older than the cutoff, minus ref heads and the last N of the main lineage."""
    from pyiceberg.table.snapshots import ancestors_of

    cutoff_ms = int((utcnow() - older_than).timestamp() * 1000)
    protected = {ref.snapshot_id for ref in metadata.refs.values()}
    recent = ancestors_of(metadata.current_snapshot(), metadata)
    protected |= {s.snapshot_id for s in islice(recent, retain_last)}
    return sorted(s.snapshot_id for s in metadata.snapshots
                  if s.timestamp_ms < cutoff_ms and s.snapshot_id not in protected)


def _commit_expiry(table: Table, expire_ids: list[int]) -> None:
    """Expire exactly ``expire_ids`` with pyiceberg's builder, in one commit.

    ``ExpireSnapshots.by_id`` re-copies the whole table metadata per id (quadratic in the
    snapshot count), so the bulk goes through ``older_than(boundary)``, which picks exactly
    the unprotected snapshots older than the boundary, and only the rest through ``by_ids``.
    """
    metadata = table.metadata
    wanted = set(expire_ids)
    by_id = {s.snapshot_id: s for s in metadata.snapshots}
    kept = [s for s in metadata.snapshots if s.snapshot_id not in wanted]
    boundary_ms = min([s.timestamp_ms for s in kept] + [max(by_id[i].timestamp_ms
                                                            for i in wanted) + 1])
    bulk = {i for i in wanted if by_id[i].timestamp_ms < boundary_ms}
    builder = table.maintenance.expire_snapshots()
    if bulk:
        builder = builder.older_than(EPOCH + timedelta(milliseconds=boundary_ms))
    if wanted - bulk:
        builder = builder.by_ids(sorted(wanted - bulk))
    builder.commit()


def _size(table: Table, ref: RefFile) -> int:
    """Bytes of one file; sizes the metadata does not record (manifest lists) come from storage."""
    if ref.size is not None:
        return ref.size
    try:
        return len(table.io.new_input(ref.path))
    except OSError:
        return 0


def _delete(table: Table, ref: RefFile) -> tuple[RefFile, bool | None]:
    """Delete one file: True deleted, None already gone, False failed."""
    try:
        table.io.delete(ref.path)
    except FileNotFoundError:
        return ref, None
    except OSError:
        return ref, False
    return ref, True


def expire_snapshots(
    table: Table,
    *,
    older_than: timedelta,
    retain_last: int = 1,
    delete_files: bool = True,
    only_under_location: bool = True,
    others: OtherTables | None = None,
) -> ExpiryResult:
    """Expire old snapshots and delete the files no remaining snapshot references.

    A snapshot is expired when it is older than ``older_than``, is not the head of a branch or
    a tag, and is not among the ``retain_last`` most recent snapshots of the current lineage.

    Args:
        table: A pyiceberg table (refreshed first).
        older_than: Age a snapshot must exceed (``timedelta(0)``: every unprotected one).
        retain_last: Newest snapshots of the current lineage always kept (>= 1).
        delete_files: Delete unreferenced data files, manifests and manifest lists.
        only_under_location: Delete only files under the table location; unreferenced files
            elsewhere (e.g. added with ``add_files`` from a landing folder) are reported in
            ``skipped_paths`` and kept.
        others: The catalog's other tables (:meth:`OtherTables.of`): a file another table
            references or that lies under another table's location is kept (reported in
            ``protected_paths``).

    Returns:
        An :class:`ExpiryResult`.

    Raises:
        ValueError: If ``retain_last < 1`` or ``older_than`` is negative.

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
        >>> first = table.snapshots()[0].snapshot_id
        >>> r = expire_snapshots(table, older_than=timedelta(0), retain_last=2)
        >>> r.expired_snapshot_ids == [first], r.deleted_data_files  # appends share data files
        (True, 0)
        >>> close_catalog(catalog); tmp.cleanup()
    """
    if retain_last < 1 or older_than < timedelta(0):
        raise ValueError("need retain_last >= 1 and older_than >= 0")
    started = time.perf_counter()
    table.refresh()
    result = ExpiryResult(table=".".join(table.name()))
    cache = ManifestCache(table.io)
    before = snapshot_files(table.metadata.snapshots, cache)
    sizes = {key: _size(table, ref) for key, ref in before.items()}
    result.files_before, result.bytes_before = len(before), sum(sizes.values())

    ids_before = {s.snapshot_id for s in table.metadata.snapshots}
    expire_ids = _expirable(table.metadata, older_than, retain_last)
    if expire_ids:
        _commit_expiry(table, expire_ids)
        table.refresh()
    result.retained_snapshot_ids = sorted(s.snapshot_id for s in table.metadata.snapshots)
    result.expired_snapshot_ids = sorted(ids_before - set(result.retained_snapshot_ids))

    after = snapshot_files(table.metadata.snapshots, cache)
    live = {**after, **metadata_files(table)}
    result.files_after = len(after)
    result.bytes_after = sum(sizes[k] if k in sizes else _size(table, r) for k, r in after.items())

    location = table.location()
    doomed: list[RefFile] = []
    for key, ref in before.items():
        if key in live:
            continue
        if only_under_location and not is_under(ref.path, location):
            result.skipped_paths.append(ref.path)
        elif others is not None and others.claim(ref.path) is not None:
            result.protected_paths.append(ref.path)
        else:
            doomed.append(RefFile(ref.path, sizes[key], ref.kind))
    if delete_files and doomed:
        with ThreadPoolExecutor(max_workers=DELETE_WORKERS) as pool:
            outcomes = list(pool.map(lambda r: _delete(table, r), doomed))
        counters = {"data": "deleted_data_files", "delete": "deleted_data_files",
                    "manifest": "deleted_manifests", "manifest_list": "deleted_manifest_lists"}
        for ref, ok in outcomes:
            if ok is False:
                result.failed_paths.append(ref.path)
            elif ok:
                result.deleted_paths += 1
                result.deleted_bytes += ref.size or 0
                attr = counters[ref.kind]
                setattr(result, attr, getattr(result, attr) + 1)
    result.duration_s = time.perf_counter() - started
    return result
