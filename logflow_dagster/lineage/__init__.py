"""OpenLineage for ingest runs: events built from an ``IngestResult``, emitted per ``logflow.yaml``.

Dagster-free (the Dagster layer calls it; nothing here imports dagster). One materialization of
an ingest asset is one OpenLineage run: START, then COMPLETE with the schema, Iceberg snapshot,
quality profile and rule outcomes of the written table, or FAIL with the error.

Example:
    >>> import json, pathlib, tempfile
    >>> from logflow_dagster import convert
    >>> from logflow_dagster.config import ProjectConfig
    >>> from logflow_dagster.lineage import LineageEmitter, run_id_for
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = pathlib.Path(tmp, "orders.csv").write_text("id\\n1\\n2\\n")
    ...     emitter = LineageEmitter.from_config(ProjectConfig(root=tmp))  # file transport
    ...     run_id = run_id_for("dagster-run-id", "raw.orders", "2024-03-01")
    ...     _ = emitter.start(run_id, "raw.orders", f"{tmp}/orders.csv", table="raw.orders")
    ...     result = convert(f"{tmp}/orders.csv", f"{tmp}/orders.parquet")
    ...     _ = emitter.complete(run_id, "raw.orders", result, [("not_null", True, "id")])
    ...     [json.loads(line)["eventType"] for line in emitter.path.read_text().splitlines()]
    ['START', 'COMPLETE']
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
