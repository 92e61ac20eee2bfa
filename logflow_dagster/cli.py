"""The ``logflow`` command line. Heavy libraries are imported inside the commands only."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="logflow",
    help="Files of any format -> quality-checked Parquet and lakehouse tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Files of any format -> quality-checked Parquet and lakehouse tables."""


class Format(StrEnum):
    auto = "auto"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"
    xml = "xml"
    xes = "xes"
    parquet = "parquet"
    avro = "avro"
    xlsx = "xlsx"
    log = "log"


class Policy(StrEnum):
    strict = "strict"
    permissive = "permissive"
    quarantine = "quarantine"


class Codec(StrEnum):
    zstd = "zstd"
    snappy = "snappy"
    gzip = "gzip"
    lz4 = "lz4"
    none = "none"


def _fail(err: BaseException, debug: bool) -> None:
    """Prints an error the way a CLI user should see it and exits with its code."""
    from .core.errors import LogflowError

    if debug:
        import traceback

        traceback.print_exception(err, file=sys.stderr)
    if isinstance(err, LogflowError):
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code)
    if isinstance(err, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        raise typer.Exit(130)
    typer.echo(f"internal error: {type(err).__name__}: {err} (run with --debug for details)",
               err=True)
    raise typer.Exit(1)


def _progress(enabled: bool) -> Any:
    """A rich progress bar on stderr when it is a terminal; a no-op context otherwise."""
    import contextlib

    if not enabled or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    return Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), console=Console(stderr=True), transient=True)


