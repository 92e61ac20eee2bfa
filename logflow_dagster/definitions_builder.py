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
from .config import ProjectConfig
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
    return dg.Definitions(
        assets=[*(landing_spec(config, s) for s in config.sources),
                *build_ingest_assets(config=config), *build_maintenance_assets(config=config),
                *build_rollup_assets(config=config)],
        sensors=sensors,
        schedules=schedules,
        resources={
            "logflow_catalog": resource,
            "logflow_lineage": OpenLineageResource(
                transport=config.lineage.transport, path=config.lineage.path,
                url=config.lineage.url, namespace=config.lineage.namespace),
            "duckdb": LogflowDuckDBResource(database=":memory:"),
            "logflow_auth": AuthResource(),
            "logflow_storage": ObjectStorageResource(
                root=resource.catalog_config().warehouse, properties=catalog.properties),
        },
    )
