"""CSV columns of codes (zip codes, ids with leading zeros, signed deltas) are read as text."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from logflow_dagster.core import convert as convert_module
from logflow_dagster.core.convert import convert
from logflow_dagster.core.decoders import DecodeOptions


def _small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 16 KiB and a typing sample of 100 rows: later values meet a planned type."""
    monkeypatch.setattr(convert_module, "DecodeOptions",
                        partial(DecodeOptions, block_size=1 << 14, infer_rows=100))


def test_leading_zero_and_plus_sign_columns_stay_text(tmp_path: Path) -> None:
    src = tmp_path / "codes.csv"
    src.write_text("id,zip,delta,n,x\n1,08123,+5,0,0.5\n2,12345,-3,7,1e5\n3,00,+0,-2,1.50\n")
    out = tmp_path / "codes.parquet"
    r = convert(src, out)
    types = {c["name"]: c["type"] for c in r.columns}
    assert types == {"id": "int64", "zip": "string", "delta": "string", "n": "int64",
                     "x": "double"}
    t = pq.read_table(out)
    assert t.column("zip").to_pylist() == ["08123", "12345", "00"]
    assert t.column("delta").to_pylist() == ["+5", "-3", "+0"]
    assert t.column("x").to_pylist() == [0.5, 1e5, 1.5]


def test_schema_override_still_reads_codes_as_numbers(tmp_path: Path) -> None:
    src = tmp_path / "codes.csv"
    src.write_text("zip\n08123\n00042\n")
    out = tmp_path / "codes.parquet"
    convert(src, out, schema={"zip": "int64"})
    assert pq.read_table(out).column("zip").to_pylist() == [8123, 42]


@pytest.mark.parametrize("mmap", ["1", "0"])
def test_code_after_the_sample_widens_int_column_to_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mmap: str) -> None:
    """A zero-padded value far past the typing sample turns the whole column into text: the
    integers written before are rewritten as the text they were read from."""
    monkeypatch.setenv("LOGFLOW_MMAP", mmap)
    _small_blocks(monkeypatch)
    n = 5000
    zips = [str(10000 + i) for i in range(n)]
    zips[4000] = "01234"
    src = tmp_path / "late.csv"
    src.write_text("id,zip\n" + "".join(f"{i},{z}\n" for i, z in enumerate(zips)))
    out = tmp_path / "late.parquet"
    r = convert(src, out, error_policy="quarantine")
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (n, n, 0)
    t = pq.read_table(out).sort_by("id")
    assert t.schema.field("zip").type == "string"
    assert t.column("zip").to_pylist() == zips
    assert Path(r.quarantine).read_text() == ""


@pytest.mark.parametrize("mmap", ["1", "0"])
def test_negative_zero_after_the_sample_widens_int_column(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mmap: str) -> None:
    monkeypatch.setenv("LOGFLOW_MMAP", mmap)
    _small_blocks(monkeypatch)
    values = [str(i - 1000) for i in range(3000)]
    values[2500] = "-0"
    src = tmp_path / "late.csv"
    src.write_text("id,d\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)))
    out = tmp_path / "late.parquet"
    r = convert(src, out, error_policy="quarantine")
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (3000, 3000, 0)
    assert pq.read_table(out).sort_by("id").column("d").to_pylist() == values
