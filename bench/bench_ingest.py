#!/usr/bin/env python3
"""Benchmark of ``ingest`` (CSV -> Iceberg table) against DuckDB's CSV -> Parquet, and of
``compact`` on a table of many small files, with correctness checks.

Cases:

``ingest``
    ``events.csv`` (clean, from ``gen_data.py``). Ours: ``ingest(IN, "bench.events",
    catalog=CatalogConfig.embedded(TMP))`` into a fresh embedded catalog (SQLite + local
    warehouse) in a new temporary folder per run: decode, type, profile, lineage columns,
    content hash, Parquet zstd data files and one Iceberg commit. Reference: ``COPY (SELECT *
    FROM read_csv('IN')) TO 'OUT' (FORMAT parquet, COMPRESSION zstd)``. Targets: ours >= 0.8x
    the reference's throughput; our peak RSS < 1000 MB.
``compact``
    A table of ``--compact-files`` (default 200) small data files of ``--compact-rows`` rows
    each (the first rows of ``events.csv``), committed in 4 snapshots; ``compact(table)``
    rewrites them (default target 128 MiB: one file). Reported: files/s and MB/s of rewritten
    input, from the time ``compact`` itself took; wall time, peak RSS and CPU of the whole child.

With ``--warm-imports`` both tools are timed inside their process once their libraries are
imported (ours: pyiceberg's SQL catalog and duckdb, ~1.3 CPU-s of Python imports here; the
reference: duckdb): the figure for a long-lived process such as a Dagster code server. The
default times whole fresh processes, imports included.

Each measured run is its own subprocess started through the small launcher of
``bench_convert.py`` (wall time, peak RSS and CPU from ``os.wait4``); ours and the reference
alternate ``--repeat`` times. The input is read once first so both see a warm page cache.

Checks (a failure makes the exit status 1): our ``rows_read == rows_written ==`` the record
count with nothing rejected; DuckDB's ``iceberg_scan`` of the new table counts the records and
agrees with the reference Parquet file on ``sum(quantity)`` and min/max ``timestamp``; the
snapshot the catalog points at is the one ``ingest`` reported. Compaction: DuckDB's row count and
content checksum of the table are equal before and after, and the small files are all
rewritten.

Example:
    python bench/bench_ingest.py --rows 200000          # smoke run, well under a minute
    python bench/bench_ingest.py                        # full size: 5M rows, ~850 MB CSV
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(1, str(REPO))

import bench_convert  # noqa: E402  (sibling module: launcher, measurement, formatting)
import gen_data  # noqa: E402  (sibling module)
from bench_convert import MB, REF_CODE, RSS_TARGET_MB, Run, fmt, run_measured, sql_str  # noqa: E402

INGEST_TARGET = 0.8
TABLE = "bench.events"
COMPACT_SNAPSHOTS = 4

#: Runs in our subprocess: ``python -c OUR_CODE SRC PROJECT_DIR [PARTITION_BY]``.
OUR_CODE = """\
import json, sys, time
from logflow_dagster.lakehouse import CatalogConfig
from logflow_dagster.lakehouse.ingest import ingest
src, project = sys.argv[1], sys.argv[2]
parts = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
warm = len(sys.argv) > 4 and sys.argv[4] == "warm"
if warm:  # what a long-lived process (a Dagster code server, a sensor loop) has loaded
    import duckdb, pyiceberg.catalog.sql  # noqa: F401
started = time.perf_counter()
r = ingest(src, "bench.events", catalog=CatalogConfig.embedded(project), project_dir=project,
           partition_by=parts)
print(json.dumps({"rows_read": r.rows_read, "rows_written": r.rows_written,
                  "rows_rejected": r.rows_rejected, "snapshot_id": r.snapshot_id,
                  "data_files": len(r.data_files), "duration_s": r.duration_s,
                  "work_s": time.perf_counter() - started}))
