"""Quality rules as asset checks on a real instance: one check per rule on each landed file,
blocking rules stop downstream assets.

(No ``from __future__ import annotations``: the downstream asset is a Dagster decorator.)
"""

import os
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from logflow_dagster import build_definitions
from logflow_dagster.assets import partitions_for
from logflow_dagster.config import ProjectConfig, parse_config
from logflow_dagster.core.errors import UsageError

os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"

KEY = dg.AssetKey(["raw", "orders"])
GOOD = """case_id,activity,amount,region
O-1,create,10.5,EU
O-2,ship,20.0,US
O-3,pay,30.0,EU
"""
BAD = """case_id,activity,amount,region
O-1,create,10.5,EU
,ship,-4.0,XX
O-3,pay,3000.0,EU
"""


def _config(root: Path, blocking_range: bool) -> ProjectConfig:
    (root / "landing" / "csv").mkdir(parents=True, exist_ok=True)
    return parse_config({"root": str(root), "sources": [
        {"name": "orders", "landing": "landing/csv", "table": "raw.orders"}],
        "checks": {"raw.orders": [
            {"type": "row_count", "min": 1, "blocking": True},
            {"type": "range", "column": "amount", "min": 0, "max": 1000,
             "blocking": blocking_range},
            {"type": "accepted_values", "column": "region", "values": ["EU", "US"]},
            {"type": "not_null", "column": "case_id"}]}})


def _downstream(config: ProjectConfig) -> dg.AssetsDefinition:
    @dg.asset(key=["marts", "orders_clean"], deps=[KEY],
              partitions_def=partitions_for(config.sources[0]))
    def orders_clean() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"ran": True})

    return orders_clean


def _run(config: ProjectConfig, instance: dg.DagsterInstance, name: str, text: str) -> Any:
    key = f"landing/csv/{name}"
    (Path(config.root) / key).write_text(text, encoding="utf-8")
    instance.add_dynamic_partitions("orders_files", [key])
    ingest = build_definitions(config).resolve_assets_def(KEY)  # resources bound
    return dg.materialize([ingest, _downstream(config)], instance=instance, partition_key=key,
                          raise_on_error=False)


def _checks(result: Any) -> dict[str, Any]:
    return {c.check_name: c for c in result.get_asset_check_evaluations()}


def _materialized(result: Any) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_rule_checks_per_file_and_non_blocking_failures(tmp_path: Path) -> None:
    config = _config(tmp_path, blocking_range=False)
    specs = {s.name: s for s in build_definitions(config).resolve_assets_def(KEY).check_specs}
    assert {n: s.blocking for n, s in specs.items()} == {
        "row_accounting": True, "row_count": True, "range_amount": False,
        "accepted_values_region": False, "not_null_case_id": False}
    assert specs["range_amount"].description == "amount between 0 and 1000"
    with dg.instance_for_test() as instance:
        good = _run(config, instance, "good.csv", GOOD)
        assert good.success
        assert {n: c.passed for n, c in _checks(good).items()} == dict.fromkeys(specs, True)
        assert _checks(good)["range_amount"].metadata["failing_count"].value == 0

        bad = _run(config, instance, "bad.csv", BAD)  # only non-blocking rules fail: WARN
        assert bad.success
        checks = _checks(bad)
        assert {n: c.passed for n, c in checks.items()} == {
            "row_accounting": True, "row_count": True, "range_amount": False,
            "accepted_values_region": False, "not_null_case_id": False}
        rng = checks["range_amount"]
        assert rng.severity == dg.AssetCheckSeverity.WARN
        assert rng.metadata["failing_count"].value == 2
        assert rng.metadata["sample"].value == [-4.0, 3000.0]
        assert rng.metadata["metrics"].value == {"rows": 3, "min": -4.0, "max": 3000.0}
        assert rng.description == "2 rows fail: amount between 0 and 1000"
        assert checks["accepted_values_region"].metadata["sample"].value == ["XX"]
        assert checks["not_null_case_id"].metadata["failing_count"].value == 1
        assert _materialized(bad) == {"raw/orders", "marts/orders_clean"}


def test_failing_blocking_rule_stops_downstream(tmp_path: Path) -> None:
    config = _config(tmp_path, blocking_range=True)
    with dg.instance_for_test() as instance:
        result = _run(config, instance, "bad.csv", BAD)
        assert not result.success
        rng = _checks(result)["range_amount"]
        assert (rng.passed, rng.severity) == (False, dg.AssetCheckSeverity.ERROR)
        assert rng.metadata["failing_count"].value == 2
        # the file was ingested (and its checks recorded), then the step failed on the check
        assert _materialized(result) == {"raw/orders"}
        failures = result.get_step_failure_events()
        assert [f.step_key for f in failures] == ["raw__orders"]
        error = failures[0].step_failure_data.error
        assert error.cls_name == "DagsterAssetCheckFailedError"
        assert "range_amount" in error.message
        started = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
        assert started == ["raw__orders"]  # the downstream step never ran
        assert instance.get_latest_materialization_event(
            dg.AssetKey(["marts", "orders_clean"])) is None


def test_invalid_rule_fails_at_definition_time(tmp_path: Path) -> None:
    config = parse_config({"root": str(tmp_path), "sources": [
        {"name": "orders", "landing": "landing/csv", "table": "raw.orders"}],
        "checks": {"raw.orders": [{"type": "range", "column": "amount"}]}})
    with pytest.raises(UsageError, match=r"checks\.raw\.orders: rule range: give 'min'"):
        build_definitions(config)