@app.command()
def convert(
    input: Annotated[str, typer.Argument(help="Input file or URI (may be gzip/bz2/zstd/xz).")],
    output: Annotated[str, typer.Argument(help="OUTPUT.parquet for one file, else a directory.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Input format.")] = Format.auto,
    error_policy: Annotated[Policy, typer.Option(help="What bad records do.")] = Policy.strict,
    quarantine: Annotated[str | None, typer.Option(help="Quarantine file (JSON Lines).")] = None,
    compression: Annotated[Codec, typer.Option(help="Parquet compression.")] = Codec.zstd,
    partition_by: Annotated[list[str] | None, typer.Option(help="Hive partition column.")] = None,
    row_group_size: Annotated[int, typer.Option(min=1, help="Max rows per row group.")] = 1 << 20,
    header: Annotated[bool | None, typer.Option("--header/--no-header", show_default=False,
                                                help="Override header detection.")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet name or 0-based index.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="Override the detected delimiter.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Override the detected encoding.")] = None,
    schema: Annotated[str | None, typer.Option(
        help='Column types as JSON, e.g. \'{"amount": "decimal(12,2)"}\'.')] = None,
    schema_cache: Annotated[str | None, typer.Option(
        help="Schema cache file [default: .logflow/schema_cache.sqlite when .logflow/ exists].",
        show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Convert one file of any supported format to Parquet, losing no record."""
    try:
        from .core.convert import convert as run
        from .core.errors import UsageError

        if delimiter is not None and len(delimiter.encode("unicode_escape").decode()) > 2 \
                and delimiter != "\\t":
            raise UsageError(f"--delimiter must be one character, got {delimiter!r}")
        overrides = None
        if schema:
            try:
                overrides = json.loads(schema)
            except ValueError as err:
                raise UsageError(f"--schema is not valid JSON: {err}") from None
        sheet_arg: str | int | None = int(sheet) if sheet and sheet.isdigit() else sheet
        if schema_cache is None and os.path.isdir(".logflow"):
            schema_cache = os.path.join(".logflow", "schema_cache.sqlite")
        with _progress(not (quiet or json_out)) as bar:
            task = bar.add_task(input, total=None) if bar is not None else None

            def report(done: int, total: int | None) -> None:
                if bar is not None:
                    bar.update(task, completed=done, total=total)

            result = run(
                input, output, format=format.value, error_policy=error_policy.value,
                quarantine=quarantine, compression=compression.value,
                partition_by=partition_by or None, sheet=sheet_arg, header=header,
                row_group_size=row_group_size,
                delimiter="\t" if delimiter == "\\t" else delimiter, encoding=encoding,
                schema=overrides, schema_cache=schema_cache,
                on_progress=report if bar is not None else None,
            )
    except (Exception, KeyboardInterrupt) as err:
        _fail(err, debug)
        return
    if json_out:
        payload = result.to_dict()
        payload.pop("files", None)
        typer.echo(json.dumps(payload, default=str, ensure_ascii=False))
    elif not quiet:
        typer.echo(
            f"{result.input} -> {result.output}: {result.format}, {result.rows_read:,} read, "
            f"{result.rows_written:,} written, {result.rows_rejected:,} rejected "
            f"({result.rows_per_s:,.0f} rows/s)" +
            (f"; quarantine: {result.quarantine}" if result.quarantine else ""))


@app.command()
def init(
    folder: Annotated[str, typer.Argument(help="Project folder to create.")] = ".",
    samples: Annotated[bool, typer.Option(help="Also write sample event logs.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Scaffold a project: logflow.yaml, definitions.py, workspace.yaml, landing/, .logflow/."""
    try:
        from pathlib import Path

        from .scaffold import init_project

        for path in init_project(Path(folder), samples=samples):
            typer.echo(f"wrote {path}")
    except (Exception, KeyboardInterrupt) as err:
        _fail(err, debug)


@app.command()
def run(
    project: Annotated[str, typer.Option("--project", help="Project folder.")] = ".",
    workers: Annotated[int, typer.Option(min=1, help="Partition runs at once.")] = 2,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """One headless pass: evaluate the sensors, run the partitions they request."""
    try:
        from pathlib import Path

        from .runner import run_once

        summary = run_once(Path(project), workers=workers)
    except (Exception, KeyboardInterrupt) as err:
        _fail(err, debug)
        return
    if json_out:
        typer.echo(json.dumps(summary.to_dict()))
    else:
        typer.echo(f"{summary.runs} runs ({summary.failed_runs} failed), "
                   f"{summary.rows_written:,} rows written, {summary.rows_rejected:,} rejected, "
                   f"checks {summary.checks_passed} passed / {summary.checks_failed} failed, "
                   f"{summary.duration_s}s")
    if summary.failed_runs:
        raise typer.Exit(1)


@app.command()
def demo(
    folder: Annotated[str, typer.Argument(help="Where to write the demo.")] = "logflow-demo",
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Scaffold a project with sample event logs, run it once, query the tables with DuckDB."""
    try:
        from pathlib import Path

        from .lakehouse import CatalogConfig, open_catalog
        from .lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
        from .runner import run_once
        from .scaffold import init_project

        root = Path(folder)
        init_project(root, samples=True)
        summary = run_once(root)
        typer.echo(f"{summary.runs} runs: {summary.rows_written:,} rows written, "
                   f"{summary.rows_rejected:,} quarantined, row-accounting checks "
                   f"{summary.checks_passed} passed / {summary.checks_failed} failed")
        catalog = open_catalog(CatalogConfig.embedded(root))
        con = duckdb_connection()
        for name in ("raw.orders_csv", "raw.orders_jsonl", "raw.orders_xes"):
            table = catalog.load_table(name)
            n = con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}").fetchone()[0]
            typer.echo(f"  {name:18} {n:6,} rows (Iceberg, read by DuckDB)")
        table = catalog.load_table("raw.orders_csv")
        rows = con.execute(
            "SELECT activity, count(*) AS events, count(DISTINCT case_id) AS cases "
            f"FROM {iceberg_scan_sql(table)} GROUP BY 1 ORDER BY 2 DESC").fetchall()
        typer.echo("\nevents per activity in raw.orders_csv:")
        for activity, n, cases in rows:
            typer.echo(f"  {activity:14} {n:6,} events  {cases:5,} cases")
        typer.echo(f"\nproject: {root}  (cd there and run `dagster dev` to see it in the UI)")
        if summary.failed_runs:
            raise typer.Exit(1)
    except (Exception, KeyboardInterrupt) as err:
        _fail(err, debug)


#: Commands whose whole run stays in Arrow: pandas is kept out of their process (see
#: :mod:`logflow_dagster.startup`; 0.2-0.3 s less start-up for each).
_ARROW_ONLY_COMMANDS = frozenset({"convert", "ingest"})


def main() -> None:
    """Console-script entry point."""
    from . import cli_lakehouse  # noqa: F401  (registers its commands; imports nothing heavy)

    if len(sys.argv) > 1 and sys.argv[1] in _ARROW_ONLY_COMMANDS:
        from .startup import keep_pandas_out, single_threaded_blas

        single_threaded_blas()  # before numpy is imported
        keep_pandas_out()

    app()


if __name__ == "__main__":
    # `python -m logflow_dagster.cli`: run the importable module's app, the one that
    # cli_lakehouse adds its commands to (this file's own copy, __main__, has only these)
    from logflow_dagster.cli import main as _main

    _main()
