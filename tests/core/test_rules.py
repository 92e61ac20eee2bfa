"""Quality rules on the rows one landed file wrote into an Iceberg table, read by DuckDB."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from logflow_dagster.config import RuleConfig
from logflow_dagster.core.errors import UsageError
from logflow_dagster.core.quality.rules import (
    Rule,
    RuleData,
    evaluate_rules,
    rules_from_config,
)
from logflow_dagster.core.result import IngestResult
from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.lakehouse.quality import evaluate_partition

A_CSV = """case_id,activity,timestamp,amount,region,note
C-001,create,2024-03-01T08:00:00Z,10.5,EU,
C-002,ship,2024-03-01T09:00:00Z,20.0,US,x
C-002,pay,2024-03-02T09:00:00Z,-5.0,XX,
bad-3,ship,2024-03-03T09:00:00Z,3000.0,EU,y
C-004,pay,2024-03-03T10:00:00Z,99.0,APAC,z
C-004,pay,2024-03-04T10:00:00Z,42.0,EU,z
"""
B_CSV = """case_id,activity,timestamp,amount,region,note
C-001,create,2024-04-01T08:00:00Z,1.0,EU,p
C-101,ship,2024-04-01T09:00:00Z,2.0,US,q
C-102,pay,2024-04-02T09:00:00Z,3.0,EU,r
"""
NEWEST_A = datetime(2024, 3, 4, 10, tzinfo=UTC).timestamp()


class Lake:
    """Files a.csv and b.csv ingested into one table; rules read each file's rows."""

    def __init__(self, root: Path, results: dict[str, IngestResult]) -> None:
        self.root, self.results = root, results
        cat = open_catalog(CatalogConfig.embedded(root))
        self.table = cat.load_table("raw.orders")
        close_catalog(cat)
        self.con = duckdb_connection()

    def uri(self, name: str) -> str:
        return "file://" + str(self.root / name)

    def data(self, name: str = "a.csv") -> RuleData:
        return RuleData(self.con, iceberg_scan_sql(self.table), self.uri(name))

    def check(self, config: dict[str, Any], name: str = "a.csv", **kw: Any):
        return Rule.from_config(config, root=self.root).evaluate(self.data(name), **kw)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    root = tmp_path_factory.mktemp("rules")
    results = {}
    for name, text in (("a.csv", A_CSV), ("b.csv", B_CSV)):
        (root / name).write_text(text, encoding="utf-8")
        results[name] = ingest(root / name, "raw.orders", project_dir=root)
    lake = Lake(root, results)
    yield lake
    lake.con.close()


def test_not_null(lake: Lake) -> None:
    assert lake.check({"type": "not_null", "column": "case_id"}).passed
    out = lake.check({"type": "not_null", "column": "note"})
    assert (out.passed, out.failing_count, out.metrics) == (False, 2, {"rows": 6})
    assert out.sample == [  # failing rows (lineage columns left out), ordered by all columns
        {"case_id": "C-001", "activity": "create", "timestamp": "2024-03-01T08:00:00+00:00",
         "amount": 10.5, "region": "EU", "note": None},
        {"case_id": "C-002", "activity": "pay", "timestamp": "2024-03-02T09:00:00+00:00",
         "amount": -5.0, "region": "XX", "note": None}]
    assert out.message == "2 rows fail: note is never null"


def test_unique(lake: Lake) -> None:
    out = lake.check({"type": "unique", "column": "case_id"})
    assert (out.passed, out.failing_count, out.sample) == (False, 4, ["C-002", "C-004"])
    assert out.metrics == {"duplicated_values": 2}
    assert lake.check({"type": "unique", "column": "timestamp"}).passed
    # C-001 is in both files: each partition is checked on its own rows
    assert lake.check({"type": "unique", "column": "case_id"}, "b.csv").failing_count == 0


def test_accepted_values(lake: Lake) -> None:
    out = lake.check({"type": "accepted_values", "column": "region",
                      "values": ["EU", "US", "APAC"]})
    assert (out.passed, out.failing_count, out.sample) == (False, 1, ["XX"])
    assert lake.check({"type": "accepted_values", "column": "region",
                       "values": ["EU", "US", "APAC", "XX"]}).passed


def test_range(lake: Lake) -> None:
    out = lake.check({"type": "range", "column": "amount", "min": 0, "max": 1000})
    assert (out.passed, out.failing_count, out.sample) == (False, 2, [-5.0, 3000.0])
    assert out.metrics == {"rows": 6, "min": -5.0, "max": 3000.0}
    only_max = lake.check({"type": "range", "column": "amount", "max": 100})
    assert (only_max.failing_count, only_max.sample) == (1, [3000.0])
    assert lake.check({"type": "range", "column": "amount", "min": -10, "max": 5000}).passed


