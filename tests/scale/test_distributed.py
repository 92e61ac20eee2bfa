"""End to end on real servers: files land in an S3 prefix; the landing sensor requests their
partitions; the runs execute on Celery workers (2 processes), on the multiprocess executor, and
with ``logflow run --workers 2``, against a Dagster instance on PostgreSQL, with the Iceberg
catalog on PostgreSQL and the warehouse on S3. DuckDB reads the table back from S3.

A worker's step process killed with SIGKILL mid-step leaves the table at a valid snapshot and
the partition re-runs to the same rows and checksum.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from logflow_dagster.core.convert import convert
from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.runner import _run_partition, run_once
from logflow_dagster.samples import events, write_csv
from logflow_dagster.scaffold import init_project
from tests.scale.conftest import put
from tests.scale.servers import BROKER_URL, S3Server, port_open, unavailable

pytestmark = [pytest.mark.services, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
FILES = 12
HASHED = '"case_id", "activity", "timestamp", "resource", "amount", "region"'
VICTIM_ROWS = 1_000_000  # its step runs for seconds, so the kill lands mid-step


def _project(root: Path, s3: S3Server, prefix: str, pg_url: str, execution: dict) -> Path:
    """A logflow project: landing and warehouse on S3, catalog and Dagster instance on
    PostgreSQL (the instance's dagster.yaml as the deployment profile writes it)."""
    init_project(root)
    config = {"project": "scale",
              "catalog": {"uri": pg_url, "warehouse": f"{prefix}/wh",
                          "properties": s3.properties},
              "sources": [{"name": "events", "landing": f"{prefix}/landing/*.csv",
                           "table": "raw.events", "error_policy": "quarantine"}],
              "checks": {"raw.events": [{"type": "not_null", "column": "case_id",
                                         "blocking": True}]},
              "lineage": {"transport": "off"},
              "execution": execution}
    (root / "logflow.yaml").write_text(yaml.safe_dump(config))
    home = root / ".logflow" / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump({
        "telemetry": {"enabled": False},
        "storage": {"postgres": {"postgres_url": pg_url}}}))
    return root


def _land(s3: S3Server, prefix: str, tmp: Path, count: int = FILES) -> dict[str, Path]:
    """``count`` of 12 small CSV files (a few planted bad rows) into the S3 landing; local
    copies by URI."""
    evs = events(cases=600)
    local = tmp / "local"
    local.mkdir()
    files = {}
    for i in range(count):
        path = local / f"part-{i:02d}.csv"
        write_csv(path, evs[i::FILES], bad_every=200 if i % 3 == 0 else 0)
        uri = f"{prefix}/landing/part-{i:02d}.csv"
        put(s3, uri, path)
        files[uri] = path
    return files


def _expected(files: dict[str, Path], tmp: Path) -> dict[str, tuple[int, int]]:
    """Per URI, (rows, checksum) of the file converted here in one process, read by DuckDB."""
    out = {}
    for uri, path in files.items():
        dst = tmp / "expected" / (path.name + ".parquet")
        result = convert(path, dst, error_policy="quarantine")
        assert result.rows_read == result.rows_written + result.rows_rejected
        row = duckdb.sql(f"SELECT count(*), coalesce(sum(hash({HASHED})), 0)::HUGEINT "
                         f"FROM '{dst}'").fetchall()[0]
        out[uri] = (int(row[0]), int(row[1]))
    return out


def _table_state(root: Path, s3: S3Server) -> dict[str, tuple[int, int]]:
    """Per source URI, (rows, checksum) of the table as DuckDB reads it from S3."""
    config = yaml.safe_load((root / "logflow.yaml").read_text())["catalog"]
    catalog = open_catalog(CatalogConfig(uri=config["uri"], warehouse=config["warehouse"],
                                         properties=config["properties"]))
    try:
        table = catalog.load_table("raw.events")
    finally:
        close_catalog(catalog)
    con = duckdb_connection(properties=s3.properties)
    rows = con.execute(f"SELECT _source_uri, count(*), sum(hash({HASHED}))::HUGEINT "
                       f"FROM {iceberg_scan_sql(table)} GROUP BY 1").fetchall()
    con.close()
    return {uri: (int(n), int(h)) for uri, n, h in rows}


def _snapshots(root: Path) -> int:
    config = yaml.safe_load((root / "logflow.yaml").read_text())["catalog"]
    catalog = open_catalog(CatalogConfig(uri=config["uri"], warehouse=config["warehouse"],
                                         properties=config["properties"]))
    try:
        return len(catalog.load_table("raw.events").snapshots())
    finally:
        close_catalog(catalog)


