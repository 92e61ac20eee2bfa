"""Where the CPU of one conversion or ingest goes, per pipeline thread.

Runs ``convert`` (or ``ingest`` into a fresh embedded catalog) in this process while a sampler
reads each thread's CPU time from ``/proc/self/task/*/stat``, then prints CPU seconds per
thread role (decode, block parsing, profile, the main thread's writing) beside the wall time.
Linux only. A tool for finding the next thing to speed up, not a benchmark: compare ratios
with ``bench_convert.py`` / ``bench_ingest.py``.

    python bench/thread_cpu.py bench/data/events.csv
    python bench/thread_cpu.py bench/data/events.csv --ingest
    python bench/thread_cpu.py bench/data/events_dirty.csv --error-policy quarantine
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import tempfile
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


class ThreadSampler:
    """Keeps the last CPU time seen of every thread of this process, and its name."""

    def __init__(self, interval: float = 0.02) -> None:
        self.cpu: dict[int, float] = {}
        self.names: dict[int, str] = {os.getpid(): "MainThread"}
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for t in threading.enumerate():
                if t.native_id:
                    self.names[t.native_id] = t.name
            for tid in os.listdir("/proc/self/task"):
                try:
                    with open(f"/proc/self/task/{tid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # the thread ended
                self.cpu[int(tid)] = (int(fields[11]) + int(fields[12])) / TICK
            self._stop.wait(self._interval)

    def __enter__(self) -> ThreadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def by_role(self) -> collections.Counter[str]:
        """CPU seconds per thread name, pool workers (``name_0``, ``name_1``) summed."""
        out: collections.Counter[str] = collections.Counter()
        for tid, seconds in self.cpu.items():
            name = self.names.get(tid, "native (Arrow, DuckDB, allocator)")
            out[name.rsplit("_", 1)[0] if name[-1:].isdigit() else name] += seconds
        return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input")
    p.add_argument("--ingest", action="store_true", help="ingest into Iceberg, not convert")
    p.add_argument("--error-policy", default="strict",
                   help="strict (default), permissive or quarantine (e.g. for events_dirty.csv)")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="logflow-thread-cpu-")
    try:
        started = time.perf_counter()
        with ThreadSampler() as sampler:
            if args.ingest:
                from logflow_dagster.lakehouse.ingest import ingest

                result = ingest(args.input, "bench.thread_cpu", project_dir=work,
                                error_policy=args.error_policy)
            else:
                from logflow_dagster.core.convert import convert

                result = convert(args.input, os.path.join(work, "out.parquet"),
                                 error_policy=args.error_policy)
        wall = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    roles = sampler.by_role()
    print(f"{result.rows_read:,} rows in {wall:.2f} s wall, {sum(roles.values()):.2f} CPU-s "
          "(imports included)")
    for name, seconds in roles.most_common():
        print(f"  {name:36} {seconds:6.2f} CPU-s")


if __name__ == "__main__":
    main()
