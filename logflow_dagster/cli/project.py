"""The project commands: init, run, demo, dev (the last three drive Dagster through
:mod:`logflow_dagster.runner`, the one module of the Dagster layer the CLI uses)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .app import DebugOpt, JsonOpt, ProjectOpt, app, guarded


@app.command()
def init(
    folder: Annotated[str, typer.Argument(help="Project folder to create.")] = ".",
    samples: Annotated[bool, typer.Option(help="Also write sample event logs.")] = False,
    profile: Annotated[str, typer.Option(
        help="local (embedded catalog and warehouse) or distributed (S3, PostgreSQL, Celery: "
             "docs/deploy.md).")] = "local",
    debug: DebugOpt = False,
) -> None:
    """Scaffold a project: logflow.yaml, definitions.py, workspace.yaml, landing/, .logflow/."""
    with guarded(debug):
        from pathlib import Path

        from ..scaffold import init_project

        for path in init_project(Path(folder), samples=samples, profile=profile):
            typer.echo(f"wrote {path}")


@app.command()
def run(
    project: ProjectOpt = ".",
    workers: Annotated[int, typer.Option(min=1, help="Partition runs at once.")] = 2,
    json_out: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """One headless pass: evaluate the sensors, run the partitions they request."""
    with guarded(debug):
        from pathlib import Path

        from ..runner import run_once

        summary = run_once(Path(project), workers=workers)
    if json_out:
        typer.echo(json.dumps(summary.to_dict()))
    else:
        typer.echo(f"{summary.runs} runs ({summary.failed_runs} failed), "
                   f"{summary.rows_written:,} rows written, {summary.rows_rejected:,} rejected, "
                   f"checks {summary.checks_passed} passed / {summary.checks_failed} failed, "
                   f"{summary.duration_s}s")
    if summary.failed_runs:
        raise SystemExit(1)


@app.command()
def demo(
    folder: Annotated[str, typer.Argument(help="Where to write the demo.")] = "logflow-demo",
    debug: DebugOpt = False,
) -> None:
    """Scaffold a project with sample event logs, run it once, query the tables with DuckDB."""
    with guarded(debug):
        from pathlib import Path

        from ..lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
        from ..runner import run_once
        from ..scaffold import init_project
        from ..services import Project

        root = Path(folder)
        init_project(root, samples=True)
        summary = run_once(root)
        typer.echo(f"{summary.runs} runs: {summary.rows_written:,} rows written, "
                   f"{summary.rows_rejected:,} quarantined; checks {summary.checks_passed} "
                   f"passed / {summary.checks_failed} failed (a warning flags the planted 'eu' "
                   "regions: see the checks in the UI)")
        from pyiceberg.exceptions import NoSuchTableError

        project = Project.load(root)
        con = duckdb_connection()
        rows: list[tuple[str, int, int]] = []
        with project.open_catalog() as catalog:
            for source in project.config.sources:
                try:
                    table = catalog.load_table(source.table)
                except NoSuchTableError:
                    typer.echo(f"  {source.table:18}  no table: its run failed")
                    continue
                n = con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchone()[0]
                typer.echo(f"  {source.table:18} {n:6,} rows (Iceberg, read by DuckDB)")
                if source.table == "raw.orders_csv":
                    rows = con.execute(
                        "SELECT activity, count(*) AS events, count(DISTINCT case_id) AS cases "
                        f"FROM {iceberg_scan_sql(table)} GROUP BY 1 ORDER BY 2 DESC").fetchall()
        if rows:
            typer.echo("\nevents per activity in raw.orders_csv:")
        for activity, n, cases in rows:
            typer.echo(f"  {activity:14} {n:6,} events  {cases:5,} cases")
        _rollup_vs_raw(root)
        typer.echo(f"\nproject: {root}\nsee it in the Dagster UI: cd {root} && "
                   f"{_logflow_command(root)} dev   (then open http://127.0.0.1:3000)")
        if summary.failed_runs:
            typer.echo(f"error: {summary.failed_runs} runs failed (see them in the UI)",
                       err=True)
            raise SystemExit(1)


def _rollup_vs_raw(root: object) -> None:
    """Prints one query answered from a rollup and the same query from raw data."""
    from ..core.errors import UsageError
    from ..services import semantic

    query = {"measures": ["sales.revenue", "sales.avg_order_amount"],
             "dimensions": ["sales.region"],
             "timeDimensions": [{"dimension": "sales.at", "granularity": "month"}],
             "order": [["sales.at", "asc"], ["sales.region", "asc"]], "limit": 6}
    try:
        with semantic.open_layer(root) as routed, semantic.open_layer(root) as raw:
            raw.use_rollups = False
            a, b = routed.query(query), raw.query(query)
    except UsageError as err:
        typer.echo(f"\n(semantic query skipped: {err})")
        return

    def money(value: object) -> str:
        return "-" if value is None else f"{float(str(value)):,.2f}"

    for result in (a, b):
        typer.echo(f"\nrevenue by region and month, source: {result.source}")
        for row in result.data:
            typer.echo(f"  {row['sales.at.month'][:7]}  {row['sales.region']!s:5} "
                       f"revenue {money(row['sales.revenue']):>10}  "
                       f"avg {money(row['sales.avg_order_amount']):>8}")
    # sums of doubles may differ in the last digits by the order of their additions
    same = len(a.data) == len(b.data) and all(
        x.keys() == y.keys() and all(_close(x[k], y[k]) for k in x)
        for x, y in zip(a.data, b.data, strict=False))
    typer.echo("same answer: " + ("yes" if same else "NO"))


def _close(x: object, y: object) -> bool:
    """Equal, or numbers equal to 12 significant digits."""
    if x == y:
        return True
    try:
        a, b = float(str(x)), float(str(y))
    except ValueError:
        return False
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def _logflow_command(root: object) -> str:
    """How to call this same ``logflow`` from inside ``root``: plain ``logflow`` when it is the
    one on PATH, else its path (e.g. ``../.venv/bin/logflow`` in a venv not activated)."""
    import os
    import shutil
    import sys

    running = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not running.endswith("logflow") or (shutil.which("logflow") and \
            os.path.realpath(shutil.which("logflow") or "") == running):
        return "logflow"
    return os.path.relpath(running, os.path.abspath(str(root)))


@app.command()
def dev(
    project: ProjectOpt = ".",
    host: Annotated[str, typer.Option("--host", "-h", help="Address the UI binds.")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port of the UI.")] = 3000,
    debug: DebugOpt = False,
) -> None:
    """Start the Dagster UI on the project's own instance (where run/demo recorded runs).

    Runs `dagster dev` (UI and daemon) with DAGSTER_HOME set to the project's .logflow/dagster.
    """
    with guarded(debug):
        import os
        from pathlib import Path

        from ..runner import dev_command

        argv, env, cwd = dev_command(Path(project), host=host, port=port)
        typer.echo(f"Dagster UI: http://{host}:{port}  (instance: {env['DAGSTER_HOME']})",
                   err=True)
        os.chdir(cwd)
        os.execve(argv[0], argv, env)
