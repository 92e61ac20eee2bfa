#!/usr/bin/env python3
"""Benchmark of ``logflow convert`` against DuckDB's CSV/JSON -> Parquet, with correctness checks.

Cases (``--cases``, default all):

``csv``
    ``events.csv`` (clean). Ours: ``logflow convert IN OUT --json --quiet --compression zstd``.
    Reference: ``COPY (SELECT * FROM read_csv('IN')) TO 'OUT' (FORMAT parquet, COMPRESSION
    zstd)``. Target: ours >= 0.9x the reference's throughput.
``jsonl``
    ``events.jsonl``; reference ``read_json('IN', format='newline_delimited')``. Target >= 0.8x.
``dirty``
    ``events_dirty.csv``; ours with ``--error-policy quarantine --quarantine Q``, reference
    ``read_csv('IN', ignore_errors=true)``. Target >= 0.5x. Also runs ``duckdb-typed``
    (``ignore_errors`` with ``amount`` DOUBLE and ``timestamp`` TIMESTAMP forced), which
    rejects the same records as the truth; shown for information (``--no-typed-ref`` skips it).

Every conversion runs in its own subprocess (the reference via ``python -c`` with
``SET autoinstall_known_extensions=false``); ours and the reference alternate (ours, ref, ours,
ref, ... ``--repeat`` times) so that machine noise hits both. Wall time is measured around the
child; peak RSS and CPU time come from ``os.wait4`` on the child. The input is read once before
each case so both tools see a warm page cache. Target for ours: peak RSS < 1000 MB.

``--scaling`` instead converts the clean CSV at N/2 and N rows (N = ``--rows``) with both tools
and reports the growth of peak RSS (target for ours: < 20 %).

Checks: our JSON's ``rows_written + rows_rejected`` equals the record count, nothing is
rejected from clean inputs, the Parquet footer agrees with ``rows_written``, and for the dirty
file ``rows_rejected`` equals the number of bad records and the ``line`` fields of the
quarantine file (JSON lines) equal ``events_dirty.badlines.json``. For the reference it reports
rows kept vs the truth.

Exit status: 0 when everything ran and every check passed; 1 when our side failed or a check
failed (also when a target is not met, with ``--fail-on-targets``); 2 for usage errors.

Example:
    python bench/bench_convert.py --rows 200000          # smoke run, about a minute
    python bench/bench_convert.py                        # full size: 5M rows, ~850 MB
    python bench/bench_convert.py --scaling
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import gen_data  # noqa: E402  (sibling module)

MB = 1_000_000
RSS_TARGET_MB = 1000.0
SCALING_TARGET_PCT = 20.0
#: Share of all CPUs in use (by others, sampled just before a case) that counts as busy.
BUSY_FRACTION = 0.15
OUR_JSON_KEYS = ("input", "output", "format", "rows_read", "rows_written", "rows_rejected",
                 "quarantine", "columns", "checksum", "duration_s", "rows_per_s", "bytes_per_s")

#: Runs in the reference subprocess: ``python -c REF_CODE SQL``; ``work_s`` is the statement's
#: own time, after ``import duckdb`` (``bench_ingest.py --warm-imports`` compares those).
REF_CODE = """\
import json, sys, time
import duckdb
con = duckdb.connect()
con.execute("SET autoinstall_known_extensions=false")
started = time.perf_counter()
rows = con.execute(sys.argv[1]).fetchone()[0]
print(json.dumps({"rows_written": rows, "duckdb": duckdb.__version__,
                  "work_s": time.perf_counter() - started}))
"""

#: Types forced by the ``duckdb-typed`` reference of the dirty case.
TYPED_DIRTY = "types={'amount': 'DOUBLE', 'timestamp': 'TIMESTAMP'}"


# ---------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One measured subprocess.

    Attributes:
        seconds: Wall time from start to exit.
        rss_mb: Peak resident set size of the child (``ru_maxrss``), MB.
        cpu_s: User + system CPU time of the child.
        returncode: Exit code (negative: killed by that signal).
        result: The JSON object the child printed, when it printed one.
        error: Why the run counts as failed, if it does.
    """

    seconds: float
    rss_mb: float
    cpu_s: float
    returncode: int
    result: dict[str, Any] | None = None
    error: str | None = None
    stderr_tail: str = ""


