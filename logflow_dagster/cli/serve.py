"""``logflow serve``: the HTTP API under uvicorn. The app is built by uvicorn from its import
string and factory, so this module (and ``logflow --help``) imports neither the API nor
starlette."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from .app import DebugOpt, ProjectOpt, app, guarded

#: What uvicorn imports (a factory: it is called with no arguments in the server process).
APP_FACTORY = "logflow_dagster.api.serve:app_from_env"


def log_config(level: str = "info") -> dict:
    """uvicorn's logging plus the API's JSON access log (``logflow.api.access``) on stderr."""
    from uvicorn.config import LOGGING_CONFIG

    config = {**LOGGING_CONFIG, "loggers": dict(LOGGING_CONFIG["loggers"])}
    config["handlers"] = {**LOGGING_CONFIG["handlers"],
                          "plain": {"class": "logging.StreamHandler",
                                    "stream": "ext://sys.stderr", "formatter": "plain"}}
    config["formatters"] = {**LOGGING_CONFIG["formatters"],
                            "plain": {"format": "%(message)s"}}
    config["loggers"]["uvicorn.access"] = {"handlers": [], "level": "WARNING",
                                           "propagate": False}
    config["loggers"]["logflow.api"] = {"handlers": ["plain"], "level": level.upper(),
                                        "propagate": False}
    return config


@app.command()
def serve(
    project: ProjectOpt = ".",
    host: Annotated[str, typer.Option(help="Address to bind (loopback unless an "
                                           "authenticator is configured).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 4000,
    continue_wait: Annotated[float | None, typer.Option(
        "--continue-wait", help="Seconds a /load request is held before it answers "
                                "'Continue wait' (default: api.continue_wait_s).")] = None,
    debug: DebugOpt = False,
) -> None:
    """Serve the HTTP API: Cube's REST API (/cubejs-api/v1/load, meta, sql, dry-run),
    /health, /v1/tables, /v1/sql and /openapi.json."""
    with guarded(debug):
        from ..core.errors import UsageError
        from ..services import semantic

        layer = semantic.open_layer(project, require_models=False)  # config errors: exit 2
        layer.close()
        from ..api.auth import has_authenticator, is_loopback

        if not is_loopback(host) and not has_authenticator(layer.config):
            raise UsageError(f"--host {host}: refusing to serve a non-loopback address "
                             "without an authenticator (configure auth: in logflow.yaml)")
        import uvicorn

        os.environ["LOGFLOW_API_PROJECT"] = os.path.abspath(project)
        if continue_wait is not None:
            os.environ["LOGFLOW_API_CONTINUE_WAIT"] = str(continue_wait)
        typer.echo(f"logflow API on http://{host}:{port} (project {os.path.abspath(project)})",
                   err=True)
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port,
                    log_config=log_config("debug" if debug else "info"), access_log=False)
