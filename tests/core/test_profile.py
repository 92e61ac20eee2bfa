"""The streaming profile: exact counts, close distinct estimates, a checksum any reader can redo."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from logflow_dagster.core.convert import convert
from logflow_dagster.core.quality import Profiler, checksum_sql


def test_profile_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    cats = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    ids = rng.integers(0, 5_000, n)
    vals = [None if i % 10 == 0 else float(i) for i in range(n)]
    prof = Profiler()
    table = pa.table({"cat": cats, "id": ids, "v": vals})
    for batch in table.to_batches(max_chunksize=3_000):
        prof.update(batch)
    cols = {c["name"]: c for c in prof.to_dict()["columns"]}
    assert cols["v"]["nulls"] == n // 10 and cols["v"]["max"] == float(n - 1)
    assert cols["cat"]["distinct"] == 4
    assert abs(cols["id"]["distinct"] - len(set(ids.tolist()))) / len(set(ids.tolist())) < 0.03
    counts = Counter(cats.tolist())
    exact = -sum(c / n * math.log2(c / n) for c in counts.values())
    assert cols["cat"]["entropy"] == pytest.approx(exact) and cols["cat"]["entropy_exact"]


def test_checksum_is_order_independent_and_recomputable(tmp_path: Path) -> None:
    table = pa.table({"a": list(range(1000)), "b": [f"x{i}" for i in range(1000)]})
    p1, p2 = Profiler(), Profiler()
    for b in table.to_batches(max_chunksize=100):
        p1.update(b)
    for b in reversed(table.to_batches(max_chunksize=250)):
        p2.update(b)
    assert p1.checksum == p2.checksum
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    got = duckdb.sql(checksum_sql(["a", "b"], f"read_parquet('{path}')")).fetchone()[0]
    assert f"{int(got):016x}" == p1.checksum


def test_profile_lands_in_parquet_metadata(tmp_path: Path) -> None:
    src = tmp_path / "m.csv"
    src.write_text("k,v\n" + "".join(f"{i % 3},{i}\n" for i in range(100)))
    r = convert(src, tmp_path / "m.parquet")
    meta = pq.ParquetFile(tmp_path / "m.parquet").metadata.metadata or {}
    import json

    prof = json.loads(meta[b"logflow.profile"])
    assert prof["checksum"] == r.checksum and prof["rows"] == 100


def test_schema_cache_remembers_widened_types(tmp_path: Path) -> None:
    src = tmp_path / "w.csv"
    src.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(30_000)) + "1,0.5\n")
    cache = tmp_path / ".logflow" / "schema_cache.sqlite"
    first = convert(src, tmp_path / "1.parquet", schema_cache=cache)
    second = convert(src, tmp_path / "2.parquet", schema_cache=cache)
    assert "column types from the schema cache" in second.detection["notes"]
    assert first.columns == second.columns and first.checksum == second.checksum
    assert {c["name"]: c["type"] for c in second.columns}["b"] == "double"


def test_distinct_estimates_of_numbers_and_times_across_parts() -> None:
    rng = np.random.default_rng(11)
    n = 120_000
    amounts = np.round(rng.uniform(0, 5_000, n), 2)  # ~ 100k distinct doubles
    stamps = (np.int64(1_700_000_000_000_000) + rng.integers(0, 10**9, n)).astype("datetime64[us]")
    table = pa.table({"amount": amounts, "ts": pa.array(stamps, pa.timestamp("us", tz="UTC")),
                      "small": rng.integers(0, 300, n)})
    whole, left, right = Profiler(), Profiler(), Profiler()
    for batch in table.to_batches(max_chunksize=7_000):
        whole.update(batch)
    for batch in table.slice(0, 10_000).to_batches(max_chunksize=7_000):
        left.update(batch)  # still counted exactly: merging must switch it to the sketch
    for batch in table.slice(10_000).to_batches(max_chunksize=7_000):
        right.update(batch)
    left.merge(right)
    for prof in (whole, left):
        cols = {c["name"]: c for c in prof.to_dict()["columns"]}
        for name in ("amount", "ts"):
            exact = len(set(table.column(name).to_pylist()))
            assert abs(cols[name]["distinct"] - exact) / exact < 0.03, (name, cols[name])
            assert not cols[name]["distinct_exact"]
        assert cols["small"]["distinct"] == 300 and cols["small"]["distinct_exact"]
        assert cols["amount"]["max"] == float(amounts.max())
