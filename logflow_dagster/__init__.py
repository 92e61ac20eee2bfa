"""logflow-dagster: files of any format -> quality-checked lakehouse tables, as Dagster assets.

The public API is imported lazily so that ``import logflow_dagster`` (and ``logflow --help``)
stays cheap. Importing it changes nothing process-wide (allocators, thread counts): the
``logflow`` command tunes its own process, a user's code can call
:func:`logflow_dagster.startup.tune_process`.

Example:
    >>> import pathlib, tempfile
    >>> from logflow_dagster import convert
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = pathlib.Path(tmp, "events.csv").write_text("id,name\\n1,ada\\n2,bob\\n")
    ...     convert(f"{tmp}/events.csv", f"{tmp}/events.parquet").rows_written
    2
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "convert": "logflow_dagster.core.convert",
    "IngestResult": "logflow_dagster.core.result",
    "ErrorPolicy": "logflow_dagster.core.errors",
    "LogflowError": "logflow_dagster.core.errors",
    "DataError": "logflow_dagster.core.errors",
    "UsageError": "logflow_dagster.core.errors",
    "ingest": "logflow_dagster.lakehouse.ingest",
    "build_definitions": "logflow_dagster.definitions_builder",
    "load_config": "logflow_dagster.config",
    "ProjectConfig": "logflow_dagster.config",
    "LogflowComponent": "logflow_dagster.component",
}

if TYPE_CHECKING:
    from .component import LogflowComponent
    from .config import ProjectConfig, load_config
    from .core.convert import convert
    from .core.errors import DataError, ErrorPolicy, LogflowError, UsageError
    from .core.result import IngestResult
    from .definitions_builder import build_definitions
    from .lakehouse.ingest import ingest


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'logflow_dagster' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    # dg lists a registry module's components from dir(): the lazy names must show there
    return sorted({*globals(), *__all__})


__all__ = [
    "DataError",
    "ErrorPolicy",
    "IngestResult",
    "LogflowComponent",
    "LogflowError",
    "ProjectConfig",
    "UsageError",
    "__version__",
    "build_definitions",
    "convert",
    "ingest",
    "load_config",
]
