"""Cube's REST API shapes: the request's query (GET ``?query=`` or a POST body), and the
answers of ``/load``, ``/sql`` and ``/dry-run`` as Cube's API gateway builds them, so that
Cube's own clients read them unchanged.

Example:
    >>> queries_of('{"measures": ["orders.count"]}', None)
    ([{'measures': ['orders.count']}], False)
    >>> queries_of(None, None)
    Traceback (most recent call last):
    ...
    logflow_dagster.core.errors.exceptions.UsageError: query param is required
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..core.errors import UsageError

if TYPE_CHECKING:
    from ..semantic import QueryPlan, QueryResult
    from ..semantic.query import Query

REGULAR = "regularQuery"
BLENDING = "blendingQuery"


def queries_of(raw: Any, query_type: str | None) -> tuple[list[Any], bool]:
    """The queries of a request and whether the client asked for the ``multi`` shape.

    Args:
        raw: The ``query`` parameter: JSON text (GET) or the parsed value (POST).
        query_type: The ``queryType`` parameter (``multi`` or None).

    Raises:
        UsageError: No query, JSON that does not parse, a query that is not an object, a
            list of queries without ``queryType=multi``.
    """
    if raw is None or raw == "":
        raise UsageError("query param is required")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as err:
            raise UsageError(f"query: not valid JSON: {err.msg} (line {err.lineno}, column "
                             f"{err.colno})") from None
    if query_type not in (None, "", "multi"):
        raise UsageError(f"queryType: expected 'multi', got {query_type!r}")
    multi = query_type == "multi"
    queries = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, list) and not multi:
        raise UsageError("a list of queries needs queryType=multi")
    if not queries:
        raise UsageError("query: an empty list of queries")
    for i, q in enumerate(queries):
        if not isinstance(q, dict):
            where = f"query[{i}]" if isinstance(raw, list) else "query"
            raise UsageError(f"{where}: expected a JSON object, got {type(q).__name__}")
    return queries, multi


def with_limits(query: dict[str, Any], default: int, maximum: int) -> dict[str, Any]:
    """The query with the server's default row limit when it sets none; a limit over the
    maximum is refused.

    Example:
        >>> with_limits({"measures": []}, 100, 500)["limit"]
        100
    """
    limit = query.get("limit")
    if limit is None:
        return {**query, "limit": default}
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > maximum:
        raise UsageError(f"query.limit: {limit} is over the maximum of {maximum}")
    return query


def normalized(q: Query) -> dict[str, Any]:
    """A normalized query as Cube echoes it (``query`` of a result, ``normalizedQueries``)."""
    out = q.to_dict()
    out["timeDimensions"] = [{k: v for k, v in td.items() if v is not None}
                             for td in out["timeDimensions"]]
    out["rowLimit"] = out["limit"]
    out["queryType"] = REGULAR
    return out


def _query_type(results: list[Any]) -> str:
    return REGULAR if len(results) == 1 else BLENDING


#: Cube's ``responseFormat`` values.
RESPONSE_FORMATS = ("default", "compact", "columnar")


def response_format(query: dict[str, Any]) -> str:
    """The query's ``responseFormat`` (``default``, ``compact`` or ``columnar``).

    Example:
        >>> response_format({"responseFormat": "compact"}), response_format({})
        ('compact', 'default')
    """
    fmt = query.get("responseFormat") or "default"
    if fmt not in RESPONSE_FORMATS:
        raise UsageError(f"query.responseFormat: expected one of {', '.join(RESPONSE_FORMATS)}"
                         f", got {fmt!r}")
    return fmt


def shaped_data(data: list[dict[str, Any]], members: list[str], fmt: str) -> Any:
    """``data`` in Cube's response format: rows (default), ``{"members", "dataset"}``
    (compact) or ``{"members", "columns"}`` (columnar).

    Example:
        >>> shaped_data([{"a": 1, "b": 2}], ["a", "b"], "compact")
        {'members': ['a', 'b'], 'dataset': [[1, 2]]}
    """
    if fmt == "compact":
        return {"members": members, "dataset": [[row.get(m) for m in members] for row in data]}
    if fmt == "columnar":
        return {"members": members, "columns": [[row.get(m) for row in data] for m in members]}
    return data


def load_result(result: QueryResult, fmt: str = "default") -> dict[str, Any]:
    """One ``/load`` result: ``query``, ``data``, ``annotation``, ``lastRefreshTime``, ...
    (``usedPreAggregations`` names the rollup table that answered, if one did; ``fmt`` is
    the query's ``responseFormat``)."""
    used: dict[str, Any] = {}
    if result.source.startswith("rollup:"):
        name = result.source.split(":", 1)[1]
        table = next((t for t in result.snapshots if t.endswith(name.replace(".", "__"))),
                     name)
        used[name] = {"targetTableName": table, "refreshKeyValues": [],
                      "snapshotId": result.snapshots.get(table)}
    query = normalized(result.query)
    if fmt != "default":
        query["responseFormat"] = fmt
    members = list(result.data[0]) if result.data else result.query.output_keys()
    return {"query": query, "data": shaped_data(result.data, members, fmt),
            "lastRefreshTime": datetime.now(UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "annotation": result.annotation, "dataSource": "default", "dbType": "duckdb",
            "extDbType": "cubestore", "external": False, "slowQuery": False,
            "usedPreAggregations": used, "total": None}


def load_answer(results: list[QueryResult], multi: bool, formats: list[str] | None = None
                ) -> dict[str, Any]:
    """The ``/load`` body: one result, or ``{"queryType", "results", "pivotQuery"}`` for
    ``queryType=multi`` (``formats``: each query's ``responseFormat``)."""
    fmts = formats or ["default"] * len(results)
    shaped = [load_result(r, f) for r, f in zip(results, fmts, strict=True)]
    if not multi:
        return shaped[0]
    kind = _query_type(results)
    return {"queryType": kind, "results": shaped,
            "pivotQuery": {**shaped[0]["query"], "queryType": kind}, "slowQuery": False}


def sql_answer(plans: list[QueryPlan], multi: bool) -> Any:
    """The ``/sql`` body: ``{"sql": {"sql": [text, params], ...}}`` (a list of those for
    several queries)."""
    def one(plan: QueryPlan) -> dict[str, Any]:
        q = plan.query
        return {"sql": {
            "sql": [plan.sql, []], "order": [{"id": k, "desc": d == "desc"} for k, d in q.order],
            "limit": q.limit, "offset": q.offset, "dataSource": "default",
            "external": False, "preAggregations": [],
            "aliasNameToMember": {k: k for k in q.output_keys()},
            "rollupMatchResults": [], "source": plan.source, "rejected": dict(plan.rejected)}}

    shaped = [one(p) for p in plans]
    return shaped if multi and len(shaped) > 1 else shaped[0]


def dry_run_answer(plans: list[QueryPlan]) -> dict[str, Any]:
    """The ``/dry-run`` body: ``queryType``, ``normalizedQueries``, ``queryOrder``,
    ``pivotQuery``, ``transformedQueries`` (with each plan's source and rejected rollups)."""
    queries = [normalized(p.query) for p in plans]
    kind = _query_type(plans)
    return {"queryType": kind, "normalizedQueries": queries,
            "queryOrder": [{k: d for k, d in p.query.order} for p in plans],
            "pivotQuery": {**queries[0], "queryType": kind},
            "transformedQueries": [{"source": p.source, "sql": p.sql,
                                    "rejected": dict(p.rejected)} for p in plans]}
