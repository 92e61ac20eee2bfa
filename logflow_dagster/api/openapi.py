"""The OpenAPI 3.1 description of the API (served at ``/openapi.json``; committed as
``docs/openapi.json``, and a test keeps the two equal).

Example:
    >>> sorted(spec()["paths"])[:2]
    ['/cubejs-api/v1/dry-run', '/cubejs-api/v1/load']
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .formats import ARROW, CSV


def app_version() -> str:
    """The installed logflow-dagster version."""
    try:
        return version("logflow-dagster")
    except PackageNotFoundError:  # a source tree without metadata
        return "unknown"


_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "Invalid request: bad JSON, unknown member, wrong type, over a limit.",
             401: "No valid credential.", 403: "The identity may not do this.",
             413: "Request body over the limit.", 504: "The query ran longer than the timeout."}
    return {str(c): {"description": words[c], "content": _json(_ERROR)} for c in codes}


_QUERY_PARAM = {"name": "query", "in": "query", "required": True,
                "description": "Cube's query JSON (an object, or a list with queryType=multi).",
                "content": _json({"oneOf": [
                    {"$ref": "#/components/schemas/Query"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/Query"}}]})}
_TYPE_PARAM = {"name": "queryType", "in": "query", "required": False,
               "schema": {"type": "string", "enum": ["multi"]}}
_CUBE_BODY = {"required": True, "content": _json({
    "type": "object", "required": ["query"],
    "properties": {"query": {"oneOf": [{"$ref": "#/components/schemas/Query"},
                                       {"type": "array",
                                        "items": {"$ref": "#/components/schemas/Query"}}]},
                   "queryType": {"type": "string", "enum": ["multi"]}}})}


def _cube_op(summary: str, ok: dict[str, Any], *, continue_wait: bool = False,
             formats: bool = False) -> dict[str, Any]:
    content = _json({"oneOf": [ok, {"$ref": "#/components/schemas/ContinueWait"}]}
                    if continue_wait else ok)
    if formats:
        content[ARROW] = {"schema": {"type": "string", "format": "binary"}}
        content[CSV] = {"schema": {"type": "string"}}
    responses = {"200": {"description": summary, "content": content},
                 **_errors(400, 401, 403, 504)}
    return {"summary": summary, "parameters": [_QUERY_PARAM, _TYPE_PARAM],
            "responses": responses}


def _cube_post(op: dict[str, Any]) -> dict[str, Any]:
    responses = {**op["responses"], **_errors(413)}
    return {"summary": op["summary"], "requestBody": _CUBE_BODY, "responses": responses}


def spec() -> dict[str, Any]:
    """The OpenAPI document."""
    load = _cube_op("Query results (Cube's /load); 'Continue wait' while still running.",
                    {"$ref": "#/components/schemas/LoadResponse"}, continue_wait=True,
                    formats=True)
    sql = _cube_op("The SQL a query runs (Cube's /sql).", {"type": ["object", "array"]})
    dry = _cube_op("The normalized query and its plan, without running it (Cube's /dry-run).",
                   {"$ref": "#/components/schemas/DryRun"})
    paths = {
        "/cubejs-api/v1/load": {"get": load, "post": _cube_post(load)},
        "/cubejs-api/v1/sql": {"get": sql, "post": _cube_post(sql)},
        "/cubejs-api/v1/dry-run": {"get": dry, "post": _cube_post(dry)},
        "/cubejs-api/v1/meta": {"get": {
            "summary": "The model's cubes and members (Cube's /meta).",
            "responses": {"200": {"description": "Cubes.", "content": _json(
                {"$ref": "#/components/schemas/Meta"})}, **_errors(401, 403)}}},
        "/health": {"get": {
            "summary": "Liveness, version, uptime, tables and the last ingests.",
            "responses": {"200": {"description": "Healthy.", "content": _json(
                {"$ref": "#/components/schemas/Health"})}, **_errors(504)}}},
        "/v1/tables": {"get": {
            "summary": "The project's tables.",
            "responses": {"200": {"description": "Tables.", "content": _json(
                {"$ref": "#/components/schemas/Tables"})}, **_errors(401, 403, 504)}}},
        "/v1/sql": {"post": {
            "summary": "One read-only SELECT over the project's tables.",
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["sql"],
                "properties": {"sql": {"type": "string"}}})},
            "responses": {"200": {"description": "Rows (JSON, Arrow IPC stream or CSV by "
                                                 "Accept).",
                                  "content": {**_json({"$ref": "#/components/schemas/SqlResult"}),
                                              ARROW: {"schema": {"type": "string",
                                                                 "format": "binary"}},
                                              CSV: {"schema": {"type": "string"}}}},
                          **_errors(400, 401, 403, 413, 504)}}},
        "/openapi.json": {"get": {"summary": "This document.",
                                  "responses": {"200": {"description": "OpenAPI 3.1.",
                                                        "content": _json({"type": "object"})}}}},
    }
    member_list = {"type": "array", "items": {"type": "string"}}
    schemas = {
        "Error": {"type": "object", "required": ["error"],
                  "properties": {"error": {"type": "string"}}},
        "ContinueWait": {"type": "object", "required": ["error"],
                         "properties": {"error": {"const": "Continue wait"}}},
        "Query": {"type": "object", "description": "Cube's query format.",
                  "properties": {"measures": member_list, "dimensions": member_list,
                                 "segments": member_list,
                                 "timeDimensions": {"type": "array", "items": {"type": "object"}},
                                 "filters": {"type": "array", "items": {"type": "object"}},
                                 "order": {"type": ["object", "array"]},
                                 "limit": {"type": "integer", "minimum": 0},
                                 "offset": {"type": "integer", "minimum": 0},
                                 "timezone": {"type": "string"},
                                 "ungrouped": {"type": "boolean"},
                                 "responseFormat": {"enum": ["default", "compact",
                                                             "columnar"]}}},
        "Result": {"type": "object", "required": ["query", "data", "annotation",
                                                  "lastRefreshTime"],
                   "properties": {"query": {"type": "object"},
                                  "data": {"type": ["array", "object"],
                                           "description": "Rows; {members, dataset} or "
                                                          "{members, columns} for the compact "
                                                          "and columnar responseFormat."},
                                  "annotation": {"type": "object",
                                                 "required": ["measures", "dimensions",
                                                              "segments", "timeDimensions"]},
                                  "lastRefreshTime": {"type": "string"},
                                  "usedPreAggregations": {"type": "object"}}},
        "LoadResponse": {"oneOf": [
            {"$ref": "#/components/schemas/Result"},
            {"type": "object", "required": ["queryType", "results"],
             "properties": {"queryType": {"enum": ["regularQuery", "blendingQuery"]},
                            "results": {"type": "array",
                                        "items": {"$ref": "#/components/schemas/Result"}},
                            "pivotQuery": {"type": "object"}}}]},
        "DryRun": {"type": "object", "required": ["queryType", "normalizedQueries"],
                   "properties": {"queryType": {"type": "string"},
                                  "normalizedQueries": {"type": "array"},
                                  "pivotQuery": {"type": "object"},
                                  "transformedQueries": {"type": "array"}}},
        "Meta": {"type": "object", "required": ["cubes"],
                 "properties": {"cubes": {"type": "array", "items": {
                     "type": "object", "required": ["name", "measures", "dimensions",
                                                    "segments"]}}}},
        "Health": {"type": "object", "required": ["status", "version", "uptime_s", "tables",
                                                  "last_runs"],
                   "properties": {"status": {"const": "ok"}, "version": {"type": "string"},
                                  "uptime_s": {"type": "number"},
                                  "tables": {"type": "integer"},
                                  "last_runs": {"type": "array", "items": {"type": "object"}}}},
        "Tables": {"type": "object", "required": ["tables"],
                   "properties": {"tables": {"type": "array", "items": {
                       "type": "object",
                       "required": ["name", "columns", "snapshot_id", "rows"],
                       "properties": {"name": {"type": "string"},
                                      "columns": {"type": "array"},
                                      "snapshot_id": {"type": ["integer", "null"]},
                                      "rows": {"type": "integer"}}}}}},
        "SqlResult": {"type": "object", "required": ["columns", "data"],
                      "properties": {"columns": {"type": "array", "items": {
                          "type": "object", "required": ["name", "type"]}},
                          "data": {"type": "array", "items": {"type": "object"}},
                          "truncated": {"type": "boolean"}}},
    }
    return {"openapi": "3.1.0",
            "info": {"title": "logflow HTTP API", "version": app_version(),
                     "description": "Cube-compatible REST API over the project's semantic "
                                    "layer, plus health, tables and read-only SQL."},
            "paths": paths, "components": {"schemas": schemas}}
