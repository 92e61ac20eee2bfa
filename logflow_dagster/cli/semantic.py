"""The semantic-layer commands: query, meta, sql. Each calls
:mod:`logflow_dagster.services.semantic`; sqlglot, DuckDB and pyiceberg load inside them."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from .app import (
    CatalogOpt,
    DebugOpt,
    JsonOpt,
    ProjectOpt,
    TokenOpt,
    WarehouseOpt,
    app,
    guarded,
)

CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]


def _print_table(table: Any, json_out: bool, csv_out: bool, rows: list[dict] | None = None
                 ) -> None:
    if csv_out:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(table.column_names)
        source = rows if rows is not None else table.to_pylist()
        for row in source:
            writer.writerow(["" if row.get(c) is None else row.get(c)
                             for c in table.column_names])
        return
    rows = rows if rows is not None else table.to_pylist()
    widths = {c: max([len(c), *(len(str(r.get(c))) for r in rows)]) for c in table.column_names}
    typer.echo("  ".join(c.ljust(widths[c]) for c in table.column_names))
    for r in rows:
        typer.echo("  ".join(str(r.get(c)).ljust(widths[c]) for c in table.column_names))
    typer.echo(f"({len(rows)} rows)", err=True)


def _both(json_out: bool, csv_out: bool) -> None:
    if json_out and csv_out:
        from ..core.errors import UsageError

        raise UsageError("give --json or --csv, not both")


@app.command()
def query(
    query_json: Annotated[str, typer.Argument(metavar="QUERY_JSON|@file.json",
                                              help="Cube query JSON, or @file with it.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only: source, SQL, "
                                                            "rejected rollups.")] = False,
    json_out: JsonOpt = False,
    csv_out: CsvOpt = False,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    token: TokenOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Answer a Cube query with the project's semantic models.

    --json prints one object: data (rows keyed like Cube's /load), annotation, source, sql,
    rejected; with --dry-run the same without data.
    """
    with guarded(debug):
        from ..services import semantic

        _both(json_out, csv_out)
        parsed = semantic.parse_query_arg(query_json)
        identity = semantic.identity_for(project, token)
        layer = semantic.open_layer(project, catalog_uri=catalog_uri, warehouse=warehouse)
        if dry_run:
            plan = layer.plan(parsed, identity)
            if json_out:
                from ..semantic.meta import annotation

                out = {"annotation": annotation(layer.model, plan.query), "source": plan.source,
                       "sql": plan.sql, "rejected": plan.rejected,
                       "query": plan.query.to_dict(),
                       "snapshots": {t: s.snapshot_id for t, s in plan.snapshots.items()}}
                typer.echo(json.dumps(out, ensure_ascii=False))
            else:
                typer.echo(f"-- source: {plan.source}\n{plan.sql}")
            return
        result = layer.query(parsed, identity)
        if json_out:
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        else:
            _print_table(result.table, False, csv_out, result.data)
            if not csv_out:
                typer.echo(f"source: {result.source}", err=True)


@app.command()
def meta(
    json_out: JsonOpt = False,
    project: ProjectOpt = ".",
    token: TokenOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Describe the semantic model: cubes, measures, dimensions, segments (Cube's /meta)."""
    with guarded(debug):
        from ..services import semantic

        described = semantic.describe_model(project, semantic.identity_for(project, token))
    if json_out:
        typer.echo(json.dumps(described, ensure_ascii=False))
        return
    for cube in described["cubes"]:
        typer.echo(f"{cube['name']}  ({cube['title']})")
        for m in cube["measures"]:
            typer.echo(f"  measure    {m['name']:40} {m['aggType']}")
        for d in cube["dimensions"]:
            typer.echo(f"  dimension  {d['name']:40} {d['type']}")
        for s in cube["segments"]:
            typer.echo(f"  segment    {s['name']}")


@app.command()
def sql(
    text: Annotated[str, typer.Argument(metavar="SELECT", help="One read-only SELECT over "
                                                               "namespace.table tables.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON Lines.")] = False,
    csv_out: CsvOpt = False,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    token: TokenOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Run one read-only SELECT over the project's tables (each at its current snapshot).

    Table functions (read_csv, read_parquet, iceberg_scan, glob...), file paths, COPY,
    ATTACH, INSTALL, LOAD, PRAGMA, SET, CALL and EXPORT are refused (exit 2).
    """
    with guarded(debug):
        from ..services import semantic

        _both(json_out, csv_out)
        result = semantic.run_sql(project, text, semantic.identity_for(project, token),
                                  catalog_uri=catalog_uri, warehouse=warehouse)
        if json_out:
            for row in result.table.to_pylist():
                typer.echo(json.dumps(row, ensure_ascii=False, default=str))
        else:
            _print_table(result.table, False, csv_out)


rollups_app = typer.Typer(help="Semantic-layer rollups (pre-aggregations as Iceberg tables).",
                          no_args_is_help=True)
app.add_typer(rollups_app, name="rollups")


@rollups_app.command("build")
def rollups_build(
    names: Annotated[list[str] | None, typer.Argument(
        metavar="[NAME...]", help="Rollups as cube.name (default: all).")] = None,
    json_out: JsonOpt = False,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    token: TokenOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Build rollup tables from the current snapshots of their tables (without Dagster).

    A partitioned rollup rebuilds only the partitions new data touched when that can be
    proven (mode "partitions", with the local ranges rebuilt), else the whole table ("full").
    """
    with guarded(debug):
        from ..services import semantic

        results = semantic.build_rollups(project, names or None, catalog_uri=catalog_uri,
                                         warehouse=warehouse,
                                         identity=semantic.identity_for(project, token))
        if json_out:
            typer.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False))
            return
        for r in results:
            ranges = ", ".join(f"{p['start']}..{p['end']}" for p in r.partitions)
            typer.echo(f"{r.rollup:40} {r.table:45} {r.rows:8,} rows  snapshot "
                       f"{r.snapshot_id}  {r.mode}{f' [{ranges}]' if ranges else ''}  "
                       f"({', '.join(r.timezones)}; {r.seconds}s)")
