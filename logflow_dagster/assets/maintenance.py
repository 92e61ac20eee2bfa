"""Table maintenance as assets: compaction and snapshot expiry, on a schedule and by thresholds.

One maintenance asset per table (``<namespace>/<table>_maintenance``) sits downstream of the
table's ingest asset, so the asset graph reads landing -> table -> maintenance.
(No ``from __future__ import annotations``: Dagster reads the annotations at runtime.)
"""

from typing import Any

import dagster as dg

from ..config import ProjectConfig
from ..resources.catalog import IcebergCatalogResource
from .specs import maintenance_key, spec_attributes, table_key


def _tables(config: ProjectConfig) -> list[str]:
    return sorted({s.table for s in config.sources})


def table_health(table: Any, small_file_bytes: int) -> dict[str, int]:
    """Data files, small data files and snapshots of a table (what the thresholds look at)."""
    if table.current_snapshot() is None:
        return {"data_files": 0, "small_files": 0, "snapshots": len(table.snapshots())}
    sizes = table.inspect.files().column("file_size_in_bytes").to_pylist()
    return {"data_files": len(sizes), "small_files": sum(1 for s in sizes if s < small_file_bytes),
            "snapshots": len(table.snapshots())}


def build_maintenance_assets(*, config: ProjectConfig) -> list[dg.AssetsDefinition]:
    """One compaction + expiry asset per table.

    Examples:
        .. code-block:: python

            from logflow_dagster.assets.maintenance import build_maintenance_assets
            assets = build_maintenance_assets(config=load_config("logflow.yaml"))
    """
    out = []
    for table_name in _tables(config):
        out.append(_maintenance_asset(config, table_name))
    return out


def _maintenance_asset(config: ProjectConfig, table_name: str) -> dg.AssetsDefinition:
    @dg.asset(key=maintenance_key(config, table_name), deps=[table_key(config, table_name)],
              **spec_attributes(config, group=table_name.split(".")[0]),
              description=f"Compacts small data files of {table_name} and expires old "
                          "snapshots (deleting the files only they referenced).")
    def _maintain(context: dg.AssetExecutionContext,
                  logflow_catalog: IcebergCatalogResource) -> dg.MaterializeResult:
        from ..cli_lakehouse import parse_duration
        from ..lakehouse.maintenance import compact, expire_snapshots

        table = logflow_catalog.load_table(table_name)
        compacted = compact(table)
        table = logflow_catalog.load_table(table_name)
        expired = expire_snapshots(
            table, older_than=parse_duration(config.maintenance.expire_older_than))
        context.log.info(f"{table_name}: {compacted.files_before} -> {compacted.files_after} "
                         f"files; {expired.deleted_paths} files deleted by expiry")
        return dg.MaterializeResult(metadata={
            "logflow/files_before": compacted.files_before,
            "logflow/files_after": compacted.files_after,
            "logflow/bytes_before": compacted.bytes_before,
            "logflow/bytes_after": compacted.bytes_after,
            "logflow/expired_files_deleted": expired.deleted_paths,
            "logflow/snapshot_id": str(compacted.snapshot_id_after or ""),
        })

    return _maintain


def build_maintenance_schedule(*, config: ProjectConfig) -> dg.ScheduleDefinition:
    """Runs every table's maintenance asset on ``maintenance.schedule`` (cron)."""
    job = dg.define_asset_job("logflow_maintenance",
                              selection=[maintenance_key(config, t) for t in _tables(config)])
    return dg.ScheduleDefinition(name="logflow_maintenance_schedule", job=job,
                                 cron_schedule=config.maintenance.schedule,
                                 default_status=dg.DefaultScheduleStatus.RUNNING)


def build_maintenance_sensor(*, config: ProjectConfig) -> dg.SensorDefinition:
    """Requests a table's maintenance when it passes the small-file or snapshot thresholds."""
    tables = _tables(config)

    @dg.sensor(name="logflow_maintenance_thresholds", minimum_interval_seconds=300,
               asset_selection=[maintenance_key(config, t) for t in tables],
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Compacts/expires a table with too many small files or snapshots.")
    def _thresholds(context: dg.SensorEvaluationContext,
                    logflow_catalog: IcebergCatalogResource) -> dg.SensorResult:
        from pyiceberg.exceptions import NoSuchTableError

        from ..lakehouse.maintenance import DEFAULT_TARGET_FILE_SIZE

        requests = []
        for name in tables:
            try:
                table = logflow_catalog.load_table(name)
            except NoSuchTableError:
                continue
            health = table_health(table, int(DEFAULT_TARGET_FILE_SIZE * 0.75))
            if (health["small_files"] >= config.maintenance.small_files
                    or health["snapshots"] > config.maintenance.max_snapshots):
                snap = table.current_snapshot()
                requests.append(dg.RunRequest(asset_selection=[maintenance_key(config, name)],
                                              run_key=f"{name}:{snap.snapshot_id if snap else 0}",
                                              tags={"logflow/reason": str(health)}))
        return dg.SensorResult(run_requests=requests)

    return _thresholds