"""

#: Runs in the compaction subprocess: ``python -c COMPACT_CODE PROJECT_DIR``.
COMPACT_CODE = """\
import json, sys, time
from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.maintenance import compact
table = open_catalog(CatalogConfig.embedded(sys.argv[1])).load_table("bench.events")
started = time.perf_counter()
r = compact(table)
d = r.to_dict()
d["inner_s"] = time.perf_counter() - started
print(json.dumps(d))
"""


@dataclass
class Measured:
    """The runs of one tool on one case, and what was checked."""

    case: str
    tool: str
    input_mb: float
    records: int
    runs: list[Run] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def ok_runs(self) -> list[Run]:
        """The runs that succeeded."""
        return [r for r in self.runs if r.error is None]

    def seconds(self, stat: str) -> float | None:
        """Best or median wall time of the successful runs."""
        ok = sorted(r.seconds for r in self.ok_runs())
        if not ok:
            return None
        return ok[0] if stat == "best" else ok[len(ok) // 2]

    def rss_mb(self) -> float | None:
        """Highest peak RSS over the successful runs."""
        ok = [r.rss_mb for r in self.ok_runs()]
        return max(ok) if ok else None

    def cpu_s(self) -> float | None:
        """Lowest CPU time over the successful runs."""
        ok = [r.cpu_s for r in self.ok_runs()]
        return min(ok) if ok else None

    def check(self, name: str, ok: bool, detail: str) -> None:
        """Records one check; prints failures."""
        self.checks.append({"name": name, "ok": ok, "detail": detail})
        if not ok:
            print(f"    CHECK FAILED [{self.case}/{self.tool}] {name}: {detail}")


# ---------------------------------------------------------------------------------------------
# Verification (never timed)
# ---------------------------------------------------------------------------------------------


def _duck() -> Any:
    from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection

    return duckdb_connection()


def table_summary(project: Path) -> tuple[dict[str, Any], int | None]:
    """Row count, sum(quantity), min/max timestamp (epoch us) of the table read by DuckDB's
    iceberg_scan, and the catalog's current snapshot id."""
    from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
    from logflow_dagster.lakehouse.duckdb_reader import iceberg_scan_sql

    catalog = open_catalog(CatalogConfig.embedded(project))
    try:
        table = catalog.load_table(TABLE)
        snap = table.current_snapshot()
        con = _duck()
        try:
            row = con.execute(
                "SELECT count(*), sum(quantity)::BIGINT, epoch_us(min(timestamp)), "
                f"epoch_us(max(timestamp)) FROM {iceberg_scan_sql(table)}").fetchone()
        finally:
            con.close()
    finally:
        close_catalog(catalog)
    keys = ("rows", "sum_quantity", "min_ts_us", "max_ts_us")
    return dict(zip(keys, row, strict=True)), snap.snapshot_id if snap else None


def parquet_summary(path: Path) -> dict[str, Any]:
    """The same figures as :func:`table_summary` for the reference's Parquet file."""
    import duckdb

    con = duckdb.connect()
    try:
        row = con.execute(
            "SELECT count(*), sum(quantity)::BIGINT, epoch_us(min(timestamp)), "
            f"epoch_us(max(timestamp)) FROM read_parquet({sql_str(path)})").fetchone()
    finally:
        con.close()
    return dict(zip(("rows", "sum_quantity", "min_ts_us", "max_ts_us"), row, strict=True))


def verify_ours(res: Measured, run: Run, project: Path, ref_summary: dict[str, Any] | None
                ) -> dict[str, Any]:
    """Checks our JSON and the table DuckDB reads; returns the table summary."""
    got = run.result or {}
    n = res.records
    res.check("rows_read == records", got.get("rows_read") == n, f"{got.get('rows_read')} vs {n}")
    res.check("rows_written == records", got.get("rows_written") == n,
              f"{got.get('rows_written')} vs {n}")
    res.check("nothing rejected", got.get("rows_rejected") == 0, f"{got.get('rows_rejected')}")
    try:
        summary, snapshot = table_summary(project)
    except Exception as exc:
        res.check("table readable by DuckDB", False, f"{exc.__class__.__name__}: {exc}")
        return {}
    res.check("DuckDB iceberg_scan count == records", summary["rows"] == n,
              f"{summary['rows']} vs {n}")
    res.check("current snapshot == reported", snapshot == got.get("snapshot_id"),
              f"{snapshot} vs {got.get('snapshot_id')}")
    if ref_summary is not None:
        same = {k: summary[k] == ref_summary[k] for k in summary}
        res.check("sum(quantity), min/max(timestamp) == reference", all(same.values()),
                  f"ours {summary} vs reference {ref_summary}")
    return summary


