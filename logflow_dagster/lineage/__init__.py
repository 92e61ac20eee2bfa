"""OpenLineage for ingest runs: events built from an ``IngestResult``, emitted per ``logflow.yaml``.

Dagster-free (the Dagster layer calls it; nothing here imports dagster). One materialization of
an ingest asset is one OpenLineage run: START, then COMPLETE with the schema, Iceberg snapshot,
quality profile and rule outcomes of the written table, or FAIL with the error.

Example:
    >>> from logflow_dagster.lineage import LineageEmitter, run_id_for  # doctest: +SKIP
    >>> emitter = LineageEmitter.from_config(project_config)  # doctest: +SKIP
    >>> run_id = run_id_for(context.run_id, "raw.orders", context.partition_key)  # doctest: +SKIP
    >>> emitter.start(run_id, "raw.orders", landing_path, table="raw.orders")  # doctest: +SKIP
    >>> emitter.complete(run_id, "raw.orders", result, assertions)  # doctest: +SKIP
"""

from __future__ import annotations

from .emitter import LineageEmitter, lineage_disabled
from .events import PRODUCER, IngestEventBuilder, new_run_id, run_id_for
from .facets import AssertionResult
from .naming import file_dataset, iceberg_namespace

__all__ = [
    "PRODUCER",
    "AssertionResult",
    "IngestEventBuilder",
    "LineageEmitter",
    "file_dataset",
    "iceberg_namespace",
    "lineage_disabled",
    "new_run_id",
    "run_id_for",
]