#: A tiny launcher (``python -S -c LAUNCHER REPORT CMD...``) that spawns the measured command
#: and writes its ``os.wait4`` figures to REPORT. Why not measure from here: Linux carries the
#: peak RSS of the process image replaced by ``exec`` into ``ru_maxrss``, so a child forked from
#: this (large) benchmark process would report at least our own RSS. The launcher is small
#: (about 10 MB), far below the RSS of any Python child, so it does not inflate the figure.
LAUNCHER = """\
import json, os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, ru = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as f:
    json.dump({"seconds": seconds, "maxrss_kb": ru.ru_maxrss, "cpu_s": ru.ru_utime + ru.ru_stime,
               "returncode": os.waitstatus_to_exitcode(status)}, f)
"""


def run_measured(cmd: list[str], timeout: float) -> Run:
    """Runs ``cmd`` in a subprocess; wall time, peak RSS and CPU come from ``os.wait4``.

    The command is spawned by a small launcher process (see :data:`LAUNCHER`) so that its
    ``ru_maxrss`` is its own. On timeout the whole process group is killed.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rusage.json"
        proc = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, str(report), *cmd],
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=REPO,
                                start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        try:
            usage = json.loads(report.read_text())
        except (OSError, ValueError):
            usage = {"seconds": timeout, "maxrss_kb": 0, "cpu_s": 0.0,
                     "returncode": proc.returncode or -1}
    run = Run(seconds=usage["seconds"], rss_mb=usage["maxrss_kb"] * 1024 / MB,
              cpu_s=usage["cpu_s"], returncode=usage["returncode"],
              stderr_tail="\n".join(stderr.strip().splitlines()[-12:]))
    if timed_out or run.returncode != 0:
        why = f"timed out after {timeout:.0f} s" if timed_out else \
            f"exit status {run.returncode}"
        run.error = f"{why}; stderr:\n{run.stderr_tail or '(empty)'}"
        return run
    run.result = _parse_json(stdout)
    if run.result is None:
        run.error = f"no JSON object on stdout; stdout starts {stdout[:300]!r}"
    return run


def _parse_json(stdout: str) -> dict[str, Any] | None:
    """The JSON object on stdout (all of it, else its last line that parses)."""
    candidates = [stdout.strip(), *reversed(stdout.strip().splitlines())]
    for text in candidates:
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def warm(path: Path) -> None:
    """Reads ``path`` once so that every measured run starts with a warm page cache."""
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 24):
            pass


def cpu_busy(interval: float = 1.0) -> float | None:
    """Share of all CPUs not idle over ``interval`` seconds (from ``/proc/stat``), or ``None``.

    Sampled while nothing of ours runs, so it measures the rest of the machine.
    """

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields[:8]), fields[3] + fields[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(interval)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def sql_str(path: Path) -> str:
    """``path`` as a SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# Tools and cases
# ---------------------------------------------------------------------------------------------


@dataclass
class Tool:
    """A way to convert one input: ours or a DuckDB reference."""

    name: str
    ours: bool
    reader: str = ""  # reference: the table function call, ``{in}`` for the input


@dataclass
class Case:
    """One input file and its expectations."""

    name: str
    label: str
    input: Path
    records: int
    target_ratio: float | None
    tools: list[Tool]
    our_args: list[str] = field(default_factory=list)
    bad_lines: list[int] | None = None
    quarantine: Path | None = None

    @property
    def truth_rows(self) -> int:
        """Rows a correct converter writes."""
        return self.records - len(self.bad_lines or [])


@dataclass
class ToolResult:
    """The runs of one tool on one case, and what was checked."""

    case: str
    tool: str
    input_mb: float
    records: int
    runs: list[Run] = field(default_factory=list)
    rows: int | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    schema: list[str] | None = None
    error: str | None = None
    busy_before: float | None = None

    def seconds(self, stat: str) -> float | None:
        """Best or median wall time of the successful runs."""
        ok = [r.seconds for r in self.runs if r.error is None]
        if not ok:
            return None
        return min(ok) if stat == "best" else statistics.median(ok)

    def rss_mb(self) -> float | None:
        """Highest peak RSS over the successful runs."""
        ok = [r.rss_mb for r in self.runs if r.error is None]
        return max(ok) if ok else None

    def cpu_s(self, stat: str) -> float | None:
        """Best or median CPU time of the successful runs."""
        ok = [r.cpu_s for r in self.runs if r.error is None]
        if not ok:
            return None
        return min(ok) if stat == "best" else statistics.median(ok)

    def check(self, name: str, ok: bool, detail: str) -> None:
        """Records one check (only the first failure of a given check is printed)."""
        if any(c["name"] == name and c["ok"] == ok and c["detail"] == detail
               for c in self.checks):
            return
        self.checks.append({"name": name, "ok": ok, "detail": detail})
        if not ok:
            print(f"    CHECK FAILED [{self.case}/{self.tool}] {name}: {detail}")