# ---------------------------------------------------------------------------------------------
# Ingest case
# ---------------------------------------------------------------------------------------------


def _after_imports(run: Run, args: argparse.Namespace) -> Run:
    """With ``--warm-imports``, the run's time is the work's, timed inside the process after
    its libraries were imported (RSS and CPU stay the whole process's)."""
    work = (run.result or {}).get("work_s")
    if args.warm_imports and run.error is None and work is not None:
        run.seconds = float(work)
    return run


def measure_ingest(args: argparse.Namespace, csv: Path, records: int) -> list[Measured]:
    """Alternates ours and the reference ``--repeat`` times on ``csv``."""
    size_mb = csv.stat().st_size / MB
    ours = Measured("ingest", "logflow", size_mb, records)
    ref = Measured("ingest", "duckdb", size_mb, records)
    if not args.no_warm:
        bench_convert.warm(csv)
    busy = bench_convert.cpu_busy()
    print(f"\n== ingest: {csv.name}, {records:,} records, {size_mb:,.1f} MB "
          f"(other CPU load before: {fmt(busy and busy * 100, '.0f')} %)")
    if busy is not None and busy > bench_convert.BUSY_FRACTION:
        print(f"  warning: the machine is busy ({busy:.0%} of the CPUs in use by other "
              "processes); figures will be noisy")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    ref_out = args.out_dir / "ingest.duckdb.parquet"
    ref_summary: dict[str, Any] | None = None
    for rep in range(1, args.repeat + 1):
        # ours: a fresh embedded catalog every run
        project = Path(tempfile.mkdtemp(prefix="bench_ingest_", dir=args.out_dir))
        try:
            cmd = [sys.executable, "-c", OUR_CODE, str(csv), str(project), args.partition_by,
                   "warm" if args.warm_imports else "cold"]
            run = _after_imports(run_measured(cmd, args.timeout), args)
            ours.runs.append(run)
            if run.error is None:
                summary = verify_ours(ours, run, project, ref_summary)
                ours.extra.setdefault("table", summary)
                ours.extra["data_files"] = (run.result or {}).get("data_files")
                ours.extra.setdefault("inner_s", []).append((run.result or {}).get("duration_s"))
                print(f"  [{rep}/{args.repeat}] logflow ingest {run.seconds:8.2f} s "
                      f"{run.rss_mb:8.0f} MB RSS {run.cpu_s:8.2f} s CPU  "
                      f"rows={(run.result or {}).get('rows_written')}")
            else:
                print(f"  [{rep}/{args.repeat}] logflow ingest FAILED: {run.error}")
        finally:
            shutil.rmtree(project, ignore_errors=True)
        # the reference
        ref_out.unlink(missing_ok=True)
        sql = (f"COPY (SELECT * FROM read_csv({sql_str(csv)})) TO {sql_str(ref_out)} "
               "(FORMAT parquet, COMPRESSION zstd)")
        run = _after_imports(run_measured([sys.executable, "-c", REF_CODE, sql], args.timeout),
                             args)
        ref.runs.append(run)
        if run.error is None:
            rows = (run.result or {}).get("rows_written")
            ref.check("rows == records", rows == records, f"{rows} vs {records}")
            if ref_summary is None:
                ref_summary = parquet_summary(ref_out)
                if ours.extra.get("table"):  # ours ran first: compare now
                    same = all(ours.extra["table"][k] == ref_summary[k] for k in ref_summary)
                    ours.check("sum(quantity), min/max(timestamp) == reference", same,
                               f"ours {ours.extra['table']} vs reference {ref_summary}")
            print(f"  [{rep}/{args.repeat}] duckdb COPY     {run.seconds:8.2f} s "
                  f"{run.rss_mb:8.0f} MB RSS {run.cpu_s:8.2f} s CPU  rows={rows}")
        else:
            print(f"  [{rep}/{args.repeat}] duckdb COPY FAILED: {run.error}")
    ref_out.unlink(missing_ok=True)
    return [ours, ref]


