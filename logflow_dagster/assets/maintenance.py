"""Table maintenance as assets: compaction and snapshot expiry, on a schedule and by thresholds.

One maintenance asset per table (``<namespace>/<table>_maintenance``) sits downstream of the
table's ingest asset, so the asset graph reads landing -> table -> maintenance.
(No ``from __future__ import annotations``: Dagster reads the annotations at runtime.)
"""


import dagster as dg

from ..config import ProjectConfig
from ..resources.catalog import IcebergCatalogResource
from ..services import Project, maintain_table
from ..services.maintenance import maintenance_due
from .specs import maintenance_key, spec_attributes, table_key


def _tables(config: ProjectConfig) -> list[str]:
    return sorted({s.table for s in config.sources})


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
        project = Project(config, logflow_catalog.catalog_config())
        report = maintain_table(project, table_name)
        numbers = report.metadata()
        context.log.info(f"{table_name}: {numbers['files_before']} -> "
                         f"{numbers['files_after']} files; {numbers['expired_files_deleted']} "
                         "files deleted by expiry")
        numbers["snapshot_id"] = str(numbers["snapshot_id"] or "")
        return dg.MaterializeResult(metadata={f"logflow/{k}": v for k, v in numbers.items()})

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
        project = Project(config, logflow_catalog.catalog_config())
        return dg.SensorResult(run_requests=[
            dg.RunRequest(asset_selection=[maintenance_key(config, name)],
                          run_key=f"{name}:{snapshot_id or 0}", tags={"logflow/reason": reason})
            for name, reason, snapshot_id in maintenance_due(project)])

    return _thresholds
