"""The pipeline: source -> detect -> decode -> policy/quarantine -> profile -> sink."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .. import __version__
from .decoders import DecodeOptions, get_decoder
from .decoders.base import DecodedBatch
from .detect import detect
from .errors import DataError, ErrorPolicy, RowError, UsageError
from .errors.quarantine import QuarantineWriter
from .pipeline_threads import Background, prefetch
from .quality.profile import Profiler
from .result import IngestResult
from .schema import type_label
from .schema.align import SchemaAligner
from .schema.cache import SchemaCache, cache_key
from .sinks.base import Sink
from .sinks.parquet import ParquetOptions, ParquetSink
from .source import Source

ERRORS_SAMPLE = 20
#: Batches decoded ahead while the sink is not ready (see :meth:`_Run.consume`).
HOLD_BYTES = 128 << 20
#: A step held back: the decoder's step, its batch conformed to the stream, its segment.
_Held = tuple[DecodedBatch, pa.RecordBatch | pa.Table | None, int]


def default_quarantine_path(dst: str) -> str:
    """Where rejected records go when no path is given: beside the output.

    Example:
        >>> default_quarantine_path("out/events.parquet")
        'out/events.quarantine.jsonl'
    """
    base = dst[: -len(".parquet")] if dst.endswith(".parquet") else dst.rstrip("/")
    return base + ".quarantine.jsonl"


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    format: str = "auto",
    error_policy: str | ErrorPolicy = ErrorPolicy.STRICT,
    quarantine: str | None = None,
    compression: str = "zstd",
    partition_by: str | list[str] | None = None,
    row_group_size: int = 1 << 20,
    schema: dict[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    quote: str | None = None,
    header: bool | None = None,
    sheet: str | int | None = None,
    max_quoted_lines: int | None = None,
    max_quoted_bytes: int | None = None,
    batch_size: int = 65_536,
    schema_cache: str | os.PathLike[str] | None = None,
    mmap: bool = False,
    on_progress: Callable[[int, int | None], None] | None = None,
    storage_options: dict[str, str] | None = None,
) -> IngestResult:
    """Converts one file of any supported format to Parquet, losing no record.

    Args:
        src: Input path or URI (compressed inputs are decompressed as a stream).
        dst: ``*.parquet`` for one file, anything else for a directory of files.
        format: ``auto`` or a format name (``csv``, ``jsonl``, ``xes`` ...).
        error_policy: ``strict``, ``permissive`` or ``quarantine``.
        quarantine: Quarantine file (default: beside the output) under ``quarantine``.
        compression: Parquet codec.
        partition_by: Column(s) for a hive-partitioned directory output.
        row_group_size: Maximum rows per Parquet row group.
        schema: Column type overrides (``{"amount": "decimal(12,2)"}``).
        encoding, delimiter, quote, header: Overrides of what detection finds.
        sheet: Spreadsheet sheet (name or 0-based index).
        max_quoted_lines, max_quoted_bytes: How far one quoted CSV field may run (default
            1000 lines, 1 MiB); a quote that would run further is taken as a stray quote and
            its record rejected, the lines after it read again as records.
        batch_size: Rows per decoded batch.
        schema_cache: SQLite file remembering the final column types of inputs with the same
            head (see :mod:`.schema.cache`); ``None`` to not use one.
        mmap: Memory-map a local uncompressed input (see :class:`ReadOptions`).
        on_progress: Called with (bytes read so far, total bytes or None).
        storage_options: Object-storage properties for a URI input (``s3.endpoint``,
            ``s3.access-key-id``, ...; see :mod:`logflow_dagster.core.remote`).

    Returns:
        The :class:`IngestResult` (``rows_read == rows_written + rows_rejected``).

    Raises:
        UsageError: Missing input, unknown format or option value.
        DataError: Under ``strict``, at the first bad record (file:line, column, value).

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     src = pathlib.Path(tmp, "events.csv")
        ...     _ = src.write_text("id,amount\\n1,2.5\\n2,oops\\n3,4\\n")
        ...     r = convert(src, pathlib.Path(tmp, "events.parquet"),
        ...                 error_policy="quarantine", schema={"amount": "double"})
        ...     r.rows_read, r.rows_written, r.rows_rejected
        (3, 2, 1)
    """
    parts = [partition_by] if isinstance(partition_by, str) else list(partition_by or [])
    dst_path = os.fspath(dst)
    sink = ParquetSink(dst_path, ParquetOptions(compression=compression,
                                                row_group_size=row_group_size,
                                                partition_by=parts))
    reading = ReadOptions(format=format, encoding=encoding, delimiter=delimiter, quote=quote,
                          header=header, sheet=sheet, max_quoted_lines=max_quoted_lines,
                          max_quoted_bytes=max_quoted_bytes, schema=schema,
                          batch_size=batch_size, schema_cache=schema_cache, mmap=mmap,
                          storage_options=storage_options)
    return run_pipeline(src, sink, output=dst_path, reading=reading, error_policy=error_policy,
                        quarantine=quarantine or default_quarantine_path(dst_path),
                        on_progress=on_progress)


@dataclass
class ReadOptions:
    """How an input is detected and decoded (see :func:`convert` for each option)."""

    format: str = "auto"
    encoding: str | None = None
    delimiter: str | None = None
    quote: str | None = None
    header: bool | None = None
    sheet: str | int | None = None
    max_quoted_lines: int | None = None
    max_quoted_bytes: int | None = None
    schema: dict[str, str] | None = None
    batch_size: int = 65_536
    schema_cache: str | os.PathLike[str] | None = None
    #: Memory-map a local uncompressed input instead of reading it (faster; a file truncated
    #: by another program while mapped ends the process with SIGBUS, so off by default).
    mmap: bool = False
    #: Object-storage properties for URI inputs (``s3.endpoint``, ``s3.access-key-id``, ...),
    #: the same keys the Iceberg catalog takes; see :mod:`logflow_dagster.core.remote`.
    storage_options: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.quote is not None and len(self.quote) != 1:
            raise UsageError(f"quote must be one character, got {self.quote!r}")
        for name in ("max_quoted_lines", "max_quoted_bytes"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise UsageError(f"{name} must be a positive integer, got {value!r}")

    def quoted_limits(self) -> dict[str, int]:
        """The set bounds of a quoted CSV field, as :class:`DecodeOptions` ``extra`` keys.

        Example:
            >>> ReadOptions(max_quoted_lines=50).quoted_limits()
            {'max_quoted_lines': 50}
        """
        return {name: value for name in ("max_quoted_lines", "max_quoted_bytes")
                if (value := getattr(self, name)) is not None}


def run_pipeline(
    src: str | os.PathLike[str],
    sink: Sink,
    *,
    output: str,
    reading: ReadOptions | None = None,
    error_policy: str | ErrorPolicy = ErrorPolicy.STRICT,
    quarantine: str | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> IngestResult:
    """Streams one input through detection, decoding, the error policy and the profile into
    ``sink`` (Parquet files, an Iceberg table ...). :func:`convert` and the lakehouse's
    ``ingest`` are this function with their own sink.

    Args:
        src: Input path or URI.
        sink: Where the rows go (:class:`~logflow_dagster.core.sinks.base.Sink`).
        output: What the result reports as the output (a path, a table name).
        reading: Detection and decoding options.
        error_policy: ``strict``, ``permissive`` or ``quarantine``.
        quarantine: The quarantine file, used under the ``quarantine`` policy.
        on_progress: Called with (bytes read so far, total bytes or None).
    """
    reading = reading or ReadOptions()
    started = time.perf_counter()
    policy = ErrorPolicy.parse(error_policy)
    src_path = os.fspath(src)
    source = Source.open_path(src_path, mmap=reading.mmap,
                              storage_options=reading.storage_options)
    if on_progress is not None:
        source.on_read = on_progress
    det = detect(source, format=reading.format, encoding=reading.encoding,
                 delimiter=reading.delimiter, quote=reading.quote, header=reading.header)
    options = DecodeOptions(batch_size=reading.batch_size, schema=reading.schema,
                            sheet=reading.sheet, extra=reading.quoted_limits())
    cache, key = None, ""
    if reading.schema_cache is not None:
        cache = SchemaCache(reading.schema_cache)
        key = cache_key(source.head(), format=det.format, encoding=det.encoding,
                        delimiter=reading.delimiter, header=reading.header,
                        schema=reading.schema, sheet=reading.sheet,
                        **({"quote": reading.quote} if reading.quote else {}))
        hit = cache.get(key)
        if hit:
            options.type_hints = hit.get("types")
            det.notes.append("column types from the schema cache")
    decoder = get_decoder(det.format)(source, det, options)
    qpath = None
    qwriter = None
    if policy is ErrorPolicy.QUARANTINE:
        qpath = quarantine or default_quarantine_path(output)
        qwriter = QuarantineWriter(qpath, source=source.uri)
    run = _Run(source.path, policy, qwriter)
    try:
        run.consume(decoder, sink)
        schema_out = run.aligner.schema
        profile = run.final_profile(sink, schema_out)
        renamed = {**decoder.info.get("renamed_columns", {}), **run.aligner.renamed}
        metadata = {
            **({"logflow.renamed_columns": json.dumps(renamed, ensure_ascii=False)}
               if renamed else {}),
            "logflow.version": __version__,
            "logflow.source": source.uri,
            "logflow.rows-read": str(run.rows_read),
            "logflow.rows-rejected": str(run.rows_rejected),
            "logflow.profile": json.dumps(profile.to_dict(), default=str),
        }
        files = sink.finish(schema_out, metadata)
        typer = getattr(decoder, "typer", None)
        if cache is not None and typer is not None:
            cache.put(key, {"format": det.format, "types": typer.kinds()})
        finished = True
    except BaseException:
        finished = False
        sink.abort()
        raise
    finally:
        if qwriter is not None:
            qwriter.close(finished=finished)
        for prof in run.profilers:
            prof.close()
    elapsed = max(time.perf_counter() - started, 1e-9)
    size = source.size or 0
    result = IngestResult(
        input=src_path,
        output=output,
        format=det.format,
        encoding=det.encoding,
        delimiter=decoder.info.get("delimiter"),
        compression=det.compression,
        rows_read=run.rows_read,
        rows_written=sink.rows_written,
        rows_rejected=run.rows_rejected,
        quarantine=qpath,
        columns=[{"name": f.name, "type": type_label(f.type)} for f in (schema_out or [])],
        checksum=profile.checksum,
        duration_s=round(elapsed, 4),
        rows_per_s=round(run.rows_read / elapsed, 1),
        bytes_per_s=round(size / elapsed, 1),
        bytes_read=size,
        files=files,
        profile=profile.to_dict(),
        detection={"confidence": det.confidence, "notes": det.notes, **decoder.info,
                   **({"renamed_columns": {**decoder.info.get("renamed_columns", {}),
                                           **run.aligner.renamed}}
                      if run.aligner.renamed else {})},
        errors_sample=run.sample,
        renamed_columns=renamed,
    )
    if not result.balanced:  # a bug, never a data problem: refuse to report success
        raise DataError(f"row accounting broken: read {result.rows_read}, written "
                        f"{result.rows_written}, rejected {result.rows_rejected}",
                        source=src_path)
    return result


class _Run:
    """The state of one pipeline run: accounting, policy, schema segments, profiles."""

    def __init__(self, path: str, policy: ErrorPolicy, qwriter: QuarantineWriter | None) -> None:
        self.path = path
        self.policy = policy
        self.qwriter = qwriter
        self.rows_read = 0
        self.rows_rejected = 0
        self.sample: list[dict[str, Any]] = []
        self.aligner = SchemaAligner()
        self.profilers: list[Profiler] = []

    def consume(self, decoder: Any, sink: Sink) -> None:
        """Decodes (one thread), writes (this thread) and profiles (another) in step.

        While the sink is not ready (an Iceberg catalog still opening), steps are decoded
        and profiled ahead and held back, up to :data:`HOLD_BYTES` of batches; they are
        rejected and written in order once it is (or when the hold is full: then this
        waits for the sink)."""
        held: list[_Held] = []
        held_bytes = 0
        with Background() as profiling:
            for step in prefetch(decoder.batches()):
                batch, segment = self._profiled(step, profiling)
                held.append((step, batch, segment))
                held_bytes += batch.nbytes if batch is not None else 0
                if held_bytes < HOLD_BYTES and not sink.ready():
                    continue
                sink.begin()
                self._take(held, sink)
                held_bytes = 0
            sink.begin()
            self._take(held, sink)

    def _profiled(self, step: DecodedBatch, profiling: Background
                  ) -> tuple[pa.RecordBatch | pa.Table | None, int]:
        """Conforms a step's batch to the stream's schema and starts profiling it; returns
        the batch and its segment."""
        batch = step.batch
        if batch is not None and batch.num_columns == 0 and batch.num_rows:
            # decoders reject records without fields themselves; this keeps any other case
            # from being dropped silently (a file cannot hold rows without columns)
            raise DataError(f"{batch.num_rows} records without any field: no column to write "
                            "them to", source=self.path, record=self.rows_read + 1)
        if batch is not None:  # a 0-row batch still tells the schema (header-only)
            try:
                batch, changed = self.aligner.conform(batch)
            except DataError as err:
                if err.source is not None:
                    raise
                raise DataError(err.reason, source=self.path, line=err.line,
                                column=err.column, value=err.value, record=err.record) from None
            if changed:
                self.profilers.append(Profiler())
            profiling.submit(self.profilers[-1].update, batch)
        return batch, len(self.profilers) - 1

    def _take(self, held: list[_Held], sink: Sink) -> None:
        """Applies the error policy to the held steps' bad records and writes their batches,
        in order; empties ``held``."""
        for step, batch, segment in held:
            if step.errors:
                self._reject(step.errors)
            if batch is not None:
                sink.write(batch, segment=segment)
            self.rows_read += step.records
        held.clear()

    def _reject(self, errors: list[RowError]) -> None:
        if self.policy is ErrorPolicy.STRICT:
            first = errors[0]
            raise DataError(first.reason, source=self.path, line=first.line, column=first.column,
                            value=first.value, record=first.record)
        self.rows_rejected += len(errors)
        if len(self.sample) < ERRORS_SAMPLE:
            self.sample.extend(e.to_dict() for e in errors[: ERRORS_SAMPLE - len(self.sample)])
        if self.qwriter is not None:
            self.qwriter.write(errors)

    def final_profile(self, sink: Sink, schema: pa.Schema | None) -> Profiler:
        """Merges segment profiles, re-profiling segments that are rewritten to ``schema``."""
        total = Profiler()
        if schema is None:
            return total
        stale = set(sink.stale_segments(schema))
        for seg, prof in enumerate(self.profilers):
            if seg in stale:
                prof.close()
                prof = Profiler()
                for batch in sink.read_segment(seg, schema):
                    prof.update(batch)
                self.profilers[seg] = prof
            total.merge(prof)
        return total


__all__ = ["ReadOptions", "UsageError", "convert", "default_quarantine_path", "run_pipeline"]
