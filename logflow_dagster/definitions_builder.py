"""``build_definitions``: everything Dagster needs, from one project config.

The one builder behind both ways in: ``definitions.py`` (``load_config("logflow.yaml")``) and
the ``dg`` component (:class:`logflow_dagster.LogflowComponent`), so the two cannot drift.
"""

from __future__ import annotations

import dagster as dg

from .assets import build_ingest_assets
from .assets.ingest import landing_spec
from .assets.maintenance import (
    build_maintenance_assets,
    build_maintenance_schedule,
    build_maintenance_sensor,
)
from .assets.rollups import build_rollup_assets
from .assets.specs import validate_asset_settings
from .config import ExecutionConfig, ProjectConfig
from .resources import (
    AuthResource,
    IcebergCatalogResource,
    LogflowDuckDBResource,
    ObjectStorageResource,
    OpenLineageResource,
)
from .sensors import build_landing_sensor


def build_definitions(config: ProjectConfig) -> dg.Definitions:
    """Assets, checks, sensors, the maintenance job and schedule, and resources for a project.

    Raises:
        UsageError: For config Dagster refuses (an ``assets:`` owner or tag, a bad rule),
            naming the key.

    Examples:
        .. code-block:: python

            from logflow_dagster import build_definitions, load_config

            defs = build_definitions(load_config("logflow.yaml"))
    """
    validate_asset_settings(config)
    catalog = config.catalog
    resource = IcebergCatalogResource(root=config.root, kind=catalog.kind, uri=catalog.uri,
                                      warehouse=catalog.warehouse, properties=catalog.properties)
    sensors = [build_landing_sensor(config=config, source=s) for s in config.sources]
    schedules = []
    if config.sources:
        sensors.append(build_maintenance_sensor(config=config))
        schedules.append(build_maintenance_schedule(config=config))
    rollups = build_rollup_assets(config=config)
    if rollups:
        # the rollups' eager automation conditions are evaluated by this sensor, running by
        # default (Dagster's own default automation sensor would start stopped)
        sensors.append(dg.AutomationConditionSensorDefinition(
            "logflow_rollups_automation", target=dg.AssetSelection.assets(*rollups),
            default_status=dg.DefaultSensorStatus.RUNNING,
            description="Rebuilds a rollup when a table it reads gets a new snapshot."))
    return dg.Definitions(
        executor=build_executor(config.execution),
        assets=[*(landing_spec(config, s) for s in config.sources),
                *build_ingest_assets(config=config), *build_maintenance_assets(config=config),
                *rollups],
        sensors=sensors,
        schedules=schedules,
        resources={
            "logflow_catalog": resource,
            "logflow_lineage": OpenLineageResource(
                transport=config.lineage.transport, path=config.lineage.path,
                url=config.lineage.url, namespace=config.lineage.namespace),
            "duckdb": LogflowDuckDBResource(database=":memory:",
                                            storage_properties=dict(catalog.properties)),
            "logflow_auth": AuthResource(project_dir=config.root),
            "logflow_storage": ObjectStorageResource(
                root=resource.catalog_config().warehouse, properties=catalog.properties),
        },
    )


#: What a forkserver imports once for every step process it forks.
PRELOAD = ("dagster", "logflow_dagster.definitions_builder", "pyiceberg.catalog.sql",
           "pyarrow.parquet", "duckdb")


def build_executor(execution: ExecutionConfig) -> dg.ExecutorDefinition | None:
    """The executor ``execution:`` names (None: Dagster's default, multiprocess or in-process).

    ``celery`` needs ``dagster-celery``; its workers (``dagster-celery worker start -A
    dagster_celery.app``) run the steps, against the same Dagster instance (PostgreSQL).

    Example:
        >>> build_executor(ExecutionConfig(executor="multiprocess", max_concurrent=2)).name
        'multiprocess'
    """
    if execution.executor == "in_process":
        return dg.in_process_executor
    if execution.executor == "multiprocess":
        config: dict[str, object] = {}
        if execution.max_concurrent:
            config["max_concurrent"] = execution.max_concurrent
        if execution.start_method == "forkserver":  # the imports once, not once per step
            config["start_method"] = {"forkserver": {"preload_modules": list(PRELOAD)}}
        return dg.multiprocess_executor.configured(config) if config else \
            dg.multiprocess_executor
    if execution.executor == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError as err:
            from .core.errors import UsageError

            raise UsageError("execution.executor: celery needs dagster-celery "
                             "(pip install dagster-celery==0.29.27)") from err
        settings: dict[str, object] = {}
        if execution.broker:
            settings["broker"] = execution.broker
        if execution.backend:
            settings["backend"] = execution.backend
        if execution.include:
            settings["include"] = list(execution.include)
        if execution.config_source:
            settings["config_source"] = dict(execution.config_source)
        return celery_executor.configured(settings, name="celery")
    return None
