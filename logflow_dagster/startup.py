"""Process-level start-up settings: Arrow's allocator, and for CLI commands that never use
pandas or BLAS, keeping those out.

Nothing here runs on ``import logflow_dagster``: the ``logflow`` console script calls
:func:`tune_process` first thing, and a user's own process (a Dagster code server, a script)
may call it explicitly, before anything imports pyarrow.

pyarrow and DuckDB probe for pandas the first time they see a Python object (``pa.array`` of
a list, ``pa.scalar``, DuckDB's ``register``): the probe imports pandas, 0.2-0.3 s of CPU
on the 2-core dev box, on the critical path of every ``logflow convert`` (0.63 s -> 0.40 s of
fixed start-up for a small file; 3.79 s -> 3.44 s for the 5M-row benchmark CSV). Neither
library needs pandas for what the engine does with them, and both treat a failed import as
"pandas not installed".

:func:`keep_pandas_out` makes that import fail in the current process. Only commands whose
whole run stays in Arrow call it (``convert``, ``ingest``); anything that hands data to
pandas (quality rules with pandera or Great Expectations, Dagster runs) must not.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

#: Set to 1 to let pandas load anyway (e.g. a plug-in decoder that needs it).
ALLOW_ENV = "LOGFLOW_ALLOW_PANDAS"


class _RefusePandas(importlib.abc.MetaPathFinder):
    """Refuses to find ``pandas`` (and its submodules)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(
                f"pandas is kept out of this logflow command (set {ALLOW_ENV}=1 to allow it)",
                name=fullname)
        return None


#: Arrow's own variable: which allocator its C++ default memory pool uses.
ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


def arrow_jemalloc() -> bool:
    """Makes jemalloc the allocator of Arrow's C++ default pool, on Linux, when pyarrow is not
    loaded yet and the user did not choose one. Returns True when it was set.

    ``pyarrow.set_memory_pool`` (see :func:`~logflow_dagster.core.memory.tune_allocators`)
    reaches only pools that Python code passes; the Parquet writer and other C++ internals
    allocate from the C++ default, which only this variable, read when pyarrow loads,
    changes. With the wheels' default (mimalloc) those allocations kept faulting in fresh
    huge pages: jemalloc took 0.2 CPU-s (3.5% of the wall time) off the 5M-row benchmark CSV.

    Example:
        >>> import subprocess, sys
        >>> code = ("from logflow_dagster.startup import arrow_jemalloc; arrow_jemalloc(); "
        ...         "import pyarrow as pa; print(pa.default_memory_pool().backend_name)")
        >>> subprocess.run([sys.executable, "-c", code], capture_output=True,
        ...                text=True).stdout.strip() in ("jemalloc", "mimalloc", "system")
        True
    """
    if not sys.platform.startswith("linux") or "pyarrow" in sys.modules \
            or os.environ.get(ARROW_POOL_ENV):
        return False
    os.environ[ARROW_POOL_ENV] = "jemalloc"
    return True


def tune_process() -> str:
    """Tunes this process for large conversions: jemalloc for Arrow's C++ pool (only takes
    effect before pyarrow is imported), glibc's trim/mmap thresholds kept for block-sized
    buffers (:func:`~logflow_dagster.core.memory.tune_allocators`). Variables the user set
    (``ARROW_DEFAULT_MEMORY_POOL``, ``MALLOC_*``) win. Returns the Arrow pool's name.

    Example:
        >>> import subprocess, sys
        >>> code = ("from logflow_dagster.startup import tune_process; print(tune_process())")
        >>> subprocess.run([sys.executable, "-c", code], capture_output=True,
        ...                text=True).stdout.strip() in ("jemalloc", "mimalloc", "system")
        True
    """
    arrow_jemalloc()
    from .core.memory import tune_allocators

    return tune_allocators()


def single_threaded_blas() -> None:
    """Keeps OpenBLAS (numpy's) from starting a thread per core that spins for work: these
    commands use numpy for element-wise work only, never BLAS, and on the 2-core dev box the
    spinning threads took ~0.1 CPU-s of each convert. A value the user set wins."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def keep_pandas_out() -> bool:
    """Makes ``import pandas`` fail for the rest of this process, unless pandas is already
    loaded or ``LOGFLOW_ALLOW_PANDAS=1``. Returns True when the import is now refused.

    Example:
        >>> import subprocess, sys
        >>> code = ("from logflow_dagster.startup import keep_pandas_out; keep_pandas_out(); "
        ...         "import pyarrow as pa; pa.array([1, 2]); import sys; "
        ...         "print('pandas' in sys.modules)")
        >>> subprocess.run([sys.executable, "-c", code], capture_output=True,
        ...                text=True).stdout.strip()
        'False'
    """
    if "pandas" in sys.modules or os.environ.get(ALLOW_ENV, "") not in ("", "0"):
        return False
    if not any(isinstance(f, _RefusePandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _RefusePandas())
    return True


def allow_pandas() -> None:
    """Lets ``import pandas`` work again in this process (undoes :func:`keep_pandas_out`):
    for a command that turns out to need it (e.g. pandera or Great Expectations rules).

    Example:
        >>> allow_pandas()
    """
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _RefusePandas)]
