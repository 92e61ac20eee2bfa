"""One ingest asset per source: a landed file (a dynamic partition) or a time window of files
into its Iceberg table.

The work is the service's (:func:`logflow_dagster.services.ingest_file`: engine, quality rules,
OpenLineage); this module turns its reports into Dagster metadata and check results. Checks on
each asset: the blocking ``row_accounting`` check, and one check per quality rule configured
for the source's table (``checks:`` in logflow.yaml).

(No ``from __future__ import annotations`` here: Dagster reads the annotations at runtime.)
"""

from typing import Any

import dagster as dg

from ..checks.rules import rule_check_results, rule_check_specs
from ..config import ProjectConfig, SourceConfig
from ..resources.catalog import IcebergCatalogResource
from ..resources.lineage import OpenLineageResource
from ..services import Project, files_for_partition, ingest_file
from ..services.ingest import ROW_ACCOUNTING, IngestReport, merged_outcomes
from .metadata import window_metadata
from .specs import landing_key, partitions_for, spec_attributes, table_key

__all__ = ["ROW_ACCOUNTING", "build_ingest_assets", "landing_spec", "partitions_for"]


def landing_spec(config: ProjectConfig, source: SourceConfig) -> dg.AssetSpec:
    """The landing folder, shown upstream of its table (files arrive from outside Dagster)."""
    return dg.AssetSpec(landing_key(config, source),
                        **spec_attributes(config, group="landing", kinds={"file"}),
                        description=f"Files landing in {source.landing}",
                        metadata={"logflow/landing": source.landing})


def _accounting(reports: list[IngestReport]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=ROW_ACCOUNTING, passed=all(r.balanced for r in reports),
        metadata={"rows_read": sum(r.result.rows_read for r in reports),
                  "rows_written": sum(r.result.rows_written for r in reports),
                  "rows_rejected": sum(r.result.rows_rejected for r in reports),
                  "files": len(reports),
                  "skipped_files": sum(1 for r in reports if r.result.skipped)})


def _build_one(config: ProjectConfig, source: SourceConfig) -> dg.AssetsDefinition:
    key = table_key(config, source.table)
    check = dg.AssetCheckSpec(ROW_ACCOUNTING, asset=key, blocking=True,
                              description="rows read = rows written + rows rejected")
    rules = Project.from_config(config).rules_for(source.table)

    @dg.asset(
        key=key,
        deps=[landing_key(config, source)],
        partitions_def=partitions_for(source),
        check_specs=[check, *rule_check_specs(rules, key)],
        **spec_attributes(config, group=source.table.split(".")[0]),
        description=f"Files landing in {source.landing} ingested into {source.table}.",
        metadata={"logflow/landing": source.landing},
    )
    def _ingest(context: dg.AssetExecutionContext,
                logflow_catalog: IcebergCatalogResource,
                logflow_lineage: OpenLineageResource) -> Any:
        from ..lineage import run_id_for

        project = Project(config, logflow_catalog.catalog_config())
        lineage = logflow_lineage.emitter(config.root, project.catalog.warehouse)
        reports: list[IngestReport] = []
        try:
            for file in files_for_partition(project, source, context.partition_key):
                reports.append(ingest_file(
                    project, file.path, source=source, rules=rules, lineage=lineage,
                    run_id=run_id_for(context.run_id, source.table, file.key)))
        finally:
            lineage.close()
        yield dg.MaterializeResult(metadata=window_metadata([r.result for r in reports]))
        yield _accounting(reports)
        if rules:
            yield from rule_check_results(rules, merged_outcomes(
                rules, [r.outcomes for r in reports]))

    return _ingest


def build_ingest_assets(*, config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """The ingest assets of every source in the config.

    Examples:
        .. code-block:: python

            import dagster as dg
            from logflow_dagster.assets import build_ingest_assets
            from logflow_dagster.config import load_config
            from logflow_dagster.resources import IcebergCatalogResource

            config = load_config("logflow.yaml")
            defs = dg.Definitions(assets=build_ingest_assets(config=config),
                                  resources={"logflow_catalog":
                                             IcebergCatalogResource(root=config.root)})
    """
    return [_build_one(config, s) for s in config.sources]
