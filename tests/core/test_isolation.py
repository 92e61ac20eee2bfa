"""Architecture: the import-linter contracts in pyproject.toml hold (layers import downward
only; nothing below the Dagster layer imports dagster); the CLI's --help imports no heavy
library; importing the engine loads no dagster."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return {line.split(".")[0] for line in out.splitlines()}


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    out = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_engine_services_and_landing_load_no_dagster() -> None:
    loaded = _loaded_after("import logflow_dagster.core.convert, logflow_dagster.services, "
                           "logflow_dagster.landing, logflow_dagster.lakehouse.ingest")
    assert "dagster" not in loaded
    assert "logflow_dagster" in loaded  # the imports really ran


def test_cli_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\nsys.argv = ['logflow', '--help']\nfrom logflow_dagster.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded_after(code)
    assert not loaded & {"dagster", "pyiceberg", "great_expectations", "pandas", "duckdb"}
