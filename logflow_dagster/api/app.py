"""The ASGI app: :func:`create_app` opens a project's semantic layer once and serves Cube's
REST API (``/cubejs-api/v1/load|meta|sql|dry-run``), ``/health``, ``/v1/tables`` and
``/v1/sql``.

Every handler runs inside :func:`_guarded`: a bad request is ``{"error": ...}`` with 400 (or
401/403/413/504), never a framework 422 or a traceback; only a real bug is a 500 (logged).

Example:
    .. code-block:: python

        import uvicorn
        from logflow_dagster.api import create_app

        uvicorn.run(create_app(project_dir="logflow-demo"), host="127.0.0.1", port=4000)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..auth.identity import AuthError, Identity
from ..core.errors import LogflowError
from ..semantic.secure import table_visible
from ..services import semantic
from ..services.project import Project
from ..services.tables import last_runs, list_tables
from . import cube
from .auth import authenticator_for
from .formats import ARROW, CSV, arrow_bytes, column_types, csv_text, json_rows, wanted
from .jobs import CONTINUE_WAIT, QueryJobs, QueryTimeout
from .middleware import AccessLog, BodyLimit, BodyTooLarge
from .openapi import app_version, spec

log = logging.getLogger("logflow.api")

Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, message: str) -> JSONResponse:
    """``{"error": message}`` with ``status``."""
    return JSONResponse({"error": message}, status_code=status)


def _guarded(handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except AuthError as err:
            return error(err.status, str(err) or "unauthenticated")
        except (LogflowError, ValueError) as err:  # UsageError, a bad parameter
            return error(400, str(err))
        except BodyTooLarge as err:
            return error(413, str(err))
        except QueryTimeout as err:
            return error(504, str(err))
        except Exception:
            log.exception("internal error in %s %s", request.method, request.url.path)
            return error(500, "internal error (logged on the server)")

    return run


class Api:
    """The state of one server process: the project's layer, its settings, running jobs."""

    def __init__(self, project_dir: str | os.PathLike[str], *,
                 continue_wait_s: float | None = None, catalog_uri: str | None = None,
                 warehouse: str | None = None) -> None:
        self.project_dir = os.fspath(project_dir)
        self.layer = semantic.open_layer(self.project_dir, catalog_uri=catalog_uri,
                                         warehouse=warehouse, require_models=False)
        self.settings = self.layer.config.api
        self.project = Project.from_config(self.layer.config, catalog_uri=catalog_uri,
                                           warehouse=warehouse)
        self.authenticator = authenticator_for(self.layer.config)
        hold = self.settings.continue_wait_s if continue_wait_s is None else continue_wait_s
        self.jobs = QueryJobs(hold, self.settings.query_timeout_s)
        self.started = time.monotonic()

    def close(self) -> None:
        self.jobs.close()
        self.layer.close()

    # -- request helpers ------------------------------------------------------------------
    def identify(self, request: Request) -> Identity:
        peer = request.client.host if request.client else None
        identity = self.authenticator.authenticate(request.headers.get("authorization"),
                                                   peer=peer)
        purpose = request.headers.get("x-logflow-purpose")
        identity = identity.with_request(peer=peer, purpose=purpose.strip()[:64]
                                         if purpose and purpose.strip() else None)
        request.state.identity = identity.id
        return identity

    async def body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            parsed = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"request body: not valid JSON: {err}") from None
        if not isinstance(parsed, dict):
            raise ValueError("request body: expected a JSON object")
        return parsed

    async def cube_queries(self, request: Request) -> tuple[list[Any], bool, list[str]]:
        if request.method == "POST":
            body = await self.body(request)
            raw, kind = body.get("query"), body.get("queryType")
        else:
            raw, kind = request.query_params.get("query"), request.query_params.get("queryType")
        queries, multi = cube.queries_of(raw, kind)
        limited = [cube.with_limits(q, self.settings.row_limit, self.settings.max_row_limit)
                   for q in queries]
        formats = [cube.response_format(q) for q in queries]
        return [self.layer.normalize(q) for q in limited], multi, formats

    async def blocking(self, fn: Callable[[], Any]) -> Any:
        """Runs a blocking call on the job pool within the query timeout."""
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self.jobs._pool, fn)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), self.settings.query_timeout_s)
        except TimeoutError:
            raise QueryTimeout(f"the query ran longer than "
                               f"{self.settings.query_timeout_s:g} s") from None

    # -- Cube endpoints -------------------------------------------------------------------
    async def load(self, request: Request) -> Response:
        identity = self.identify(request)
        queries, multi, formats = await self.cube_queries(request)
        fmt = wanted(request.headers.get("accept"))
        key = json.dumps([[q.key() for q in queries], identity.scope()])
        results = await self.jobs.answer(
            key, lambda: [self.layer.query(q, identity) for q in queries])
        if results is CONTINUE_WAIT:
            return JSONResponse({"error": "Continue wait"})
        request.state.rows = sum(len(r.data) for r in results)
        if fmt != "json":
            if len(results) != 1:
                raise ValueError("Arrow and CSV answer one query; send a single query")
            result = results[0]
            if fmt == "arrow":
                return Response(arrow_bytes(result.table), media_type=ARROW)
            return PlainTextResponse(csv_text(result.table.column_names, result.data),
                                     media_type=CSV)
        return JSONResponse(cube.load_answer(results, multi, formats))

    async def plans(self, request: Request) -> tuple[list[Any], bool]:
        identity = self.identify(request)
        queries, multi, _ = await self.cube_queries(request)
        return await self.blocking(lambda: [self.layer.plan(q, identity) for q in queries]), \
            multi

    async def sql(self, request: Request) -> Response:
        plans, multi = await self.plans(request)
        return JSONResponse(cube.sql_answer(plans, multi))

    async def dry_run(self, request: Request) -> Response:
        plans, _ = await self.plans(request)
        return JSONResponse(cube.dry_run_answer(plans))

    async def meta(self, request: Request) -> Response:
        identity = self.identify(request)
        return JSONResponse(self.layer.meta(identity))

    # -- logflow endpoints ----------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        tables, runs = await self.blocking(lambda: last_runs(self.project))
        return JSONResponse({"status": "ok", "version": app_version(),
                             "uptime_s": round(time.monotonic() - self.started, 3),
                             "tables": tables, "last_runs": runs,
                             "running_queries": self.jobs.running()})

    async def tables(self, request: Request) -> Response:
        identity = self.identify(request)
        infos = await self.blocking(lambda: list_tables(self.project))
        return JSONResponse({"tables": [
            {"name": t.table, "columns": t.schema, "snapshot_id": t.current_snapshot_id,
             "rows": t.rows} for t in infos
            if table_visible(self.layer.model, identity, t.table)]})

    async def run_sql(self, request: Request) -> Response:
        request.state.identity_object = self.identify(request)
        body = await self.body(request)
        text = body.get("sql")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("sql: expected a SELECT statement as text")
        identity = request.state.identity_object
        result = await self.blocking(lambda: self.layer.sql(text, identity))
        table = result.table
        limit = self.settings.max_row_limit
        truncated = table.num_rows > limit
        table = table.slice(0, limit)
        request.state.rows = table.num_rows
        headers = {"X-Logflow-Truncated": "true"} if truncated else None
        fmt = wanted(request.headers.get("accept"))
        if fmt == "arrow":
            return Response(arrow_bytes(table), media_type=ARROW, headers=headers)
        rows = json_rows(table)
        if fmt == "csv":
            return PlainTextResponse(csv_text(table.column_names, rows), media_type=CSV,
                                     headers=headers)
        return JSONResponse({"columns": column_types(table), "data": rows,
                             "truncated": truncated}, headers=headers)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(spec())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, str(exc.detail))


