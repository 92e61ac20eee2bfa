"""A separate process that runs one ``ingest`` (spawned by the concurrency and crash tests).

Usage::

    python tests/lakehouse/ingest_worker.py SRC TABLE --uri CATALOG_URI --warehouse WH
        [--name CATALOG_NAME] [--partition-by SPEC] [--go FILE] [--ready FILE]

With ``--ready``/``--go`` the worker imports everything and opens the catalog, touches the
ready file, then waits for the go file to appear before ingesting, so several workers start
their ingest at (almost) the same moment. On success it prints one JSON object on stdout
(``rows_written``, ``snapshot_id``, ``data_files``, ``replaced``, ``skipped``, ``seconds``);
on failure it prints the traceback on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog  # noqa: E402
from logflow_dagster.lakehouse.ingest import ingest  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Runs one ingest; returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src")
    p.add_argument("table")
    p.add_argument("--uri", required=True, help="SQL catalog URI")
    p.add_argument("--warehouse", required=True, help="warehouse URI")
    p.add_argument("--name", default="logflow", help="catalog name")
    p.add_argument("--partition-by", default=None)
    p.add_argument("--project-dir", default=".")
    p.add_argument("--ready", type=Path, default=None, help="touched once set up")
    p.add_argument("--go", type=Path, default=None, help="wait for this file before ingesting")
    p.add_argument("--timeout", type=float, default=120.0, help="longest wait for --go")
    args = p.parse_args(argv)

    config = CatalogConfig(name=args.name, uri=args.uri, warehouse=args.warehouse)
    catalog = open_catalog(config)
    try:
        if args.ready is not None:
            args.ready.touch()
        if args.go is not None:
            deadline = time.monotonic() + args.timeout
            while not args.go.exists():
                if time.monotonic() > deadline:
                    print(f"no go file {args.go} after {args.timeout} s", file=sys.stderr)
                    return 2
                time.sleep(0.005)
        started = time.perf_counter()
        try:
            result = ingest(args.src, args.table, catalog=catalog, project_dir=args.project_dir,
                            partition_by=args.partition_by)
        except Exception:
            traceback.print_exc()
            return 1
        print(json.dumps({"rows_written": result.rows_written, "rows_read": result.rows_read,
                          "snapshot_id": result.snapshot_id, "data_files": result.data_files,
                          "replaced": result.replaced, "skipped": result.skipped,
                          "seconds": time.perf_counter() - started}))
        return 0
    finally:
        close_catalog(catalog)


if __name__ == "__main__":
    sys.exit(main())
