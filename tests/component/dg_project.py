"""A real ``create-dagster`` project in a temp folder, and ``dg`` run against this environment.

``create-dagster project --no-uv-sync`` writes the project without making a virtualenv of its
own, so ``dg`` (this venv's console script) runs everything in this interpreter: it lists the
components registered here through the ``dagster_dg_cli.registry_modules`` entry point
(logflow-dagster is installed here), and ``dg check defs`` loads the project in process with
``src/`` as the working directory. ``VIRTUAL_ENV`` names this venv so dg sees no mismatch;
the update check (a PyPI request) and telemetry are off, so it all runs offline.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg

from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql

BIN = Path(sys.executable).parent


def dg_env() -> dict[str, str]:
    """The environment for ``dg``/``create-dagster``: this venv, offline, no telemetry."""
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PYTHONPATH")}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=sys.prefix,
               DAGSTER_DISABLE_TELEMETRY="1", DAGSTER_DG_UPDATE_CHECK_ENABLED="0",
               NO_COLOR="1", COLUMNS="200")
    return env


def run(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs a console script of this venv; with ``ok``, fails the test on a non-zero exit."""
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, env=dg_env(),
                          capture_output=True, text=True, timeout=180)
    if ok:
        assert proc.returncode == 0, f"{args}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def new_project(parent: Path, name: str) -> Path:
    """``create-dagster project --no-uv-sync NAME`` in ``parent``; returns the project root."""
    run("create-dagster", "project", "--no-uv-sync", name, cwd=parent)
    return parent / name


def defs_folder(project: Path) -> Path:
    """``src/<name>/defs`` of a project."""
    return project / "src" / project.name / "defs"


def load_project_defs(project: Path) -> dg.Definitions:
    """The project's definitions, as its ``definitions.py`` builds them (the caller puts
    ``src/`` on ``sys.path``)."""
    return dg.load_from_defs_folder(path_within_project=project / "src" / project.name)


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, name: str,
         cursor: str | None) -> dg.SensorResult:
    """One sensor evaluation against ``instance``, registering the partitions it adds (what
    the daemon does)."""
    sensor = defs.resolve_sensor_def(name)
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
    for req in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    return result


def table_rows(root: Path, table: str, sql: str = "count(*)") -> list[tuple]:
    """``SELECT sql`` over the Iceberg table of the embedded catalog under ``root``, read by an
    offline DuckDB with its iceberg extension (not through logflow's writer)."""
    loaded = open_catalog(CatalogConfig.embedded(root)).load_table(table)
    con = duckdb_connection()
    try:
        return con.execute(f"SELECT {sql} FROM {iceberg_scan_sql(loaded)}").fetchall()
    finally:
        con.close()


def undocumented(document: dict, start: dict) -> list[str]:
    """Properties without a description in the JSON schema ``start`` and in every ``$defs``
    entry (of ``document`` or ``start``) it refers to, directly or through other entries."""
    defs = {**document.get("$defs", {}), **start.get("$defs", {})}
    missing: list[str] = []
    seen: set[str] = set()
    todo = [("attributes", start)]
    while todo:
        where, sub = todo.pop()
        for prop, spec in sub.get("properties", {}).items():
            if not spec.get("description"):
                missing.append(f"{where}.{prop}")
        body = {k: v for k, v in sub.items() if k != "$defs"}
        for ref in re.findall(r'"#/\$defs/([^"]+)"', json.dumps(body)):
            if ref not in seen:
                seen.add(ref)
                todo.append((ref, defs[ref]))
    return sorted(missing)
