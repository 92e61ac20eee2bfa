"""OpenLineage facets built from an :class:`~logflow_dagster.core.result.IngestResult`.

Each function turns one part of the result into one facet (a JSON-ready dict, see
:mod:`.spec`): the column schema, the quality profile (``dataQualityMetrics``), the quality
rules' outcomes (``dataQualityAssertions``), the row accounting
(``inputStatistics``/``outputStatistics``) and the error of a failed run (``errorMessage``).
``producer`` is stamped on every facet.

Example:
    >>> from logflow_dagster.core.result import IngestResult
    >>> r = IngestResult(input="a.csv", output="raw.a", format="csv",
    ...                  columns=[{"name": "id", "type": "int64"}])
    >>> schema_facet(r.columns, producer="https://example.com/p")["fields"][0]["name"]
    'id'
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .spec import facet

AssertionResult = tuple[str, bool, str | None]
"""One evaluated quality rule: ``(assertion, success, column or None)``."""


def schema_facet(columns: Sequence[Mapping[str, str]], *, producer: str) -> dict[str, Any]:
    """The ``schema`` facet from ``[{"name", "type"}]`` (the result's ``columns``).

    Example:
        >>> f = schema_facet([{"name": "ts", "type": "timestamp"}], producer="urn:x")
        >>> (f["fields"][0]["type"], f["fields"][0]["ordinal_position"])
        ('timestamp', 1)
    """
    fields = [{"fields": [], "name": str(c["name"]), "ordinal_position": i,
               **({"type": c["type"]} if c.get("type") is not None else {})}
              for i, c in enumerate(columns, start=1)]
    return facet("SchemaDatasetFacet", producer, fields=fields)


def _number(value: Any) -> float | None:
    """``value`` as a JSON number, or None when it is not a finite int/float (or is a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def column_metrics(profile: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-column metrics from the quality profile.

    ``nullCount`` and ``distinctCount`` come straight from the profile (``distinct`` may be an
    HLL estimate, see ``distinct_exact``); ``count`` is the number of non-null values; ``min`` and
    ``max`` are set only for numeric columns (the facet's fields are numbers, so text and
    timestamp bounds are left out).

    Example:
        >>> m = column_metrics({"columns": [{"name": "x", "count": 3, "nulls": 1,
        ...                                  "distinct": 2, "min": 1, "max": 5}]})
        >>> (m["x"]["nullCount"], m["x"]["distinctCount"], m["x"]["count"], m["x"]["max"])
        (1, 2, 2.0, 5.0)
    """
    metrics: dict[str, dict[str, Any]] = {}
    for col in profile.get("columns", []):
        nulls = col.get("nulls")
        count = col.get("count")
        distinct = col.get("distinct")
        values = {
            "nullCount": int(nulls) if nulls is not None else None,
            "distinctCount": round(distinct) if distinct is not None else None,
            "count": float(count - (nulls or 0)) if count is not None else None,
            "min": _number(col.get("min")),
            "max": _number(col.get("max")),
        }
        metrics[str(col["name"])] = {**{k: v for k, v in values.items() if v is not None},
                                     "quantiles": {}}
    return metrics


def quality_metrics_facet(profile: Mapping[str, Any], *, row_count: int, producer: str,
                          file_count: int | None = None, capture_date: str | None = None,
                          ) -> dict[str, Any]:
    """The ``dataQualityMetrics`` facet of the written rows.

    Example:
        >>> f = quality_metrics_facet({"columns": []}, row_count=3, producer="urn:x")
        >>> f["rowCount"]
        3
    """
    return facet("DataQualityMetricsDatasetFacet", producer,
                 columnMetrics=column_metrics(profile), rowCount=row_count,
                 fileCount=file_count, captureDate=capture_date)


def assertions_facet(assertions: Iterable[AssertionResult], *, producer: str,
                     ) -> dict[str, Any]:
    """The ``dataQualityAssertions`` facet from ``(assertion, success, column)`` tuples.

    Example:
        >>> f = assertions_facet([("not_null", True, "id")], producer="urn:x")
        >>> a = f["assertions"][0]
        >>> (a["assertion"], a["success"], a["column"])
        ('not_null', True, 'id')
    """
    return facet("DataQualityAssertionsDatasetFacet", producer, assertions=[
        {"assertion": str(name), "success": bool(ok), "params": {},
         **({"column": column} if column is not None else {})}
        for name, ok, column in assertions])


def input_statistics_facet(*, rows: int, size: int | None, producer: str,
                           ) -> dict[str, Any]:
    """The ``inputStatistics`` facet: records and bytes read from one file."""
    return facet("InputStatisticsInputDatasetFacet", producer, rowCount=rows,
                 size=size or None, fileCount=1)


def output_statistics_facet(*, rows: int, producer: str, file_count: int | None = None,
                            ) -> dict[str, Any]:
    """The ``outputStatistics`` facet: records (and data files) written."""
    return facet("OutputStatisticsOutputDatasetFacet", producer, rowCount=rows,
                 fileCount=file_count)


def error_facet(error: str | BaseException, *, producer: str) -> dict[str, Any]:
    """The ``errorMessage`` facet; an exception also gives its stack trace.

    Example:
        >>> error_facet("bad row", producer="urn:x")["programmingLanguage"]
        'PYTHON'
    """
    if isinstance(error, BaseException):
        message = f"{type(error).__name__}: {error}"
        stack = "".join(traceback.format_exception(error)) if error.__traceback__ else None
    else:
        message, stack = error, None
    return facet("ErrorMessageRunFacet", producer, message=message,
                 programmingLanguage="PYTHON", stackTrace=stack)
