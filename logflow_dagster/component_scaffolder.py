"""What ``dg scaffold defs logflow_dagster.LogflowComponent NAME`` writes.

Into ``defs/NAME/``: ``defs.yaml`` (``type`` + ``attributes``), a starter ``logflow.yaml``
beside it (or the same config inline in ``defs.yaml`` with ``--config inline``), an empty
``landing/`` folder and a ``.gitignore`` for the embedded catalog under ``.logflow/``. As
scaffolded it loads: ``dg check defs`` passes, and a file dropped into ``landing/`` is picked up
by the sensor.

(No ``from __future__ import annotations``: dg reads the params model at runtime.)
"""

import textwrap
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import yaml
from pydantic import BaseModel, Field

from .scaffold import GITIGNORE, starter_config

CONFIG_FILE = "logflow.yaml"

DEFS_YAML = """\
type: {type_name}
attributes:
  # Sources, quality checks, maintenance, lineage and catalog: the logflow.yaml beside this
  # file. Any of its keys may be set here instead; they replace the file's. Strings are
  # templated ({{{{ env.VAR }}}}) as in any dg component.
  config_file: {config_file}
  # Asset-spec overrides for every asset this component makes (all optional):
  # assets:
  #   key_prefix: lake
  #   group_name: ingest
  #   owners: [team:data]
  #   tags: {{tier: bronze}}
  #   kinds: [iceberg, python]
"""

COMPONENT_PY = '''\
"""The logflow component of this folder (see logflow.yaml beside this file)."""

import dagster as dg
from logflow_dagster import LogflowComponent


@dg.component_instance
def load(context: dg.ComponentLoadContext) -> LogflowComponent:
    return LogflowComponent(config_file="{config_file}")
'''


class LogflowScaffoldParams(BaseModel):
    """Options of ``dg scaffold defs logflow_dagster.LogflowComponent NAME``."""

    config: Literal["file", "inline"] = Field(
        "file", description="file: a logflow.yaml beside defs.yaml (config_file); inline: the "
                            "same keys in defs.yaml's attributes.")


class LogflowScaffolder(dg.Scaffolder[LogflowScaffoldParams]):
    """Writes a component folder that works as scaffolded: config, landing folder, .gitignore.

    Examples:
        .. code-block:: bash

            dg scaffold defs logflow_dagster.LogflowComponent events
            dg scaffold defs logflow_dagster.LogflowComponent events --config inline
    """

    @classmethod
    def get_scaffold_params(cls) -> type[LogflowScaffoldParams]:
        """The ``--config file|inline`` option."""
        return LogflowScaffoldParams

    def scaffold(self, request: dg.ScaffoldRequest[LogflowScaffoldParams]) -> None:
        """Writes the folder's files; existing ``logflow.yaml`` and ``.gitignore`` are kept."""
        folder = request.target_path
        folder.mkdir(parents=True, exist_ok=True)
        config = starter_config(folder.name)
        inline = request.params is not None and request.params.config == "inline"
        if request.scaffold_format == "python":
            _keep_or_write(folder / CONFIG_FILE, _config_yaml(config, folder.name))
            (folder / "component.py").write_text(COMPONENT_PY.format(config_file=CONFIG_FILE))
        elif inline:
            dg.scaffold_component(request, config)
        else:
            _keep_or_write(folder / CONFIG_FILE, _config_yaml(config, folder.name))
            (folder / "defs.yaml").write_text(
                DEFS_YAML.format(type_name=request.type_name, config_file=CONFIG_FILE))
        (folder / "landing").mkdir(exist_ok=True)
        _keep_or_write(folder / ".gitignore", GITIGNORE)


def _config_yaml(config: dict[str, Any], name: str) -> str:
    header = textwrap.dedent(f"""\
        # logflow config of the {name!r} component: files landing in landing/ become Iceberg
        # tables, as Dagster assets. Paths are relative to this folder; the embedded catalog
        # and warehouse live in .logflow/ here unless catalog: says otherwise.
        """)
    return header + yaml.safe_dump(config, sort_keys=False)


def _keep_or_write(path: Path, text: str) -> None:
    if not path.exists():
        path.write_text(text)
