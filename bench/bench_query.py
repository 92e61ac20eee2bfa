"""Semantic-layer query latency against DuckDB running the same hand-written SQL.

Builds a project in a temp folder: the benchmark's event CSV ingested as the Iceberg table
``raw.events`` (``--rows`` rows) and its first 1M rows as ``raw.events_1m``, a Cube model with
a daily rollup, the rollup built. Then, warm (one SemanticLayer, one DuckDB connection each,
after a few untimed runs), it times p50/p95 over ``--runs`` runs of:

* a query the router serves from the rollup (month x activity: count, sum, avg);
* the same query answered from the raw table (rollups off, cache off);
* a group-by over the 1M-row raw table;
* a cache hit of the first query;

and beside each, DuckDB running the equivalent hand-written SQL over the same Iceberg data
(``iceberg_scan`` of the same snapshot) on a warm connection, as the ratio
``DuckDB time / our time`` (above 1: we are faster).

    python bench/gen_data.py --rows 5000000
    python bench/bench_query.py [--rows 5000000] [--runs 30] [--csv bench/data/events.csv]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

MODEL = """\
cubes:
  - name: events
    sql_table: raw.events
    dimensions:
      - {name: case_id, sql: case_id, type: string, primary_key: true}
      - {name: activity, sql: activity, type: string}
      - {name: region, sql: region, type: string}
      - {name: at, sql: '"timestamp"', type: time}
    measures:
      - {name: count, type: count}
      - {name: amount, sql: amount, type: sum}
      - {name: avg_amount, sql: amount, type: avg}
    pre_aggregations:
      - name: by_day
        measures: [count, amount, avg_amount]
        dimensions: [activity]
        time_dimension: at
        granularity: day
  - name: events_1m
    sql_table: raw.events_1m
    dimensions:
      - {name: case_id, sql: case_id, type: string, primary_key: true}
      - {name: activity, sql: activity, type: string}
      - {name: region, sql: region, type: string}
    measures:
      - {name: count, type: count}
      - {name: amount, sql: amount, type: sum}
"""

CONFIG = """\
sources:
  - {name: events, landing: in/events, table: raw.events}
  - {name: events_1m, landing: in/events_1m, table: raw.events_1m}
semantic: {models: [model.yml]}
lineage: {transport: "off"}
"""

ROLLUP_Q = {"measures": ["events.count", "events.amount", "events.avg_amount"],
            "dimensions": ["events.activity"],
            "timeDimensions": [{"dimension": "events.at", "granularity": "month"}],
            "order": {"events.activity": "asc"}, "limit": 50000}
GROUP_1M_Q = {"measures": ["events_1m.count", "events_1m.amount"],
              "dimensions": ["events_1m.activity", "events_1m.region"], "limit": 50000}


def _head(src: Path, dst: Path, rows: int) -> None:
    with src.open("rb") as f, dst.open("wb") as out:
        for line in itertools.islice(f, rows + 1):
            out.write(line)


def _times(fn: Any, runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Equal rows; float measures within rounding (sums of doubles depend on addition order)."""
    import math

    def close(x: Any, y: Any) -> bool:
        if x == y:
            return True
        try:
            return math.isclose(float(x), float(y), rel_tol=1e-12)
        except (TypeError, ValueError):
            return False

    return len(a) == len(b) and all(close(r[k], s[k]) for r, s in zip(a, b, strict=True)
                                    for k in r)


class _NoCache:
    def get(self, key: str) -> None:
        return None

    def set(self, key: str, value: bytes) -> None:
        pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--csv", default="bench/data/events.csv")
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--runs", type=int, default=30)
    args = p.parse_args()
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

    from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql
    from logflow_dagster.lakehouse.ingest import ingest
    from logflow_dagster.semantic import SemanticLayer
    from logflow_dagster.semantic.cache import LRUCache
    from logflow_dagster.services import Project
    from logflow_dagster.services.semantic import build_rollups

    src = Path(args.csv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "logflow.yaml").write_text(CONFIG)
        (root / "model.yml").write_text(MODEL)
        big, small = root / "events.csv", root / "events_1m.csv"
        _head(src, big, args.rows)
        _head(src, small, min(args.rows, 1_000_000))
        for path, table in ((big, "raw.events"), (small, "raw.events_1m")):
            r = ingest(path, table, project_dir=root, lineage=False,
                       error_policy="quarantine")
            print(f"ingested {table}: {r.rows_written:,} rows")
        t = time.perf_counter()
        build_rollups(root)
        print(f"rollup built in {time.perf_counter() - t:.2f} s")

        project = Project.load(root)
        con = duckdb_connection()
        with project.open_catalog() as catalog:
            raw = iceberg_scan_sql(catalog.load_table("raw.events"))
            raw_1m = iceberg_scan_sql(catalog.load_table("raw.events_1m"))
        ref_rollup_sql = (
            "SELECT activity, date_trunc('month', timezone('UTC', \"timestamp\")) AS m, "
            "count(*), sum(amount), avg(amount) "
            f"FROM {raw} GROUP BY 1, 2 ORDER BY 1 LIMIT 50000")
        ref_1m_sql = (f"SELECT activity, region, count(*), sum(amount) FROM {raw_1m} "
                      "GROUP BY 1, 2 LIMIT 50000")

        with SemanticLayer.from_project(root) as layer, \
                SemanticLayer.from_project(root) as rawlayer, \
                SemanticLayer.from_project(root) as cached:
            layer.cache = _NoCache()  # type: ignore[assignment]
            rawlayer.cache = _NoCache()  # type: ignore[assignment]
            rawlayer.use_rollups = False
            cached.cache = LRUCache()
            first = layer.query(ROLLUP_Q)
            assert first.source.startswith("rollup:"), first.rejected
            assert _same(rawlayer.query(ROLLUP_Q).data, first.data), "rollup and raw disagree"
            cases = [
                ("rollup-served query", lambda: layer.query(ROLLUP_Q),
                 lambda: con.execute(ref_rollup_sql).fetchall(), 10.0),
                ("same query from raw", lambda: rawlayer.query(ROLLUP_Q),
                 lambda: con.execute(ref_rollup_sql).fetchall(), None),
                ("group-by over 1M raw rows", lambda: rawlayer.query(GROUP_1M_Q),
                 lambda: con.execute(ref_1m_sql).fetchall(), 100.0),
                ("cache hit", lambda: cached.query(ROLLUP_Q),
                 lambda: con.execute(ref_rollup_sql).fetchall(), 1.0),
            ]
            print(f"\n{'case':28} {'ours p50':>9} {'p95':>8} {'DuckDB p50':>11} {'p95':>8} "
                  f"{'ratio':>6} {'goal':>7}")
            for name, ours, ref, goal in cases:
                a = _times(ours, args.runs)
                b = _times(ref, args.runs)
                ratio = _p(b, 50) / _p(a, 50)
                goal_text = f"<{goal:g} ms" if goal else "-"
                print(f"{name:28} {_p(a, 50):8.2f}ms {_p(a, 95):7.2f}ms {_p(b, 50):10.2f}ms "
                      f"{_p(b, 95):7.2f}ms {ratio:6.2f} {goal_text:>7}")
            hit = cached.query(ROLLUP_Q)
            print(f"\n(cache hit: {hit.cache_hit}; timings of one query: {first.timings})")
        con.close()


if __name__ == "__main__":
    main()