def our_command(base: list[str], case: Case, out: Path) -> list[str]:
    """The ``logflow convert`` command line for ``case``."""
    return [*base, "convert", str(case.input), str(out), "--json", "--quiet",
            "--compression", "zstd", *case.our_args]


def ref_command(tool: Tool, case: Case, out: Path) -> list[str]:
    """The DuckDB reference command line for ``case``."""
    reader = tool.reader.replace("{in}", sql_str(case.input))
    sql = (f"COPY (SELECT * FROM {reader}) TO {sql_str(out)} "
           f"(FORMAT parquet, COMPRESSION zstd)")
    return [sys.executable, "-c", REF_CODE, sql]


def parquet_rows_and_schema(path: Path) -> tuple[int, list[str]]:
    """Row count and ``name: type`` list from a Parquet footer."""
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    schema = meta.schema.to_arrow_schema()
    return meta.num_rows, [f"{f.name}: {f.type}" for f in schema]


def verify_ours(res: ToolResult, case: Case, run: Run, out: Path) -> None:
    """Checks our JSON report, the Parquet footer and, for the dirty file, the quarantine."""
    got = run.result or {}
    missing = [k for k in OUR_JSON_KEYS if k not in got]
    res.check("json keys", not missing, f"missing {missing}" if missing else "all present")
    written, rejected = got.get("rows_written"), got.get("rows_rejected")
    if not isinstance(written, int) or not isinstance(rejected, int):
        res.check("row counts", False, f"rows_written={written!r} rows_rejected={rejected!r}")
        return
    res.rows = written
    res.check("written + rejected == records", written + rejected == case.records,
              f"{written} + {rejected} vs {case.records}")
    expected_rejected = len(case.bad_lines or [])
    res.check("rows_rejected == bad records", rejected == expected_rejected,
              f"{rejected} vs {expected_rejected}")
    try:
        rows, res.schema = parquet_rows_and_schema(out)
        res.check("parquet rows == rows_written", rows == written, f"{rows} vs {written}")
    except Exception as exc:
        res.check("parquet readable", False, f"{out}: {exc}")
    if case.bad_lines is not None:
        verify_quarantine(res, case)


def verify_quarantine(res: ToolResult, case: Case) -> None:
    """Compares the ``line`` fields of the quarantine JSON lines with the bad-lines list."""
    assert case.quarantine is not None and case.bad_lines is not None
    if not case.quarantine.exists():
        res.check("quarantine file", False, f"{case.quarantine} not written")
        return
    lines: list[int] = []
    unreadable = 0
    with open(case.quarantine, encoding="utf-8") as f:
        for text in f:
            if not text.strip():
                continue
            try:
                lines.append(int(json.loads(text)["line"]))
            except (ValueError, KeyError, TypeError):
                unreadable += 1
    want = sorted(case.bad_lines)
    got = sorted(lines)
    if got == want and not unreadable:
        res.check("quarantine lines == bad lines", True, f"{len(got)} lines")
        return
    wanted, found = set(want), set(got)
    res.check("quarantine lines == bad lines", False,
              f"{len(got)} quarantined vs {len(want)} bad; {unreadable} without a line; "
              f"not quarantined e.g. {sorted(wanted - found)[:5]}; "
              f"quarantined but good e.g. {sorted(found - wanted)[:5]}; "
              f"duplicates {len(got) - len(found)}")


