"""Parquet output: one file, or a directory of files (hive-partitioned with ``partition_by``).

Data are written as batches arrive, in *segments*: a segment is the run of batches that share
one schema. When the schema grows mid-stream (a new JSON field, an int column widened to float)
a new segment starts, and ``finish`` rewrites the earlier segments to the final schema so the
output has one schema. A single-file output is written to a temporary name and renamed into
place when complete, so a reader never sees a half-written file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import UsageError
from ..schema.align import conform_batch
from .encoding import dictionary_columns

COMPRESSIONS = ("zstd", "snappy", "gzip", "lz4", "none")
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


@dataclass
class ParquetOptions:
    """How Parquet files are written.

    Attributes:
        compression: One of :data:`COMPRESSIONS`.
        row_group_size: Maximum rows per row group.
        dictionary: Dictionary-encode columns (Parquet's default).
        partition_by: Columns for hive-style ``col=value/`` directories (directory output).
    """

    compression: str = "zstd"
    row_group_size: int = 1 << 20
    dictionary: bool = True
    partition_by: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.compression.lower() not in COMPRESSIONS:
            raise UsageError(f"unknown compression {self.compression!r}; choose one of "
                             f"{', '.join(COMPRESSIONS)}")
        self.compression = self.compression.lower()


@dataclass
class _File:
    path: str
    segment: int
    writer: pq.ParquetWriter


class ParquetSink:
    """Writes batches to ``dst``: a ``.parquet`` file, or a directory otherwise.

    Example:
        >>> import tempfile
        >>> batch = pa.record_batch({"id": [1, 2, 3]})
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     sink = ParquetSink(f"{tmp}/out.parquet", ParquetOptions())
        ...     sink.write(batch, segment=0)
        ...     files = sink.finish(batch.schema, metadata={"logflow.source": "in.csv"})
        ...     pq.read_table(files[0]).column("id").to_pylist()
        [1, 2, 3]
    """

    def __init__(self, dst: str, options: ParquetOptions) -> None:
        self.dst = os.fspath(dst)
        self.options = options
        self.single = self.dst.endswith(".parquet") and not options.partition_by
        self._open: dict[tuple[int, str], _File] = {}
        self._done: list[_File] = []
        self._token = uuid.uuid4().hex[:8]
        self._schemas: dict[int, pa.Schema] = {}
        self.rows_written = 0
        if self.single:
            os.makedirs(os.path.dirname(os.path.abspath(self.dst)), exist_ok=True)
        else:
            if os.path.isfile(self.dst):
                raise UsageError(f"{self.dst}: exists and is a file; a directory output was asked")
            os.makedirs(self.dst, exist_ok=True)

    # -- writing ---------------------------------------------------------------------------

    def ready(self) -> bool:
        """Always: there is nothing to prepare."""
        return True

    def begin(self) -> None:
        """Nothing to prepare: the output folder exists once the first file opens."""

    def write(self, batch: pa.RecordBatch | pa.Table, *, segment: int) -> None:
        """Writes one batch of the given segment (segments only ever increase)."""
        if batch.num_rows == 0:
            return
        if segment not in self._schemas:
            self._close_segments_before(segment)
            self._schemas[segment] = batch.schema
        for part, data in self._partitions(batch):
            writer = self._writer(segment, part, data).writer
            if isinstance(data, pa.Table):
                writer.write_table(data, row_group_size=self.options.row_group_size)
            else:
                writer.write_batch(data, row_group_size=self.options.row_group_size)
        self.rows_written += batch.num_rows

    def _partitions(
        self, batch: pa.RecordBatch | pa.Table
    ) -> Iterator[tuple[str, pa.RecordBatch | pa.Table]]:
        cols = self.options.partition_by
        if not cols:
            yield "", batch
            return
        missing = [c for c in cols if c not in batch.schema.names]
        if missing:
            raise UsageError(f"--partition-by column(s) not in the data: {', '.join(missing)}; "
                             f"columns are {', '.join(batch.schema.names)}")
        keys = pa.table([batch.column(c) for c in cols], names=cols).group_by(cols).aggregate([])
        data_cols = [n for n in batch.schema.names if n not in cols]
        for key in keys.to_pylist():
            mask = None
            for c in cols:
                col = batch.column(c)
                value = pa.scalar(key[c], col.type)
                m = pc.is_null(col) if key[c] is None else pc.equal(col, value)
                mask = m if mask is None else pc.and_(mask, m)
            part = "/".join(f"{quote(c, safe='')}={_hive_value(key[c])}" for c in cols)
            yield part, batch.filter(mask).select(data_cols)

    def _writer(self, segment: int, part: str, data: pa.RecordBatch | pa.Table) -> _File:
        handle = self._open.get((segment, part))
        if handle is None:
            if self.single:
                path = f"{self.dst}.{self._token}.{segment}.tmp"
            else:
                folder = os.path.join(self.dst, part) if part else self.dst
                os.makedirs(folder, exist_ok=True)
                path = os.path.join(folder, f"part-{self._token}-{segment:03d}.parquet")
            handle = _File(path, segment, self._new_writer(path, data.schema,
                                                           dictionary_columns(data)))
            self._open[(segment, part)] = handle
        return handle

    def _new_writer(self, path: str, schema: pa.Schema,
                    dictionary: bool | list[str] = True) -> pq.ParquetWriter:
        opts = self.options
        return pq.ParquetWriter(
            path, schema,
            compression=None if opts.compression == "none" else opts.compression,
            use_dictionary=dictionary if opts.dictionary else False,
            write_statistics=True,
        )

    def _close_segments_before(self, segment: int) -> None:
        for key in [k for k in self._open if k[0] < segment]:
            handle = self._open.pop(key)
            handle.writer.close()
            self._done.append(handle)

    # -- finishing -------------------------------------------------------------------------

    def stale_segments(self, schema: pa.Schema) -> list[int]:
        """Segments written with a schema other than ``schema`` (to be rewritten)."""
        return sorted(s for s, sch in self._schemas.items() if not sch.equals(schema))

    def read_segment(self, segment: int, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        """Reads back a segment's rows conformed to ``schema`` (files must be closed)."""
        for handle in self._files():
            if handle.segment == segment:
                for batch in pq.ParquetFile(handle.path).iter_batches():
                    yield conform_batch(batch, schema)

    def _files(self) -> list[_File]:
        return sorted(self._done, key=lambda h: h.path)

    def finish(self, schema: pa.Schema | None, metadata: dict[str, str]) -> list[str]:
        """Closes every file, brings stale segments to ``schema``, adds ``metadata``.

        Returns:
            The data files of the output.
        """
        for handle in self._open.values():
            handle.writer.add_key_value_metadata(metadata)
            handle.writer.close()
            self._done.append(handle)
        self._open.clear()
        if schema is None:  # nothing decoded at all (an empty input): no file to write
            return []
        if not self._done:  # columns known but no rows: a valid, empty file
            self.write_empty(schema, metadata)
        stale = set(self.stale_segments(schema))
        if self.single:
            return [self._finish_single(schema, metadata, stale)]
        for handle in self._files():
            if handle.segment in stale:
                self._rewrite(handle.path, schema, metadata)
        return [h.path for h in self._files()]

    def write_empty(self, schema: pa.Schema, metadata: dict[str, str]) -> None:
        """Writes a 0-row file with the schema (header-only inputs)."""
        path = (f"{self.dst}.{self._token}.0.tmp" if self.single
                else os.path.join(self.dst, f"part-{self._token}-000.parquet"))
        writer = self._new_writer(path, schema)
        writer.add_key_value_metadata(metadata)
        writer.close()
        self._schemas.setdefault(0, schema)
        self._done.append(_File(path, 0, writer))

    def _finish_single(self, schema: pa.Schema, metadata: dict[str, str], stale: set[int]) -> str:
        files = self._files()
        if len(files) == 1 and not stale:
            os.replace(files[0].path, self.dst)
            return self.dst
        tmp = f"{self.dst}.{self._token}.final.tmp"
        writer = self._new_writer(tmp, schema)
        for handle in files:
            for batch in pq.ParquetFile(handle.path).iter_batches():
                writer.write_batch(conform_batch(batch, schema),
                                   row_group_size=self.options.row_group_size)
        writer.add_key_value_metadata(metadata)
        writer.close()
        for handle in files:
            os.remove(handle.path)
        os.replace(tmp, self.dst)
        return self.dst

    def _rewrite(self, path: str, schema: pa.Schema, metadata: dict[str, str]) -> None:
        tmp = path + ".rewrite.tmp"
        data_schema = pa.schema([f for f in schema if f.name not in self.options.partition_by])
        writer = self._new_writer(tmp, data_schema)
        for batch in pq.ParquetFile(path).iter_batches():
            writer.write_batch(conform_batch(batch, data_schema))
        writer.add_key_value_metadata(metadata)
        writer.close()
        os.replace(tmp, path)

    def abort(self) -> None:
        """Removes everything written (used when a strict run stops on bad data)."""
        for handle in list(self._open.values()):
            handle.writer.close()
            self._done.append(handle)
        self._open.clear()
        for handle in self._done:
            if os.path.exists(handle.path):
                os.remove(handle.path)
        if not self.single and os.path.isdir(self.dst) and not any(os.scandir(self.dst)):
            shutil.rmtree(self.dst, ignore_errors=True)


def _hive_value(value: object) -> str:
    if value is None:
        return HIVE_NULL
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return quote(text, safe="")
