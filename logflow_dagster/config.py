"""The project config (``logflow.yaml``): warehouse, sources, quality rules, maintenance, lineage.

One pydantic model is the single schema for ``logflow.yaml`` and (later) the ``dg`` component's
attributes. ``${VAR}`` and ``${VAR:-default}`` are interpolated from the environment; errors
name the file, the key path and what was expected.

Example:
    >>> cfg = ProjectConfig.model_validate({"sources": [
    ...     {"name": "orders", "landing": "landing/orders/*.csv", "table": "raw.orders"}]})
    >>> cfg.sources[0].error_policy
    'strict'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .core.errors import UsageError

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogSettings(_Model):
    """Where tables live. Empty means the embedded default under ``.logflow/``."""

    kind: Literal["sql", "rest"] = Field("sql", description="sql (SQLAlchemy URL) or rest.")
    uri: str | None = Field(None, description="Catalog URL; default sqlite under .logflow/.")
    warehouse: str | None = Field(None, description="Warehouse URI; default .logflow/warehouse.")
    properties: dict[str, str] = Field(default_factory=dict,
                                       description="Passed to pyiceberg (s3.endpoint ...).")


class SourceConfig(_Model):
    """One landing location feeding one table."""

    name: str = Field(description="Source name (asset and sensor names derive from it).")
    landing: str = Field(description="Landing folder or glob, relative to the project.")
    table: str = Field(description="Target Iceberg table, namespace.table.")
    format: str = Field("auto", description="Input format or auto.")
    partition_by: list[str] = Field(default_factory=list,
                                    description="Iceberg partition fields, e.g. day(ts).")
    error_policy: Literal["strict", "permissive", "quarantine"] = "strict"
    schema_policy: Literal["strict", "merge", "evolve"] = "merge"
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="Reader options: delimiter, header, schema.")
    partitioning: Literal["file", "daily", "hourly"] = Field(
        "file", description="Dagster partitions: one per landed file, or a daily/hourly window "
                            "of files by their modification time.")
    partition_start: str | None = Field(
        None, description="First window (YYYY-MM-DD) for daily/hourly partitioning.")

    @model_validator(mode="after")
    def _window_start(self) -> SourceConfig:
        if self.partitioning != "file" and not self.partition_start:
            raise ValueError(f"partitioning {self.partitioning!r} needs partition_start "
                             "(YYYY-MM-DD)")
        return self

    @field_validator("table")
    @classmethod
    def _qualified(cls, value: str) -> str:
        if "." not in value:
            raise ValueError("must be namespace.table")
        return value

    @property
    def asset_name(self) -> str:
        """The table part of the target (the asset key is namespace/table)."""
        return self.table.rsplit(".", 1)[1]


class RuleConfig(_Model):
    """One quality rule on a table (evaluated as a Dagster asset check)."""

    type: Literal["not_null", "unique", "accepted_values", "range", "regex", "row_count",
                  "null_ratio", "distinct_count", "entropy", "freshness", "schema",
                  "pandera", "great_expectations"]
    column: str | None = None
    values: list[Any] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    model: str | None = Field(None, description="pandera DataFrameModel import path.")
    suite: str | None = Field(None, description="Great Expectations suite file.")
    blocking: bool = False


class MaintenanceConfig(_Model):
    """When tables are compacted and snapshots expired."""

    schedule: str = Field("0 3 * * *", description="Cron schedule for compaction + expiry.")
    small_files: int = Field(50, description="Compact when a table has this many small files.")
    max_snapshots: int = Field(100, description="Expire when a table has more snapshots.")
    expire_older_than: str = Field("7d", description="Snapshot age to expire.")


class LineageConfig(_Model):
    """OpenLineage transport."""

    transport: Literal["file", "http", "console", "off"] = "file"
    path: str = ".logflow/openlineage.jsonl"
    url: str | None = None
    namespace: str = "logflow"


class ProjectConfig(_Model):
    """The whole of ``logflow.yaml``."""

    project: str = Field("logflow", description="Project name (OpenLineage namespace).")
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    sources: list[SourceConfig] = Field(default_factory=list)
    checks: dict[str, list[RuleConfig]] = Field(default_factory=dict,
                                                description="Rules per table name.")
    maintenance: MaintenanceConfig = Field(default_factory=MaintenanceConfig)
    lineage: LineageConfig = Field(default_factory=LineageConfig)
    root: str = Field(".", description="Project folder (set from the config file's folder).")

    def rules_for(self, table: str) -> list[RuleConfig]:
        """The rules declared for ``table``."""
        return self.checks.get(table, [])


def interpolate(value: Any, where: str = "") -> Any:
    """Replaces ``${VAR}`` / ``${VAR:-default}`` in every string of a YAML document.

    Raises:
        UsageError: For an unset variable without default, naming where it is used.

    Example:
        >>> interpolate({"a": "${HOME_X:-/srv}"})
        {'a': '/srv'}
    """
    if isinstance(value, dict):
        return {k: interpolate(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise UsageError(f"{where}: environment variable {name} is not set")
        return _ENV.sub(sub, value)
    return value


def load_config(path: str | os.PathLike[str] = "logflow.yaml") -> ProjectConfig:
    """Reads and validates ``logflow.yaml``.

    Raises:
        UsageError: Naming the file, the key path and what was expected.

    Example:
        >>> cfg = load_config("logflow.yaml")  # doctest: +SKIP
    """
    file = Path(path)
    if not file.exists():
        raise UsageError(f"{file}: no such config file")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise UsageError(f"{file}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{file}: expected a mapping at the top level")
    try:
        raw = interpolate(raw)
    except UsageError as err:
        raise UsageError(f"{file}: {err}") from None
    raw.setdefault("root", str(file.resolve().parent))
    return parse_config(raw, source=str(file))


def parse_config(raw: dict[str, Any], source: str = "<config>") -> ProjectConfig:
    """Validates a config mapping; errors name the key path."""
    try:
        return ProjectConfig.model_validate(raw)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            loc = ".".join(str(p) for p in e["loc"])
            lines.append(f"{source}: {loc}: {e['msg']}")
        raise UsageError("\n".join(lines)) from None
