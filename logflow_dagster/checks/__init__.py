"""Asset checks: the configured quality rules as Dagster checks on the ingest assets."""

from .rules import (
    evaluate_ingested_file,
    rule_check_result,
    rule_check_results,
    rule_check_specs,
    rule_problems,
)

__all__ = ["evaluate_ingested_file", "rule_check_result", "rule_check_results",
           "rule_check_specs", "rule_problems"]