def verify_ref(res: ToolResult, case: Case, run: Run, out: Path) -> None:
    """Reports the reference's rows vs the truth and checks its Parquet footer."""
    rows = (run.result or {}).get("rows_written")
    res.rows = rows
    if case.bad_lines is None:
        res.check("rows == records", rows == case.records, f"{rows} vs {case.records}")
    else:
        res.check("rows kept vs truth (info)", True,
                  f"kept {rows}, truth {case.truth_rows} "
                  f"({(rows or 0) - case.truth_rows:+d})")
    try:
        n, res.schema = parquet_rows_and_schema(out)
        res.check("parquet rows == rows", n == rows, f"{n} vs {rows}")
    except Exception as exc:
        res.check("parquet readable", False, f"{out}: {exc}")


def measure_case(case: Case, args: argparse.Namespace, out_dir: Path,
                 our_base: list[str]) -> list[ToolResult]:
    """Runs every tool of ``case`` ``--repeat`` times, alternating between tools."""
    size_mb = case.input.stat().st_size / MB
    results = [ToolResult(case.name, t.name, size_mb, case.records) for t in case.tools]
    if not args.no_warm:
        warm(case.input)
    busy = cpu_busy()
    for r in results:
        r.busy_before = busy
    print(f"\n== {case.label}: {case.input.name}, {case.records:,} records, {size_mb:,.1f} MB "
          f"(other CPU load before: {fmt(busy and busy * 100, '.0f')} %)")
    if busy is not None and busy > BUSY_FRACTION:
        print(f"  warning: the machine is busy ({busy:.0%} of the CPUs in use by other processes "
              "just before this case); figures will be noisy")
    for rep in range(1, args.repeat + 1):
        for tool, res in zip(case.tools, results, strict=True):
            if tool.ours and res.error is not None:
                continue  # our side already failed on this case; keep measuring the reference
            out = out_dir / f"{case.name}.{tool.name}.parquet"
            out.unlink(missing_ok=True)
            if tool.ours:
                if case.quarantine is not None:
                    case.quarantine.unlink(missing_ok=True)
                cmd = our_command(our_base, case, out)
            else:
                cmd = ref_command(tool, case, out)
            run = run_measured(cmd, args.timeout)
            res.runs.append(run)
            if run.error is None:
                (verify_ours if tool.ours else verify_ref)(res, case, run, out)
                print(f"  [{rep}/{args.repeat}] {tool.name:<13} {run.seconds:8.2f} s "
                      f"{run.rss_mb:8.0f} MB RSS {run.cpu_s:8.2f} s CPU  rows={res.rows}")
            else:
                who = "logflow convert" if tool.ours else f"reference {tool.name}"
                print(f"  [{rep}/{args.repeat}] {tool.name:<13} FAILED ({who}): {run.error}")
                if tool.ours:
                    res.error = run.error
                    print("    -> our side is skipped for the remaining repeats of this case; "
                          "the reference keeps running.")
                    print(f"    command: {shlex.join(cmd)}")
    return results


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def fmt(value: float | None, spec: str) -> str:
    """Formats a number or ``-``."""
    return "-" if value is None else format(value, spec)


def table(results: list[ToolResult], cases: dict[str, Case], stat: str) -> list[dict[str, Any]]:
    """Prints the result table; returns the target verdicts."""
    head = (f"{'case':<6} {'tool':<13} {'rows':>11} {'MB':>8} {'s':>8} {'rows/s':>11} "
            f"{'MB/s':>8} {'RSS MB':>7} {'CPU s':>7} {'ratio':>6}  target")
    print(f"\nResults (time: {stat} of the runs; RSS: highest of the runs; ratio: ours/ref "
          f"throughput, ref = duckdb)")
    print(head)
    print("-" * len(head))
    verdicts: list[dict[str, Any]] = []
    by_case: dict[str, list[ToolResult]] = {}
    for r in results:
        by_case.setdefault(r.case, []).append(r)
    for name, group in by_case.items():
        case = cases[name]
        ref = next((r for r in group if r.tool == "duckdb"), None)
        ref_s = ref.seconds(stat) if ref else None
        for r in group:
            s = r.seconds(stat)
            ratio = ref_s / s if s and ref_s else None
            target = ""
            if r.tool == "logflow" and case.target_ratio is not None:
                met = ratio is not None and ratio >= case.target_ratio
                target = f">= {case.target_ratio:.1f}x {'met' if met else 'NOT MET'}"
                verdicts.append({"target": f"{name} throughput >= {case.target_ratio}x duckdb",
                                 "value": ratio, "met": met})
                rss = r.rss_mb()
                rss_met = rss is not None and rss < RSS_TARGET_MB
                target += f"; RSS < {RSS_TARGET_MB:.0f} MB {'met' if rss_met else 'NOT MET'}"
                verdicts.append({"target": f"{name} peak RSS < {RSS_TARGET_MB:.0f} MB",
                                 "value": rss, "met": rss_met})
            elif r.tool != "duckdb" and ratio is not None:
                target = "(info: vs duckdb)"
            print(f"{name:<6} {r.tool:<13} {fmt(r.rows, ',d'):>11} {r.input_mb:8.1f} "
                  f"{fmt(s, '.2f'):>8} {fmt(r.records / s if s else None, ',.0f'):>11} "
                  f"{fmt(r.input_mb / s if s else None, '.1f'):>8} {fmt(r.rss_mb(), '.0f'):>7} "
                  f"{fmt(r.cpu_s(stat), '.1f'):>7} "
                  f"{fmt(ratio if r.tool != 'duckdb' else None, '.2f'):>6}  "
                  f"{target if s is not None else 'FAILED, see above; ' + target}")
    return verdicts