def _check_all_ingested(root: Path, s3: S3Server, summary, expected) -> None:
    assert summary.runs == FILES and summary.failed_runs == 0, summary
    assert summary.checks_failed == 0 and summary.checks_passed == 2 * FILES  # accounting+rule
    assert summary.rows_written == sum(n for n, _ in expected.values())
    assert summary.rows_rejected > 0  # the planted bad rows, quarantined
    assert _table_state(root, s3) == expected  # every row of every file, nothing else
    assert _snapshots(root) >= FILES  # one commit per file: none lost to a concurrent one


@pytest.fixture
def celery_workers(tmp_path: Path) -> Iterator[callable]:
    """Starts Celery workers (``dagster-celery worker start``) for a project; stops them."""
    if not port_open(5672):
        unavailable("RabbitMQ not reachable on 127.0.0.1:5672")
    started: list[subprocess.Popen] = []

    def start(root: Path, count: int) -> list[Path]:
        import dagster as dg

        # the instance's schema first (as `dagster instance migrate` does in a deployment):
        # workers starting at once on an empty database race creating it
        with dg.DagsterInstance.from_config(str(root / ".logflow" / "dagster")):
            pass
        config = tmp_path / "celery.yaml"
        config.write_text(yaml.safe_dump({"execution": {"config": {"broker": BROKER_URL}}}))
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "DAGSTER_HOME": str(root / ".logflow" / "dagster"),
               "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               "PYTHONPATH": str(REPO), "DAGSTER_DISABLE_TELEMETRY": "1"}
        logs = []
        for i in range(count):
            log = tmp_path / f"worker{i}.log"
            logs.append(log)
            with log.open("wb") as out:
                started.append(subprocess.Popen(
                    [str(bin_dir / "dagster-celery"), "worker", "start", "-A",
                     "dagster_celery.app", "-y", str(config), "-n", f"lf{i}-{os.getpid()}",
                     "--", "--concurrency=1", "--without-gossip", "--without-mingle"],
                    env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True))
        deadline = time.monotonic() + 90
        while not all("ready." in log.read_text(errors="replace") for log in logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                pytest.fail("celery workers did not start: " + " | ".join(
                    log.read_text(errors="replace")[-1500:] for log in logs))
            time.sleep(0.3)
        return logs

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_celery_executor_two_workers_and_a_killed_worker(
        tmp_path: Path, s3: S3Server, s3_prefix: str, pg_url: str, celery_workers) -> None:
    root = _project(tmp_path / "proj", s3, s3_prefix, pg_url,
                    {"executor": "celery", "broker": BROKER_URL})
    files = _land(s3, s3_prefix, tmp_path)
    expected = _expected(files, tmp_path)
    logs = celery_workers(root, 2)
    summary = run_once(root, settle_s=0.5, workers=2)  # 2 runs at once, steps on the workers
    _check_all_ingested(root, s3, summary, expected)
    done = [log.read_text(errors="replace").count("succeeded in") for log in logs]
    assert sum(done) == FILES and all(done), done  # every step ran on a worker, both worked

    # a bigger file; its step's worker process is killed with SIGKILL while it ingests
    victim_local = tmp_path / "local" / "victim.csv"
    duckdb.sql(f"""COPY (SELECT 'C' || lpad((i // 5)::VARCHAR, 7, '0') AS case_id,
        ['create order', 'approve', 'ship'][i % 3 + 1] AS activity,
        TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 1 SECOND AS "timestamp",
        'clerk-' || lpad((i % 20)::VARCHAR, 2, '0') AS resource,
        round((i % 10000) / 100.0, 2) AS amount, ['EU', 'US', 'APAC'][i % 3 + 1] AS region,
        'note ' || i AS note
        FROM range({VICTIM_ROWS}) t(i)) TO '{victim_local}' (HEADER)""")
    victim = f"{s3_prefix}/landing/victim.csv"
    put(s3, victim, victim_local)
    expected.update(_expected({victim: victim_local}, tmp_path))
    before = _table_state(root, s3)
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.update(
        summary=run_once(root, settle_s=0.5, workers=1)))
    killed = _kill_step_process(root, runner)
    assert killed, "the victim's step was never seen running"
    assert outcome["summary"].failed_runs == 1
    after = _table_state(root, s3)  # a valid snapshot: the file's rows entirely, or not at all
    assert {u: v for u, v in after.items() if u != victim} == before
    assert after.get(victim, expected[victim]) == expected[victim]

    rerun = _run_partition((str(root), "raw.events", victim, "rerun", {}))
    assert rerun["success"] and rerun["checks_failed"] == 0
    assert _table_state(root, s3) == expected  # the same rows and checksum as one process


