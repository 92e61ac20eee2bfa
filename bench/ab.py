"""A/B timing of two shell commands, run alternately, with medians of wall and CPU time.

Single runs on a shared 2-core VM vary by 5-10%; alternating A and B and taking medians over a
few rounds is what made 3-5% differences visible. CPU is user + sys of the command and its
children (from ``getrusage``). An optional ``--before`` command runs untimed ahead of each run
(e.g. removing the previous run's table).

    python bench/ab.py --rounds 5 \\
        "python -m logflow_dagster.cli convert bench/data/events.csv /tmp/a.parquet --json" \\
        "env PYTHONPATH=/tmp/base python -P -m logflow_dagster.cli convert \\
             bench/data/events.csv /tmp/b.parquet --json"
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import time


def timed(command: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, shell=True, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--before", default="", help="untimed command run before each run")
    args = p.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
    for _ in range(args.rounds):
        for label, command in (("A", args.a), ("B", args.b)):
            if args.before:
                subprocess.run(args.before, shell=True, check=True)
            runs[label].append(timed(command))
    for label, values in runs.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(f"{label}: wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}), "
              f"CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f})")
    ratio = statistics.median(v[0] for v in runs["B"]) / statistics.median(v[0] for v in runs["A"])
    print(f"B/A wall: {ratio:.3f}")


if __name__ == "__main__":
    main()
