"""Quality rules as Dagster asset checks on the ingest assets.

The :class:`~logflow_dagster.core.quality.rules.Rule` objects are the single source: each gives
one ``AssetCheckSpec`` (name, description, blocking) and, after an ingest, one
``AssetCheckResult`` (passed, ERROR severity when blocking else WARN, failing_count, sample,
metrics). Dagster then stops downstream assets when a blocking check fails: the step raises
``DagsterAssetCheckFailedError`` after yielding every result, and downstream steps are skipped.

(No ``from __future__ import annotations`` here: Dagster reads annotations at runtime.)
"""

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dagster as dg

from ..config import ProjectConfig
from ..core.errors import UsageError
from ..core.quality.rules import Rule, RuleOutcome


def _plain(value: Any) -> Any:
    """A JSON-safe copy (timestamps, decimals and the like become text)."""
    return json.loads(json.dumps(value, default=str))


def rule_check_specs(rules: Iterable[Rule], asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """One check spec per rule: the rule's name, description and blocking flag.

    Example:
        >>> from logflow_dagster.core.quality.rules import Rule
        >>> spec = rule_check_specs([Rule("row_count", min=1, blocking=True)],
        ...                         dg.AssetKey(["raw", "orders"]))[0]
        >>> spec.name, spec.blocking
        ('row_count', True)
    """
    return [dg.AssetCheckSpec(rule.name, asset=asset_key, blocking=rule.blocking,
                              description=rule.description,
                              metadata={"logflow/rule": dg.MetadataValue.json(rule.to_dict())})
            for rule in rules]


def rule_problems(config: ProjectConfig) -> list[tuple[list[str | int], str]]:
    """The configured rules that cannot be built (a missing column, no bounds...), as
    (key path, message) pairs: what would fail at definition time, said up front.

    Example:
        >>> rule_problems(ProjectConfig.model_validate({
        ...     "sources": [{"name": "o", "landing": "in", "table": "raw.orders"}],
        ...     "checks": {"raw.orders": [{"type": "range", "column": "amount"}]}}))
        [(['checks', 'raw.orders', 0], "rule range: give 'min', 'max' or both")]
    """
    problems: list[tuple[list[str | int], str]] = []
    for table, rules in config.checks.items():
        for i, rule in enumerate(rules):
            try:
                Rule.from_config(rule, root=config.root)
            except UsageError as err:
                problems.append((["checks", table, i], str(err)))
    return problems


def rule_check_result(rule: Rule, outcome: RuleOutcome,
                      asset_key: dg.AssetKey | None = None) -> dg.AssetCheckResult:
    """The check result of one rule's outcome (ERROR severity when the rule is blocking).

    Example:
        >>> from logflow_dagster.core.quality.rules import Rule, RuleOutcome
        >>> rule_check_result(Rule("row_count", min=1), RuleOutcome(False, 1, [0])).severity
        <AssetCheckSeverity.WARN: 'WARN'>
    """
    return dg.AssetCheckResult(
        check_name=rule.name, asset_key=asset_key, passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if rule.blocking else dg.AssetCheckSeverity.WARN,
        description=outcome.message or None,
        metadata={"failing_count": outcome.failing_count,
                  "sample": dg.MetadataValue.json(_plain(outcome.sample)),
                  "metrics": dg.MetadataValue.json(_plain(outcome.metrics))})


def rule_check_results(rules: Iterable[Rule], outcomes: Mapping[str, RuleOutcome],
                       asset_key: dg.AssetKey | None = None) -> Iterator[dg.AssetCheckResult]:
    """The check results of every rule, in rule order.

    Example:
        >>> list(rule_check_results([], {}))
        []
    """
    for rule in rules:
        yield rule_check_result(rule, outcomes[rule.name], asset_key)
