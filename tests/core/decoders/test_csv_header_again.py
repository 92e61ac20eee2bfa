"""A header repeated inside a CSV file (files joined with their headers) is never a data row:
it is a bad record with its line, and it does not turn typed columns into text."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import duckdb
import pytest

from logflow_dagster.core import convert as convert_module
from logflow_dagster.core.convert import convert
from logflow_dagster.core.decoders import DecodeOptions
from logflow_dagster.core.errors import DataError


def _rows(path: Path) -> list[tuple]:
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    return con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()


def _quarantined(path: Path) -> list[tuple[int, str]]:
    return [(e["line"], e["raw"]) for e in map(json.loads, path.read_text().splitlines())]


@pytest.mark.parametrize(("text", "rows", "types"), [
    ("id,name\n1,a\n2,b\nid,name\n3,c\n", [(1, "a"), (2, "b"), (3, "c")], ["int64", "string"]),
    ("city,country\nOslo,NO\ncity,country\nRome,IT\n", [("Oslo", "NO"), ("Rome", "IT")],
     ["string", "string"]),
])
def test_header_again_in_the_sample(tmp_path: Path, text: str, rows: list[tuple],
                                    types: list[str]) -> None:
    src = tmp_path / "joined.csv"
    src.write_text(text)
    q = tmp_path / "q.jsonl"
    r = convert(src, tmp_path / "o.parquet", error_policy="quarantine", quarantine=str(q))
    assert [c["type"] for c in r.columns] == types
    assert _rows(tmp_path / "o.parquet") == rows
    [(line, raw)] = _quarantined(q)
    assert raw == text.splitlines()[0] and text.splitlines()[line - 1] == raw
    with pytest.raises(DataError, match=rf"joined\.csv:{line}: the header again"):
        convert(src, tmp_path / "strict.parquet")


@pytest.mark.parametrize("mmap", ["1", "0"])
def test_header_again_far_after_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           mmap: str) -> None:
    """In blocks read by the fast path (text columns only, where no cast would fail)."""
    monkeypatch.setenv("LOGFLOW_MMAP", mmap)
    monkeypatch.setattr(convert_module, "DecodeOptions",
                        partial(DecodeOptions, block_size=1 << 14, infer_rows=100))
    part = "".join(f"k{i},v{i}\n" for i in range(3000))
    src = tmp_path / "joined.csv"
    src.write_text("key,value\n" + part + "key,value\n" + part)
    q = tmp_path / "q.jsonl"
    r = convert(src, tmp_path / "o.parquet", error_policy="quarantine", quarantine=str(q))
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (6001, 6000, 1)
    assert _quarantined(q) == [(3002, "key,value")]
    assert ("key", "value") not in _rows(tmp_path / "o.parquet")
