"""Mutated Parquet, Avro and XLSX files through the whole pipeline: a result with balanced
accounting or a LogflowError naming the file, never another exception (a UnicodeDecodeError
from invalid UTF-8 in a Parquet string page once reached the profile)."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import DataError, LogflowError
from tests.core.decoders.fuzzing import FUZZ, flipped_or_cut

NAMES = [f"név-{i:03d}" for i in range(60)]


def _parquet(**kw: object) -> bytes:
    table = pa.table({"id": list(range(60)), "name": NAMES, "tags": [["a", "é"]] * 60})
    out = io.BytesIO()
    pq.write_table(table, out, **kw)  # type: ignore[arg-type]
    return out.getvalue()


def _avro() -> bytes:
    import fastavro

    schema = {"type": "record", "name": "r", "fields": [
        {"name": "id", "type": "long"}, {"name": "s", "type": ["null", "string"]},
        {"name": "m", "type": {"type": "map", "values": "string"}}]}
    out = io.BytesIO()
    fastavro.writer(out, schema, [{"id": i, "s": NAMES[i], "m": {"k": "é"}} for i in range(60)])
    return out.getvalue()


def _xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "name"])
    for i in range(20):
        sheet.append([i, NAMES[i]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PLAIN = _parquet(compression="none", use_dictionary=False)
SEEDS = {"parquet": [PLAIN, _parquet(compression="none"), _parquet()], "avro": [_avro()],
         "xlsx": [_xlsx()]}


def test_invalid_utf8_in_a_parquet_string_is_a_bad_record(tmp_path: Path) -> None:
    data = bytearray(PLAIN)
    at = data.index("név-017".encode())
    data[at + 1] = 0xFF  # the first byte of "é": now invalid UTF-8, same length
    src = tmp_path / "bad.parquet"
    src.write_bytes(bytes(data))
    q = tmp_path / "q.jsonl"
    r = convert(src, tmp_path / "o.parquet", error_policy="quarantine", quarantine=str(q))
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (60, 59, 1)
    [bad] = [json.loads(x) for x in q.read_text().splitlines()]
    assert (bad["record"], bad["column"]) == (18, "name")
    assert "invalid UTF-8" in bad["reason"] and "\\xff" in bad["raw"]
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    got = con.execute(f"SELECT id, name FROM read_parquet('{tmp_path / 'o.parquet'}') "
                      "ORDER BY id").fetchall()
    assert got == [(i, NAMES[i]) for i in range(60) if i != 17]
    with pytest.raises(DataError, match=r"bad\.parquet.*invalid UTF-8"):
        convert(src, tmp_path / "strict.parquet")


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_mutated_binary_files_fail_cleanly(fmt: str) -> None:
    @FUZZ
    @given(st.sampled_from(SEEDS[fmt]).flatmap(flipped_or_cut), st.sampled_from([fmt, "auto"]))
    def run(data: bytes, chosen: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / f"in.{fmt}"
            src.write_bytes(data)
            try:
                r = convert(src, Path(tmp) / "o.parquet", format=chosen,
                            error_policy="quarantine")
            except LogflowError as err:
                assert "in." in str(err) or getattr(err, "source", None)
                return
            assert r.rows_read == r.rows_written + r.rows_rejected

    run()
