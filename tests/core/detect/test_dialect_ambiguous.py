"""Space delimiters, ``'`` quotes, columns aligned with runs of spaces and several tables in one
file: detected right, or read losslessly with an "ambiguous" note naming the override."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import DataError


def _rows(path: Path) -> list[tuple]:
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    return con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()


def test_space_delimiter_is_detected(tmp_path: Path) -> None:
    src = tmp_path / "scores.txt"
    src.write_text("id name score\n1 alice 2.5\n2 bob 3.5\n3 carol 4.0\n")
    r = convert(src, tmp_path / "o.parquet")
    assert (r.format, r.delimiter) == ("csv", " ")
    assert _rows(tmp_path / "o.parquet") == [(1, "alice", 2.5), (2, "bob", 3.5), (3, "carol", 4.0)]


def test_single_quote_is_detected_with_space_and_comma(tmp_path: Path) -> None:
    src = tmp_path / "cities.txt"
    src.write_text("id name city\n1 'Ann Lee' 'New York'\n2 'Bo' 'Oslo'\n3 'Cy, Dee' 'San Jose'\n")
    r = convert(src, tmp_path / "o.parquet")
    assert (r.delimiter, r.detection["quotechar"]) == (" ", "'")
    assert _rows(tmp_path / "o.parquet") == [(1, "Ann Lee", "New York"), (2, "Bo", "Oslo"),
                                             (3, "Cy, Dee", "San Jose")]


def test_apostrophes_inside_values_are_no_quotes(tmp_path: Path) -> None:
    src = tmp_path / "names.csv"
    src.write_text("id,name\n1,O'Brien\n2,D'Arcy\n3,'quoted, name'\n")
    convert(src, tmp_path / "o.parquet")
    assert _rows(tmp_path / "o.parquet") == [(1, "O'Brien"), (2, "D'Arcy"), (3, "quoted, name")]


def test_columns_aligned_with_runs_of_spaces_are_lines_with_a_note(tmp_path: Path) -> None:
    """One space is no delimiter there (runs would shift the columns): every line is kept as
    it is, and the note names what to do."""
    text = "id    name     score\n1     alice    2.5\n22    bob      3.5\n333   carol    4.0\n"
    src = tmp_path / "aligned.txt"
    src.write_text(text)
    r = convert(src, tmp_path / "o.parquet")
    assert r.format == "log"
    assert [v for (v,) in _rows(tmp_path / "o.parquet")] == text.splitlines()
    assert any("ambiguous: columns aligned" in n and "--delimiter ' '" in n
               for n in r.detection["notes"])


@pytest.mark.parametrize("second", ["sku;price;qty\nX1;2.5;3\nX2;1.0;4\nX3;1.5;5\n",
                                    "sku,price,qty\nX1,2.5,3\nX2,1.0,4\n"])
def test_second_table_is_never_read_as_the_first(tmp_path: Path, second: str) -> None:
    src = tmp_path / "two.csv"
    src.write_text("id,name\n1,a\n2,b\n3,c\n\n" + second)
    q = tmp_path / "q.jsonl"
    r = convert(src, tmp_path / "o.parquet", error_policy="quarantine", quarantine=str(q))
    assert [c["name"] for c in r.columns] == ["id", "name"]
    assert _rows(tmp_path / "o.parquet") == [(1, "a"), (2, "b"), (3, "c")]
    notes = [n for n in r.detection["notes"] if n.startswith("ambiguous: several tables")]
    assert notes and "from line 6" in notes[0]
    bad = [json.loads(x) for x in q.read_text().splitlines()]
    assert [b["line"] for b in bad] == list(range(6, 6 + len(second.splitlines())))
    assert all("another table from line 6" in b["reason"] for b in bad)
    with pytest.raises(DataError, match=r"two\.csv:6: .*another table from line 6"):
        convert(src, tmp_path / "strict.parquet")