def print_schemas(results: list[ToolResult]) -> None:
    """Prints the Parquet schema each tool wrote, per case, side by side."""
    by_case: dict[str, list[ToolResult]] = {}
    for r in results:
        if r.schema:
            by_case.setdefault(r.case, []).append(r)
    for name, group in by_case.items():
        print(f"\nParquet schema written, {name}:")
        width = max(len(x) for r in group for x in r.schema or []) + 2
        print("  " + "".join(f"{r.tool:<{width}}" for r in group))
        for i in range(max(len(r.schema or []) for r in group)):
            cells = [(r.schema or [])[i] if i < len(r.schema or []) else "" for r in group]
            print("  " + "".join(f"{c:<{width}}" for c in cells))


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


def data_dir_for(rows: int, override: Path | None) -> Path:
    """``bench/data`` at the default size, ``bench/data/rows_N`` otherwise."""
    if override is not None:
        return override
    return BENCH_DIR / "data" if rows == gen_data.DEFAULT_ROWS else BENCH_DIR / "data" / \
        f"rows_{rows}"


def build_cases(args: argparse.Namespace, data: Path, manifest: dict[str, Any]) -> list[Case]:
    """The cases selected with ``--cases``."""
    files = manifest["files"]
    ours = Tool("logflow", ours=True)
    cases: list[Case] = []
    for name in args.cases:
        if name == "csv":
            cases.append(Case("csv", "clean CSV", data / gen_data.CSV_NAME,
                              files[gen_data.CSV_NAME]["rows"], 0.9,
                              [ours, Tool("duckdb", False, "read_csv({in})")]))
        elif name == "jsonl":
            cases.append(Case("jsonl", "JSONL", data / gen_data.JSONL_NAME,
                              files[gen_data.JSONL_NAME]["rows"], 0.8,
                              [ours, Tool("duckdb", False,
                                          "read_json({in}, format='newline_delimited')")]))
        elif name == "dirty":
            spec = json.loads((data / gen_data.BADLINES_NAME).read_text())
            quarantine = args.out_dir / "dirty.quarantine.jsonl"
            tools = [ours, Tool("duckdb", False, "read_csv({in}, ignore_errors=true)")]
            if not args.no_typed_ref:
                tools.append(Tool("duckdb-typed", False,
                                  f"read_csv({{in}}, ignore_errors=true, {TYPED_DIRTY})"))
            cases.append(Case("dirty", "dirty CSV, quarantine", data / gen_data.DIRTY_NAME,
                              spec["records"], 0.5, tools,
                              our_args=["--error-policy", "quarantine",
                                        "--quarantine", str(quarantine)],
                              bad_lines=spec["lines"], quarantine=quarantine))
    if args.no_ours:
        for case in cases:
            case.tools = [t for t in case.tools if not t.ours]
    return cases


