"""``logflow convert``: one file of any format to Parquet (the engine, no lakehouse)."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from .app import (
    Codec,
    DebugOpt,
    Format,
    MaxQuotedBytesOpt,
    MaxQuotedLinesOpt,
    Policy,
    QuoteOpt,
    app,
    guarded,
    progress,
)


@app.command()
def convert(
    input: Annotated[str, typer.Argument(help="Input file or URI (may be gzip/bz2/zstd/xz).")],
    output: Annotated[str, typer.Argument(help="OUTPUT.parquet for one file, else a directory.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Input format.")
                      ] = Format.auto,  # type: ignore[attr-defined]
    error_policy: Annotated[Policy, typer.Option(help="What bad records do.")] = Policy.strict,
    quarantine: Annotated[str | None, typer.Option(help="Quarantine file (JSON Lines).")] = None,
    compression: Annotated[Codec, typer.Option(help="Parquet compression.")] = Codec.zstd,
    partition_by: Annotated[list[str] | None, typer.Option(help="Hive partition column.")] = None,
    row_group_size: Annotated[int, typer.Option(min=1, help="Max rows per row group.")] = 1 << 20,
    header: Annotated[bool | None, typer.Option("--header/--no-header", show_default=False,
                                                help="Override header detection.")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet name or 0-based index.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="Override the detected delimiter.")] = None,
    quote: QuoteOpt = None,
    max_quoted_lines: MaxQuotedLinesOpt = None,
    max_quoted_bytes: MaxQuotedBytesOpt = None,
    encoding: Annotated[str | None, typer.Option(help="Override the detected encoding.")] = None,
    schema: Annotated[str | None, typer.Option(
        help='Column types as JSON, e.g. \'{"amount": "decimal(12,2)"}\'.')] = None,
    schema_cache: Annotated[str | None, typer.Option(
        help="Schema cache file [default: .logflow/schema_cache.sqlite when .logflow/ exists].",
        show_default=False)] = None,
    mmap: Annotated[bool, typer.Option(
        "--mmap/--no-mmap", help="Memory-map a local input (faster; use --no-mmap for a file "
                                 "another program may truncate while it is read).")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Convert one file of any supported format to Parquet, losing no record."""
    with guarded(debug):
        from ..core.convert import convert as run
        from ..core.errors import UsageError

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
        with progress(not (quiet or json_out)) as bar:
            task = bar.add_task(input, total=None) if bar is not None else None

            def report(done: int, total: int | None) -> None:
                if bar is not None:
                    bar.update(task, completed=done, total=total)

            result = run(
                input, output, format=format.value, error_policy=error_policy.value,
                quarantine=quarantine, compression=compression.value,
                partition_by=partition_by or None, sheet=sheet_arg, header=header,
                row_group_size=row_group_size,
                delimiter="\t" if delimiter == "\\t" else delimiter, quote=quote,
                max_quoted_lines=max_quoted_lines, max_quoted_bytes=max_quoted_bytes,
                encoding=encoding,
                schema=overrides, schema_cache=schema_cache, mmap=mmap,
                on_progress=report if bar is not None else None,
            )
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
