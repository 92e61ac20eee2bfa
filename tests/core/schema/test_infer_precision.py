"""Numbers a double cannot hold exactly are never written as the nearest double: in the sample
they make the column text; later, in a column already typed float, their record is bad."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from logflow_dagster.core.convert import convert
from logflow_dagster.core.schema.infer import inexact_as_double, infer_kind

BIG = "9007199254740993"  # 2^53 + 1: the nearest double is 2^53
LONG_FRACTION = "0.1000000000000000055511151231257827"


@pytest.mark.parametrize(("values", "kind"), [
    (["1.5", "2.50", "1e300", "0.1"], "float"),
    (["1.5", BIG], "string"),
    (["1.5", LONG_FRACTION], "string"),
    (["1", "9007199254740992"], "int"),  # exact as int64 (and as a double)
    (["1", BIG], "int"),  # int64 holds it exactly
    (["1", "99999999999999999999"], "string"),  # past int64: a double would round it
    (["123456789012345.6", "1.25"], "float"),  # 16 digits, yet exactly the nearest double
])
def test_inference(values: list[str], kind: str) -> None:
    assert infer_kind(pa.array(values)) == kind


def test_inexact_rows() -> None:
    values = pa.array(["2.50", BIG, None, "-" + BIG, "9007199254740992", LONG_FRACTION, "x" * 20])
    assert inexact_as_double(values).tolist() == [1, 3, 5]


def test_csv_sample_makes_text_and_later_values_are_bad(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text(f"v\n1.5\n{BIG}\n{LONG_FRACTION}\n2.50\n")
    out = tmp_path / "a.parquet"
    r = convert(src, out)
    assert r.columns == [{"name": "v", "type": "string"}]
    assert [v for (v,) in duckdb.sql(f"SELECT v FROM '{out}'").fetchall()] == [
        "1.5", BIG, LONG_FRACTION, "2.50"]

    late = tmp_path / "late.csv"
    late.write_text("id,v\n" + "".join(f"{i},{i / 2}\n" for i in range(100_000))
                    + f"-1,{BIG}\n-2,2.5\n")
    out = tmp_path / "late.parquet"
    r = convert(late, out, error_policy="quarantine")
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (100_002, 100_001, 1)
    (bad,) = [json.loads(x) for x in Path(r.quarantine).read_text().splitlines()]
    assert (bad["line"], bad["value"], bad["column"]) == (100_002, BIG, "v")
    assert duckdb.sql(f"SELECT v FROM '{out}' WHERE id = -2").fetchall() == [(2.5,)]