def run_scaling(args: argparse.Namespace, our_base: list[str]) -> tuple[list[ToolResult],
                                                                        list[dict[str, Any]]]:
    """Converts the clean CSV at N/2 and N rows; reports peak-RSS growth."""
    n = args.rows
    sizes = [n // 2, n]
    results: list[ToolResult] = []
    for rows in sizes:
        data = data_dir_for(rows, None)
        if rows == n and args.data_dir is not None:
            data = args.data_dir
        jsonl = None if rows == gen_data.DEFAULT_ROWS else 0
        dirty = gen_data.DEFAULT_DIRTY_FRACTION if rows == gen_data.DEFAULT_ROWS else 0.0
        manifest = gen_data.generate(data, rows=rows, jsonl_rows=jsonl, dirty_fraction=dirty,
                                     seed=args.seed)
        case = Case(f"csv@{rows}", f"clean CSV at {rows:,} rows", data / gen_data.CSV_NAME,
                    manifest["files"][gen_data.CSV_NAME]["rows"], None,
                    [Tool("logflow", True), Tool("duckdb", False, "read_csv({in})")])
        if args.no_ours:
            case.tools = case.tools[1:]
        results += measure_case(case, args, args.out_dir, our_base)
    print(f"\nScaling: clean CSV at {sizes[0]:,} and {sizes[1]:,} rows (RSS = highest of the runs)")
    print(f"{'tool':<10} {'RSS@N/2 MB':>11} {'RSS@N MB':>9} {'growth':>8} {'s@N/2':>7} "
          f"{'s@N':>7}  target")
    verdicts = []
    for tool in ("duckdb",) if args.no_ours else ("logflow", "duckdb"):
        small, big = (next(r for r in results if r.tool == tool and r.case == f"csv@{s}")
                      for s in sizes)
        a, b = small.rss_mb(), big.rss_mb()
        growth = (b - a) / a * 100 if a and b else None
        target = ""
        if tool == "logflow":
            met = growth is not None and growth < SCALING_TARGET_PCT
            target = f"< {SCALING_TARGET_PCT:.0f} % {'met' if met else 'NOT MET'}"
            verdicts.append({"target": f"peak RSS growth N/2 -> N < {SCALING_TARGET_PCT} %",
                             "value": growth, "met": met})
        print(f"{tool:<10} {fmt(a, '.0f'):>11} {fmt(b, '.0f'):>9} {fmt(growth, '+.1f'):>7}% "
              f"{fmt(small.seconds(args.stat), '.2f'):>7} {fmt(big.seconds(args.stat), '.2f'):>7}"
              f"  {target}")
    return results, verdicts


def machine_info() -> dict[str, Any]:
    """CPU, memory, versions and the repository revision."""
    import duckdb
    import pyarrow

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem = next((int(line.split()[1]) * 1024 for line in
                Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")),
               None)
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        rev = ""
    return {"cpu": cpu, "cpus": os.cpu_count(), "mem_bytes": mem,
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "pyarrow": pyarrow.__version__, "repo_rev": rev, "platform": platform.platform()}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=gen_data.DEFAULT_ROWS,
                   help="records in the CSV files (default %(default)s; 200000 for a smoke run)")
    p.add_argument("--cases", default="csv,jsonl,dirty",
                   help="comma-separated subset of csv,jsonl,dirty (default all)")
    p.add_argument("--repeat", type=int, default=2, help="runs per tool (default 2)")
    p.add_argument("--stat", choices=("best", "median"), default="best",
                   help="which run time to report (default best)")
    p.add_argument("--scaling", action="store_true",
                   help="peak-RSS scaling of the clean CSV at N/2 and N rows instead of the cases")
    p.add_argument("--no-typed-ref", action="store_true",
                   help="skip the duckdb-typed reference of the dirty case")
    p.add_argument("--no-ours", action="store_true",
                   help="measure only the DuckDB reference (no targets are evaluated)")
    p.add_argument("--logflow", default=f"{shlex.quote(sys.executable)} -m logflow_dagster.cli",
                   help="command that runs our CLI (default: this python -m logflow_dagster.cli)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="input directory (default bench/data, or bench/data/rows_N if --rows "
                        "is not the default); files are generated when missing")
    p.add_argument("--out-dir", type=Path, default=BENCH_DIR / "data" / "out",
                   help="where outputs and the quarantine file go (default bench/data/out)")
    p.add_argument("--seed", type=int, default=gen_data.DEFAULT_SEED)
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    p.add_argument("--no-warm", action="store_true", help="do not pre-read the inputs")
    p.add_argument("--json-out", type=Path, default=BENCH_DIR / "data" / "bench_convert.json",
                   help="machine-readable summary (default bench/data/bench_convert.json; "
                        "'-' prints it to stdout)")
    p.add_argument("--fail-on-targets", action="store_true",
                   help="exit 1 when a target is not met")
    args = p.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(args.cases) - {"csv", "jsonl", "dirty"}
    if unknown or args.repeat < 1 or args.rows < 2:
        p.error(f"bad --cases {sorted(unknown)}" if unknown else "--repeat >= 1, --rows >= 2")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    our_base = shlex.split(args.logflow)

    info = machine_info()
    print(f"bench_convert: {info['cpu']} x{info['cpus']}, "
          f"{(info['mem_bytes'] or 0) / 2**30:.0f} GiB, python {info['python']}, "
          f"duckdb {info['duckdb']}, pyarrow {info['pyarrow']}, repo {info['repo_rev']}")
    print(f"ours: {shlex.join(our_base)} convert IN OUT --json --quiet --compression zstd ...")
    started = time.perf_counter()

    cases: dict[str, Case] = {}
    if args.scaling:
        results, verdicts = run_scaling(args, our_base)
    else:
        data = data_dir_for(args.rows, args.data_dir)
        manifest = gen_data.generate(data, rows=args.rows, seed=args.seed)
        selected = build_cases(args, data, manifest)
        cases = {c.name: c for c in selected}
        results = []
        for case in selected:
            results += measure_case(case, args, args.out_dir, our_base)
        verdicts = table(results, cases, args.stat)
        print_schemas(results)

    ours_failed = [r for r in results if r.tool == "logflow" and r.error is not None]
    failed_checks = [(r.case, r.tool, c) for r in results for c in r.checks if not c["ok"]]
    ref_failed = [r for r in results if r.tool != "logflow" and any(x.error for x in r.runs)]
    print()
    for v in verdicts:
        print(f"target {v['target']}: {fmt(v['value'], '.2f')} -> "
              f"{'met' if v['met'] else 'NOT MET'}")
    for case_name, tool, c in failed_checks:
        print(f"FAILED CHECK {case_name}/{tool}: {c['name']}: {c['detail']}")
    if ours_failed:
        print(f"\nOUR SIDE FAILED: `logflow convert` did not complete for "
              f"{', '.join(r.case for r in ours_failed)}; the reference was still measured.")
        print(f"First error: {ours_failed[0].error}")
    for r in ref_failed:
        print(f"REFERENCE FAILED on {r.case}/{r.tool}: "
              f"{next(x.error for x in r.runs if x.error)}")

    summary = {
        "machine": info,
        "params": {"rows": args.rows, "cases": args.cases, "repeat": args.repeat,
                   "stat": args.stat, "scaling": args.scaling, "logflow": our_base,
                   "seed": args.seed},
        "elapsed_s": time.perf_counter() - started,
        "results": [
            {"case": r.case, "tool": r.tool, "input_mb": r.input_mb, "records": r.records,
             "rows": r.rows, "seconds": r.seconds(args.stat), "rss_mb": r.rss_mb(),
             "cpu_s": r.cpu_s(args.stat),
             "rows_per_s": r.records / s if (s := r.seconds(args.stat)) else None,
             "mb_per_s": r.input_mb / s if s else None,
             "cpu_busy_before": r.busy_before, "error": r.error, "checks": r.checks,
             "schema": r.schema,
             "runs": [{k: v for k, v in asdict(x).items() if k != "stderr_tail"}
                      for x in r.runs]}
            for r in results],
        "targets": verdicts,
        "ok": not ours_failed and not failed_checks and not ref_failed,
    }
    return write_summary(summary, args.json_out, fail_on_targets=args.fail_on_targets)


def write_summary(summary: dict[str, Any], json_out: Path, *, fail_on_targets: bool) -> int:
    """Writes the JSON summary (``-`` prints it) and returns the process exit code."""
    text = json.dumps(summary, indent=2, default=str)
    if str(json_out) == "-":
        print(text)
    else:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(text + "\n")
        print(f"\nsummary JSON: {json_out}")
    if not summary["ok"]:
        return 1
    if fail_on_targets and not all(v["met"] for v in summary["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
