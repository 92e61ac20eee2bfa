"""The repository's example project is what `logflow init` writes, and it validates."""

from __future__ import annotations

from pathlib import Path

from logflow_dagster import scaffold
from logflow_dagster.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_example_project_is_the_scaffold() -> None:
    text = (ROOT / "logflow.yaml").read_text()
    assert text.endswith(scaffold.LOGFLOW_YAML.format(name="logflow-example"))
    assert (ROOT / "quality" / "models.py").read_text() == scaffold.QUALITY_MODELS_PY
    assert (ROOT / "quality" / "orders_suite.json").read_text() == scaffold.ORDERS_SUITE_JSON


def test_example_project_declares_a_realistic_rule_set() -> None:
    config = load_config(ROOT / "logflow.yaml")
    types = {r.type for rules in config.checks.values() for r in rules}
    assert {"not_null", "accepted_values", "range", "freshness", "pandera",
            "great_expectations"} <= types
    warn = [r for r in config.checks["raw.orders_csv"] if not r.blocking]
    assert any(r.type == "accepted_values" and r.column == "region" for r in warn)


def test_example_project_models_are_the_scaffold() -> None:
    from logflow_dagster.semantic.loader import load_model

    for name, text in scaffold.MODEL_FILES.items():
        assert (ROOT / name).read_text() == text
    config = load_config(ROOT / "logflow.yaml")
    model = load_model(config.semantic.models, config.root)
    assert set(model.cubes) == {"sales", "events", "cases"}
    assert {p.path for p in model.pre_aggregations()} == {
        "sales.revenue_by_day", "events.events_by_activity", "cases.cases_by_variant"}
