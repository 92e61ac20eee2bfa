"""One asset per rollup (``type: rollup`` pre-aggregation): ``rollups/<cube>__<name>`` under
the project's key prefix, downstream of the ingest assets of the tables its cube reads, kept
current by Dagster's declarative automation (eager: rebuilt when an upstream table
materializes). The build is the service's (:func:`logflow_dagster.services.semantic
.build_rollups`, which also emits the OpenLineage events); this module turns its result into
materialization metadata: ``dagster/row_count``, ``dagster/column_schema``,
``dagster/column_lineage``, the Iceberg snapshot id and how it was built (``logflow/mode``:
``full`` or ``partitions``, with ``logflow/partitions``, the local ranges rebuilt).

(No ``from __future__ import annotations``: Dagster reads the annotations at runtime.)
"""

from typing import Any

import dagster as dg

from ..config import ProjectConfig
from ..resources.catalog import IcebergCatalogResource
from ..resources.lineage import OpenLineageResource
from .specs import spec_attributes, table_key


def rollup_key(config: ProjectConfig, table: str) -> dg.AssetKey:
    """``[*prefix, "rollups", "<cube>__<name>"]`` for ``rollups.<cube>__<name>``.

    Example:
        >>> rollup_key(ProjectConfig(), "rollups.orders__by_day").to_user_string()
        'rollups/orders__by_day'
    """
    return table_key(config, table)


def rollup_metadata(config: ProjectConfig, result: Any) -> dict[str, Any]:
    """Materialization metadata of one build (a ``BuildResult``)."""
    schema = dg.TableSchema(columns=[dg.TableColumn(c["name"], c["type"])
                                     for c in result.schema])
    deps = {}
    for column, reads in result.lineage.items():
        deps[column] = [dg.TableColumnDep(asset_key=table_key(config, item.rsplit(".", 1)[0]),
                                          column_name=item.rsplit(".", 1)[1])
                        for item in reads if item.count(".") >= 2]
    return {
        "dagster/row_count": result.total_rows if result.total_rows is not None
        else result.rows,
        "logflow/rows_written": result.rows,
        "dagster/column_schema": schema,
        "dagster/column_lineage": dg.TableColumnLineage(deps_by_column=deps),
        "logflow/snapshot_id": str(result.snapshot_id),
        "logflow/sources": dg.MetadataValue.json({t: str(s) for t, s in
                                                  result.sources.items()}),
        "logflow/timezones": ", ".join(result.timezones),
        "logflow/table": result.table,
        "logflow/mode": result.mode,
        "logflow/partitions": dg.MetadataValue.json(list(result.partitions)),
    }


def _build_one(config: ProjectConfig, spec: dict[str, Any]) -> dg.AssetsDefinition:
    key = rollup_key(config, spec["table"])
    sourced = {s.table for s in config.sources}
    deps = [table_key(config, t) for t in spec["sources"] if t in sourced]

    @dg.asset(
        key=key,
        deps=deps,
        automation_condition=dg.AutomationCondition.eager(),
        **spec_attributes(config, group="rollups", kinds={"iceberg", "duckdb"}),
        description=spec["description"],
        metadata={"logflow/rollup": spec["rollup"], "logflow/table": spec["table"]},
    )
    def _rollup(context: dg.AssetExecutionContext, logflow_catalog: IcebergCatalogResource,
                logflow_lineage: OpenLineageResource) -> dg.MaterializeResult:
        from ..lineage import run_id_for
        from ..services.semantic import build_rollups

        catalog = logflow_catalog.catalog_config()
        lineage = logflow_lineage.emitter(config.root, catalog.warehouse)
        try:
            (result,) = build_rollups(config.root, [spec["rollup"]], lineage=lineage,
                                      run_id=run_id_for(context.run_id, spec["table"]),
                                      catalog_uri=catalog.uri, warehouse=catalog.warehouse)
        finally:
            lineage.close()
        return dg.MaterializeResult(metadata=rollup_metadata(config, result))

    return _rollup


def build_rollup_assets(*, config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """One asset per rollup of the project's semantic models (none without models)."""
    if not config.semantic.models:
        return []
    from ..services.semantic import rollup_specs

    return [_build_one(config, spec) for spec in rollup_specs(config)]
