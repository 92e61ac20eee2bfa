"""``LogflowComponent``: logflow in any ``dg`` project, the way the Sling and dlt components are.

The component *is* the ``logflow.yaml`` model (its attributes are :class:`ProjectConfig` plus
``config_file``), and ``build_defs`` is :func:`build_definitions`: the YAML schema, the assets,
sensors, checks, maintenance job and resources cannot drift from the classic layout.

(No ``from __future__ import annotations``: dg derives the YAML schema from the annotations.)
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel, Field, ValidationError

from .assets.specs import asset_settings_problems
from .checks.rules import rule_problems
from .component_scaffolder import LogflowScaffolder
from .config import ProjectConfig, interpolate, located, parse_config, read_config
from .core.errors import UsageError
from .definitions_builder import build_definitions

_PROJECT_FIELDS = frozenset(ProjectConfig.model_fields)
Problems = Sequence[tuple[Sequence[str | int], str]]


class LogflowConfigError(UsageError):
    """A component attribute that cannot be used: file, line, key path and what was expected."""


class LogflowAttributes(ProjectConfig):
    """The attributes of ``LogflowComponent``: every key of ``logflow.yaml``, plus
    ``config_file``. Paths are relative to the component's folder."""

    config_file: str | None = Field(
        None, description="A logflow.yaml to read, relative to this component's folder; "
                          "keys set here as well replace the file's.")


@dg.scaffold_with(LogflowScaffolder)
class LogflowComponent(LogflowAttributes, dg.Component, dg.Resolvable):
    """Files landing in folders become quality-checked Iceberg tables, as Dagster assets.

    One ingest asset per source (a partition per landed file or time window), a landing
    sensor, asset checks from the quality rules, compaction and snapshot-expiry assets with a
    schedule and a threshold sensor, OpenLineage events, and the Iceberg catalog, object
    storage, DuckDB, lineage and auth resources. The attributes are those of ``logflow.yaml``
    (inline, or ``config_file``), templated like any dg component (``{{ env.VAR }}``).

    Examples:
        ``defs/events/defs.yaml``:

        .. code-block:: yaml

            type: logflow_dagster.LogflowComponent
            attributes:
              config_file: logflow.yaml          # or the same keys inline:
              catalog:
                uri: "{{ env.LOGFLOW_CATALOG_URI }}"
              assets:
                key_prefix: lake
                group_name: ingest

        Or in Python:

        .. code-block:: python

            import dagster as dg
            from logflow_dagster import LogflowComponent

            @dg.component_instance
            def load(context: dg.ComponentLoadContext) -> LogflowComponent:
                return LogflowComponent(config_file="logflow.yaml")
    """

    @classmethod
    def get_spec(cls) -> dg.ComponentTypeSpec:
        """Tags and what the component produces (the description is the class docstring's)."""
        return dg.ComponentTypeSpec(
            tags=["logflow", "iceberg", "ingestion", "data-quality"],
            produces=["asset", "asset_check", "sensor", "schedule", "job", "resource"])

    @classmethod
    def model(cls) -> type[BaseModel]:
        """The YAML schema: the config model itself, each field exactly typed (not widened to
        a template string), so ``dg check yaml`` names the nested key that is wrong."""
        return LogflowAttributes

    @classmethod
    def resolve_from_model(cls, context: dg.ResolutionContext,
                           model: BaseModel) -> "LogflowComponent":
        """Renders every string of the attributes, however deeply nested (``{{ env.VAR }}``,
        ``{{ context.project_root }}``, and ``${VAR}`` as in ``logflow.yaml``), validates the
        result, and checks the rules and asset overrides the builder would refuse.

        Raises:
            LogflowConfigError: Naming the file, line and key of each problem.
        """
        tree = context.source_position_tree
        file = tree.position.filename if tree is not None else "<attributes>"
        rendered = context.resolve_value(model.model_dump(exclude_unset=True))
        try:
            component = cls.model_validate(interpolate(rendered, "attributes"))
        except UsageError as err:
            raise LogflowConfigError(f"{file}: {err}") from None
        except ValidationError as err:
            raise _error(file, [([*context.path, *e["loc"]], e["msg"])
                                for e in err.errors()]) from None
        problems = [*rule_problems(component), *asset_settings_problems(component)]
        if problems:
            raise _error(file, [([*context.path, *loc], why) for loc, why in problems])
        return component

    def project_config(self, folder: Path) -> ProjectConfig:
        """The ``logflow.yaml`` model this component stands for.

        ``config_file`` (if any) is read relative to ``folder``; the attributes set inline
        replace its top-level keys; a relative ``root`` is taken from the folder holding the
        key (the component's folder by default).

        Raises:
            LogflowConfigError: Naming the file, line and key of each problem.

        Example:
            >>> import tempfile
            >>> yaml = "sources:\\n  - {name: events, landing: in, table: raw.events}\\n"
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     _ = Path(tmp, "logflow.yaml").write_text(yaml)
            ...     config = LogflowComponent(config_file="logflow.yaml").project_config(Path(tmp))
            ...     config.sources[0].table, config.root == tmp
            ('raw.events', True)
        """
        inline = self.model_dump(include=set(self.model_fields_set) & _PROJECT_FIELDS)
        raw: dict[str, Any] = {}
        source, text, base = str(folder), None, folder
        if self.config_file:
            file = folder / self.config_file
            raw, source = read_config(file), str(file)
            text, base = file.read_text(encoding="utf-8"), file.parent
        raw.update(inline)
        root = Path(raw.get("root", "."))
        base = folder if "root" in inline else base
        raw["root"] = str(root if root.is_absolute() else (base / root).resolve())
        config = parse_config(raw, source=source, text=text)
        problems = [*rule_problems(config), *asset_settings_problems(config)]
        if problems:
            raise _error(source, problems, text)
        return config

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """:func:`~logflow_dagster.build_definitions` of :meth:`project_config`, for the
        component's folder (of ``defs.yaml``, or of the Python file that makes it)."""
        folder = context.path if context.path.is_dir() else context.path.parent
        try:
            return build_definitions(self.project_config(folder))
        except LogflowConfigError:
            raise
        except UsageError as err:
            raise LogflowConfigError(str(err)) from None


def _error(source: str, problems: Problems, text: str | None = None) -> LogflowConfigError:
    """One error listing every problem as ``file:line: key.path: message``."""
    if text is None and Path(source).is_file():
        text = Path(source).read_text(encoding="utf-8")
    return LogflowConfigError("\n".join(located(source, text, loc, why)
                                        for loc, why in problems))
