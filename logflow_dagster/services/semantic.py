"""The semantic layer as a service: open a project's layer, answer a Cube query (or plan it),
describe the model, run read-only SQL over the project's tables. The CLI, Dagster and the
HTTP API call these and render the typed results their own way.

Example:
    >>> from logflow_dagster.services import semantic
    >>> semantic.run_query(".", {"measures": ["orders.count"]}).data  # doctest: +SKIP
    [{'orders.count': '1000'}]
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from ..semantic import QueryPlan, QueryResult, SemanticLayer, SqlResult

PathLike = str | os.PathLike[str]


def open_layer(project: PathLike = ".", *, catalog_uri: str | None = None,
               warehouse: str | None = None, require_models: bool = True) -> SemanticLayer:
    """The project's semantic layer (its ``logflow.yaml``, models and catalog).

    Raises:
        UsageError: No ``logflow.yaml``, no models (when ``require_models``), a model error.
    """
    return SemanticLayer.from_project(project, catalog_uri=catalog_uri, warehouse=warehouse,
                                      require_models=require_models)


def parse_query_arg(text: str) -> Any:
    """A query given on a command line: JSON text, or ``@file.json``.

    Raises:
        UsageError: A missing file or text that is not JSON.

    Example:
        >>> parse_query_arg('{"measures": ["orders.count"]}')
        {'measures': ['orders.count']}
    """
    source = "query"
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise UsageError(f"{path}: no such query file")
        source, text = str(path), path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{source}: not valid JSON: {err.msg} (line {err.lineno}, column "
                         f"{err.colno})") from None


def run_query(project: PathLike, query: Any, identity: Any = None, **options: Any
              ) -> QueryResult:
    """Answers a Cube query in a project (``options`` as :func:`open_layer`)."""
    return open_layer(project, **options).query(query, identity)


def plan_query(project: PathLike, query: Any, **options: Any) -> QueryPlan:
    """How a query would run: source, SQL, rejected rollups."""
    return open_layer(project, **options).plan(query)


def describe_model(project: PathLike, **options: Any) -> dict[str, Any]:
    """Cube's ``/meta`` of the project's model."""
    return open_layer(project, **options).meta()


def run_sql(project: PathLike, text: str, **options: Any) -> SqlResult:
    """One read-only SELECT over the project's tables (no models needed)."""
    return open_layer(project, require_models=False, **options).sql(text)
