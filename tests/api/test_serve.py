"""`logflow serve`: refuses a public address without an authenticator, serves loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from .server import serve


def test_a_public_address_needs_an_authenticator(demo: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "logflow_dagster.cli", "serve", "--project",
                          str(demo), "--host", "0.0.0.0"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert "non-loopback" in out.stderr and "Traceback" not in out.stderr


def test_a_project_without_config_is_a_usage_error(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "logflow_dagster.cli", "serve", "--project",
                          str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "logflow.yaml" in out.stderr


def test_serve_answers_on_loopback(demo: Path) -> None:
    with serve(demo) as url:
        health = httpx.get(f"{url}/health").json()
        tables = httpx.get(f"{url}/v1/tables").json()["tables"]
    assert health["status"] == "ok" and health["tables"] == len(tables)
