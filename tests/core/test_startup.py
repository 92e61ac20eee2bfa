"""Process start-up settings: Arrow's C++ allocator is chosen before pyarrow loads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"
CODE = ("import logflow_dagster, pyarrow as pa, pyarrow.parquet as pq, io; "
        "print(pa.default_memory_pool().backend_name); "
        "pq.write_table(pa.table({'a': [1]}), io.BytesIO())")


def _pool(choice: str | None) -> str:
    """The C++ default pool of a fresh interpreter that imports logflow_dagster first."""
    env = {k: v for k, v in os.environ.items() if k != POOL_ENV}
    if choice is not None:
        env[POOL_ENV] = choice
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         env=env, check=True)
    assert "Unsupported backend" not in out.stderr
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="set on Linux only")
def test_importing_the_package_first_gives_arrow_jemalloc() -> None:
    assert _pool(None) == "jemalloc"


def test_the_users_choice_wins() -> None:
    assert _pool("system") == "system"
