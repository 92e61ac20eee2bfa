"""The lakehouse commands: ingest, tables, read, compact, expire, orphans.

Each calls the services layer (:mod:`logflow_dagster.services`) and renders its typed result;
pyiceberg and DuckDB are imported inside the commands only.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .app import (
    CatalogOpt,
    DebugOpt,
    Format,
    JsonOpt,
    MaxQuotedBytesOpt,
    MaxQuotedLinesOpt,
    Policy,
    ProjectOpt,
    QuoteOpt,
    TokenOpt,
    WarehouseOpt,
    app,
    emit,
    guarded,
    progress,
)


def _project(project: str, catalog_uri: str | None, warehouse: str | None) -> Any:
    from ..services import Project

    return Project.load(project, catalog_uri=catalog_uri, warehouse=warehouse)


def _kept(result: dict[str, Any]) -> str:
    """What a deleting verb left because it belongs to another table, for the summary line."""
    kept = result["protected_paths"]
    return f"; kept {len(kept)} files of other tables" if kept else ""


@app.command()
def ingest(
    input: Annotated[str, typer.Argument(help="Input file or URI.")],
    table: Annotated[str, typer.Option("--table", help="namespace.table")],
    partition_by: Annotated[list[str] | None, typer.Option(
        help="Partition field: col, day(col), month(col), bucket(N, col), truncate(W, col).")
    ] = None,
    schema_policy: Annotated[str | None, typer.Option(
        help="strict, merge or evolve [default: the source's in logflow.yaml, else merge].",
        show_default=False)] = None,
    error_policy: Annotated[Policy | None, typer.Option(
        help="What bad records do [default: the source's in logflow.yaml, else strict].",
        show_default=False)] = None,
    quarantine: Annotated[str | None, typer.Option(help="Quarantine file.")] = None,
    format: Annotated[Format | None, typer.Option(
        "--format", "-f", help="Input format [default: the source's, else auto].",
        show_default=False)] = None,
    force: Annotated[bool, typer.Option(help="Re-ingest an unchanged file.")] = False,
    lineage: Annotated[bool, typer.Option(help="Add _source_uri/_source_hash/_ingested_at.")
                       ] = True,
    mmap: Annotated[bool, typer.Option(
        "--mmap/--no-mmap", help="Memory-map a local input (use --no-mmap for a file another "
                                 "program may truncate while it is read).")] = True,
    quote: QuoteOpt = None,
    max_quoted_lines: MaxQuotedLinesOpt = None,
    max_quoted_bytes: MaxQuotedBytesOpt = None,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    token: TokenOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Ingest one file into an Iceberg table, replacing that file's earlier rows.

    The table's quality rules in logflow.yaml are evaluated on the rows the file wrote and
    OpenLineage events are emitted, exactly as the Dagster ingest asset does. Exits 1 when a
    blocking rule fails.
    """
    with guarded(debug):
        from ..core.identifiers import validate_table_name
        from ..services import ingest_file
        from ..services.ingest import reading_options

        table = validate_table_name(table)
        proj = _project(project, catalog_uri, warehouse)
        rules = proj.rules_for(table)
        if any(r.type in ("pandera", "great_expectations") for r in rules):
            from ..startup import allow_pandas

            allow_pandas()
        source = proj.source_for_table(table)
        with progress(not (quiet or json_out)) as bar:
            task = bar.add_task(input, total=None) if bar is not None else None
            report = ingest_file(
                proj, input, table, source=source, partition_by=partition_by,
                schema_policy=schema_policy,
                error_policy=error_policy.value if error_policy else None,
                quarantine=quarantine, lineage_columns=lineage, force=force, rules=rules,
                reading=reading_options(source, format=format.value if format else None,
                                        mmap=mmap, quote=quote,
                                        max_quoted_lines=max_quoted_lines,
                                        max_quoted_bytes=max_quoted_bytes),
                on_progress=(lambda d, t: bar.update(task, completed=d, total=t))
                if bar is not None else None, identity=proj.identity_for(token))
    result = report.result
    payload = report.to_dict()
    payload.pop("files", None)
    if json_out or not quiet:
        what = ("unchanged, skipped (the table holds "
                f"{result.rows_written:,} rows of it)") if result.skipped else (
            f"{result.rows_read:,} read, {result.rows_written:,} written, "
            f"{result.rows_rejected:,} rejected" + ("; replaced earlier rows" if result.replaced
                                                    else ""))
        emit(payload, json_out, f"{input} -> {table} (snapshot {result.snapshot_id}): {what}")
    for check in payload["checks"]:
        if not check["passed"] and not quiet:
            kind = "blocking check" if check["blocking"] else "check (warning)"
            typer.echo(f"{kind} {check['name']} failed: {check['message'] or 'see --json'}",
                       err=True)
    if report.failed_blocking:
        raise SystemExit(1)


