"""The quality rule types and the settings each needs (data only: the config model, its JSON
schema and :mod:`.rules` all read these).

Example:
    >>> "not_null" in RULE_TYPES and "column" in needed_settings("not_null")
    True
"""

from __future__ import annotations

ROW_RULES = ("not_null", "unique", "accepted_values", "range", "regex")
RULE_TYPES = (*ROW_RULES, "row_count", "null_ratio", "distinct_count", "entropy", "freshness",
              "schema", "pandera", "great_expectations")
#: The settings each rule type needs (key -> rule types); the config's JSON schema says the same.
NEEDS = {"column": {*ROW_RULES, "null_ratio", "distinct_count", "entropy", "freshness"},
         "values": {"accepted_values", "schema"}, "pattern": {"regex"}, "model": {"pandera"},
         "suite": {"great_expectations"}, "max": {"null_ratio", "freshness"}}
#: Rule types that need at least one of ``min`` and ``max``.
BOUNDED = {"range", "row_count", "distinct_count", "entropy"}


def needed_settings(rule_type: str) -> list[str]:
    """The keys a rule of ``rule_type`` must set, sorted.

    Example:
        >>> needed_settings("regex")
        ['column', 'pattern']
    """
    return sorted(k for k, types in NEEDS.items() if rule_type in types)
