"""Asset keys and spec attributes of a project, in one place.

Every key the ingest assets, the landing specs, the maintenance assets, the sensors' run
requests and the checks use comes from here, so the ``assets:`` overrides (key prefix, group,
owners, tags, kinds) reach all of them alike.

(No ``from __future__ import annotations``: the Dagster layer keeps annotations resolvable.)
"""

from typing import Any

import dagster as dg

from ..config import ProjectConfig, SourceConfig
from ..core.errors import UsageError


def table_key(config: ProjectConfig, table: str) -> dg.AssetKey:
    """The ingest asset of ``namespace.table``: ``[*prefix, namespace, table]``.

    Example:
        >>> cfg = ProjectConfig.model_validate({"assets": {"key_prefix": "lake"}})
        >>> table_key(cfg, "raw.orders").to_user_string()
        'lake/raw/orders'
    """
    return dg.AssetKey([*config.assets.prefix, *table.split(".")])


def partitions_for(source: SourceConfig) -> dg.PartitionsDefinition:
    """A source's partitions: one per landed file (its project-relative path or URI,
    dynamic), or a daily/hourly window holding the files modified in it (UTC).

    Example:
        >>> src = SourceConfig(name="orders", landing="landing", table="raw.orders")
        >>> partitions_for(src).name
        'orders_files'
    """
    if source.partitioning == "daily":
        return dg.DailyPartitionsDefinition(start_date=source.partition_start or "")
    if source.partitioning == "hourly":
        return dg.HourlyPartitionsDefinition(start_date=f"{source.partition_start}-00:00")
    return dg.DynamicPartitionsDefinition(name=f"{source.name}_files")


def landing_key(config: ProjectConfig, source: SourceConfig) -> dg.AssetKey:
    """The landing location of a source, as an external asset upstream of its table.

    Example:
        >>> src = SourceConfig(name="orders", landing="landing", table="raw.orders")
        >>> landing_key(ProjectConfig(), src).to_user_string()
        'landing/orders'
    """
    return dg.AssetKey([*config.assets.prefix, "landing", source.name])


def maintenance_key(config: ProjectConfig, table: str) -> dg.AssetKey:
    """The compaction + expiry asset of ``namespace.table``, downstream of the table.

    Example:
        >>> maintenance_key(ProjectConfig(), "raw.orders").to_user_string()
        'raw/orders_maintenance'
    """
    namespace, name = table.rsplit(".", 1)
    return dg.AssetKey([*config.assets.prefix, *namespace.split("."), f"{name}_maintenance"])


def spec_attributes(config: ProjectConfig, *, group: str,
                    kinds: set[str] | None = None) -> dict[str, Any]:
    """The keyword arguments every asset of the project shares: ``group_name`` (the override,
    else ``group``), ``owners``, ``tags`` and ``kinds`` (``kinds``, else ``assets.kinds``).

    Example:
        >>> spec_attributes(ProjectConfig(), group="raw")["kinds"] == {"iceberg", "python"}
        True
    """
    settings = config.assets
    return {"group_name": settings.group_name or group, "owners": list(settings.owners),
            "tags": dict(settings.tags), "kinds": kinds or set(settings.kinds)}


def asset_settings_problems(config: ProjectConfig) -> list[tuple[list[str | int], str]]:
    """What Dagster's own rules (owner format, tag charset and length, group names, at most
    ten kinds) refuse in the ``assets:`` overrides, as (key path, message) pairs.

    Example:
        >>> asset_settings_problems(ProjectConfig.model_validate(
        ...     {"assets": {"owners": ["team:data", "bob"]}}))[0][0]
        ['assets', 'owners', 1]
    """
    settings = config.assets
    attempts: list[tuple[list[str | int], dict[str, Any]]] = [
        *((["assets", "owners", i], {"owners": [owner]})
          for i, owner in enumerate(settings.owners)),
        (["assets", "tags"], {"tags": settings.tags}),
        (["assets", "kinds"], {"kinds": set(settings.kinds)}),
        (["assets", "group_name"], {"group_name": settings.group_name}),
    ]
    problems = []
    for loc, kwargs in attempts:
        try:
            dg.AssetSpec("logflow", **kwargs)
        except dg.DagsterError as err:
            problems.append((loc, str(err).replace(" for asset 'AssetKey(['logflow'])'", "")))
    return problems


def validate_asset_settings(config: ProjectConfig) -> None:
    """Checks the ``assets:`` overrides before any asset is built.

    Raises:
        UsageError: Naming the ``assets`` key and what Dagster expects.

    Example:
        >>> validate_asset_settings(ProjectConfig.model_validate({"assets": {"owners": ["bob"]}}))
        Traceback (most recent call last):
        ...
        logflow_dagster.core.errors.exceptions.UsageError: assets.owners.0: Invalid owner...
    """
    problems = asset_settings_problems(config)
    if problems:
        raise UsageError("\n".join(f"{'.'.join(map(str, loc))}: {why}" for loc, why in problems))
