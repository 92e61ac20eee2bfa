"""The semantic layer: Cube-compatible models and queries over the project's Iceberg tables.

* :mod:`.model`: the typed model (:class:`Cube`, :class:`Dimension`, :class:`Measure`,
  :class:`Segment`, :class:`Join`, :class:`PreAggregation`, :class:`SemanticModel`);
* :mod:`.loader` / :mod:`.validate`: Cube's YAML syntax -> the model, errors with file:line:key;
* :mod:`.query`: Cube's query JSON -> a normalized :class:`Query` (stable JSON key);
* :mod:`.compiler`: query + model -> a sqlglot SELECT (fan-out safe);
* :mod:`.tables`: read-only SQL guard, snapshot-pinned ``iceberg_scan`` sources;
* :mod:`.execute`, :mod:`.layer`: DuckDB execution and :class:`SemanticLayer`.

Examples:
    .. code-block:: python

        from logflow_dagster.semantic import SemanticLayer

        with SemanticLayer.from_project("logflow-demo") as layer:
            print([cube["name"] for cube in layer.meta()["cubes"]])
"""

from __future__ import annotations

from .layer import QueryPlan, QueryResult, SemanticLayer, SqlResult
from .loader import load_model, load_model_text
from .model import (
    Cube,
    Dimension,
    Join,
    Location,
    Measure,
    PreAggregation,
    Segment,
    SemanticModel,
)
from .query import DateRange, Filter, FilterGroup, Query, TimeDimension, normalize_query

__all__ = [
    "Cube",
    "DateRange",
    "Dimension",
    "Filter",
    "FilterGroup",
    "Join",
    "Location",
    "Measure",
    "PreAggregation",
    "Query",
    "QueryPlan",
    "QueryResult",
    "Segment",
    "SemanticLayer",
    "SemanticModel",
    "SqlResult",
    "TimeDimension",
    "load_model",
    "load_model_text",
    "normalize_query",
]
