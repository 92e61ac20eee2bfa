"""The lakehouse package is engine code: it never imports dagster."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "logflow_dagster.lakehouse",
    "logflow_dagster.lakehouse.catalog",
    "logflow_dagster.lakehouse.storage",
    "logflow_dagster.lakehouse.duckdb_reader",
    "logflow_dagster.lakehouse.maintenance",
]


def test_lakehouse_never_imports_dagster():
    code = "\n".join(f"import {m}" for m in MODULES) + "\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = {line.split(".")[0] for line in out.splitlines()}
    assert "dagster" not in loaded
    assert "logflow_dagster" in loaded
