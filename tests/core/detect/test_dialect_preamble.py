"""Dialect detection: preambles, Excel's sep= hint, space and single-quote dialects, bare CR."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from logflow_dagster.core.convert import convert
from logflow_dagster.core.detect.dialect import sniff_dialect
from logflow_dagster.core.errors import UsageError


@pytest.mark.parametrize(("text", "delimiter", "preamble"), [
    ("# exported 2024\n# by tool\nid,name\n1,a\n2,b\n", ",", 2),
    ("sep=;\nid;name\n1;a\n2;b\n", ";", 1),
    ("Sales report\n\nid,name,n\n1,a,3\n2,b,4\n", ",", 2),
    ("id,name\n1,a\n2,b\n", ",", 0),
    ("id name score\n1 alice 3.5\n2 bob 4.0\n3 carol 2.5\n", " ", 0),
])
def test_preamble_and_delimiter(text: str, delimiter: str, preamble: int) -> None:
    dialect, confidence = sniff_dialect(text)
    assert (dialect.delimiter, dialect.preamble, dialect.header) == (delimiter, preamble, True)
    assert confidence == 1.0


def test_single_quote_dialect() -> None:
    dialect, _ = sniff_dialect("id,name,note\n1,'a, b',x\n2,'c',y\n3,'d, e, f',z\n")
    assert (dialect.delimiter, dialect.quotechar) == (",", "'")


def test_preamble_lines_are_reported_and_lines_stay_physical(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("# exported 2024\n# by tool\nid,name\n1,a\n2,b,c\n3,d\n")
    out = tmp_path / "out.parquet"
    r = convert(src, out, error_policy="quarantine")
    assert pq.read_table(out).to_pylist() == [{"id": 1, "name": "a"}, {"id": 3, "name": "d"}]
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (3, 2, 1)
    q = [json.loads(x) for x in Path(r.quarantine).read_text().splitlines()]
    assert [(e["line"], e["raw"]) for e in q] == [(5, "2,b,c")]
    assert r.detection["notes"][:2] == ["line 1 is a preamble, not a record: '# exported 2024'",
                                        "line 2 is a preamble, not a record: '# by tool'"]


def test_excel_sep_hint(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("sep=;\nid;amount\n1;2,5\n2;3,0\n")
    out = tmp_path / "out.parquet"
    r = convert(src, out)
    assert pq.read_table(out).to_pylist() == [{"id": 1, "amount": 2.5}, {"id": 2, "amount": 3.0}]
    assert r.delimiter == ";"


def test_bare_cr_line_ends_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "mac.csv"
    src.write_bytes(b"id,name\r1,a\r2,b\r")
    with pytest.raises(UsageError, match="bare CR"):
        convert(src, tmp_path / "out.parquet")


def test_second_table_is_not_read_silently(tmp_path: Path) -> None:
    src = tmp_path / "two.csv"
    src.write_text("id,name\n1,a\n2,b\n\nx;y;z\n7;8;9\n")
    out = tmp_path / "out.parquet"
    r = convert(src, out, error_policy="quarantine")
    assert r.rows_written == 2
    q = [json.loads(x) for x in Path(r.quarantine).read_text().splitlines()]
    assert [(e["line"], e["reason"]) for e in q] == [
        (5, "expected 2 fields, found 1 (another table from line 5?)"),
        (6, "expected 2 fields, found 1 (another table from line 5?)")]
