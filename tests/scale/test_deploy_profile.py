"""The distributed deployment profile (`logflow init --profile distributed`) and what it
relies on: the instance loads with PostgreSQL storage and a run queue limited per table, the
project picks the Celery executor, and the landing sensors tag every run with its table."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from logflow_dagster import build_definitions
from logflow_dagster.config import load_config, parse_config
from logflow_dagster.core.errors import UsageError
from logflow_dagster.definitions_builder import build_executor
from logflow_dagster.scaffold import init_project
from logflow_dagster.sensors.landing import TABLE_TAG


def _env(monkeypatch: pytest.MonkeyPatch, pg_url: str = "postgresql+psycopg2://u@h:5432/d"
         ) -> None:
    for key, value in {"DAGSTER_POSTGRES_URL": pg_url, "AWS_ACCESS_KEY_ID": "k",
                       "AWS_SECRET_ACCESS_KEY": "s", "LOGFLOW_LANDING": "s3://b/in",
                       "LOGFLOW_CELERY_BROKER": "redis://127.0.0.1:6379/0"}.items():
        monkeypatch.setenv(key, value)


def test_distributed_profile_files_and_config(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    written = init_project(tmp_path, profile="distributed")
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {"logflow.yaml", "definitions.py", "workspace.yaml", "deploy/celery.yaml",
            "deploy/env.sh", ".logflow/dagster/dagster.yaml"} <= names
    _env(monkeypatch)
    config = load_config(tmp_path / "logflow.yaml")
    assert config.catalog.uri.startswith("postgresql+psycopg2://")
    assert config.catalog.warehouse == "s3://lake/warehouse"
    assert config.sources[0].landing == "s3://b/in/*.csv"
    assert config.execution.executor == "celery"
    assert config.execution.broker == "redis://127.0.0.1:6379/0"
    job = build_definitions(config).resolve_implicit_global_asset_job_def()
    assert job.executor_def.name == "celery"
    worker = yaml.safe_load((tmp_path / "deploy/celery.yaml").read_text())
    assert worker["execution"]["config"]["broker"].startswith("amqp://")


def test_default_executor_is_unchanged_and_others_apply() -> None:
    config = parse_config({"root": "/p"})
    assert config.execution.executor == "default" and build_executor(config.execution) is None
    assert build_executor(parse_config({"root": "/p", "execution": {
        "executor": "in_process"}}).execution).name == "in_process"
    assert build_executor(parse_config({"root": "/p", "execution": {
        "executor": "multiprocess", "max_concurrent": 3}}).execution).name == "multiprocess"
    forked = build_executor(parse_config({"root": "/p", "execution": {
        "executor": "multiprocess", "start_method": "forkserver"}}).execution)
    job = dg.Definitions(assets=[dg.AssetSpec("a")], executor=forked
                         ).resolve_implicit_global_asset_job_def()
    assert job.executor_def.name == "multiprocess"


def test_unknown_profile_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown profile"):
        init_project(tmp_path, profile="cluster")


@pytest.mark.services
def test_profile_instance_is_postgres_with_a_queue_per_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    init_project(tmp_path, profile="distributed")
    _env(monkeypatch, pg_url)
    home = tmp_path / ".logflow" / "dagster"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        coordinator = instance.run_coordinator
        assert type(coordinator).__name__ == "QueuedRunCoordinator"
        limits = coordinator.get_run_queue_config().tag_concurrency_limits
        assert limits == [{"key": TABLE_TAG, "value": {"applyLimitPerUniqueValue": True},
                           "limit": 1}]


def test_landing_sensor_tags_runs_with_their_table(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("x\n1\n")
    config = parse_config({"root": str(tmp_path), "sources": [
        {"name": "s", "landing": "in", "table": "raw.t"}]})
    defs = build_definitions(config)
    sensor = defs.resolve_sensor_def("s_landing")
    with dg.instance_for_test() as instance:
        cursor, requests = None, []
        for _ in range(2):
            result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                    definitions=defs))
            requests += result.run_requests or []
            cursor = result.cursor
    assert [(r.partition_key, r.tags) for r in requests] == [("in/a.csv", {TABLE_TAG: "raw.t"})]
