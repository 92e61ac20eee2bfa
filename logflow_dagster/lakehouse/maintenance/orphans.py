"""Orphan removal: delete objects under a table's location that nothing references.

Orphans come from failed or abandoned writes (data files written but never committed),
metadata.json files dropped from the metadata log, and files left by other tools. Every object
under the table location is listed; everything any snapshot references (data and delete files,
manifests, manifest lists), the current and logged metadata files, statistics files and a
version hint are subtracted, and so is anything that belongs to another table of the catalog
(see :mod:`.guard`); what is left and older than the safety age is deleted. The age
guard protects writes in flight (written, not yet committed): keep it longer than your slowest
write.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

from ..storage import ObjectStorage, canonical_uri, utcnow
from .guard import OtherTables
from .references import referenced_files
from .results import OrphanResult

if TYPE_CHECKING:
    from pyiceberg.table import Table

DEFAULT_ORPHAN_AGE = timedelta(days=3)


def remove_orphans(
    table: Table,
    *,
    older_than: timedelta = DEFAULT_ORPHAN_AGE,
    dry_run: bool = False,
    storage: ObjectStorage | None = None,
    others: OtherTables | None = None,
) -> OrphanResult:
    """Delete unreferenced objects under the table location older than ``older_than``.

    Objects whose store reports no modification time are treated as too young unless
    ``older_than`` is zero. Do not nest one table's location inside another's: the inner
    table's files would look like orphans of the outer one.

    Args:
        table: A pyiceberg table (refreshed first).
        older_than: Safety age; only orphans last modified before ``now - older_than`` go.
        dry_run: Report what would be deleted, delete nothing.
        storage: Storage to list and delete with; by default built from the table's location
            and FileIO properties.
        others: The catalog's other tables (:meth:`OtherTables.of`): a file under another
            table's location or referenced by another table is never deleted (reported in
            ``protected_paths``). Always pass it when the catalog is at hand.

    Returns:
        An :class:`OrphanResult` (``orphan_paths`` lists what was, or would be, deleted).

    Raises:
        ValueError: If ``older_than`` is negative.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> stray = f"{table.location()}/data/lost.bin"
        >>> with ObjectStorage.for_table(table).open_output(stray) as f:
        ...     _ = f.write(b"left by a crashed writer")
        >>> r = remove_orphans(table, older_than=timedelta(0), dry_run=True)
        >>> [p.rsplit("/", 1)[1] for p in r.orphan_paths], r.dry_run
        (['lost.bin'], True)
        >>> close_catalog(catalog); tmp.cleanup()
    """
    if older_than < timedelta(0):
        raise ValueError("older_than must be >= 0")
    started = time.perf_counter()
    table.refresh()
    store = storage or ObjectStorage.for_table(table)
    listing = store.list(table.location())
    live = referenced_files(table)
    cutoff = utcnow() - older_than

    result = OrphanResult(table=".".join(table.name()), dry_run=dry_run)
    result.files_before = len(listing)
    result.bytes_before = sum(f.size for f in listing)
    orphans = []
    for info in listing:
        if canonical_uri(info.path) in live:
            continue
        if others is not None and others.claim(info.path) is not None:
            result.protected_paths.append(info.path)
            continue
        old_enough = (info.mtime <= cutoff) if info.mtime is not None else not older_than
        if old_enough:
            orphans.append(info)
        else:
            result.too_young += 1
    result.orphan_paths = [f.path for f in orphans]
    result.orphan_bytes = sum(f.size for f in orphans)

    gone: set[str] = set()
    if not dry_run and orphans:
        gone = set(store.delete(result.orphan_paths))
    result.deleted_paths = len(gone)
    result.files_after = result.files_before - len(gone)
    result.bytes_after = result.bytes_before - sum(f.size for f in orphans if f.path in gone)
    result.duration_s = time.perf_counter() - started
    return result
