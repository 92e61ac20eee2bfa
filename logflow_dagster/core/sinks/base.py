"""The sink contract: where the pipeline's rows go (Parquet files, an Iceberg table)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pyarrow as pa


class Sink(Protocol):
    """What :func:`~logflow_dagster.core.convert.run_pipeline` needs from an output.

    Rows arrive in *segments*: a segment is a run of batches with one schema; a schema change
    (a new column, a widened type) starts the next segment. ``finish`` brings earlier segments
    to the final schema and makes the output visible at once; ``abort`` leaves no trace.
    """

    rows_written: int

    def ready(self) -> bool:
        """True when :meth:`begin` would not wait. While a sink is not ready the pipeline
        decodes and profiles ahead, holding a bounded number of steps back (neither written
        nor rejected) until it is."""

    def begin(self) -> None:
        """Called before any row is written or rejected (at the first step, or once the
        steps held back while the sink was not ready are full): a sink may finish its own
        preparation here (open a catalog) and may raise to stop the run before it leaves a
        trace."""

    def write(self, batch: pa.RecordBatch | pa.Table, *, segment: int) -> None:
        """Writes one batch of ``segment``."""

    def stale_segments(self, schema: pa.Schema) -> list[int]:
        """Segments written with another schema than ``schema``."""

    def read_segment(self, segment: int, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        """A finished segment's rows, conformed to ``schema`` (to re-profile them)."""

    def finish(self, schema: pa.Schema | None, metadata: dict[str, str]) -> list[str]:
        """Completes the output (renames, commits) and returns its data files."""

    def abort(self) -> None:
        """Removes whatever was written."""
