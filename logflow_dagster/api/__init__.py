"""The HTTP API (``logflow serve``): Cube's REST API over the project's semantic layer, plus
health, tables and read-only SQL. A top layer beside the CLI: it calls the services only.

Example:
    .. code-block:: python

        from logflow_dagster.api import create_app

        app = create_app(project_dir="logflow-demo")   # an ASGI app for uvicorn
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
