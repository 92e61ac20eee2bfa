"""The factory ``logflow serve`` hands to uvicorn: the app of the project named by the
environment (``LOGFLOW_API_PROJECT``, ``LOGFLOW_API_CONTINUE_WAIT``), which the command sets.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from .app import create_app


def app_from_env() -> Starlette:
    """The API of ``$LOGFLOW_API_PROJECT`` (default: the current folder)."""
    hold = os.environ.get("LOGFLOW_API_CONTINUE_WAIT")
    return create_app(os.environ.get("LOGFLOW_API_PROJECT", "."),
                      continue_wait_s=float(hold) if hold else None)
