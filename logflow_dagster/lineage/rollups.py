"""OpenLineage events of a rollup build: the raw Iceberg tables in, the rollup table out, with
the ``columnLineage`` facet (measure columns: ``DIRECT``/``AGGREGATION`` from the columns they
aggregate; group-by columns: ``DIRECT``/``IDENTITY``, or ``DIRECT``/``TRANSFORMATION`` when
the dimension is an expression over several columns).

The lineage layer does not import the semantic layer: the build is described with plain
values (what :class:`logflow_dagster.semantic.rollups.BuildResult` holds).

Example:
    >>> from logflow_dagster.lineage.events import IngestEventBuilder, new_run_id
    >>> b = IngestEventBuilder(root="/p")
    >>> ev = rollup_complete(b, new_run_id(), "rollups.orders__by_day", table="rollups.o",
    ...     sources={"raw.orders": 1}, snapshot_id=2, rows=3,
    ...     schema=[{"name": "d__orders__status", "type": "string"}],
    ...     lineage={"d__orders__status": ["raw.orders.status"]}, aggregated=[])
    >>> f = ev["outputs"][0]["facets"]["columnLineage"]["fields"]["d__orders__status"]
    >>> f["inputFields"][0]["transformations"][0]["subtype"]
    'IDENTITY'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .events import Dataset, Event, IngestEventBuilder, _now
from .facets import output_statistics_facet, schema_facet
from .spec import facet


def _inputs(b: IngestEventBuilder, sources: Mapping[str, int | None]) -> list[Dataset]:
    out = []
    for table, snap in sorted(sources.items()):
        facets = {}
        if snap is not None:
            facets["version"] = facet("DatasetVersionDatasetFacet", b.producer,
                                      datasetVersion=str(snap))
        out.append({"namespace": b.table_namespace, "name": table, "facets": facets,
                    "inputFacets": {}})
    return out


def column_lineage_facet(b: IngestEventBuilder, lineage: Mapping[str, Sequence[str]],
                         aggregated: Sequence[str]) -> dict[str, Any]:
    """``columnLineage``: each rollup column from its source columns
    (``namespace.table.column``)."""
    fields: dict[str, Any] = {}
    for column, reads in lineage.items():
        if column in aggregated:
            subtype, desc = "AGGREGATION", "aggregated per rollup group"
        elif len(reads) == 1:
            subtype, desc = "IDENTITY", "group-by column"
        else:
            subtype, desc = "TRANSFORMATION", "group-by expression"
        inputs = []
        for item in reads:
            table, _, col = item.rpartition(".")
            inputs.append({"namespace": b.table_namespace, "name": table, "field": col,
                           "transformations": [{"type": "DIRECT", "subtype": subtype,
                                                "description": desc}]})
        fields[column] = {"inputFields": inputs}
    return facet("ColumnLineageDatasetFacet", b.producer, fields=fields, dataset=[])


def rollup_start(b: IngestEventBuilder, run_id: str, job_name: str, *, table: str,
                 sources: Mapping[str, int | None], event_time: str | None = None
                 ) -> Event:
    """The START event of a rollup build."""
    return b._event("START", run_id, job_name, inputs=_inputs(b, sources),
                    outputs=[b.table_dataset(table)], event_time=event_time)


def rollup_complete(b: IngestEventBuilder, run_id: str, job_name: str, *, table: str,
                    sources: Mapping[str, int | None], snapshot_id: int | None, rows: int,
                    schema: Sequence[Mapping[str, str]],
                    lineage: Mapping[str, Sequence[str]], aggregated: Sequence[str],
                    event_time: str | None = None) -> Event:
    """The COMPLETE event: schema, version, columnLineage and outputStatistics facets."""
    event_time = event_time or _now()
    dataset = b.table_dataset(table)
    facets = dict(dataset["facets"])
    facets["schema"] = schema_facet(schema, producer=b.producer)
    if snapshot_id is not None:
        facets["version"] = facet("DatasetVersionDatasetFacet", b.producer,
                                  datasetVersion=str(snapshot_id))
    facets["columnLineage"] = column_lineage_facet(b, lineage, aggregated)
    out = {"namespace": dataset["namespace"], "name": table, "facets": facets,
           "outputFacets": {"outputStatistics": output_statistics_facet(rows=rows,
                                                                        producer=b.producer)}}
    return b._event("COMPLETE", run_id, job_name, inputs=_inputs(b, sources),
                    outputs=[out], event_time=event_time)


def rollup_fail(b: IngestEventBuilder, run_id: str, job_name: str, *, table: str,
                error: str | BaseException, event_time: str | None = None) -> Event:
    """The FAIL event of a rollup build, with the ``errorMessage`` run facet."""
    from .facets import error_facet

    return b._event("FAIL", run_id, job_name, inputs=[],
                    outputs=[b.table_dataset(table)], event_time=event_time,
                    run_facets={"errorMessage": error_facet(error, producer=b.producer)})