@app.command()
def tables(
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List tables with schema, partition spec, snapshots and file counts."""
    with guarded(debug):
        from ..services import list_tables

        out = [t.to_dict() for t in list_tables(_project(project, catalog_uri, warehouse))]
    if json_out:
        emit(out, True, "")
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
    with guarded(debug):
        from ..lakehouse.read import read_table
        from ..lakehouse.table_export import parse_zoned_time, write_rows

        loaded = _project(project, catalog_uri, warehouse).load_table(table)
        reader = read_table(
            loaded, snapshot_id=snapshot_id,
            as_of=parse_zoned_time(as_of) if as_of else None, row_filter=where, limit=limit,
            columns=tuple(c.strip() for c in columns.split(",")) if columns else ("*",))
        rows = write_rows(reader, output, fmt="jsonl" if json_out else None)
    if output:
        typer.echo(f"{table}: {rows:,} rows -> {output}", err=True)


@app.command()
def compact(
    table: Annotated[str, typer.Argument(help="namespace.table")],
    target_file_size_mb: Annotated[int, typer.Option(min=1, help="Target data file size.")
                                   ] = 128,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    token: TokenOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Rewrite a table's small data files into files near the target size (one snapshot)."""
    with guarded(debug):
        from ..lakehouse.maintenance import MiB
        from ..services import compact_table

        proj = _project(project, catalog_uri, warehouse)
        r = compact_table(proj, table, identity=proj.identity_for(token),
                          target_file_size=target_file_size_mb * MiB).to_dict()
    emit(r, json_out, f"{table}: {r['files_before']} -> {r['files_after']} data files "
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
    token: TokenOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Expire old snapshots and delete the files only they referenced."""
    with guarded(debug):
        from ..services import expire_table

        proj = _project(project, catalog_uri, warehouse)
        r = expire_table(proj, table, identity=proj.identity_for(token),
                         older_than=older_than, retain_last=retain_last).to_dict()
    emit(r, json_out, f"{table}: deleted {r['deleted_paths']} files; "
                      f"{r['files_before']} -> {r['files_after']} files{_kept(r)}")


@app.command()
def orphans(
    table: Annotated[str, typer.Argument(help="namespace.table")],
    older_than: Annotated[str, typer.Option(help="Safety age, e.g. 3d.")] = "3d",
    dry_run: Annotated[bool, typer.Option(help="List, delete nothing.")] = False,
    project: ProjectOpt = ".",
    catalog_uri: CatalogOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    token: TokenOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Delete unreferenced files under a table's location (never another table's)."""
    with guarded(debug):
        from ..services import remove_table_orphans

        proj = _project(project, catalog_uri, warehouse)
        r = remove_table_orphans(proj, table, identity=proj.identity_for(token),
                                 older_than=older_than, dry_run=dry_run).to_dict()
    emit(r, json_out, f"{table}: {'would delete' if dry_run else 'deleted'} "
                      f"{len(r['orphan_paths'])} orphan files{_kept(r)}")
