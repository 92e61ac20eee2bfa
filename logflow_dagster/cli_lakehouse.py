"""The lakehouse commands of ``logflow``: ingest, tables, read, compact, expire, orphans.

Registered on the main app by :mod:`logflow_dagster.cli`; heavy libraries (pyiceberg, duckdb)
are imported inside each command only.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Annotated, Any

import typer

from .cli import Policy, _fail, _progress, app

ProjectOpt = Annotated[str, typer.Option("--project", help="Project folder (embedded catalog).")]
CatalogOpt = Annotated[str | None, typer.Option(
    "--catalog-uri", help="SQL catalog URL (e.g. postgresql+psycopg2://...) or REST URL.")]
WarehouseOpt = Annotated[str | None, typer.Option(
    "--warehouse", help="Warehouse URI (file:///..., s3://...).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
DebugOpt = Annotated[bool, typer.Option(help="Show tracebacks.")]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """Reads ``7d``, ``12h``, ``30m``, ``90s``, ``2w``.

    Example:
        >>> parse_duration("7d")
        datetime.timedelta(days=7)
    """
    from .core.errors import UsageError

    m = _DURATION.match(text)
    if not m:
        raise UsageError(f"bad duration {text!r}; use e.g. 7d, 12h, 30m, 90s")
    return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})


def _catalog(project: str, catalog_uri: str | None, warehouse: str | None) -> Any:
    from .lakehouse import CatalogConfig

    config = CatalogConfig.embedded(project).with_env_overrides()
    if catalog_uri or warehouse:
        kind = "rest" if catalog_uri and catalog_uri.startswith("http") else "sql"
        config = CatalogConfig(name=config.name, kind=kind, uri=catalog_uri or config.uri,
                               warehouse=warehouse or config.warehouse)
    return config


def _load(project: str, catalog_uri: str | None, warehouse: str | None, table: str) -> Any:
    from pyiceberg.exceptions import NoSuchTableError

    from .core.errors import UsageError
    from .lakehouse import open_catalog

    cat = open_catalog(_catalog(project, catalog_uri, warehouse))
    try:
        return cat.load_table(table)
    except NoSuchTableError:
        raise UsageError(f"no table {table!r} in the catalog") from None


def _emit(payload: dict[str, Any], json_out: bool, line: str) -> None:
    typer.echo(json.dumps(payload, default=str) if json_out else line)


def _maintain(table: str, where: tuple[str, str | None, str | None], json_out: bool,
              debug: bool, run: Any, line: Any) -> None:
    """Loads ``table``, runs one maintenance verb on it and prints its result."""
    try:
        result = run(_load(*where, table))
    except (Exception, KeyboardInterrupt) as err:
        _fail(err, debug)
        return
    payload = result.to_dict()
    _emit(payload, json_out, line(payload))


@app.command()
def ingest(
    input: Annotated[str, typer.Argument(help="Input file or URI.")],
    table: Annotated[str, typer.Option("--table", help="namespace.table")],
    partition_by: Annotated[list[str] | None, typer.Option(
        help="Partition field: col, day(col), month(col), bucket(N, col), truncate(W, col).")
    ] = None,
    schema_policy: Annotated[str, typer.Option(help="strict, merge or evolve.")] = "merge",
    error_policy: Annotated[Policy, typer.Option(help="What bad records do.")] = Policy.strict,
    quarantine: Annotated[str | None, typer.Option(help="Quarantine file.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="Input format.")] = "auto",
    force: Annotated[bool, typer.Option(help="Re-ingest an unchanged file.")] = False,
    lineage: Annotated[bool, typer.Option(help="Add _source_uri/_source_hash/_ingested_at.")
                       ] = True,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    debug: DebugOpt = False,
) -> None:
    """Ingest one file into an Iceberg table, replacing that file's earlier rows."""
    try:
        from .core.convert import ReadOptions
        from .lakehouse.ingest import ingest as run

        with _progress(not (quiet or json_out)) as bar:
            task = bar.add_task(input, total=None) if bar is not None else None
            result = run(
                input, table, catalog=_catalog(project, catalog_uri, warehouse),
                project_dir=project, partition_by=partition_by, schema_policy=schema_policy,
                error_policy=error_policy.value, quarantine=quarantine, lineage=lineage,
                force=force, reading=ReadOptions(format=format),
                on_progress=(lambda d, t: bar.update(task, completed=d, total=t))
                if bar is not None else None,
            )
    except (Exception, KeyboardInterrupt) as err:
        _fail(err, debug)
        return
    payload = result.to_dict()
    payload.pop("files", None)
    if quiet and not json_out:
        return
    what = "unchanged, skipped" if result.skipped else (
        f"{result.rows_read:,} read, {result.rows_written:,} written, "
        f"{result.rows_rejected:,} rejected" + ("; replaced earlier rows" if result.replaced
                                                else ""))
    _emit(payload, json_out, f"{input} -> {table} (snapshot {result.snapshot_id}): {what}")


