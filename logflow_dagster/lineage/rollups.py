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
    >>> f = ev.outputs[0].facets["columnLineage"].fields["d__orders__status"]
    >>> f.inputFields[0].transformations[0].subtype
    'IDENTITY'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from openlineage.client.event_v2 import InputDataset, OutputDataset, RunEvent, RunState
from openlineage.client.generated import (
    column_lineage_dataset,
    dataset_version_dataset,
)

from .events import IngestEventBuilder, _now
from .facets import output_statistics_facet, schema_facet


def _inputs(b: IngestEventBuilder, sources: Mapping[str, int | None]) -> list[InputDataset]:
    out = []
    for table, snap in sorted(sources.items()):
        facets = {}
        if snap is not None:
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
                datasetVersion=str(snap), producer=b.producer)
        out.append(InputDataset(namespace=b.table_namespace, name=table, facets=facets))
    return out


def column_lineage_facet(b: IngestEventBuilder, lineage: Mapping[str, Sequence[str]],
                         aggregated: Sequence[str]
                         ) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """``columnLineage``: each rollup column from its source columns
    (``namespace.table.column``)."""
    fields = {}
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
            inputs.append(column_lineage_dataset.InputField(
                namespace=b.table_namespace, name=table, field=col,
                transformations=[column_lineage_dataset.Transformation(
                    type="DIRECT", subtype=subtype, description=desc)]))
        fields[column] = column_lineage_dataset.Fields(inputFields=inputs)
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields,
                                                            producer=b.producer)


def rollup_start(b: IngestEventBuilder, run_id: str, job_name: str, *, table: str,
                 sources: Mapping[str, int | None], event_time: str | None = None
                 ) -> RunEvent:
    """The START event of a rollup build."""
    return b._event(RunState.START, run_id, job_name, inputs=_inputs(b, sources),
                    outputs=[b.table_dataset(table)], event_time=event_time)


def rollup_complete(b: IngestEventBuilder, run_id: str, job_name: str, *, table: str,
                    sources: Mapping[str, int | None], snapshot_id: int | None, rows: int,
                    schema: Sequence[Mapping[str, str]],
                    lineage: Mapping[str, Sequence[str]], aggregated: Sequence[str],
                    event_time: str | None = None) -> RunEvent:
    """The COMPLETE event: schema, version, columnLineage and outputStatistics facets."""
    event_time = event_time or _now()
    dataset = b.table_dataset(table)
    facets = dict(dataset.facets or {})
    facets["schema"] = schema_facet(schema, producer=b.producer)
    if snapshot_id is not None:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=str(snapshot_id), producer=b.producer)
    facets["columnLineage"] = column_lineage_facet(b, lineage, aggregated)
    out = OutputDataset(namespace=dataset.namespace, name=table, facets=facets,
                        outputFacets={"outputStatistics": output_statistics_facet(
                            rows=rows, producer=b.producer)})
    return b._event(RunState.COMPLETE, run_id, job_name, inputs=_inputs(b, sources),
                    outputs=[out], event_time=event_time)


def rollup_fail(b: IngestEventBuilder, run_id: str, job_name: str, *, table: str,
                error: str | BaseException, event_time: str | None = None) -> RunEvent:
    """The FAIL event of a rollup build, with the ``errorMessage`` run facet."""
    from .facets import error_facet

    return b._event(RunState.FAIL, run_id, job_name, inputs=[],
                    outputs=[b.table_dataset(table)], event_time=event_time,
                    run_facets={"errorMessage": error_facet(error, producer=b.producer)})
