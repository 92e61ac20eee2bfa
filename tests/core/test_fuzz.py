"""Garbage in: a result with balanced accounting, or a LogflowError; never another exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import LogflowError

texty = st.text(alphabet=st.sampled_from(list('ab1,;\t|"\'\n\r{}[]:.-é\x00 ')), max_size=300)
garbage = st.one_of(st.binary(max_size=400), texty.map(lambda t: t.encode("utf-8")))


def _run(data: bytes, fmt: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / name
        src.write_bytes(data)
        try:
            r = convert(src, Path(tmp) / "out.parquet", format=fmt, error_policy="quarantine")
        except LogflowError:
            return
        assert r.rows_read == r.rows_written + r.rows_rejected
        if r.quarantine:
            lines = Path(r.quarantine).read_text(encoding="utf-8").splitlines()
            assert len(lines) == r.rows_rejected


@given(garbage, st.sampled_from(["auto", "csv", "tsv", "jsonl", "json"]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_text_decoders_survive_garbage(data: bytes, fmt: str) -> None:
    _run(data, fmt, "input.dat")


@given(st.lists(st.lists(st.text(alphabet="ab,\"\n1", max_size=5), min_size=1, max_size=4),
                min_size=1, max_size=20))
@settings(max_examples=100, deadline=None)
def test_csv_accounting_holds_for_ragged_rows(rows: list[list[str]]) -> None:
    data = "h1,h2,h3\n" + "\n".join(",".join(r) for r in rows) + "\n"
    _run(data.encode(), "csv", "ragged.csv")


def test_bare_carriage_return_in_a_record(tmp_path: Path) -> None:
    """pyarrow ends a record at a lone CR, the scanner does not: the record-by-record path
    decides, and the accounting still holds."""
    src = tmp_path / "cr.csv"
    src.write_bytes(b"a,b\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(50)) + b"x,\r\x00\n")
    r = convert(src, tmp_path / "cr.parquet", format="csv", error_policy="quarantine")
    assert r.rows_read == r.rows_written + r.rows_rejected == 51
    assert r.rows_rejected == 1