def test_regex(lake: Lake) -> None:
    out = lake.check({"type": "regex", "column": "case_id", "pattern": r"C-\d{3}"})
    assert (out.passed, out.failing_count, out.sample) == (False, 1, ["bad-3"])
    assert lake.check({"type": "regex", "column": "case_id", "pattern": r"[\w-]+"}).passed


def test_row_count(lake: Lake) -> None:
    assert lake.check({"type": "row_count", "min": 1, "max": 6}).passed
    out = lake.check({"type": "row_count", "min": 7})
    assert (out.passed, out.failing_count, out.sample) == (False, 1, [6])
    assert out.message == "observed 6; expected row count >= 7"
    assert lake.check({"type": "row_count", "max": 3}, "b.csv").passed


def test_null_ratio(lake: Lake) -> None:
    ok = lake.check({"type": "null_ratio", "column": "note", "max": 0.5})
    assert ok.passed and ok.metrics["nulls"] == 2 and ok.metrics["rows"] == 6
    out = lake.check({"type": "null_ratio", "column": "note", "max": 0.25})
    assert (out.passed, out.failing_count) == (False, 1)
    assert out.sample == [pytest.approx(1 / 3)]


def test_distinct_count(lake: Lake) -> None:
    assert lake.check({"type": "distinct_count", "column": "region", "min": 3, "max": 4}).passed
    out = lake.check({"type": "distinct_count", "column": "region", "max": 3})
    assert (out.passed, out.failing_count, out.sample) == (False, 1, [4])


def test_entropy(lake: Lake) -> None:
    expected = -sum(p * math.log2(p) for p in (1 / 6, 2 / 6, 3 / 6))  # create, ship x2, pay x3
    ok = lake.check({"type": "entropy", "column": "activity", "min": 1, "max": 2})
    assert ok.passed and ok.metrics["observed"] == pytest.approx(expected)
    out = lake.check({"type": "entropy", "column": "activity", "min": 1.5})
    assert (out.passed, out.failing_count, out.sample) == (False, 1, [pytest.approx(expected)])


def test_freshness(lake: Lake) -> None:
    rule = {"type": "freshness", "column": "timestamp", "max": 3600}
    ok = lake.check(rule, now=NEWEST_A + 100)
    assert ok.passed
    assert ok.metrics == {"newest": "2024-03-04T10:00:00+00:00", "max_age_s": 3600,
                          "observed": 100.0}
    stale = lake.check(rule, now=NEWEST_A + 3601)
    assert (stale.passed, stale.failing_count, stale.sample) == (False, 1, [3601.0])
    assert not lake.check(rule).passed  # against the clock: 2024 is long ago


def test_schema(lake: Lake) -> None:
    assert lake.check({"type": "schema", "values": [
        "case_id:string", "amount:float64", "timestamp:timestamptz", "note"]}).passed
    out = lake.check({"type": "schema", "values": ["amount:int", "gone:string", "case_id"]})
    assert (out.passed, out.failing_count) == (False, 2)
    assert out.sample == ["amount: expected int64, got double", "gone: missing"]
    assert out.metrics["columns"] == {"case_id": "string", "activity": "string",
                                      "timestamp": "timestamptz", "amount": "double",
                                      "region": "string", "note": "string"}


def test_pandera(lake: Lake) -> None:
    out = lake.check({"type": "pandera", "model": "tests.core.rules_models.Orders"})
    assert (out.passed, out.failing_count, out.sample) == (False, 3, [-5.0, 3000.0, "XX"])
    assert out.metrics["checks"] == {"amount: greater_than_or_equal_to(0)": 1,
                                     "amount: less_than_or_equal_to(1000)": 1,
                                     "region: isin(['EU', 'US', 'APAC'])": 1}
    assert lake.check({"type": "pandera", "model": "tests.core.rules_models:LooseOrders"}).passed
    assert lake.check({"type": "pandera", "model": "tests.core.rules_models.Orders"},
                      "b.csv").passed


