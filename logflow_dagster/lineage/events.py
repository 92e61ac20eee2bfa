"""OpenLineage run events (``event_v2``) for one ingest materialization.

One landed file becoming rows of one Iceberg table is one OpenLineage *run* of the job
``<namespace>/<job name>`` (the Dagster asset, e.g. ``raw.orders``): a START event when it
begins, then COMPLETE (with the :class:`~logflow_dagster.core.result.IngestResult`) or FAIL.

- Input: the landing file, named by :func:`~.naming.file_dataset` (``file`` + absolute path,
  or ``s3://bucket`` + key), with ``inputStatistics`` (records and bytes read) on COMPLETE.
- Output: the table, namespace ``iceberg://<warehouse location>`` and name ``namespace.table``,
  with the ``catalog`` facet always and, on COMPLETE, ``schema``, ``version`` (the Iceberg
  snapshot id), ``dataQualityMetrics`` (the profile), ``dataQualityAssertions`` (the rules'
  outcomes) and ``outputStatistics`` (rows and data files written). Rejected records under the
  quarantine policy are a second output: the quarantine file, with its row count.
- Run: ``processing_engine`` (logflow-dagster's version); FAIL adds ``errorMessage``.
- Job: ``jobType`` (BATCH, integration ``LOGFLOW``, type ``TASK``).

Every event and facet carries :data:`PRODUCER` and its spec's schema URL (:mod:`.spec`); events
are plain dicts, serialized as openlineage-python serializes its ``event_v2`` classes.

Example:
    >>> b = IngestEventBuilder(namespace="logflow", warehouse="s3://lake/wh")
    >>> ev = b.start(run_id_for("dagster-run-1", "raw.orders"), "raw.orders",
    ...              "s3://landing/orders/a.csv", table="raw.orders")
    >>> (ev["eventType"], ev["inputs"][0]["namespace"], ev["outputs"][0]["namespace"])
    ('START', 's3://landing', 'iceberg://lake/wh')
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.result import IngestResult
from .facets import (
    AssertionResult,
    assertions_facet,
    error_facet,
    input_statistics_facet,
    output_statistics_facet,
    quality_metrics_facet,
    schema_facet,
)
from .naming import default_warehouse, file_dataset, iceberg_namespace, redact_uri
from .spec import EVENT_SCHEMA_URL, facet, openlineage_version, uuid7

Event = dict[str, Any]
"""A run event, JSON-ready (see :mod:`.spec`)."""
Dataset = dict[str, Any]
"""An input or output dataset of an event."""

PRODUCER = f"https://pypi.org/project/logflow-dagster/{__version__}/"
"""The ``producer`` URI of every event and facet logflow-dagster emits."""

_RUN_ID_NAMESPACE = uuid.UUID("5b0a3a8e-58a4-4d4c-9a0f-6c1f4f0d3e21")


def new_run_id() -> str:
    """A fresh, time-ordered OpenLineage run id (UUIDv7).

    Example:
        >>> len(new_run_id())
        36
    """
    return str(uuid7())


def run_id_for(*parts: object) -> str:
    """A run id derived from ``parts``: the same parts always give the same UUID.

    Lets START and COMPLETE/FAIL agree without passing the id around, e.g.
    ``run_id_for(context.run_id, asset_key, partition_key)``; different assets of one Dagster run
    get different ids.

    Example:
        >>> run_id_for("run-1", "raw.orders") == run_id_for("run-1", "raw.orders")
        True
        >>> run_id_for("run-1", "raw.orders") == run_id_for("run-1", "raw.events")
        False
    """
    return str(uuid.uuid5(_RUN_ID_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class IngestEventBuilder:
    """Builds the START/COMPLETE/FAIL events of ingest runs (nothing is emitted here).

    Attributes:
        namespace: The job namespace (``lineage.namespace`` in ``logflow.yaml``).
        warehouse: The Iceberg warehouse URI; empty means the embedded one under ``root``.
        root: The project folder; relative landing paths are relative to it.
        catalog_name: The Iceberg catalog's name (``catalog`` facet).
        catalog_type: ``sql`` or ``rest`` (``catalog`` facet).
        producer: The ``producer`` URI of events and facets.

    Example:
        >>> b = IngestEventBuilder(root="/srv/proj")
        >>> b.table_namespace
        'iceberg:///srv/proj/.logflow/warehouse'
    """

    namespace: str = "logflow"
    warehouse: str | None = None
    root: Path | str = field(default_factory=Path.cwd)
    catalog_name: str = "logflow"
    catalog_type: str = "sql"
    producer: str = PRODUCER

    @property
    def warehouse_uri(self) -> str:
        """The warehouse URI (the embedded default when none was given)."""
        return self.warehouse or default_warehouse(self.root)

    @property
    def table_namespace(self) -> str:
        """The dataset namespace of this project's tables: ``iceberg://<warehouse location>``."""
        return iceberg_namespace(self.warehouse_uri)

    # -- datasets ---------------------------------------------------------------------------

    def input_dataset(self, uri: str | os.PathLike[str], result: IngestResult | None = None,
                      ) -> Dataset:
        """The landing file; with ``result``, its ``inputStatistics``."""
        namespace, name = file_dataset(uri, self.root)
        input_facets: dict[str, Any] = {}
        if result is not None:
            input_facets["inputStatistics"] = input_statistics_facet(
                rows=result.rows_read, size=result.bytes_read, producer=self.producer)
        return {"namespace": namespace, "name": name, "facets": {}, "inputFacets": input_facets}

    def _catalog_facet(self) -> dict[str, Any]:
        return facet("CatalogDatasetFacet", self.producer, framework="iceberg",
                     type=self.catalog_type, name=self.catalog_name,
                     warehouseUri=redact_uri(self.warehouse_uri), source="pyiceberg",
                     catalogProperties={})

    def table_dataset(self, table: str) -> Dataset:
        """The Iceberg table as an output, with only its ``catalog`` facet."""
        return {"namespace": self.table_namespace, "name": table,
                "facets": {"catalog": self._catalog_facet()}, "outputFacets": {}}

    def output_dataset(self, result: IngestResult, assertions: Iterable[AssertionResult] = (),
                       *, event_time: str | None = None) -> Dataset:
        """What ``result`` wrote, with schema, version, quality and statistics facets.

        The Iceberg table when ``result.table`` is set, otherwise the file or folder
        ``result.output`` (a plain ``convert``).
        """
        facets: dict[str, Any] = {}
        if result.table:
            namespace, name = self.table_namespace, result.table
            facets["catalog"] = self._catalog_facet()
        else:
            namespace, name = file_dataset(result.output, self.root)
        if result.columns:
            facets["schema"] = schema_facet(result.columns, producer=self.producer)
        if result.snapshot_id is not None:
            facets["version"] = facet("DatasetVersionDatasetFacet", self.producer,
                                      datasetVersion=str(result.snapshot_id))
        if result.profile.get("columns"):
            facets["dataQualityMetrics"] = quality_metrics_facet(
                result.profile, row_count=int(result.profile.get("rows", result.rows_written)),
                file_count=len(result.data_files) or None, capture_date=event_time,
                producer=self.producer)
        assertions = list(assertions)
        if assertions:
            facets["dataQualityAssertions"] = assertions_facet(assertions, producer=self.producer)
        output_facets: dict[str, Any] = {
            "outputStatistics": output_statistics_facet(
                rows=result.rows_written, file_count=len(result.data_files) or None,
                producer=self.producer),
        }
        return {"namespace": namespace, "name": name, "facets": facets,
                "outputFacets": output_facets}

    def quarantine_dataset(self, result: IngestResult) -> Dataset | None:
        """The quarantine file as a second output when records were rejected into it."""
        if not result.quarantine or result.rows_rejected <= 0:
            return None
        namespace, name = file_dataset(result.quarantine, self.root)
        stats = output_statistics_facet(rows=result.rows_rejected, producer=self.producer)
        return {"namespace": namespace, "name": name, "facets": {},
                "outputFacets": {"outputStatistics": stats}}

    # -- events -----------------------------------------------------------------------------

    def _event(self, state: str, run_id: str, job_name: str, *,
               inputs: list[Dataset], outputs: list[Dataset],
               run_facets: dict[str, Any] | None = None,
               event_time: str | None = None) -> Event:
        """A run event of ``state`` (``START``, ``COMPLETE``, ``FAIL``).

        Raises:
            ValueError: ``run_id`` is not a UUID (the spec requires one).
        """
        try:
            uuid.UUID(run_id)
        except (ValueError, TypeError, AttributeError):
            raise ValueError(f"OpenLineage run id {run_id!r} is not a UUID") from None
        engine = facet("ProcessingEngineRunFacet", self.producer, version=__version__,
                       name="logflow-dagster", openlineageAdapterVersion=openlineage_version())
        job_type = facet("JobTypeJobFacet", self.producer, processingType="BATCH",
                         integration="LOGFLOW", jobType="TASK")
        return {"eventType": state, "eventTime": event_time or _now(),
                "run": {"runId": run_id, "facets": {"processing_engine": engine,
                                                     **(run_facets or {})}},
                "job": {"namespace": self.namespace, "name": job_name,
                        "facets": {"jobType": job_type}},
                "inputs": inputs, "outputs": outputs, "producer": self.producer,
                "schemaURL": EVENT_SCHEMA_URL}

    def start(self, run_id: str, job_name: str, input_uri: str | os.PathLike[str], *,
              table: str | None = None, event_time: str | None = None) -> Event:
        """The START event: the landing file in, the table (when named) out.

        Example:
            >>> ev = IngestEventBuilder(root="/p").start(new_run_id(), "raw.orders", "in/a.csv")
            >>> (ev["eventType"], ev["inputs"][0]["name"], ev["outputs"])
            ('START', '/p/in/a.csv', [])
        """
        outputs = [self.table_dataset(table)] if table else []
        return self._event("START", run_id, job_name, inputs=[self.input_dataset(input_uri)],
                           outputs=outputs, event_time=event_time)

    def complete(self, run_id: str, job_name: str, result: IngestResult,
                 assertions: Iterable[AssertionResult] = (), *,
                 event_time: str | None = None) -> Event:
        """The COMPLETE event of an ingest that returned ``result``.

        Args:
            run_id: The run's UUID (the one START used).
            job_name: The job (asset) name.
            result: What the ingest did; ``result.input`` is the input dataset.
            assertions: ``(assertion, success, column or None)`` per quality rule evaluated.
            event_time: ISO-8601 time (default: now, UTC).

        Example:
            >>> r = IngestResult(input="/p/a.csv", output="raw.a", format="csv", rows_read=2,
            ...                  rows_written=2, table="raw.a", snapshot_id=7)
            >>> ev = IngestEventBuilder(root="/p").complete(new_run_id(), "raw.a", r)
            >>> ev["outputs"][0]["facets"]["version"]["datasetVersion"]
            '7'
        """
        event_time = event_time or _now()
        outputs = [self.output_dataset(result, assertions, event_time=event_time)]
        quarantine = self.quarantine_dataset(result)
        if quarantine is not None:
            outputs.append(quarantine)
        return self._event("COMPLETE", run_id, job_name,
                           inputs=[self.input_dataset(result.input, result)], outputs=outputs,
                           event_time=event_time)

    def fail(self, run_id: str, job_name: str, input_uri: str | os.PathLike[str],
             error: str | BaseException, *, table: str | None = None,
             event_time: str | None = None) -> Event:
        """The FAIL event, with the ``errorMessage`` run facet.

        ``error`` may be the exception itself: its type, message and stack trace are recorded.

        Example:
            >>> ev = IngestEventBuilder(root="/p").fail(new_run_id(), "raw.a", "a.csv", "boom")
            >>> ev["run"]["facets"]["errorMessage"]["message"]
            'boom'
        """
        outputs = [self.table_dataset(table)] if table else []
        return self._event("FAIL", run_id, job_name, inputs=[self.input_dataset(input_uri)],
                           outputs=outputs, event_time=event_time,
                           run_facets={"errorMessage": error_facet(error, producer=self.producer)})
