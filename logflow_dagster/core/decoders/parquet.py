"""Parquet: a pass-through of the file's own Arrow data, streamed batch by batch.

``options.schema`` overrides are cast with :func:`..schema.cast.cast_overrides`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from ..errors import DataError, LogflowError, RowError
from ..schema.cast import cast_overrides, miss_errors, parse_overrides
from .base import DecodedBatch, Decoder


class ParquetDecoder(Decoder):
    """Streams a Parquet file's row groups as Arrow batches of ``options.batch_size`` rows.

    The data keeps the file's own Arrow schema; ``options.schema`` overrides are cast, and a
    value that does not fit becomes a :class:`RowError` with its 1-based record number.
    A compressed file (``.parquet.gz``) is decompressed into memory first, since Parquet needs
    random access; local files are opened by path, remote ones through ``fsspec``.

    ``info``: ``row_groups`` and ``rows`` from the footer.

    Example:
        >>> from logflow_dagster.core.source import Source  # doctest: +SKIP
        >>> from logflow_dagster.core.detect.result import Detection  # doctest: +SKIP
        >>> from logflow_dagster.core.decoders import DecodeOptions  # doctest: +SKIP
        >>> dec = ParquetDecoder(Source.open_path("t.parquet"), Detection("parquet"),
        ...                      DecodeOptions(batch_size=10_000))  # doctest: +SKIP
        >>> sum(step.records for step in dec.batches())  # doctest: +SKIP
        25000
    """

    format = "parquet"

    def batches(self) -> Iterator[DecodedBatch]:
        """Yields the file's rows batch by batch, with the rows that failed an override cast.

        Raises:
            DataError: For a file that is not Parquet or is corrupt (naming the file).
            UsageError: For an override type that has no cast from the column's type.
        """
        import pyarrow.parquet as pq

        overrides = parse_overrides(self.options.schema)
        path = self.source.path
        handle: Any = None
        try:
            if self.source.is_local and self.source.compression is None:
                target: Any = path
            elif self.source.compression is not None:
                with self.source.open() as stream:
                    target = handle = pa.BufferReader(stream.read())
            else:
                target = handle = self.source.open_raw()
            pf = pq.ParquetFile(target)
            meta = pf.metadata
        except LogflowError:
            raise
        except Exception as exc:
            if handle is not None:
                handle.close()
            raise DataError(f"not a readable Parquet file: {exc}", source=path) from exc
        self.info["row_groups"] = meta.num_row_groups
        self.info["rows"] = meta.num_rows
        done = 0
        try:
            try:
                steps = pf.iter_batches(batch_size=max(1, self.options.batch_size))
            except Exception as exc:
                raise DataError(f"unreadable Parquet data: {exc}", source=path) from exc
            while True:
                try:
                    batch = next(steps)
                except StopIteration:
                    return
                except Exception as exc:
                    raise DataError(f"corrupt Parquet data after record {done}: {exc}",
                                    source=path, record=done + 1) from exc
                if batch.num_rows == 0:
                    continue
                rows = batch.num_rows
                errors: list[RowError] = []
                if overrides:
                    original = batch
                    batch, misses = cast_overrides(batch, overrides)
                    errors = miss_errors(original, misses, range(done + 1, done + rows + 1))
                done += rows
                yield DecodedBatch(batch if batch.num_rows else None, errors)
        finally:
            pf.close()
            if handle is not None:
                handle.close()
