"""Allocator settings for the pipeline's large, short-lived buffers.

Each decoded block allocates and frees tens of megabytes (input bytes, Arrow arrays, numpy
temporaries). Allocators that hand freed pages back to the kernel at once make every block pay
for fresh page faults; on the 2-core dev box that was most of the pipeline's kernel time:

* pyarrow's default pool here is mimalloc; converting the 5M-row benchmark CSV spent 0.86-1.05 s
  in the kernel with it against 0.70-0.76 s with jemalloc (and a decode that keeps its batches
  in memory 2.5 s against 0.6 s);
* glibc's malloc (bytes objects, numpy) maps each block-sized buffer anew and trims the heap
  as soon as it shrinks; raising its mmap and trim thresholds keeps those pages for the next
  block.

:func:`tune_allocators` applies both once per process, unless the user set Arrow's
``ARROW_DEFAULT_MEMORY_POOL`` or glibc's ``MALLOC_*`` variables, which then win. Arrow's C++
internals (the Parquet writer) allocate from the C++ default pool, which only
``ARROW_DEFAULT_MEMORY_POOL`` chooses, before pyarrow loads: importing ``logflow_dagster`` sets
it (:func:`logflow_dagster.startup.arrow_jemalloc`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

import pyarrow as pa

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 256 << 20  # blocks are 16 MiB; buffers below this come from the heap
_TRIM_THRESHOLD = 256 << 20
_tuned = False


def tune_allocators() -> str:
    """Makes jemalloc Arrow's default pool and keeps glibc from trimming block-sized buffers
    (once per process). Returns the name of the Arrow pool in use.

    Example:
        >>> tune_allocators() in ("jemalloc", "mimalloc", "system")
        True
    """
    global _tuned
    if not _tuned:
        _tuned = True
        if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
            # a pyarrow build without jemalloc keeps its default
            with contextlib.suppress(NotImplementedError, pa.ArrowNotImplementedError):
                pa.set_memory_pool(pa.jemalloc_memory_pool())
        if sys.platform.startswith("linux") and not any(k.startswith("MALLOC_")
                                                        for k in os.environ):
            _glibc_thresholds()
    return pa.default_memory_pool().backend_name


def _glibc_thresholds() -> None:
    try:
        mallopt = ctypes.CDLL(None).mallopt  # absent on musl and other C libraries
    except (OSError, AttributeError):
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
