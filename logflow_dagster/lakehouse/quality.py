"""Quality rules evaluated on the rows one source wrote into an Iceberg table.

See :func:`evaluate_partition` for an example.
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

    Example:
        >>> import pathlib, tempfile
        >>> from logflow_dagster.core.quality.rules import rules_from_config
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> from logflow_dagster.lakehouse.ingest import ingest
        >>> tmp = tempfile.TemporaryDirectory()
        >>> src = pathlib.Path(tmp.name, "orders.csv")
        >>> _ = src.write_text("id,amount\\n1,2.5\\n2,-1\\n")
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> table = catalog.load_table(ingest(src, "raw.orders", catalog=catalog).table)
        >>> rules = rules_from_config([{"type": "range", "column": "amount", "min": 0}])
        >>> evaluate_partition(rules, table, src.as_uri())["range_amount"].sample
        [-1.0]
        >>> close_catalog(catalog); tmp.cleanup()
    """
    with closing(duckdb_connection(properties=table_properties(table))) as con:
        return evaluate_rules(rules, RuleData(con, iceberg_scan_sql(table), source_uri), now=now)
