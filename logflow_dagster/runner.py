"""``logflow run``: one headless pass for scripts and cron.

Evaluates every landing sensor against the project's Dagster instance (``.logflow/dagster``),
waits for files still being written, runs the partitions the sensors request, then the table
maintenance whose thresholds are passed, and reports what happened. Sensor cursors are kept
in ``.logflow/sensor_cursors.json``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .scaffold import dagster_home

# the run's events are in the instance (dagster dev shows them); keep the terminal for the summary
_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class RunSummary:
    """What one pass did."""

    runs: int = 0
    failed_runs: int = 0
    partitions: list[str] = field(default_factory=list)
    maintained: list[str] = field(default_factory=list)
    rollups: list[str] = field(default_factory=list)
    rows_written: int = 0
    rows_rejected: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def run_once(root: Path, *, settle_s: float = 1.0, workers: int = 1) -> RunSummary:
    """Runs what the project's sensors request now.

    Args:
        root: The project folder (with ``logflow.yaml``).
        settle_s: Seconds between the two sensor ticks that tell a finished file from one
            still being written.
        workers: Partition runs at once, each in its own process (Iceberg commits retry on
            conflicts, so runs into one table may overlap).

    Examples:
        .. code-block:: python

            from pathlib import Path
            from logflow_dagster.runner import run_once

            # a project made by `logflow init logflow-demo --samples`: three landed files
            summary = run_once(Path("logflow-demo"))
            print(summary.runs, summary.rows_written, summary.checks_failed)
    """
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ["DAGSTER_HOME"] = str(dagster_home(root).resolve())
    import dagster as dg

    from .config import load_config
    from .definitions_builder import build_definitions

    started = time.perf_counter()
    config = load_config(root / "logflow.yaml")
    defs = build_definitions(config)
    cursors_file = root / ".logflow" / "sensor_cursors.json"
    cursors: dict[str, str] = (json.loads(cursors_file.read_text())
                               if cursors_file.exists() else {})
    summary = RunSummary()
    with dg.DagsterInstance.get() as instance:
        requests = []
        for tick in range(2):
            for source in config.sources:
                name = f"{source.name}_landing"
                sensor = defs.resolve_sensor_def(name)
                ctx = dg.build_sensor_context(instance=instance, cursor=cursors.get(name),
                                              definitions=defs)
                result = sensor(ctx)
                for req in result.dynamic_partitions_requests or []:
                    instance.add_dynamic_partitions(req.partitions_def_name,
                                                    list(req.partition_keys))
                requests += [(source, r) for r in result.run_requests or []]
                cursors[name] = result.cursor or ""
            if tick == 0:
                time.sleep(settle_s)
        cursors_file.write_text(json.dumps(cursors))
        jobs = [(str(root), source.table, req.partition_key, req.run_key, dict(req.tags))
                for source, req in requests]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            outcomes = list(pool.map(_run_partition, jobs))
    else:
        outcomes = [_run_partition(job) for job in jobs]
    for (_, table, partition, _, _), outcome in zip(jobs, outcomes, strict=True):
        summary.runs += 1
        summary.partitions.append(f"{table}:{partition}")
        if not outcome["success"]:
            summary.failed_runs += 1
        summary.rows_written += outcome["rows_written"]
        summary.rows_rejected += outcome["rows_rejected"]
        summary.checks_passed += outcome["checks_passed"]
        summary.checks_failed += outcome["checks_failed"]
    with dg.DagsterInstance.get() as instance:
        due = _maintenance_due(defs, instance) if config.sources else []
        for key in due:  # after the ingests: compaction and expiry where thresholds are passed
            out = dg.materialize([defs.resolve_assets_def(key)], instance=instance,
                                 raise_on_error=False, run_config=_QUIET)
            summary.maintained.append(key.to_user_string())
            summary.failed_runs += 0 if out.success else 1
        if config.semantic.models:  # then the rollups whose tables changed (or never built)
            summary.failed_runs += _refresh_rollups(root, config, defs, instance, summary)
    summary.duration_s = round(time.perf_counter() - started, 3)
    return summary


def _refresh_rollups(root: Path, config: Any, defs: Any, instance: Any,
                     summary: RunSummary) -> int:
    """Materializes the rollup assets that are not built or stale (as Dagster's eager
    automation would); returns the number of failed runs."""
    import dagster as dg

    from .assets.rollups import rollup_key
    from .core.errors import UsageError
    from .services import Project
    from .services.semantic import rollup_specs, rollup_status

    try:
        status = rollup_status(root)
    except UsageError:  # a table of the model is not ingested yet: nothing to build from
        return 0
    specs = {s["rollup"]: s for s in rollup_specs(config)}
    from .services import list_tables

    ingested = {t.table for t in list_tables(Project.from_config(config))}
    failed = 0
    for name, why in status.items():
        if why is None or not set(specs[name]["sources"]) <= ingested:
            continue  # fresh, or a table it reads is not ingested yet (its ingest failed)
        key = rollup_key(config, specs[name]["table"])
        out = dg.materialize([defs.resolve_assets_def(key)], instance=instance,
                             raise_on_error=False, run_config=_QUIET)
        summary.rollups.append(key.to_user_string())
        failed += 0 if out.success else 1
    return failed


def dev_command(root: Path, *, host: str = "127.0.0.1", port: int = 3000
                ) -> tuple[list[str], dict[str, str], Path]:
    """``dagster dev`` for a project: the command, its environment (``DAGSTER_HOME`` = the
    project's instance, telemetry off) and its working folder.

    Raises:
        UsageError: The folder has no ``workspace.yaml`` (or ``definitions.py``).

    Example:
        >>> import tempfile
        >>> from logflow_dagster.scaffold import init_project
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = init_project(Path(tmp))
        ...     argv, env, cwd = dev_command(Path(tmp), port=3001)
        ...     argv[-5:], Path(env["DAGSTER_HOME"]).relative_to(cwd).as_posix()
        (['workspace.yaml', '-h', '127.0.0.1', '-p', '3001'], '.logflow/dagster')
    """
    import sys

    from .core.errors import UsageError

    root = root.resolve()
    if not (root / "workspace.yaml").exists():
        raise UsageError(f"{root}: no workspace.yaml (create a project with `logflow init`)")
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home(root).resolve()),
           "DAGSTER_DISABLE_TELEMETRY": os.environ.get("DAGSTER_DISABLE_TELEMETRY", "1")}
    argv = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml",
            "-h", host, "-p", str(port)]
    return argv, env, root


def _maintenance_due(defs: Any, instance: Any) -> list[Any]:
    """Maintenance assets the threshold sensor asks for now."""
    import dagster as dg

    sensor = defs.resolve_sensor_def("logflow_maintenance_thresholds")
    with dg.build_sensor_context(instance=instance, definitions=defs,
                                 resources=defs.resources) as context:
        result = sensor(context)
    return [key for req in result.run_requests or [] for key in req.asset_selection or []]


def _run_partition(job: tuple[str, str, str, str, dict[str, str]]) -> dict[str, Any]:
    """Materializes one partition against the project's instance (in this or a worker
    process) and reports rows and check results.

    With ``execution.executor`` set to ``multiprocess`` or ``celery`` the run goes through
    ``execute_job`` on the project's ``definitions.py`` (a reconstructable code location), so
    its steps run where that executor puts them (child processes, Celery workers); otherwise
    it runs in this process."""
    root, table, partition, run_key, tags = job
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ["DAGSTER_HOME"] = str(dagster_home(Path(root)).resolve())
    import dagster as dg

    from .assets.specs import table_key
    from .config import load_config
    from .definitions_builder import build_definitions

    config = load_config(Path(root) / "logflow.yaml")
    key = table_key(config, table)
    run_tags = {**tags, "logflow/run_key": run_key}
    outcome = {"success": False, "rows_written": 0, "rows_rejected": 0, "checks_passed": 0,
               "checks_failed": 0}
    with dg.DagsterInstance.get() as instance:
        if config.execution.executor in ("multiprocess", "celery"):
            recon = _reconstructable_asset_job(Path(root), key)
            out: Any = dg.execute_job(
                recon, instance, run_config=_QUIET, raise_on_error=False,
                tags={**run_tags, "dagster/partition": partition})
            events = out.all_events
            outcome["success"] = out.success
            mats = [e.event_specific_data.materialization for e in events
                    if e.is_step_materialization]
            checks = [e.event_specific_data for e in events
                      if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        else:
            asset = build_definitions(config).resolve_assets_def(key)
            out = dg.materialize([asset], instance=instance, partition_key=partition,
                                 raise_on_error=False, tags=run_tags, run_config=_QUIET)
            outcome["success"] = out.success
            mats = [m.materialization for m in out.get_asset_materialization_events()]
            checks = list(out.get_asset_check_evaluations())
    for mat in mats:
        md = mat.metadata
        outcome["rows_written"] += int(md["dagster/row_count"].value)
        outcome["rows_rejected"] += int(md["logflow/rows_rejected"].value)
    for check in checks:
        outcome["checks_passed" if check.passed else "checks_failed"] += 1
    return outcome


#: The one-asset job a partition runs as under the multiprocess and celery executors.
PARTITION_JOB = "logflow_partition_run"


def _reconstructable_asset_job(root: Path, key: Any) -> Any:
    """A one-asset job of the project as a code pointer other processes (Celery workers, the
    multiprocess executor's children) rebuild: :func:`project_asset_job` called with the same
    arguments there (Dagster's public ``build_reconstructable_job``).

    Raises:
        UsageError: The project has no ``definitions.py``.
    """
    import dagster as dg

    from .core.errors import UsageError

    path = root.resolve() / "definitions.py"
    if not path.exists():
        raise UsageError(f"{path}: no such file; the multiprocess and celery executors load "
                         "the project from it (`logflow init` writes one)")
    return dg.build_reconstructable_job(
        __name__, project_asset_job.__name__,
        reconstructable_args=(str(root.resolve()), key.to_user_string()),  # type: ignore[arg-type]
        reconstructor_working_directory=str(root.resolve()))


def project_asset_job(root: str, asset_key: str) -> Any:
    """The job that materializes one asset of the project whose ``defs`` live in
    ``root/definitions.py`` (the user's file, with any resources they swapped in).

    Args:
        root: The project folder.
        asset_key: The asset, as ``raw/orders``.
    """
    import importlib.util

    import dagster as dg

    path = Path(root) / "definitions.py"
    spec = importlib.util.spec_from_file_location("logflow_project_definitions", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    job = dg.define_asset_job(PARTITION_JOB,
                              selection=[dg.AssetKey.from_user_string(asset_key)])
    return dg.Definitions.merge(module.defs, dg.Definitions(jobs=[job])).resolve_job_def(
        PARTITION_JOB)