# ---------------------------------------------------------------------------------------------
# Compaction case
# ---------------------------------------------------------------------------------------------


def build_small_file_table(project: Path, csv: Path, files: int, rows_per_file: int) -> int:
    """A table of ``files`` small Parquet data files, committed in a few snapshots.

    The rows are the first ``files * rows_per_file`` records of ``csv`` (read by DuckDB); each
    file is written with pyarrow straight into the table's data folder and registered with
    ``add_files``, so building takes seconds. Returns the table's total data bytes.
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        data = con.execute(f"SELECT * FROM read_csv({sql_str(csv)}) "
                           f"LIMIT {files * rows_per_file}").to_arrow_table()
    finally:
        con.close()
    fields = [pa.field(f.name, pa.timestamp("us", tz="UTC") if pa.types.is_timestamp(f.type)
                       else f.type) for f in data.schema]
    data = data.cast(pa.schema(fields))
    catalog = open_catalog(CatalogConfig.embedded(project))
    try:
        catalog.create_namespace_if_not_exists("bench")
        table = catalog.create_table(TABLE, schema=data.schema)
        folder = Path(urlparse(table.location()).path) / "data"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(files):
            path = folder / f"small-{i:05d}.parquet"
            pq.write_table(data.slice(i * rows_per_file, rows_per_file), path,
                           compression="zstd")
            paths.append(path.as_uri())
        step = -(-files // COMPACT_SNAPSHOTS)
        for k in range(0, files, step):
            table.add_files(paths[k:k + step])
        return sum((folder / Path(p).name).stat().st_size for p in paths)
    finally:
        close_catalog(catalog)


def fingerprint(project: Path) -> tuple[int, int]:
    """DuckDB's (row count, content checksum) of the table."""
    from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
    from logflow_dagster.lakehouse.duckdb_reader import table_fingerprint

    catalog = open_catalog(CatalogConfig.embedded(project))
    con = _duck()
    try:
        return table_fingerprint(con, catalog.load_table(TABLE))
    finally:
        con.close()
        close_catalog(catalog)


def measure_compaction(args: argparse.Namespace, csv: Path) -> Measured:
    """Builds the small-file table afresh for every repeat and times ``compact``."""
    files, rows_per_file = args.compact_files, args.compact_rows
    res = Measured("compact", "logflow", 0.0, files * rows_per_file)
    print(f"\n== compaction: {files} files of {rows_per_file:,} rows "
          f"({COMPACT_SNAPSHOTS} snapshots)")
    for rep in range(1, args.repeat + 1):
        project = Path(tempfile.mkdtemp(prefix="bench_compact_", dir=args.out_dir))
        try:
            started = time.perf_counter()
            total_bytes = build_small_file_table(project, csv, files, rows_per_file)
            res.input_mb = total_bytes / MB
            before = fingerprint(project)
            print(f"  built in {time.perf_counter() - started:.1f} s: {total_bytes / MB:.1f} MB")
            run = run_measured([sys.executable, "-c", COMPACT_CODE, str(project)], args.timeout)
            res.runs.append(run)
            if run.error is not None:
                print(f"  [{rep}/{args.repeat}] compact FAILED: {run.error}")
                continue
            got = run.result or {}
            after = fingerprint(project)
            res.check("row count and checksum unchanged", after == before,
                      f"{after} vs {before}")
            res.check("rows == records", before[0] == res.records, f"{before[0]}")
            res.check("every small file rewritten", got.get("rewritten_files") == files,
                      f"{got.get('rewritten_files')} of {files}")
            res.extra.setdefault("compact", []).append(got)
            inner = got.get("duration_s") or got.get("inner_s") or 0.0
            print(f"  [{rep}/{args.repeat}] compact {run.seconds:8.2f} s wall "
                  f"({inner:.2f} s in compact) {run.rss_mb:8.0f} MB RSS {run.cpu_s:8.2f} s CPU  "
                  f"{got.get('files_before')} -> {got.get('files_after')} files")
        finally:
            shutil.rmtree(project, ignore_errors=True)
    return res


