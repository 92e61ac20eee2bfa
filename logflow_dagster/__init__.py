"""logflow-dagster: files of any format -> quality-checked lakehouse tables, as Dagster assets.

The public API is imported lazily so that ``import logflow_dagster`` (and ``logflow --help``)
stays cheap:

Example:
    >>> from logflow_dagster import convert  # doctest: +SKIP
    >>> convert("events.csv", "events.parquet").rows_written  # doctest: +SKIP
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
}

if TYPE_CHECKING:
    from .core.convert import convert
    from .core.errors import DataError, ErrorPolicy, LogflowError, UsageError
    from .core.result import IngestResult


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'logflow_dagster' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = [
    "DataError",
    "ErrorPolicy",
    "IngestResult",
    "LogflowError",
    "UsageError",
    "__version__",
    "convert",
]
