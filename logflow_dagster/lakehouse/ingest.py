"""``ingest``: one input file into an Iceberg table, streamed, replacing that source's rows."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from ..core.convert import ReadOptions, run_pipeline
from ..core.errors import ErrorPolicy
from ..core.hashing import content_hash
from ..core.identifiers import validate_table_name
from ..core.lineage_columns import LINEAGE_COLUMNS
from ..core.result import IngestResult
from ..core.schema import type_label
from ..core.source import Source
from .catalog import CatalogConfig, close_catalog, ensure_namespace, open_catalog
from .iceberg_sink import IcebergSink
from .partitioning import parse_partition_spec
from .schema_policy import SchemaPolicy


def last_ingest_of(table: Any, source_uri: str) -> dict[str, str] | None:
    """What the newest snapshot that ingested ``source_uri`` recorded, if any: its ``hash``,
    ``snapshot_id``, ``rows_read``, ``rows_rejected`` and ``rows_written`` (as text)."""
    snapshots = sorted(table.snapshots(), key=lambda s: s.timestamp_ms, reverse=True)
    for snap in snapshots:
        if snap.summary is not None and snap.summary["logflow.source"] == source_uri:
            summary = snap.summary
            return {"hash": summary["logflow.source-hash"] or "",
                    "snapshot_id": str(snap.snapshot_id),
                    "rows_read": summary["logflow.rows-read"] or "",
                    "rows_rejected": summary["logflow.rows-rejected"] or "",
                    "rows_written": summary["added-records"] or "0"}
    return None


def ingest(
    src: str | os.PathLike[str],
    table: str,
    *,
    catalog: CatalogConfig | Any | None = None,
    project_dir: str | os.PathLike[str] = ".",
    partition_by: list[str] | str | None = None,
    schema_policy: str | SchemaPolicy = SchemaPolicy.MERGE,
    error_policy: str | ErrorPolicy = ErrorPolicy.STRICT,
    quarantine: str | None = None,
    lineage: bool = True,
    force: bool = False,
    reading: ReadOptions | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> IngestResult:
    """Ingests one file into an Iceberg table (created on first use).

    Streams: data files are written as batches come and committed in one snapshot. Ingesting
    the same source again replaces exactly its earlier rows in one atomic commit; an
    identical file (same content hash) is skipped unless ``force``.

    Args:
        src: Input path or URI.
        table: ``namespace.table``.
        catalog: A :class:`CatalogConfig`, an open pyiceberg catalog, or ``None`` for the
            embedded default under ``project_dir/.logflow``.
        project_dir: The project folder (embedded catalog, default quarantine location).
        partition_by: Partition fields for a new table (``day(ts)``, ``region``,
            ``bucket(16, id)``, ``truncate(4, name)``).
        schema_policy: ``strict``, ``merge`` or ``evolve`` (see :class:`SchemaPolicy`).
        error_policy: ``strict``, ``permissive`` or ``quarantine``.
        quarantine: Quarantine file (default ``.logflow/quarantine/<table>/<file>.jsonl``).
        lineage: Add ``_source_uri``, ``_source_hash`` and ``_ingested_at`` to every row.
        force: Re-ingest even when the file is unchanged.
        reading: Detection and decoding options.
        on_progress: Called with (bytes read, total bytes or None).

    Returns:
        The :class:`IngestResult` with ``table``, ``snapshot_id`` and ``data_files``.

    Example:
        >>> import pathlib, tempfile
        >>> csv = "id,ts\\n1,2024-03-01T10:00:00Z\\n2,2024-03-02T11:00:00Z\\n"
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = pathlib.Path(tmp, "orders.csv").write_text(csv)
        ...     r = ingest(f"{tmp}/orders.csv", "raw.orders", project_dir=tmp,
        ...                partition_by=["day(ts)"])
        ...     again = ingest(f"{tmp}/orders.csv", "raw.orders", project_dir=tmp)
        >>> r.rows_written, len(r.data_files), again.skipped  # one file per day; same file: skipped
        (2, 2, True)
    """
    table = validate_table_name(table)
    reading = reading or ReadOptions()
    policy = SchemaPolicy.parse(schema_policy)
    fields = parse_partition_spec(partition_by)
    if catalog is None:
        catalog = CatalogConfig.embedded(project_dir).with_env_overrides()
    source = Source.open_path(src, mmap=reading.mmap,
                              storage_options=reading.storage_options)
    namespace = table.rsplit(".", 1)[0]
    # the catalog opens (pyiceberg's imports: ~0.35 s) and the file is hashed while detection
    # and decoding start; the pipeline decodes and profiles ahead until both are done, and an
    # unchanged file stops the run then, before anything is written or quarantined
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="logflow-prep") as pool:
        hashing = pool.submit(content_hash, source)
        # a catalog given open stays the caller's to close; one opened here is closed here
        opening = pool.submit(open_catalog, catalog) if isinstance(catalog, CatalogConfig) \
            else None

        def prepare() -> tuple[Any, str]:
            cat = opening.result() if opening is not None else catalog
            digest = hashing.result()
            ensure_namespace(cat, namespace)
            previous = _previous(cat, table, source.uri)
            if previous and previous["hash"] == digest and not force:
                raise _Unchanged(previous, _columns_of(cat, table))
            return cat, digest

        # on a worker once the catalog is open (the hash is ready by then): no thread waits
        preparing = pool.submit(prepare)
        sink = IcebergSink(None, table, source_uri=source.uri, source_hash="",
                           partition_by=fields, schema_policy=policy, lineage=lineage,
                           prepare=preparing)
        qpath = quarantine or str(Path(project_dir) / ".logflow" / "quarantine" / table /
                                  (Path(source.name).name + ".jsonl"))
        try:
            result = run_pipeline(src, sink, output=table, reading=reading,
                                  error_policy=error_policy, quarantine=qpath,
                                  on_progress=on_progress)
        except _Unchanged as unchanged:
            return unchanged.result(os.fspath(src), table)
        finally:
            wait([preparing])  # it may be using the catalog (a run can fail before begin)
            if opening is not None and opening.exception() is None:
                close_catalog(opening.result())
    result.table = table
    result.snapshot_id = sink.commit.snapshot_id
    result.data_files = list(sink.commit.data_files)
    result.replaced = sink.commit.replaced
    result.source_hash = sink.source_hash
    return result


class _Unchanged(Exception):
    """The file was ingested before with the same content: the run stops at its first step.

    Its result reports what the table holds for the file, as its ingest recorded it (rows
    read, written and rejected, the snapshot) and the table's columns: never zeros that read
    as data loss.
    """

    def __init__(self, previous: dict[str, str], columns: list[dict[str, str]]) -> None:
        super().__init__("identical content already ingested")
        self.previous = previous
        self.columns = columns

    def result(self, src: str, table: str) -> IngestResult:
        prev = self.previous
        read = int(prev["rows_read"] or 0)
        rejected = int(prev["rows_rejected"] or 0)
        written = int(prev["rows_written"] or 0) if prev["rows_read"] else 0
        return IngestResult(
            input=src, output=table, format="skipped", table=table,
            snapshot_id=int(prev["snapshot_id"]), skipped=True, source_hash=prev["hash"],
            rows_read=read, rows_written=written, rows_rejected=rejected,
            columns=self.columns,
            detection={"notes": ["identical content already ingested (the counts are that "
                                 "ingest's); use force to redo"]})


def _columns_of(catalog: Any, table: str) -> list[dict[str, str]]:
    """The table's data columns (lineage columns left out), as the engine reports columns."""
    schema = catalog.load_table(table).schema().as_arrow()
    return [{"name": f.name, "type": type_label(f.type)} for f in schema
            if f.name not in LINEAGE_COLUMNS]


def _previous(catalog: Any, table: str, source_uri: str) -> dict[str, str] | None:
    from pyiceberg.exceptions import NoSuchTableError

    try:
        return last_ingest_of(catalog.load_table(table), source_uri)
    except NoSuchTableError:
        return None