def create_app(project_dir: str | os.PathLike[str] = ".", *, continue_wait_s: float | None = None,
               catalog_uri: str | None = None, warehouse: str | None = None) -> Starlette:
    """The API of one project.

    Args:
        project_dir: The project folder (``logflow.yaml``, models, catalog).
        continue_wait_s: Override of ``api.continue_wait_s`` (the Continue-wait hold).
        catalog_uri, warehouse: Overrides of the project's catalog settings.

    Raises:
        UsageError: No ``logflow.yaml`` or a model error.
    """
    api = Api(project_dir, continue_wait_s=continue_wait_s, catalog_uri=catalog_uri,
              warehouse=warehouse)
    base = "/cubejs-api/v1"
    both = ["GET", "POST"]
    routes = [
        Route(f"{base}/load", _guarded(api.load), methods=both),
        Route(f"{base}/sql", _guarded(api.sql), methods=both),
        Route(f"{base}/dry-run", _guarded(api.dry_run), methods=both),
        Route(f"{base}/meta", _guarded(api.meta), methods=["GET"]),
        Route("/health", _guarded(api.health), methods=["GET"]),
        Route("/v1/tables", _guarded(api.tables), methods=["GET"]),
        Route("/v1/sql", _guarded(api.run_sql), methods=["POST"]),
        Route("/openapi.json", _guarded(api.openapi), methods=["GET"]),
    ]
    middleware = [Middleware(AccessLog), Middleware(BodyLimit,
                                                    max_bytes=api.settings.max_body_bytes)]
    if api.settings.cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=api.settings.cors_origins,
                                     allow_methods=["GET", "POST"],
                                     allow_headers=["Authorization", "Content-Type",
                                                    "x-request-id"]))
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        api.close()

    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: _http_error}, lifespan=lifespan)
    app.state.api = api
    return app
