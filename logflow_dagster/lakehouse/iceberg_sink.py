"""Streaming rows into an Iceberg table: Parquet data files as batches come, one commit at the end.

The sink follows the pipeline's :class:`~logflow_dagster.core.sinks.base.Sink` contract. Data
files are written straight into the table's ``data/`` location (one file per partition value
and schema segment) while the input streams, so memory stays a few batches deep. ``finish``
evolves the table schema as the policy allows and commits every file in one transaction, which
first deletes the rows an earlier ingest of the same source wrote: re-ingesting a source
replaces exactly its rows, atomically. A process killed before the commit leaves the table at
its previous snapshot (the written files are orphans, which ``remove_orphans`` cleans up).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.errors import ConflictError
from ..core.lineage_columns import INGESTED_AT, LINEAGE_COLUMNS, SOURCE_HASH, SOURCE_URI
from ..core.schema.align import conform_batch
from ..core.sinks.encoding import dictionary_columns
from .partitioning import PartitionField, split_by_partition
from .schema_policy import SchemaPolicy, apply_schema_policy, iceberg_ready
from .storage import ObjectStorage

MAX_OPEN_FILES = 32
COMMIT_ATTEMPTS = 12
NAME_MAPPING = "schema.name-mapping.default"


@dataclass
class _Open:
    uri: str
    segment: int
    writer: pq.ParquetWriter
    stream: Any
    partition: tuple[object, ...] = ()


@dataclass
class CommitInfo:
    """What the commit did."""

    snapshot_id: int | None = None
    data_files: list[str] = field(default_factory=list)
    attempts: int = 0
    replaced: bool = False


class IcebergSink:
    """Writes the pipeline's rows into an Iceberg table.

    Args:
        catalog: A pyiceberg catalog.
        identifier: ``namespace.table``.
        source_uri: The input's URI (the ``_source_uri`` lineage value and replace key).
        source_hash: The input's content hash (``_source_hash``).
        partition_by: Partition fields for a table this sink creates.
        schema_policy: ``strict``, ``merge`` or ``evolve``.
        lineage: Add the lineage columns.
        summary: Extra snapshot summary properties.
        prepare: The catalog and the source hash when they were not known yet
            (``catalog=None``), as a future: :func:`ingest` opens the catalog and hashes the
            file while decoding starts; :meth:`begin` waits for it, and its exception stops
            the run before anything is written.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> sink = IcebergSink(catalog, "raw.orders", source_uri="file:///in.csv",
        ...                    source_hash="ab12")
        >>> batch = pa.record_batch({"id": [1, 2]})
        >>> sink.write(batch, segment=0)
        >>> files = sink.finish(batch.schema, metadata={})  # one commit, one snapshot
        >>> catalog.load_table("raw.orders").scan().to_arrow().column_names
        ['id', '_source_uri', '_source_hash', '_ingested_at']
        >>> close_catalog(catalog); tmp.cleanup()
    """

    def __init__(
        self,
        catalog: Any,
        identifier: str,
        *,
        source_uri: str,
        source_hash: str,
        partition_by: list[PartitionField] | None = None,
        schema_policy: SchemaPolicy = SchemaPolicy.MERGE,
        lineage: bool = True,
        summary: dict[str, str] | None = None,
        prepare: Future[tuple[Any, str]] | None = None,
    ) -> None:
        self._prepare = prepare
        self.catalog = catalog
        self.identifier = identifier
        self.source_uri = source_uri
        self.source_hash = source_hash
        self.partition_by = partition_by or []
        self.policy = schema_policy
        self.lineage = lineage
        self.summary = dict(summary or {})
        self.rows_written = 0
        self.commit = CommitInfo()
        self.created = False
        self._table: Any = None
        self._spec_fields: list[PartitionField] = []
        self._storage: ObjectStorage | None = None
        self._open: OrderedDict[tuple[int, str], _Open] = OrderedDict()
        self._done: list[_Open] = []
        self._schemas: dict[int, pa.Schema] = {}
        self._token = uuid.uuid4().hex[:12]
        self._partitions: dict[str, tuple[object, ...]] = {}
        self._ingested_at = datetime.now(UTC)
        self._lineage: tuple[pa.Array, pa.Array, pa.Array] | None = None
        self._n = 0

    # -- writing ---------------------------------------------------------------------------

    def ready(self) -> bool:
        """True once the catalog and the source hash are known."""
        return self._prepare is None or self._prepare.done()

    def begin(self) -> None:
        """Waits (once) for ``prepare``: the catalog and the source hash."""
        if self._prepare is not None:
            prepare, self._prepare = self._prepare, None
            self.catalog, self.source_hash = prepare.result()

    def write(self, batch: pa.RecordBatch | pa.Table, *, segment: int) -> None:
        """Writes one batch of ``segment`` as rows of the table's data files."""
        self.begin()
        if batch.num_rows == 0 and segment in self._schemas:
            return
        table = iceberg_ready(pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch)
                              else batch)
        table = self._with_lineage(table)
        if self._table is None:
            self._open_table(_plain_lineage(table.schema))
        if segment not in self._schemas:
            self._close(lambda key: key[0] < segment)
            self._schemas[segment] = _plain_lineage(table.schema)
        if table.num_rows == 0:
            return
        for label, values, part in split_by_partition(table, self._spec_fields,
                                                      self._table.schema()):
            self._writer(segment, label, values, part).writer.write_table(part)
        self.rows_written += batch.num_rows

    def _with_lineage(self, table: pa.Table) -> pa.Table:
        if not self.lineage:
            return table
        n = table.num_rows
        if self._lineage is None or len(self._lineage[0]) < n:  # built once, sliced per batch
            # the two text values as one-entry dictionaries: the Parquet writer stores the
            # value once and an index per row, where plain strings cost a hash of each row's
            # copy (0.2 CPU-s per 5M rows); files keep no Arrow schema, so every reader sees
            # these columns as plain strings
            zeros = pa.array(np.zeros(n, dtype=np.int32))
            ts = pa.scalar(self._ingested_at, pa.timestamp("us", tz="UTC"))
            self._lineage = (
                pa.DictionaryArray.from_arrays(zeros, pa.array([self.source_uri], pa.string())),
                pa.DictionaryArray.from_arrays(zeros, pa.array([self.source_hash], pa.string())),
                pa.repeat(ts, n))
        for name, values in zip(LINEAGE_COLUMNS, self._lineage, strict=True):
            table = table.append_column(name, values.slice(0, n))
        return table

    def _open_table(self, schema: pa.Schema) -> None:
        from pyiceberg.exceptions import NoSuchTableError

        try:
            self._table = self.catalog.load_table(self.identifier)
        except NoSuchTableError:
            self._table = self._create(schema)
        self._storage = ObjectStorage.for_table(self._table)
        self._spec_fields = self._fields()  # the spec every file of this ingest is written by
        apply_schema_policy(self._table, schema, self.policy, dry_run=True)

    def _create(self, schema: pa.Schema) -> Any:
        """Creates the table with its partition spec in one commit: a writer that loads it
        right after must see the spec its files will be committed under."""
        from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError

        try:
            with self.catalog.create_table_transaction(self.identifier, schema=schema) as tx:
                if self.partition_by:
                    with tx.update_spec() as spec:
                        for f in self.partition_by:
                            spec.add_field(f.column, f.iceberg_transform(), f.name)
        except (TableAlreadyExistsError, CommitFailedException):  # another writer was first
            return self.catalog.load_table(self.identifier)
        self.created = True
        return self.catalog.load_table(self.identifier)

    def _fields(self) -> list[PartitionField]:
        """The partition fields of the table's current spec (not only those asked for)."""
        spec = self._table.spec()
        out = []
        schema = self._table.schema()
        for pf in spec.fields:
            column = schema.find_column_name(pf.source_id)
            name = type(pf.transform).__name__.replace("Transform", "").lower()
            param = getattr(pf.transform, "num_buckets", None) or getattr(pf.transform,
                                                                         "width", None)
            out.append(PartitionField(name, column, param))
        return out

    def _writer(self, segment: int, label: str, values: tuple[object, ...],
                first: pa.Table) -> _Open:
        key = (segment, label)
        handle = self._open.get(key)
        if handle is not None:
            self._open.move_to_end(key)
            return handle
        if len(self._open) >= MAX_OPEN_FILES:
            oldest = next(iter(self._open))
            self._close(lambda k: k == oldest)
        self._n += 1
        folder = f"{self._table.location().rstrip('/')}/data"
        if label:
            folder += "/" + label
        uri = f"{folder}/{self._token}-{segment:03d}-{self._n:05d}.parquet"
        assert self._storage is not None
        stream = self._storage.open_output(uri)
        writer = pq.ParquetWriter(stream, first.schema, compression="zstd",
                                  use_dictionary=dictionary_columns(first), store_schema=False)
        handle = _Open(uri, segment, writer, stream, values)
        self._open[key] = handle
        return handle

    def _close(self, which: Any) -> None:
        for key in [k for k in self._open if which(k)]:
            handle = self._open.pop(key)
            handle.writer.close()
            handle.stream.close()
            self._done.append(handle)

    # -- the pipeline's finishing steps -----------------------------------------------------

    def stale_segments(self, schema: pa.Schema) -> list[int]:
        """Segments written with another data schema than ``schema``."""
        final = self._with_lineage_schema(iceberg_ready_schema(schema))
        return sorted(s for s, sch in self._schemas.items() if not sch.equals(final))

    def _with_lineage_schema(self, schema: pa.Schema) -> pa.Schema:
        if not self.lineage:
            return schema
        return (schema.append(pa.field(SOURCE_URI, pa.string()))
                .append(pa.field(SOURCE_HASH, pa.string()))
                .append(pa.field(INGESTED_AT, pa.timestamp("us", tz="UTC"))))

    def read_segment(self, segment: int, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        """A closed segment's rows without lineage columns, conformed to ``schema``."""
        assert self._storage is not None
        for handle in self._done:
            if handle.segment != segment:
                continue
            with self._storage.open_input(handle.uri) as f:
                for batch in pq.ParquetFile(f).iter_batches():
                    data = batch.drop_columns([c for c in LINEAGE_COLUMNS
                                               if c in batch.schema.names])
                    yield conform_batch(data, schema)

    def finish(self, schema: pa.Schema | None, metadata: dict[str, str]) -> list[str]:
        """Brings stale segments to the final schema, evolves the table, commits once."""
        self.begin()
        self._close(lambda key: True)
        if self._table is None:  # nothing decoded at all
            return []
        final = self._with_lineage_schema(iceberg_ready_schema(schema or pa.schema([])))
        for seg in self.stale_segments(schema or pa.schema([])):
            self._rewrite_segment(seg, final)
        files = [h.uri for h in self._done]
        self._partitions = {h.uri: h.partition for h in self._done}
        props = {**self.summary, "logflow.source": self.source_uri,
                 "logflow.source-hash": self.source_hash,
                 "logflow.rows-read": metadata.get("logflow.rows-read", ""),
                 "logflow.rows-rejected": metadata.get("logflow.rows-rejected", ""),
                 "logflow.profile-checksum": _checksum_of(metadata)}
        self.commit = self._commit(files, final, props)
        return files

    def _rewrite_segment(self, segment: int, final: pa.Schema) -> None:
        """Rewrites a segment's files in the final schema (rare: the schema grew mid-file)."""
        assert self._storage is not None
        for i, handle in enumerate(self._done):
            if handle.segment != segment:
                continue
            with self._storage.open_input(handle.uri) as f:
                data = conform_batch(pq.read_table(f), final)
            new_uri = handle.uri[: -len(".parquet")] + "-r.parquet"
            with self._storage.open_output(new_uri) as out:
                pq.write_table(data, out, compression="zstd")
            self._storage.delete([handle.uri])
            self._done[i] = _Open(new_uri, segment, handle.writer, None, handle.partition)
        self._schemas[segment] = final

    def _commit(self, files: list[str], schema: pa.Schema, props: dict[str, str]) -> CommitInfo:
        from pyiceberg.exceptions import CommitFailedException, ValidationException
        from pyiceberg.expressions import EqualTo
        from sqlalchemy.exc import OperationalError

        info = CommitInfo(data_files=files)
        delay = 0.05
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            info.attempts = attempt
            table = self.catalog.load_table(self.identifier)
            try:
                apply_schema_policy(table, schema, self.policy)
                table = self.catalog.load_table(self.identifier)
                tx = table.transaction()
                if self.lineage and table.current_snapshot() is not None \
                        and self._has_rows_of_source(table):
                    tx.delete(EqualTo(SOURCE_URI, self.source_uri), snapshot_properties=props)
                    info.replaced = True
                if files:
                    tx.set_properties(**{NAME_MAPPING: table.schema().name_mapping
                                         .model_dump_json()})  # our files carry no field ids
                    data_files = [self._data_file(table, uri) for uri in files]
                    with tx.update_snapshot(snapshot_properties=props).fast_append() as append:
                        for data_file in data_files:
                            append.append_data_file(data_file)
                tx.commit_transaction()
            except (CommitFailedException, ValidationException, OperationalError):
                # another writer committed first (or added files the delete's filter might
                # match, or holds SQLite's write lock): nothing of ours is committed, so
                # reload and try again
                if attempt == COMMIT_ATTEMPTS:
                    raise ConflictError(f"could not commit to {self.identifier} after "
                                        f"{attempt} attempts (concurrent writers); nothing "
                                        "was committed, run it again") from None
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 2.0)
                continue
            table = self.catalog.load_table(self.identifier)
            snap = table.current_snapshot()
            info.snapshot_id = snap.snapshot_id if snap else None
            self._table = table
            return info
        return info

    def _data_file(self, table: Any, uri: str) -> Any:
        """The manifest entry of one written file: statistics from its footer, the partition
        from the values it was written for (pyiceberg cannot infer bucket values from stats)."""
        from pyiceberg.io.pyarrow import (
            compute_statistics_plan,
            data_file_statistics_from_parquet_metadata,
            parquet_path_to_id_mapping,
        )
        from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
        from pyiceberg.partitioning import PartitionFieldValue, PartitionKey
        from pyiceberg.typedef import Record

        meta = table.metadata
        schema = meta.schema()
        spec = table.spec()
        source = table.io.new_input(uri)
        with source.open() as f:
            footer = pq.read_metadata(f)
        stats = data_file_statistics_from_parquet_metadata(
            parquet_metadata=footer,
            stats_columns=compute_statistics_plan(schema, meta.properties),
            parquet_column_mapping=parquet_path_to_id_mapping(schema),
        )
        values = self._partitions.get(uri, ())
        partition = Record()
        if spec.fields:
            key = [PartitionFieldValue(field=f, value=v)
                   for f, v in zip(spec.fields, values, strict=True)]
            partition = PartitionKey(field_values=key, partition_spec=spec,
                                     schema=schema).partition
        return DataFile.from_args(
            content=DataFileContent.DATA, file_path=uri, file_format=FileFormat.PARQUET,
            partition=partition, file_size_in_bytes=len(source), sort_order_id=None,
            spec_id=meta.default_spec_id, equality_ids=None, key_metadata=None,
            **stats.to_serialized_dict(),
        )

    def _has_rows_of_source(self, table: Any) -> bool:
        from pyiceberg.expressions import EqualTo

        if SOURCE_URI not in [f.name for f in table.schema().fields]:
            return False
        # plan_files alone would answer "maybe": string statistics are cut to 16 characters,
        # and every source URI in one folder shares them. Reading one matching row decides.
        scan = table.scan(row_filter=EqualTo(SOURCE_URI, self.source_uri),
                          selected_fields=(SOURCE_URI,), limit=1)
        return scan.to_arrow().num_rows > 0

    def abort(self) -> None:
        """Closes and deletes the files written; the table is left as it was."""
        self._close(lambda key: True)
        if self._storage is not None:
            self._storage.delete([h.uri for h in self._done])
        self._done.clear()


def iceberg_ready_schema(schema: pa.Schema) -> pa.Schema:
    """The schema :func:`iceberg_ready` gives data of ``schema``."""
    return iceberg_ready(schema.empty_table()).schema


def _checksum_of(metadata: dict[str, str]) -> str:
    import json

    try:
        return str(json.loads(metadata.get("logflow.profile", "{}")).get("checksum", ""))
    except ValueError:
        return ""


def _plain_lineage(schema: pa.Schema) -> pa.Schema:
    """``schema`` with the lineage columns' dictionary types as the strings they stand for."""
    for i, f in enumerate(schema):
        if f.name in LINEAGE_COLUMNS and pa.types.is_dictionary(f.type):
            schema = schema.set(i, pa.field(f.name, f.type.value_type, f.nullable, f.metadata))
    return schema


__all__ = ["INGESTED_AT", "LINEAGE_COLUMNS", "SOURCE_HASH", "SOURCE_URI", "CommitInfo",
           "IcebergSink"]
