"""``logflow init``: a ready Dagster project folder (config, definitions, landing, .logflow);
and the starter config ``dg scaffold defs logflow_dagster.LogflowComponent NAME`` writes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

LOGFLOW_YAML = """\
# logflow project: files landing in these folders become Iceberg tables (see README).
project: {name}
catalog: {{}}          # embedded default: .logflow/catalog.db + .logflow/warehouse
sources:
  - name: orders_csv
    landing: landing/csv
    table: raw.orders_csv
    error_policy: quarantine
    partition_by: ["day(timestamp)"]
  - name: orders_jsonl
    landing: landing/jsonl
    table: raw.orders_jsonl
    error_policy: quarantine
  - name: orders_xes
    landing: landing/xes
    table: raw.orders_xes
    format: xes
lineage:
  transport: file
  path: .logflow/openlineage.jsonl
"""

DEFINITIONS_PY = '''\
"""Dagster code location of this logflow project (`dagster dev` loads it via workspace.yaml)."""

from pathlib import Path

from logflow_dagster import build_definitions, load_config

defs = build_definitions(load_config(Path(__file__).parent / "logflow.yaml"))
'''

WORKSPACE_YAML = "load_from:\n  - python_file: definitions.py\n"

DAGSTER_YAML = "telemetry:\n  enabled: false\n"

GITIGNORE = "# the embedded Iceberg catalog, warehouse and lineage log\n.logflow/\n"


def starter_config(name: str) -> dict[str, Any]:
    """A one-source config: files landing in ``landing/`` become the table ``raw.<name>``,
    with a row-count check; paths are relative to the folder holding the config.

    Example:
        >>> starter_config("web-events")["sources"][0]["table"]
        'raw.web_events'
    """
    name = re.sub(r"\W", "_", name).strip("_").lower() or "events"
    table = f"raw.{name}"
    return {
        "project": name,
        "sources": [{"name": name, "landing": "landing", "table": table,
                     "error_policy": "quarantine"}],
        "checks": {table: [{"type": "row_count", "min": 1}]},
        "lineage": {"transport": "file", "path": ".logflow/openlineage.jsonl"},
    }


def dagster_home(root: Path) -> Path:
    """The project's DAGSTER_HOME (``.logflow/dagster``), created with telemetry off."""
    home = root / ".logflow" / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def init_project(root: Path, *, samples: bool = False) -> list[Path]:
    """Writes a project into ``root`` (existing files are kept); returns what it wrote.

    Example:
        >>> init_project(Path("myproject"), samples=True)  # doctest: +SKIP
    """
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in (("logflow.yaml", LOGFLOW_YAML.format(name=root.resolve().name)),
                       ("definitions.py", DEFINITIONS_PY), ("workspace.yaml", WORKSPACE_YAML)):
        path = root / name
        if not path.exists():
            path.write_text(text)
            written.append(path)
    for sub in ("csv", "jsonl", "xes"):
        (root / "landing" / sub).mkdir(parents=True, exist_ok=True)
    dagster_home(root)
    if samples:
        from .samples import events, write_csv, write_jsonl, write_xes

        evs = events()
        targets = {"csv": root / "landing/csv/orders.csv",
                   "jsonl": root / "landing/jsonl/orders.jsonl",
                   "xes": root / "landing/xes/orders.xes"}
        write_csv(targets["csv"], evs, bad_every=250)
        write_jsonl(targets["jsonl"], evs)
        write_xes(targets["xes"], evs)
        written.extend(targets.values())
    return written
