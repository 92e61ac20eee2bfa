"""Quality rules evaluated on the rows one source wrote into an Iceberg table.

Example:
    >>> from logflow_dagster.lakehouse.quality import evaluate_partition  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import closing
from typing import Any

from ..core.quality.rules import Rule, RuleData, RuleOutcome, evaluate_rules
from .duckdb_reader import duckdb_connection, iceberg_scan_sql, table_properties


def evaluate_partition(rules: Iterable[Rule], table: Any, source_uri: str | None, *,
                       now: float | None = None) -> dict[str, RuleOutcome]:
    """Evaluates rules on one source's rows of an Iceberg table (all rows when
    ``source_uri`` is None), read by an offline DuckDB.

    Args:
        rules: The rules.
        table: A pyiceberg table, or the path of its metadata.json.
        source_uri: The ``_source_uri`` whose rows are checked.
        now: Epoch seconds for freshness rules (default: now).
    """
    with closing(duckdb_connection(properties=table_properties(table))) as con:
        return evaluate_rules(rules, RuleData(con, iceberg_scan_sql(table), source_uri), now=now)
