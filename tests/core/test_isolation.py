"""The engine never imports dagster; the CLI's --help imports no heavy library."""

from __future__ import annotations

import subprocess
import sys

ENGINE_MODULES = [
    "logflow_dagster.core",
    "logflow_dagster.core.convert",
    "logflow_dagster.core.detect",
    "logflow_dagster.core.decoders.delimited",
    "logflow_dagster.core.decoders.jsonl",
    "logflow_dagster.core.decoders.json_array",
    "logflow_dagster.core.decoders.xml",
    "logflow_dagster.core.decoders.xes",
    "logflow_dagster.core.decoders.parquet",
    "logflow_dagster.core.decoders.avro",
    "logflow_dagster.core.decoders.xlsx",
    "logflow_dagster.core.decoders.log",
    "logflow_dagster.core.quality",
    "logflow_dagster.core.sinks.parquet",
]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return {line.split(".")[0] for line in out.splitlines()}


def test_engine_never_imports_dagster() -> None:
    code = "\n".join(f"import {m}" for m in ENGINE_MODULES)
    loaded = _loaded_after(code)
    assert "dagster" not in loaded
    assert "logflow_dagster" in loaded  # the imports really ran


def test_cli_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\nsys.argv = ['logflow', '--help']\nfrom logflow_dagster.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded_after(code)
    assert not loaded & {"dagster", "pyiceberg", "great_expectations", "pandas", "duckdb"}
