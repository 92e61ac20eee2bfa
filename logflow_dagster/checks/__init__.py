"""Asset checks: the configured quality rules as Dagster checks on the ingest assets."""

from .rules import (
    rule_check_result,
    rule_check_results,
    rule_check_specs,
    rule_problems,
)

__all__ = ["rule_check_result", "rule_check_results",
           "rule_check_specs", "rule_problems"]