def test_great_expectations(lake: Lake) -> None:
    suite = {"name": "orders", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "case_id"}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "amount", "min_value": 0, "max_value": 1000}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "note"}}]}
    (lake.root / "orders.json").write_text(json.dumps(suite), encoding="utf-8")
    out = lake.check({"type": "great_expectations", "suite": "orders.json"})
    assert (out.passed, out.failing_count) == (False, 2)
    assert out.sample == ["expect_column_values_to_be_between",
                          "expect_column_values_to_not_be_null"]
    assert out.metrics == {"evaluated": 3, "unexpected": {
        "expect_column_values_to_be_between:amount": 2,
        "expect_column_values_to_not_be_null:note": 2}}
    # a YAML suite in the GX 0.x spelling, passing
    (lake.root / "ok.yaml").write_text(
        "expectation_suite_name: ok\nexpectations:\n"
        "  - expectation_type: expect_column_values_to_not_be_null\n"
        "    kwargs: {column: case_id}\n", encoding="utf-8")
    ok = lake.check({"type": "great_expectations", "suite": "ok.yaml"})
    assert (ok.passed, ok.failing_count, ok.metrics["evaluated"]) == (True, 0, 1)


def test_evaluate_partition_and_broken_rules(lake: Lake) -> None:
    rules = rules_from_config([
        {"type": "not_null", "column": "case_id", "blocking": True},
        {"type": "not_null", "column": "nope"},
        {"type": "pandera", "model": "tests.core.no_such_module.Model"},
        {"type": "row_count", "min": 3, "max": 3}], root=lake.root)
    out = evaluate_partition(rules, lake.table, lake.uri("b.csv"))
    assert {k: v.passed for k, v in out.items()} == {
        "not_null_case_id": True, "not_null_nope": False, "pandera_Model": False,
        "row_count": True}
    assert "no column 'nope'" in out["not_null_nope"].message
    assert "cannot import" in out["pandera_Model"].metrics["error"]
    # a metadata.json location works as well as a Table; no source: the whole table
    whole = evaluate_partition(rules[3:], lake.table.metadata_location, None)
    assert whole["row_count"].metrics["observed"] == 9


def test_profile_agrees_with_sql(lake: Lake) -> None:
    profile = lake.results["a.csv"].profile
    configs = [{"type": "row_count", "min": 7}, {"type": "not_null", "column": "note"},
               {"type": "null_ratio", "column": "note", "max": 0.25},
               {"type": "distinct_count", "column": "region", "max": 3},
               {"type": "entropy", "column": "activity", "min": 1.5}]
    for config in configs:
        rule = Rule.from_config(config)
        from_profile, from_sql = rule.evaluate_profile(profile), rule.evaluate(lake.data())
        assert from_profile is not None
        assert (from_profile.passed, from_profile.failing_count) == (
            from_sql.passed, from_sql.failing_count)
        if rule.type == "not_null":
            assert from_profile.sample == []  # a profile holds counts, not rows
        else:
            assert from_profile.metrics["observed"] == pytest.approx(from_sql.metrics["observed"])
    assert Rule("unique", column="case_id").evaluate_profile(profile) is None
    assert Rule("not_null", column="gone").evaluate_profile(profile) is None


def test_rule_building() -> None:
    rule = Rule.from_config(RuleConfig(type="range", column="amount", min=0, blocking=True))
    assert (rule.name, rule.description, rule.blocking) == ("range_amount", "amount >= 0", True)
    assert rule.to_dict() == {"type": "range", "column": "amount", "min": 0.0, "blocking": True}
    assert [r.name for r in rules_from_config([
        {"type": "range", "column": "a b", "max": 1}, {"type": "range", "column": "a b", "min": 0},
        {"type": "great_expectations", "suite": "checks/orders-suite.json"},
        {"type": "schema", "values": ["a:int"]}])] == [
        "range_a_b", "range_a_b_2", "great_expectations_orders_suite", "schema"]
    with pytest.raises(UsageError, match="'column' is required"):
        Rule.from_config({"type": "not_null"})
    with pytest.raises(UsageError, match="give 'min', 'max' or both"):
        Rule.from_config({"type": "range", "column": "x"})
    with pytest.raises(UsageError, match="unknown type"):
        Rule.from_config({"type": "schema", "values": ["x:nonsense"]})
    from logflow_dagster.core.quality.rules import RuleOutcome

    outcome = RuleOutcome(passed=False, failing_count=3)
    assert rule.assertion(outcome) == {"assertion": "range_amount", "success": False,
                                       "column": "amount"}


def test_plain_relation() -> None:
    """Rules run on any DuckDB relation, e.g. a Parquet file written by ``logflow convert``."""
    data = RuleData(duckdb.connect(), "(SELECT * FROM (VALUES (1, 'a'), (2, NULL)) t(n, s))")
    out = evaluate_rules(rules_from_config([{"type": "not_null", "column": "s"},
                                            {"type": "range", "column": "n", "max": 1}]), data)
    assert out["not_null_s"].sample == [{"n": 2, "s": None}]
    assert out["range_n"].sample == [2]