# ---------------------------------------------------------------------------------------------
# Reporting and driver
# ---------------------------------------------------------------------------------------------


def report(results: list[Measured], stat: str, compaction: Measured | None
           ) -> list[dict[str, Any]]:
    """Prints the tables; returns the target verdicts."""
    verdicts: list[dict[str, Any]] = []
    head = (f"{'case':<7} {'tool':<8} {'rows':>11} {'MB':>8} {'s':>8} {'rows/s':>11} "
            f"{'MB/s':>8} {'RSS MB':>7} {'CPU s':>7} {'ratio':>6}  target")
    print(f"\nResults (time: {stat} of the runs; RSS: highest; ratio: ours/ref throughput)")
    print(head)
    print("-" * len(head))
    ref = next((r for r in results if r.tool == "duckdb"), None)
    ref_s = ref.seconds(stat) if ref else None
    for r in results:
        s = r.seconds(stat)
        ratio = ref_s / s if s and ref_s and r.tool != "duckdb" else None
        target = ""
        if r.tool == "logflow":
            met = ratio is not None and ratio >= INGEST_TARGET
            rss = r.rss_mb()
            rss_met = rss is not None and rss < RSS_TARGET_MB
            target = (f">= {INGEST_TARGET}x {'met' if met else 'NOT MET'}; RSS < "
                      f"{RSS_TARGET_MB:.0f} MB {'met' if rss_met else 'NOT MET'}")
            verdicts.append({"target": f"ingest throughput >= {INGEST_TARGET}x duckdb COPY",
                             "value": ratio, "met": met})
            verdicts.append({"target": f"ingest peak RSS < {RSS_TARGET_MB:.0f} MB",
                             "value": rss, "met": rss_met})
        print(f"{r.case:<7} {r.tool:<8} {r.records:>11,} {r.input_mb:8.1f} {fmt(s, '.2f'):>8} "
              f"{fmt(r.records / s if s else None, ',.0f'):>11} "
              f"{fmt(r.input_mb / s if s else None, '.1f'):>8} {fmt(r.rss_mb(), '.0f'):>7} "
              f"{fmt(r.cpu_s(), '.1f'):>7} {fmt(ratio, '.2f'):>6}  {target}")
    if compaction is not None and compaction.extra.get("compact"):
        runs = compaction.extra["compact"]
        best = min(runs, key=lambda d: d.get("duration_s") or d["inner_s"])
        inner = best.get("duration_s") or best["inner_s"]
        files = best.get("rewritten_files", 0)
        rbytes = best.get("rewritten_bytes", 0)
        print(f"\nCompaction ({stat} = fastest compact() call; wall includes Python start-up)")
        print(f"  {files} files, {rbytes / MB:.1f} MB, {compaction.records:,} rows -> "
              f"{best.get('added_files')} file(s), {best.get('added_bytes', 0) / MB:.1f} MB")
        print(f"  compact(): {inner:.2f} s = {files / inner:,.0f} files/s, "
              f"{rbytes / MB / inner:.1f} MB/s, {compaction.records / inner:,.0f} rows/s; "
              f"wall {fmt(compaction.seconds('best'), '.2f')} s, "
              f"peak RSS {fmt(compaction.rss_mb(), '.0f')} MB")
        compaction.extra["files_per_s"] = files / inner
        compaction.extra["bytes_per_s"] = rbytes / inner
    return verdicts


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=gen_data.DEFAULT_ROWS,
                   help="records in events.csv (default %(default)s; 200000 for a smoke run)")
    p.add_argument("--repeat", type=int, default=2, help="runs per tool (default 2)")
    p.add_argument("--stat", choices=("best", "median"), default="best")
    p.add_argument("--partition-by", default="",
                   help="partition spec for our table, e.g. 'day(timestamp)' (default none)")
    p.add_argument("--compact-files", type=int, default=200)
    p.add_argument("--compact-rows", type=int, default=2000,
                   help="rows per small file (lowered when the CSV has fewer records)")
    p.add_argument("--no-compaction", action="store_true")
    p.add_argument("--no-ingest", action="store_true")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="input directory (default bench/data, or bench/data/rows_N)")
    p.add_argument("--out-dir", type=Path, default=BENCH_DIR / "data" / "out",
                   help="scratch space for catalogs and outputs (default bench/data/out)")
    p.add_argument("--seed", type=int, default=gen_data.DEFAULT_SEED)
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    p.add_argument("--no-warm", action="store_true", help="do not pre-read the input")
    p.add_argument("--warm-imports", action="store_true",
                   help="time both tools inside their process after their imports (ours: "
                        "pyiceberg's catalog and duckdb; DuckDB: duckdb), as in a long-lived "
                        "process; the default times whole fresh processes")
    p.add_argument("--json-out", type=Path, default=BENCH_DIR / "data" / "bench_ingest.json",
                   help="machine-readable summary ('-' prints it)")
    p.add_argument("--fail-on-targets", action="store_true",
                   help="exit 1 when a target is not met")
    args = p.parse_args(argv)
    if args.repeat < 1 or args.rows < 2 or args.compact_files < 2 or args.compact_rows < 1:
        p.error("need --repeat >= 1, --rows >= 2, --compact-files >= 2, --compact-rows >= 1")
    args.out_dir.mkdir(parents=True, exist_ok=True)

    info = bench_convert.machine_info()
    print(f"bench_ingest: {info['cpu']} x{info['cpus']}, "
          f"{(info['mem_bytes'] or 0) / 2**30:.0f} GiB, python {info['python']}, "
          f"duckdb {info['duckdb']}, pyarrow {info['pyarrow']}, repo {info['repo_rev']}")
    started = time.perf_counter()
    data = bench_convert.data_dir_for(args.rows, args.data_dir)
    manifest = gen_data.generate(data, rows=args.rows, jsonl_rows=0, dirty_fraction=0.0,
                                 seed=args.seed)
    csv = data / gen_data.CSV_NAME
    records = manifest["files"][gen_data.CSV_NAME]["rows"]
    if args.compact_files * args.compact_rows > records:
        args.compact_rows = max(1, records // args.compact_files)
        print(f"note: --compact-rows lowered to {args.compact_rows:,} ({records:,} records)")

    results = [] if args.no_ingest else measure_ingest(args, csv, records)
    compaction = None if args.no_compaction else measure_compaction(args, csv)
    if args.warm_imports and results:
        print("\n(--warm-imports: times are each tool's work inside its process after its "
              "imports, not whole processes)")
    verdicts = report(results, args.stat, compaction)

    everything = [*results, *([compaction] if compaction else [])]
    failed_runs = [(r.case, r.tool, x.error) for r in everything for x in r.runs if x.error]
    failed_checks = [(r.case, r.tool, c) for r in everything for c in r.checks if not c["ok"]]
    print()
    for v in verdicts:
        print(f"target {v['target']}: {fmt(v['value'], '.2f')} -> "
              f"{'met' if v['met'] else 'NOT MET'}")
    for case, tool, c in failed_checks:
        print(f"FAILED CHECK {case}/{tool}: {c['name']}: {c['detail']}")
    for case, tool, error in failed_runs:
        print(f"FAILED RUN {case}/{tool}: {error}")

    summary = {
        "machine": info,
        "params": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "elapsed_s": time.perf_counter() - started,
        "results": [
            {"case": r.case, "tool": r.tool, "input_mb": r.input_mb, "records": r.records,
             "seconds": r.seconds(args.stat), "rss_mb": r.rss_mb(), "cpu_s": r.cpu_s(),
             "rows_per_s": r.records / s if (s := r.seconds(args.stat)) else None,
             "mb_per_s": r.input_mb / s if s else None, "checks": r.checks, "extra": r.extra,
             "runs": [{k: v for k, v in asdict(x).items() if k != "stderr_tail"}
                      for x in r.runs]}
            for r in everything],
        "targets": verdicts,
        "ok": not failed_runs and not failed_checks,
    }
    return bench_convert.write_summary(summary, args.json_out,
                                       fail_on_targets=args.fail_on_targets)


if __name__ == "__main__":
    sys.exit(main())
