"""Process start-up settings: importing the package changes nothing process-wide; the CLI (or
an explicit ``tune_process()``) chooses Arrow's C++ allocator before pyarrow loads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"
REPORT = ("import os, pyarrow as pa, pyarrow.parquet as pq, io; "
          "pq.write_table(pa.table({'a': [1]}), io.BytesIO()); "
          f"print(pa.default_memory_pool().backend_name, os.environ.get('{POOL_ENV}'))")


def _run(code: str, choice: str | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in (POOL_ENV, "LOGFLOW_ALLOW_PANDAS")}
    if choice is not None:
        env[POOL_ENV] = choice
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert "Unsupported backend" not in out.stderr
    return out.stdout.split()


def _default_pool() -> str:
    return _run(REPORT)[0]


def test_importing_the_package_changes_nothing_process_wide() -> None:
    code = ("import logflow_dagster, logflow_dagster.core.convert, sys; "
            "assert 'pandas' not in [f.__class__.__name__ for f in sys.meta_path]; " + REPORT)
    pool, env = _run(code)
    assert (pool, env) == (_default_pool(), "None")
    code = ("import sys, logflow_dagster.core.convert as c; "
            "print(any(type(f).__name__ == '_RefusePandas' for f in sys.meta_path))")
    assert _run(code) == ["False"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="set on Linux only")
def test_tune_process_gives_arrow_jemalloc() -> None:
    code = "from logflow_dagster.startup import tune_process; tune_process(); " + REPORT
    assert _run(code)[0] == "jemalloc"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="set on Linux only")
def test_the_cli_entry_point_tunes_its_own_process() -> None:
    code = ("import sys; sys.argv = ['logflow', '--help']\n"
            "from logflow_dagster.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n" + REPORT.replace("; ", "\n"))
    assert _run(code)[-2] == "jemalloc"


def test_the_users_choice_wins() -> None:
    code = "from logflow_dagster.startup import tune_process; tune_process(); " + REPORT
    assert _run(code, "system")[0] == "system"