@app.command()
def tables(
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List tables with schema, partition spec, snapshots and file counts."""
    try:
        from .lakehouse import open_catalog

        cat = open_catalog(_catalog(project, catalog_uri, warehouse))
        out = []
        for ns in cat.list_namespaces():
            for ident in cat.list_tables(ns):
                t = cat.load_table(ident)
                snap = t.current_snapshot()
                files = t.inspect.files() if snap is not None else None
                out.append({
                    "table": ".".join(ident),
                    "location": t.location(),
                    "schema": [{"name": f.name, "type": str(f.field_type)}
                               for f in t.schema().fields],
                    "partition_spec": [str(f) for f in t.spec().fields],
                    "snapshots": len(t.snapshots()),
                    "current_snapshot_id": snap.snapshot_id if snap else None,
                    "data_files": files.num_rows if files is not None else 0,
                    "rows": int(sum(files.column("record_count").to_pylist()))
                    if files is not None else 0,
                })
    except (Exception, KeyboardInterrupt) as err:
        _fail(err, debug)
        return
    if json_out:
        typer.echo(json.dumps(out, default=str))
        return
    for t in out:
        spec = ", ".join(t["partition_spec"]) or "unpartitioned"
        typer.echo(f"{t['table']}: {t['rows']:,} rows in {t['data_files']} files, "
                   f"{t['snapshots']} snapshots, {spec}")
        for col in t["schema"]:
            typer.echo(f"    {col['name']}: {col['type']}")


@app.command()
def read(
    table: Annotated[str, typer.Argument(help="namespace.table")],
    snapshot_id: Annotated[int | None, typer.Option(help="Read this snapshot.")] = None,
    as_of: Annotated[str | None, typer.Option(
        help="Read the snapshot current at this zoned time, e.g. 2026-12-01T08:00:00Z.")] = None,
    where: Annotated[str | None, typer.Option(help="Row filter, e.g. \"region = 'EU'\".")] = None,
    columns: Annotated[str | None, typer.Option(help="Comma-separated columns.")] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="At most this many rows.")] = None,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", help="Write to FILE (.parquet, .csv or .jsonl), not stdout.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON Lines on stdout.")] = False,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Read a table as of now, a snapshot id or a time (CSV on stdout by default)."""
    try:
        from .lakehouse.read import read_table
        from .lakehouse.table_export import parse_zoned_time, write_rows

        reader = read_table(
            _load(project, catalog_uri, warehouse, table), snapshot_id=snapshot_id,
            as_of=parse_zoned_time(as_of) if as_of else None, row_filter=where, limit=limit,
            columns=tuple(c.strip() for c in columns.split(",")) if columns else ("*",))
        rows = write_rows(reader, output, fmt="jsonl" if json_out else None)
    except (Exception, KeyboardInterrupt) as err:
        _fail(err, debug)
        return
    if output:
        typer.echo(f"{table}: {rows:,} rows -> {output}", err=True)


@app.command()
def compact(
    table: Annotated[str, typer.Argument(help="namespace.table")],
    target_file_size_mb: Annotated[int, typer.Option(help="Target data file size.")] = 128,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Rewrite a table's small data files into files near the target size (one snapshot)."""
    from .lakehouse.maintenance import MiB
    from .lakehouse.maintenance import compact as run

    _maintain(table, (project, catalog_uri, warehouse), json_out, debug,
              lambda t: run(t, target_file_size=target_file_size_mb * MiB),
              lambda r: f"{table}: {r['files_before']} -> {r['files_after']} data files "
                        f"({r['bytes_before']:,} -> {r['bytes_after']:,} bytes)")


@app.command()
def expire(
    table: Annotated[str, typer.Argument(help="namespace.table")],
    older_than: Annotated[str, typer.Option(help="Age, e.g. 7d, 12h.")] = "7d",
    retain_last: Annotated[int, typer.Option(min=1, help="Snapshots always kept.")] = 1,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Expire old snapshots and delete the files only they referenced."""
    from .lakehouse.maintenance import expire_snapshots

    _maintain(table, (project, catalog_uri, warehouse), json_out, debug,
              lambda t: expire_snapshots(t, older_than=parse_duration(older_than),
                                         retain_last=retain_last),
              lambda r: f"{table}: deleted {r['deleted_paths']} files; "
                        f"{r['files_before']} -> {r['files_after']} files")


@app.command()
def orphans(
    table: Annotated[str, typer.Argument(help="namespace.table")],
    older_than: Annotated[str, typer.Option(help="Safety age, e.g. 3d.")] = "3d",
    dry_run: Annotated[bool, typer.Option(help="List, delete nothing.")] = False,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Delete files under the table location that no metadata references."""
    from .lakehouse.maintenance import remove_orphans

    def line(r: dict[str, Any]) -> str:
        found = r.get("orphan_paths") or []
        count = len(found) if isinstance(found, list) else found
        return f"{table}: {'would delete' if dry_run else 'deleted'} {count} orphan files"

    _maintain(table, (project, catalog_uri, warehouse), json_out, debug,
              lambda t: remove_orphans(t, older_than=parse_duration(older_than),
                                       dry_run=dry_run), line)
