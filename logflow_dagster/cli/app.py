"""The typer app, its shared option types, and how errors and progress reach a CLI user.

Exit codes: 0 success (rejects under permissive/quarantine are a success), 1 bad data (strict,
or a blocking quality check that failed), 2 usage error, 75 a temporary failure (concurrent
writers won every commit attempt: run it again), 70 an internal error (a bug: please report
it, with ``--debug``), 130 interrupted.
"""

from __future__ import annotations

import contextlib
import json
import sys
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer

from ..core.formats import FORMAT_CHOICES

app = typer.Typer(
    name="logflow",
    help="Files of any format -> quality-checked Parquet and lakehouse tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: The CLI's exit code for an error that is a bug (``EX_SOFTWARE``).
INTERNAL_ERROR = 70


@app.callback()
def _root() -> None:
    """Files of any format -> quality-checked Parquet and lakehouse tables."""


Format = StrEnum("Format", {name: name for name in FORMAT_CHOICES})  # type: ignore[misc]


class Policy(StrEnum):
    """What bad records do."""

    strict = "strict"
    permissive = "permissive"
    quarantine = "quarantine"


class Codec(StrEnum):
    """Parquet compression."""

    zstd = "zstd"
    snappy = "snappy"
    gzip = "gzip"
    lz4 = "lz4"
    none = "none"


ProjectOpt = Annotated[str, typer.Option("--project", help="Project folder (with logflow.yaml).")]
CatalogOpt = Annotated[str | None, typer.Option(
    "--catalog-uri", help="SQL catalog URL (e.g. postgresql+psycopg2://...) or REST URL.")]
WarehouseOpt = Annotated[str | None, typer.Option(
    "--warehouse", help="Warehouse URI (file:///..., s3://...).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
DebugOpt = Annotated[bool, typer.Option(help="Show tracebacks.")]
TokenOpt = Annotated[str | None, typer.Option(
    "--token", envvar="LOGFLOW_TOKEN", show_envvar=False,
    help="Act as the identity of this API key or JWT (the project's access policies apply); "
         "default: the trusted local user.")]
QuoteOpt = Annotated[str | None, typer.Option(
    help="CSV quote character, e.g. \"'\" [default: detected, else '\"'].", show_default=False)]
MaxQuotedLinesOpt = Annotated[int | None, typer.Option(
    min=1, help="Lines one quoted CSV field may span before its quote is taken as stray and "
                "the record rejected [default: 1000].", show_default=False)]
MaxQuotedBytesOpt = Annotated[int | None, typer.Option(
    min=1, help="Bytes one quoted CSV field may span [default: 1048576].", show_default=False)]


def fail(err: BaseException, debug: bool) -> NoReturn:
    """Prints an error the way a CLI user should see it and exits with its code.

    An exit the command asked for (``typer.Exit``) passes through unchanged.

    Example:
        >>> from logflow_dagster.core.errors import UsageError
        >>> try:
        ...     fail(UsageError("no such file"), debug=False)
        ... except SystemExit as done:
        ...     done.code
        2
    """
    from ..core.errors import LogflowError

    if isinstance(err, (typer.Exit, typer.Abort, SystemExit)):
        raise err
    if debug:
        import traceback

        traceback.print_exception(err, file=sys.stderr)
    if isinstance(err, LogflowError):
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(err.exit_code)
    if isinstance(err, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        raise SystemExit(130)
    typer.echo(f"internal error: {type(err).__name__}: {err} (run with --debug for details)",
               err=True)
    raise SystemExit(INTERNAL_ERROR)


@contextlib.contextmanager
def guarded(debug: bool) -> Any:
    """Runs a command body; any error reaches the user through :func:`fail`."""
    try:
        yield
    except (Exception, KeyboardInterrupt) as err:
        fail(err, debug)


def progress(enabled: bool) -> Any:
    """A rich progress bar on stderr when it is a terminal; a no-op context otherwise."""
    if not enabled or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    return Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), console=Console(stderr=True), transient=True)


def emit(payload: Any, json_out: bool, line: str) -> None:
    """Prints ``payload`` as one JSON object, or ``line`` for people."""
    typer.echo(json.dumps(payload, default=str, ensure_ascii=False) if json_out else line)
