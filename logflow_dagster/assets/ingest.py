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
from .specs import landing_key, spec_attributes, table_key

ROW_ACCOUNTING = "row_accounting"


def partitions_for(source: SourceConfig) -> dg.PartitionsDefinition:
    """A source's partitions: one per landed file (its project-relative path, dynamic), or a
    daily/hourly window holding the files modified in it."""
    if source.partitioning == "daily":
        return dg.DailyPartitionsDefinition(start_date=source.partition_start or "")
    if source.partitioning == "hourly":
        return dg.HourlyPartitionsDefinition(start_date=f"{source.partition_start}-00:00")
    return dg.DynamicPartitionsDefinition(name=f"{source.name}_files")


def window_key(source: SourceConfig, mtime_ns: int) -> str:
    """The daily/hourly partition key of a file modified at ``mtime_ns`` (UTC)."""
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(mtime_ns / 1e9, UTC)
    return when.strftime("%Y-%m-%d" if source.partitioning == "daily" else "%Y-%m-%d-%H:00")


def files_of(config: ProjectConfig, source: SourceConfig, context: Any) -> list[str]:
    """The project-relative files a partition run ingests."""
    if source.partitioning == "file":
        return [context.partition_key]
    from ..sensors.landing import landing_files

    window = context.partition_time_window
    lo, hi = window.start.timestamp() * 1e9, window.end.timestamp() * 1e9
    return [rel for rel in landing_files(config.root, source.landing)
            if lo <= os.stat(os.path.join(config.root, rel)).st_mtime_ns < hi]


def _metadata_of(results: list[IngestResult]) -> dict[str, Any]:
    """Materialization metadata of one file, or the sums over a window's files."""
    if len(results) == 1:
        return _metadata(results[0])
    merged = {
        "dagster/row_count": sum(r.rows_written for r in results),
        "logflow/rows_read": sum(r.rows_read for r in results),
        "logflow/rows_rejected": sum(r.rows_rejected for r in results),
        "logflow/files": len(results),
        "logflow/source_hash": "",
    }
    if results:
        last = _metadata(results[-1])
        merged["dagster/column_schema"] = last["dagster/column_schema"]
        merged["logflow/snapshot_id"] = last["logflow/snapshot_id"]
    return merged


def _worst(rules: list[Any], per_file: list[dict[str, Any]]) -> dict[str, Any]:
    """Per rule, the outcome of the first file that failed it (else of the last file)."""
    worst: dict[str, Any] = {}
    for outcomes in per_file:
        for rule in rules:
            got = outcomes.get(rule.name)
            if got is not None and (rule.name not in worst or worst[rule.name].passed):
                worst[rule.name] = got
    return worst


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


def landing_spec(config: ProjectConfig, source: SourceConfig) -> dg.AssetSpec:
    """The landing folder, shown upstream of its table (files arrive from outside Dagster)."""
    return dg.AssetSpec(landing_key(config, source),
                        **spec_attributes(config, group="landing", kinds={"file"}),
                        description=f"Files landing in {source.landing}",
                        metadata={"logflow/landing": source.landing})


def _build_one(config: ProjectConfig, source: SourceConfig) -> dg.AssetsDefinition:
    key = table_key(config, source.table)
    check = dg.AssetCheckSpec(ROW_ACCOUNTING, asset=key, blocking=True,
                              description="rows read = rows written + rows rejected")
    try:
        rules = rules_from_config(config.rules_for(source.table), root=config.root)
    except UsageError as err:
        raise UsageError(f"checks.{source.table}: {err}") from None

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
        from ..lakehouse.ingest import ingest
        from ..lineage import run_id_for

        catalog = logflow_catalog.catalog_config()
        options = {k: v for k, v in source.options.items()
                   if k in ("encoding", "delimiter", "header", "sheet", "schema")}
        lineage = logflow_lineage.emitter(config.root, catalog.warehouse)
        results: list[IngestResult] = []
        outcomes_per_file: list[dict[str, Any]] = []
        for rel in files_of(config, source, context):
            path = os.path.join(config.root, rel)
            run_id = run_id_for(context.run_id, source.table, rel)
            lineage.start(run_id, source.table, path, table=source.table)
            try:
                result = ingest(path, source.table, catalog=catalog, project_dir=config.root,
                                partition_by=source.partition_by,
                                schema_policy=source.schema_policy,
                                error_policy=source.error_policy,
                                reading=ReadOptions(format=source.format, **options))
                # rules see the table as committed: also right after a skipped (unchanged) file
                outcomes = (evaluate_ingested_file(rules, catalog, source.table, path)
                            if rules else {})
            except Exception as err:
                lineage.fail(run_id, source.table, path, err, table=source.table)
                raise
            balanced = result.skipped or result.balanced
            lineage.complete(run_id, source.table, result, [(ROW_ACCOUNTING, balanced, None)] + [
                (r.name, outcomes[r.name].passed, r.column) for r in rules if r.name in outcomes])
            results.append(result)
            outcomes_per_file.append(outcomes)
        lineage.close()
        yield dg.MaterializeResult(metadata=_metadata_of(results))
        yield dg.AssetCheckResult(
            check_name=ROW_ACCOUNTING, passed=all(r.skipped or r.balanced for r in results),
            metadata={"rows_read": sum(r.rows_read for r in results),
                      "rows_written": sum(r.rows_written for r in results),
                      "rows_rejected": sum(r.rows_rejected for r in results),
                      "files": len(results)})
        if rules:
            yield from rule_check_results(rules, _worst(rules, outcomes_per_file))

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
