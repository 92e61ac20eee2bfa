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


def _mixed_table(n: int) -> pa.Table:
    rng = np.random.default_rng(5)
    words = np.array(["ä", "b", "", "long text " * 5, "z"])
    return pa.table({
        "": pa.array(rng.integers(-5, 5, n)),  # a column named "" (CSV ',,' headers)
        "s": pa.array([None if i % 7 == 0 else str(w) for i, w in
                       enumerate(rng.choice(words, n))]),
        "d": pa.array(rng.choice(["x", "y", "w"], n)).dictionary_encode(),
        "f": pa.array([None if i % 5 == 0 else float(v) for i, v in
                       enumerate(rng.normal(size=n))]),
        "t": pa.array(rng.integers(0, 10**12, n), pa.timestamp("us", tz="UTC")),
        "b": pa.array(rng.integers(0, 2, n).astype(bool)),
        "l": pa.array([[i, i + 1] if i % 3 else None for i in range(n)]),
    })


@pytest.mark.parametrize("nested", [False, True])
def test_row_hashes_combined_from_column_hashes_equal_duckdb(tmp_path: Path,
                                                             nested: bool) -> None:
    table = _mixed_table(20_000)
    if not nested:
        table = table.drop_columns(["l"])
    prof = Profiler()
    for batch in table.to_batches(max_chunksize=6_000):
        prof.update(batch)
    # scalar columns: this DuckDB combines as combine_hashes does; a list: DuckDB's row hash
    assert prof._combine_ok is (None if nested else True)
    plain = table.set_column(2, "d", table.column("d").cast(pa.string()))
    plain = plain.rename_columns(["e", *plain.column_names[1:]])  # SQL can't name "" (hash can)
    path = tmp_path / "m.parquet"
    pq.write_table(plain, path)
    got = duckdb.sql(checksum_sql(plain.column_names, f"read_parquet('{path}')")).fetchone()[0]
    assert f"{int(got):016x}" == prof.checksum


def test_row_hashes_fall_back_to_duckdb_when_the_combination_differs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from logflow_dagster.core.quality import profile

    table = _mixed_table(5_000).drop_columns(["l"])
    right = Profiler()
    right.update(table)
    monkeypatch.setattr(profile, "combine_hashes", lambda hashes: hashes[0] ^ np.uint64(1))
    wrong = Profiler()
    wrong.update(table)
    assert wrong._combine_ok is False and wrong.checksum == right.checksum


def test_bounds_and_counts_when_new_values_arrive_late() -> None:
    # exact counting by hashes: later batches that bring new values must move min/max,
    # batches of known values must not be needed for them
    first = pa.record_batch({"s": ["m", "n", "m", None], "i": [5, 6, 5, 5]})
    later = pa.record_batch({"s": ["n", "a", "m", "zz"], "i": [6, -1, 9, 6]})
    prof = Profiler()
    for batch in (first, later, first):
        prof.update(batch)
    cols = {c["name"]: c for c in prof.to_dict()["columns"]}
    assert (cols["s"]["min"], cols["s"]["max"], cols["s"]["distinct"]) == ("a", "zz", 4)
    assert (cols["i"]["min"], cols["i"]["max"], cols["i"]["distinct"]) == (-1, 9, 4)
    counts = Counter(["m", "n", "m", "n", "a", "m", "zz", "m", "n", "m"])
    exact = -sum(c / 10 * math.log2(c / 10) for c in counts.values())
    assert cols["s"]["entropy"] == pytest.approx(exact) and cols["s"]["nulls"] == 2
