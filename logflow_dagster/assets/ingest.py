"""One ingest asset per source: a landed file (a dynamic partition) into its Iceberg table.

Checks on each asset: the blocking ``row_accounting`` check, and one check per quality rule
configured for the source's table (``checks:`` in logflow.yaml), evaluated on the rows the
landed file wrote (see :mod:`logflow_dagster.checks.rules`).

(No ``from __future__ import annotations`` here: Dagster reads the annotations at runtime.)
"""

import os
from typing import Any

import dagster as dg

from ..checks.rules import evaluate_ingested_file, rule_check_results, rule_check_specs
from ..config import ProjectConfig, SourceConfig
from ..core.convert import ReadOptions
from ..core.errors import UsageError
from ..core.quality.rules import rules_from_config
from ..core.result import IngestResult
from ..resources.catalog import IcebergCatalogResource
from ..resources.lineage import OpenLineageResource

ROW_ACCOUNTING = "row_accounting"


def partitions_for(source: SourceConfig) -> dg.DynamicPartitionsDefinition:
    """The dynamic partitions of a source: one per landed file (its project-relative path)."""
    return dg.DynamicPartitionsDefinition(name=f"{source.name}_files")


def _asset_key(source: SourceConfig) -> dg.AssetKey:
    return dg.AssetKey(source.table.split("."))


def _metadata(result: IngestResult) -> dict[str, Any]:
    columns = dg.TableSchema(columns=[dg.TableColumn(c["name"], c["type"])
                                      for c in result.columns])
    profile = {c["name"]: {k: c[k] for k in ("nulls", "distinct", "min", "max", "entropy")}
               for c in result.profile.get("columns", [])}
    return {
        "dagster/row_count": result.rows_written,
        "dagster/column_schema": columns,
        "logflow/rows_read": result.rows_read,
        "logflow/rows_rejected": result.rows_rejected,
        "logflow/quarantine": result.quarantine or "",
        "logflow/snapshot_id": str(result.snapshot_id or ""),
        "logflow/checksum": result.checksum or "",
        "logflow/rows_per_s": float(result.rows_per_s),
        "logflow/skipped": result.skipped,
        "logflow/source_hash": result.source_hash or "",
        "logflow/profile": dg.MetadataValue.json(profile),
    }


def landing_key(source: SourceConfig) -> dg.AssetKey:
    """The landing location as an (external) asset: the graph reads landing -> table."""
    return dg.AssetKey(["landing", source.name])


def landing_spec(source: SourceConfig) -> dg.AssetSpec:
    """The landing folder, shown upstream of its table (files arrive from outside Dagster)."""
    return dg.AssetSpec(landing_key(source), group_name="landing", kinds={"file"},
                        description=f"Files landing in {source.landing}",
                        metadata={"logflow/landing": source.landing})


def _build_one(config: ProjectConfig, source: SourceConfig) -> dg.AssetsDefinition:
    key = _asset_key(source)
    check = dg.AssetCheckSpec(ROW_ACCOUNTING, asset=key, blocking=True,
                              description="rows read = rows written + rows rejected")
    try:
        rules = rules_from_config(config.rules_for(source.table), root=config.root)
    except UsageError as err:
        raise UsageError(f"checks.{source.table}: {err}") from None

    @dg.asset(
        key=key,
        deps=[landing_key(source)],
        partitions_def=partitions_for(source),
        check_specs=[check, *rule_check_specs(rules, key)],
        group_name=source.table.split(".")[0],
        kinds={"iceberg", "python"},
        description=f"Files landing in {source.landing} ingested into {source.table}.",
        metadata={"logflow/landing": source.landing},
    )
    def _ingest(context: dg.AssetExecutionContext,
                logflow_catalog: IcebergCatalogResource,
                logflow_lineage: OpenLineageResource) -> Any:
        from ..lakehouse.ingest import ingest
        from ..lineage import run_id_for

        catalog = logflow_catalog.catalog_config()
        path = os.path.join(config.root, context.partition_key)
        options = {k: v for k, v in source.options.items()
                   if k in ("encoding", "delimiter", "header", "sheet", "schema")}
        lineage = logflow_lineage.emitter(config.root, catalog.warehouse)
        run_id = run_id_for(context.run_id, source.table, context.partition_key)
        lineage.start(run_id, source.table, path, table=source.table)
        try:
            result = ingest(path, source.table, catalog=catalog, project_dir=config.root,
                            partition_by=source.partition_by, schema_policy=source.schema_policy,
                            error_policy=source.error_policy,
                            reading=ReadOptions(format=source.format, **options))
            balanced = result.skipped or result.balanced
            # rules see the table as committed: also right after a skipped (unchanged) file
            outcomes = (evaluate_ingested_file(rules, catalog, source.table, path)
                        if rules else {})
        except Exception as err:
            lineage.fail(run_id, source.table, path, err, table=source.table)
            raise
        assertions = [(ROW_ACCOUNTING, balanced, None)] + [
            (r.name, outcomes[r.name].passed, r.column) for r in rules if r.name in outcomes]
        lineage.complete(run_id, source.table, result, assertions)
        lineage.close()
        yield dg.MaterializeResult(metadata=_metadata(result))
        yield dg.AssetCheckResult(
            check_name=ROW_ACCOUNTING, passed=balanced,
            metadata={"rows_read": result.rows_read, "rows_written": result.rows_written,
                      "rows_rejected": result.rows_rejected})
        if rules:
            yield from rule_check_results(rules, outcomes)

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
