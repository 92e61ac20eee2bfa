"""CSV/TSV: values against independent writers and DuckDB, dirty data under every policy."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import zstandard

from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import DataError


def _frame(n: int = 5_000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "case_id": [f"C{i // 4:06d}" for i in range(n)],
        "amount": np.round(rng.uniform(0, 1000, n), 2),
        "qty": rng.integers(0, 100, n),
        "ts": pd.date_range("2024-01-01", periods=n, freq="37s", tz="UTC"),
        "note": [f'note {i}, "quoted"\nsecond line' if i % 10 == 0 else f"n{i}"
                 for i in range(n)],
        "flag": rng.integers(0, 2, n).astype(bool),
    })



@pytest.fixture(params=["mapped", "streamed"])
def read_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test on a memory-mapped input and on a streamed one (``LOGFLOW_MMAP=0``)."""
    monkeypatch.setenv("LOGFLOW_MMAP", "1" if request.param == "mapped" else "0")
    return str(request.param)

def test_pandas_csv_round_trip_matches_duckdb(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    df = _frame()
    src = tmp_path / "events.csv"
    df.to_csv(src, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
    out = tmp_path / "events.parquet"
    result = convert(src, out)
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (len(df), len(df), 0)
    types = {c["name"]: c["type"] for c in result.columns}
    assert types == {"case_id": "string", "amount": "double", "qty": "int64",
                     "ts": "timestamptz", "note": "string", "flag": "bool"}
    got = duck.execute(f"SELECT count(*), sum(amount), sum(qty), count(DISTINCT case_id), "
                       f"sum(flag::INT), min(ts), max(ts) FROM '{out}'").fetchone()
    assert got[0] == len(df)
    assert got[1] == pytest.approx(df.amount.sum())
    assert got[2] == df.qty.sum()
    assert got[3] == df.case_id.nunique()
    assert got[4] == df.flag.sum()
    assert got[5] == df.ts.min().to_pydatetime()
    assert got[6] == df.ts.max().to_pydatetime()
    notes = [r[0] for r in duck.execute(f"SELECT note FROM '{out}' ORDER BY case_id, note").fetchall()]
    assert sorted(notes) == sorted(df.note)
    # the checksum is recomputable from the written file by an independent reader
    cols = ", ".join(f'"{c}"' for c in df.columns)
    recomputed = duck.execute(f"SELECT sum(hash({cols}))::HUGEINT % {1 << 64} FROM '{out}'").fetchone()[0]
    assert f"{int(recomputed):016x}" == result.checksum


DIRTY = '''id,amount,ts,note
1,10.5,2024-01-01T00:00:00Z,ok
2,abc,2024-01-01T00:00:00Z,bad amount
3,11.0,2024-01-01T00:00:00Z,"multi
line note"
4,12.0,2024-01-01T00:00:00Z,too,many
5,13.0,not-a-date,bad ts

6,14.0,2024-01-01T00:00:00Z
7,15.0,2024-01-01T00:00:00Z,"ok ""7"""
'''
# physical lines where the bad records start: 3 (amount), 6 (fields), 7 (ts), 9 (fields)
BAD_LINES = [3, 6, 7, 9]


def _dirty(tmp_path: Path, rows: int = 0) -> Path:
    body = DIRTY
    if rows:  # pad with enough good rows that inference sees a numeric column
        good = "".join(f"{100 + i},{i}.5,2024-01-02T00:00:00Z,pad\n" for i in range(rows))
        body = DIRTY + good
    p = tmp_path / "dirty.csv"
    p.write_text(body)
    return p


def test_strict_names_first_bad_line_column_and_value(tmp_path: Path) -> None:
    src = _dirty(tmp_path, rows=500)
    with pytest.raises(DataError) as info:
        convert(src, tmp_path / "o.parquet", error_policy="strict")
    err = info.value
    assert (err.line, err.column, err.value) == (3, "amount", "abc")
    assert f"{src}:3" in str(err)
    assert not (tmp_path / "o.parquet").exists()  # nothing half-written is left


def test_permissive_counts(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    src = _dirty(tmp_path, rows=500)
    r = convert(src, tmp_path / "o.parquet", error_policy="permissive")
    assert r.rows_rejected == 4
    assert r.rows_read == r.rows_written + r.rows_rejected == 7 + 500
    assert r.quarantine is None
    assert duck.execute(f"SELECT count(*) FROM '{tmp_path / 'o.parquet'}'").fetchone()[0] == 503


def test_quarantine_keeps_every_bad_record(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    src = _dirty(tmp_path, rows=500)
    r = convert(src, tmp_path / "o.parquet", error_policy="quarantine")
    rows = [json.loads(x) for x in Path(r.quarantine).read_text().splitlines()]
    assert [q["line"] for q in rows] == BAD_LINES
    data = src.read_bytes()
    for q in rows:  # raw text and byte offset point at the record in the file
        assert data[q["byte_offset"] :].startswith(q["raw"].encode())
    assert rows[0]["column"] == "amount" and rows[0]["value"] == "abc"
    assert rows[1]["reason"] == "expected 4 fields, found 5"
    assert rows[2]["column"] == "ts"
    kept = duck.execute(f"SELECT list(id ORDER BY id) FROM '{tmp_path / 'o.parquet'}' "
                        "WHERE id < 100").fetchone()[0]
    assert kept == [1, 3, 7]
    n = duck.execute(f"SELECT count(*) FROM read_json('{r.quarantine}')").fetchone()[0]
    assert n == r.rows_rejected


def test_bad_records_across_many_blocks(tmp_path: Path, read_mode: str) -> None:
    """Small blocks force block boundaries inside the data; line numbers stay exact."""
    lines = ["k,v,s"]
    bad = []
    for i in range(1, 3001):
        if i % 97 == 0:
            lines.append(f"{i},x{i},\"a\nb\"")
            bad.append(len(lines))
            lines.append("")  # the quoted newline made this physical line
            lines.pop()
        else:
            lines.append(f"{i},{i},\"s,{i}\"")
    src = tmp_path / "many.csv"
    src.write_text("\n".join(lines) + "\n")
    from logflow_dagster.core.decoders import DecodeOptions, get_decoder
    from logflow_dagster.core.detect import detect
    from logflow_dagster.core.source import Source

    source = Source.open_path(src)
    dec = get_decoder("csv")(source, detect(source), DecodeOptions(block_size=4096))
    steps = list(dec.batches())
    errors = [e for s in steps for e in s.errors]
    expected, line = [], 2
    for i in range(1, 3001):
        if i % 97 == 0:
            expected.append(line)
            line += 2
        else:
            line += 1
    assert [e.line for e in errors] == expected
    assert sum(s.records for s in steps) == 3000


def test_widening_midstream_never_rounds(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    src = tmp_path / "widen.csv"
    rows = [f"{i},{i}" for i in range(30_000)] + ["30000,2.75"]
    src.write_text("a,b\n" + "\n".join(rows) + "\n")
    r = convert(src, tmp_path / "w.parquet")
    assert {c["name"]: c["type"] for c in r.columns}["b"] == "double"
    total = duck.execute(f"SELECT sum(b), typeof(any_value(b)) FROM '{tmp_path / 'w.parquet'}'").fetchone()
    assert total == (sum(range(30_000)) + 2.75, "DOUBLE")


@pytest.mark.parametrize("codec", ["gzip", "bz2", "xz", "zstd"])
def test_compressed_inputs(tmp_path: Path, codec: str, duck: duckdb.DuckDBPyConnection) -> None:
    raw = "a,b\n" + "".join(f"{i},x{i}\n" for i in range(1000))
    comp = {"gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress,
            "zstd": zstandard.ZstdCompressor().compress}[codec](raw.encode())
    src = tmp_path / f"data.csv.{codec}"
    src.write_bytes(comp)
    r = convert(src, tmp_path / "c.parquet")
    assert r.compression == codec and r.rows_written == 1000
    assert duck.execute(f"SELECT sum(a) FROM '{tmp_path / 'c.parquet'}'").fetchone()[0] == 499500


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "cp1252", "utf-8-sig"])
def test_encodings(tmp_path: Path, encoding: str, duck: duckdb.DuckDBPyConnection) -> None:
    text = "name;city;amount\n" + "".join(f"Müller {i};Göteborg é;{i},50\n" for i in range(200))
    src = tmp_path / "enc.csv"
    src.write_bytes(text.encode(encoding))
    r = convert(src, tmp_path / "e.parquet")
    assert r.delimiter == ";"
    got = duck.execute(f"SELECT min(name), min(city), sum(amount) FROM '{tmp_path / 'e.parquet'}'").fetchone()
    assert got == ("Müller 0", "Göteborg é", pytest.approx(sum(i + 0.5 for i in range(200))))


def test_tsv_without_header_and_crlf(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    src = tmp_path / "x.tsv"
    src.write_bytes(b"".join(f"{i}\t{i * 2}\tv{i}\r\n".encode() for i in range(100)))
    r = convert(src, tmp_path / "t.parquet")
    assert r.format == "tsv" and [c["name"] for c in r.columns] == ["column_1", "column_2", "column_3"]
    assert duck.execute(f"SELECT sum(column_2), max(column_3) FROM '{tmp_path / 't.parquet'}'").fetchone() == (9900, "v99")


def test_empty_and_header_only(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    r = convert(tmp_path / "empty.csv", tmp_path / "empty.parquet")
    assert (r.rows_read, r.files) == (0, [])
    (tmp_path / "head.csv").write_text("a,b,c\n")
    r = convert(tmp_path / "head.csv", tmp_path / "head.parquet")
    assert r.rows_read == 0 and [c["name"] for c in r.columns] == ["a", "b", "c"]
    assert duck.execute(f"SELECT count(*) FROM '{tmp_path / 'head.parquet'}'").fetchone()[0] == 0


def test_hive_partitioned_directory(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    src = tmp_path / "p.csv"
    src.write_text("region,v\n" + "".join(f"{['EU', 'US', 'APAC'][i % 3]},{i}\n" for i in range(300)))
    out = tmp_path / "out"
    r = convert(src, out, partition_by="region", compression="snappy")
    assert sorted(p.name for p in out.iterdir()) == ["region=APAC", "region=EU", "region=US"]
    got = duck.execute(f"SELECT region, count(*), sum(v) FROM read_parquet('{out}/**/*.parquet', "
                       "hive_partitioning=true) GROUP BY region ORDER BY region").fetchall()
    assert got == [("APAC", 100, sum(range(2, 300, 3))), ("EU", 100, sum(range(0, 300, 3))),
                   ("US", 100, sum(range(1, 300, 3)))]
    assert r.rows_written == 300


def test_stray_quotes_across_small_blocks(tmp_path: Path, duck: duckdb.DuckDBPyConnection,
                                          read_mode: str) -> None:
    """A quote inside an unquoted field breaks quote parity: blocks are cut again where the
    exact scan says, on two decoding threads, and no record or line number is lost."""
    lines = ["id,size,note"]
    for i in range(2000):
        note = f'"multi\nline {i}"' if i % 50 == 0 else f"n{i}"
        size = f'{i}" screen' if i % 7 == 0 else str(i)
        lines.append(f"{i},{size},{note}")
    src = tmp_path / "stray.csv"
    src.write_text("\n".join(lines) + "\n")
    from logflow_dagster.core.decoders import DecodeOptions, get_decoder
    from logflow_dagster.core.detect import detect
    from logflow_dagster.core.source import Source

    source = Source.open_path(src)
    dec = get_decoder("csv")(source, detect(source), DecodeOptions(block_size=1500))
    steps = list(dec.batches())
    assert sum(s.records for s in steps) == 2000
    assert not [e for s in steps for e in s.errors]
    r = convert(src, tmp_path / "s.parquet")
    got = duck.execute(f"SELECT count(*), sum(id), count(*) FILTER (size LIKE '%\"%') "
                       f"FROM '{tmp_path / 's.parquet'}'").fetchone()
    assert got == (2000, sum(range(2000)), len(range(0, 2000, 7)))
    assert r.rows_written == 2000


def test_renamed_columns_are_reported(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    src = tmp_path / "names.csv"
    src.write_text("id,,id, note \n1,2,3,x\n")
    r = convert(src, tmp_path / "n.parquet", header=True)  # a blank name defeats detection
    assert [c["name"] for c in r.columns] == ["id", "column_2", "id_2", "note"]
    assert r.detection["renamed_columns"] == {"": "column_2", "id": "id_2", " note ": "note"}
    cols = [d[0] for d in duck.execute(f"DESCRIBE SELECT * FROM '{tmp_path / 'n.parquet'}'").fetchall()]
    assert cols == ["id", "column_2", "id_2", "note"]
