"""CSV numbers with more significant digits than a double holds are never silently rounded."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logflow_dagster.core import convert as convert_module
from logflow_dagster.core.convert import convert
from logflow_dagster.core.decoders import DecodeOptions
from logflow_dagster.core.errors import DataError
from logflow_dagster.core.schema.infer import inexact_as_double


def _read(path: Path) -> list[tuple]:
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    return con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY 1").fetchall()


def test_long_numbers_in_the_sample_make_the_column_text(tmp_path: Path) -> None:
    src = tmp_path / "digits.csv"
    src.write_text("id,v,w\n1,1.5,2.5\n2,9007199254740993,3\n"
                   "3,0.1000000000000000055511151231257827,0.125\n")
    r = convert(src, tmp_path / "out.parquet")
    assert {c["name"]: c["type"] for c in r.columns} == {"id": "int64", "v": "string",
                                                           "w": "double"}
    assert _read(tmp_path / "out.parquet") == [
        (1, "1.5", 2.5), (2, "9007199254740993", 3.0),
        (3, "0.1000000000000000055511151231257827", 0.125)]


def test_long_numbers_that_a_double_holds_stay_doubles(tmp_path: Path) -> None:
    src = tmp_path / "exact.csv"
    src.write_text("v\n1.5\n9007199254740992\n0.1000000000000000\n100000000000000000000000\n")
    convert(src, tmp_path / "out.parquet")
    assert [v for (v,) in _read(tmp_path / "out.parquet")] == [0.1, 1.5, 9007199254740992.0,
                                                                1e23]


@pytest.mark.parametrize("mmap", ["1", "0"])
def test_long_number_after_the_sample_is_rejected_with_its_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mmap: str) -> None:
    """Past the typing sample a float column cannot become text (its doubles are written):
    the value is a bad record with its line; every other row is written exactly."""
    monkeypatch.setenv("LOGFLOW_MMAP", mmap)
    monkeypatch.setattr(convert_module, "DecodeOptions",
                        partial(DecodeOptions, block_size=1 << 14, infer_rows=100))
    lines = [f"{i},{i}.25" for i in range(5000)]
    lines[3000] = "3000,9007199254740993"
    lines[4000] = "4000,0.1000000000000000055511151231257827"
    src = tmp_path / "late.csv"
    src.write_text("id,v\n" + "\n".join(lines) + "\n")
    q = tmp_path / "q.jsonl"
    r = convert(src, tmp_path / "out.parquet", error_policy="quarantine", quarantine=str(q))
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (5000, 4998, 2)
    bad = [json.loads(x) for x in q.read_text().splitlines()]
    assert [(b["line"], b["value"]) for b in bad] == [
        (3002, "9007199254740993"), (4002, "0.1000000000000000055511151231257827")]
    assert "double" in bad[0]["reason"]
    rows = _read(tmp_path / "out.parquet")
    assert all(v == i + 0.25 for i, v in rows)
    with pytest.raises(DataError, match=r"late\.csv:3002: .*double"):
        convert(src, tmp_path / "strict.parquet")


def test_a_decimal_override_keeps_every_digit(tmp_path: Path) -> None:
    src = tmp_path / "digits.csv"
    src.write_text("v\n1.5\n0.1000000000000000055511151231257827\n")
    convert(src, tmp_path / "out.parquet", schema={"v": "decimal(38,34)"})
    assert [v for (v,) in _read(tmp_path / "out.parquet")] == [
        Decimal("0.1000000000000000055511151231257827"), Decimal("1.5")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10 ** 25), 10 ** 25).map(str),
    st.tuples(st.integers(0, 10 ** 12), st.integers(0, 10 ** 25)).map(lambda p: f"{p[0]}.{p[1]}"),
), min_size=1, max_size=30))
def test_inexact_rows_are_the_decimal_round_trip(texts: list[str]) -> None:
    """Flagged: the numbers whose value is not the double's (``Decimal(text)`` differs from
    ``Decimal(repr(float(text)))``), except fractions of at most 17 significant digits, which
    is how a double prints (they read back as that same double)."""

    def significant(text: str) -> int:
        return len(text.lstrip("+-").replace(".", "").lstrip("0"))

    got = inexact_as_double(pa.array(texts)).tolist()
    assert got == [i for i, t in enumerate(texts)
                   if Decimal(t) != Decimal(repr(float(t)))
                   and (significant(t) >= 18 or ("." not in t and significant(t) >= 16))]