def _kill_step_process(root: Path, runner: threading.Thread) -> bool:
    """Starts ``runner``; once the victim's step has started on a worker and written its first
    data file to S3 (or after 0.5 s), SIGKILLs the worker process running it."""
    os.environ["DAGSTER_HOME"] = str(root / ".logflow" / "dagster")
    import dagster as dg

    runner.start()
    killed = False
    with dg.DagsterInstance.get() as instance:
        deadline = time.monotonic() + 120
        while runner.is_alive() and not killed and time.monotonic() < deadline:
            for run in instance.get_runs(limit=5):
                if run.tags.get("dagster/partition", "").endswith("victim.csv"):
                    starts = [e for e in instance.all_logs(run.run_id)
                              if e.dagster_event is not None
                              and e.dagster_event.event_type_value == "STEP_START"]
                    if starts:
                        time.sleep(0.5)  # into the decode, well before the commit
                        os.kill(starts[0].dagster_event.pid, signal.SIGKILL)
                        killed = True
                        break
            time.sleep(0.05)
    runner.join(timeout=180)
    assert not runner.is_alive()
    return killed


def test_multiprocess_executor(tmp_path: Path, s3: S3Server, s3_prefix: str,
                               pg_url: str) -> None:
    root = _project(tmp_path / "proj", s3, s3_prefix, pg_url,
                    {"executor": "multiprocess", "max_concurrent": 2,
                     "start_method": "forkserver"})
    files = _land(s3, s3_prefix, tmp_path)
    summary = run_once(root, settle_s=0.5, workers=2)
    _check_all_ingested(root, s3, summary, _expected(files, tmp_path))


def test_logflow_run_workers_two(tmp_path: Path, s3: S3Server, s3_prefix: str,
                                 pg_url: str) -> None:
    root = _project(tmp_path / "proj", s3, s3_prefix, pg_url, {})
    files = _land(s3, s3_prefix, tmp_path)
    out = subprocess.run([sys.executable, "-m", "logflow_dagster.cli", "run", "--project",
                          str(root), "--workers", "2", "--json"], capture_output=True,
                         text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)

    class _S:  # the JSON summary as attributes
        def __init__(self, d: dict) -> None:
            self.__dict__.update(d)

    _check_all_ingested(root, s3, _S(summary), _expected(files, tmp_path))


def test_deployment_profile_daemon_queue_and_celery(
        tmp_path: Path, s3: S3Server, s3_prefix: str, pg_url: str, celery_workers) -> None:
    """The profile as deployed: `dagster-daemon` ticks the landing sensor, the run queue
    (QueuedRunCoordinator, one run per `logflow/table`) launches the runs, their steps run on
    Celery workers; the runs into the table never overlap."""
    from logflow_dagster.scaffold import DISTRIBUTED_DAGSTER_YAML

    root = _project(tmp_path / "proj", s3, s3_prefix, pg_url,
                    {"executor": "celery", "broker": BROKER_URL})
    home = root / ".logflow" / "dagster"
    (home / "dagster.yaml").write_text(DISTRIBUTED_DAGSTER_YAML)
    files = _land(s3, s3_prefix, tmp_path, count=4)  # 4 files: the runs go one at a time
    expected = _expected(files, tmp_path)
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": pg_url,
           "PYTHONPATH": str(REPO), "DAGSTER_DISABLE_TELEMETRY": "1"}
    os.environ["DAGSTER_POSTGRES_URL"] = pg_url
    celery_workers(root, 2)
    log = (tmp_path / "daemon.log").open("wb")
    daemon = subprocess.Popen([str(Path(sys.executable).with_name("dagster-daemon")), "run",
                               "-w", "workspace.yaml"], cwd=root, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    import dagster as dg

    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                records = [r for r in instance.get_run_records()
                           if "dagster/partition" in r.dagster_run.tags]
                done = [r for r in records if r.dagster_run.is_finished]
                if len(done) == len(files):
                    break
                assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()[-3000:]
                time.sleep(2)
            assert len(done) == len(files), (tmp_path / "daemon.log").read_text()[-3000:]
            assert all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in done)
            assert {r.dagster_run.tags["logflow/table"] for r in done} == {"raw.events"}
            spans = sorted((r.start_time, r.end_time) for r in done)
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # one at a time
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        log.close()
        os.environ.pop("DAGSTER_POSTGRES_URL", None)
    assert _table_state(root, s3) == expected
