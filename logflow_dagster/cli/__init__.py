"""The ``logflow`` command line: one typer app whose commands call the services layer and
render their typed results. Heavy libraries (dagster, pyiceberg, duckdb, great_expectations)
are imported inside the commands only, so ``logflow --help`` stays fast.

Example:
    >>> from logflow_dagster.cli import app
    >>> sorted(c.callback.__name__ for c in app.registered_commands)[:4]
    ['compact', 'convert', 'demo', 'dev']
"""

from __future__ import annotations

import sys

from . import (  # noqa: F401  (each registers its commands)
    convert,
    keys,
    lakehouse,
    project,
    semantic,
    serve,
)
from .app import app, fail, progress

__all__ = ["app", "fail", "main", "progress"]

#: Commands whose whole run stays in Arrow: pandas is kept out of their process (see
#: :mod:`logflow_dagster.startup`; 0.2-0.3 s less start-up for each).
ARROW_ONLY_COMMANDS = frozenset({"convert", "ingest"})


def main() -> None:
    """Console-script entry point: tunes this process (allocators; for Arrow-only commands
    no pandas and single-threaded BLAS), then runs the app."""
    from ..startup import keep_pandas_out, single_threaded_blas, tune_process

    if len(sys.argv) > 1 and sys.argv[1] in ARROW_ONLY_COMMANDS:
        single_threaded_blas()  # before numpy is imported
        keep_pandas_out()
    if len(sys.argv) > 1 and sys.argv[1] not in ("--help", "-h"):
        tune_process()
    else:
        from ..startup import arrow_jemalloc

        arrow_jemalloc()  # cheap: no pyarrow import for --help
    app()
