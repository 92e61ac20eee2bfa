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

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .emitter import LineageEmitter
    from .events import PRODUCER, IngestEventBuilder, new_run_id, run_id_for
    from .facets import AssertionResult
    from .naming import file_dataset, iceberg_namespace

#: openlineage-python's own switch: ``OPENLINEAGE_DISABLED=true`` turns every event off.
ENV_DISABLED = "OPENLINEAGE_DISABLED"

# loaded on first use, so that a run with lineage off (or one that emits from a worker thread)
# never waits for them; events are built without openlineage-python (see .spec)
_LAZY = {"LineageEmitter": "emitter", "PRODUCER": "events", "IngestEventBuilder": "events",
         "new_run_id": "events", "run_id_for": "events", "AssertionResult": "facets",
         "file_dataset": "naming", "iceberg_namespace": "naming"}


def lineage_disabled() -> bool:
    """True when ``OPENLINEAGE_DISABLED=true`` (the library's own switch) is set.

    Example:
        >>> lineage_disabled() in (True, False)
        True
    """
    return os.getenv(ENV_DISABLED, "").strip().lower() == "true"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


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
