"""XlsxDecoder: sheets, header detection, native cell types, bad cells, corrupt workbooks."""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logflow_dagster.core.decoders import DecodedBatch, DecodeOptions, get_decoder
from logflow_dagster.core.decoders.xlsx import column_names
from logflow_dagster.core.detect.result import Detection
from logflow_dagster.core.errors import DataError, LogflowError, UsageError
from logflow_dagster.core.source import Source
from tests.core.decoders.fuzzing import FUZZ, flipped_or_cut, magic_then_garbage

N = 60
HEADER = ["id", "amount", "when", "day", "ok", "note"]
NA_RECORD = 25  # its amount is the text "n/a"
NA_LINE = NA_RECORD + 1 + 2  # one empty row before it, header on row 1, rows are 1-based


def record(i: int) -> list[Any]:
    return [
        i + 1,
        "n/a" if i == NA_RECORD else i * 1.25,
        dt.datetime(2024, 3, 1, 8) + dt.timedelta(hours=i),
        dt.date(2024, 1, 1) + dt.timedelta(days=i),
        i % 3 == 0,
        None if i % 5 == 0 else f"note {i}",
    ]


def write_book(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def decode(path: Path, **options: Any) -> tuple[list[DecodedBatch], dict[str, Any]]:
    dec = get_decoder("xlsx")(Source.open_path(path), Detection("xlsx"), DecodeOptions(**options))
    return list(dec.batches()), dec.info


def table(steps: list[DecodedBatch]) -> pa.Table:
    return pa.Table.from_batches([s.batch for s in steps if s.batch is not None])


def errors(steps: list[DecodedBatch]) -> list[Any]:
    return [e for s in steps for e in s.errors]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = [record(i) for i in range(N)]
    orders = [HEADER, *records[:10], [], *records[10:]]
    readme = [["This workbook holds orders"], ["generated for tests"]]
    path = tmp_path_factory.mktemp("xlsx") / "book.xlsx"
    return write_book(path, {"readme": readme, "orders": orders})


def test_sheet_by_name_types_and_round_trip(book: Path, tmp_path: Path) -> None:
    steps, info = decode(book, sheet="orders", batch_size=1000)
    assert info["sheet"] == "orders"
    got = table(steps)
    assert {f.name: f.type for f in got.schema} == {
        "id": pa.int64(), "amount": pa.float64(), "when": pa.timestamp("us"),
        "day": pa.date32(), "ok": pa.bool_(), "note": pa.string(),
    }
    (bad,) = errors(steps)
    assert bad.line == NA_LINE
    assert bad.column == "amount"
    assert bad.value == "n/a"
    assert bad.reason == "expected float64 in column 'amount'"
    assert bad.raw == "26\tn/a\t2024-03-02T09:00:00\t2024-01-26\tfalse\t"  # no note

    out = tmp_path / "orders.parquet"
    pq.write_table(got, out)
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{out}')")
    count, ids, amount, oks, notes = con.execute(
        "SELECT count(*), sum(id), sum(amount), count(*) FILTER (ok), count(note) FROM t"
    ).fetchone()
    assert count == N - 1
    assert ids == N * (N + 1) // 2 - (NA_RECORD + 1)
    assert amount == 1.25 * (N * (N - 1) // 2 - NA_RECORD)
    assert oks == len([i for i in range(N) if i % 3 == 0 and i != NA_RECORD])
    assert notes == len([i for i in range(N) if i % 5 and i != NA_RECORD])
    row = con.execute("SELECT \"when\", day, ok, note, amount FROM t WHERE id = 17").fetchone()
    # 2024-03-02 00:00: calamine reads a midnight datetime as a date; the column widens it
    assert row == (dt.datetime(2024, 3, 2), dt.date(2024, 1, 17), False, "note 16", 20.0)
    row = con.execute("SELECT \"when\" FROM t WHERE id = 18").fetchone()
    assert row == (dt.datetime(2024, 3, 2, 1),)


@pytest.mark.parametrize("sheet", [1, "1", "orders"])
def test_sheet_by_index(book: Path, sheet: int | str) -> None:
    steps, info = decode(book, sheet=sheet)
    assert info["sheet"] == "orders"
    assert sum(s.records for s in steps) == N


def test_first_sheet_is_the_default_and_all_text_has_no_header(book: Path) -> None:
    steps, info = decode(book)
    assert info["sheet"] == "readme"
    assert table(steps).to_pydict() == {
        "column_1": ["This workbook holds orders", "generated for tests"]}


def test_unknown_sheet_names_the_sheets(book: Path) -> None:
    with pytest.raises(UsageError, match="'readme', 'orders'"):
        decode(book, sheet="nope")
    with pytest.raises(UsageError, match="available sheets"):
        decode(book, sheet=7)


def test_batches_hold_batch_size_records(book: Path) -> None:
    steps, _ = decode(book, sheet="orders", batch_size=7)
    assert all(s.records <= 7 for s in steps)
    assert sum(s.records for s in steps) == N
    assert [e.line for e in errors(steps)] == [NA_LINE]


def test_no_header_and_offset_range(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for r in range(3, 9):  # data in C3:E8; row 6 has text in a numeric column
        sheet.cell(r, 3, r * 10)
        sheet.cell(r, 4, "oops" if r == 6 else r + 0.5)
        sheet.cell(r, 5, f"s{r}")
    path = tmp_path / "offset.xlsx"
    book.save(path)
    steps, _ = decode(path)
    got = table(steps)
    assert got.column_names == ["column_1", "column_2", "column_3"]
    assert got.column("column_1").to_pylist() == [30, 40, 50, 70, 80]
    (bad,) = errors(steps)
    assert (bad.line, bad.column, bad.value) == (6, "column_2", "oops")
    assert bad.raw == "60\toops\ts6"


def test_header_names_are_sanitized(tmp_path: Path) -> None:
    path = write_book(tmp_path / "names.xlsx", {"s": [
        ["name", None, "name", " value ", "column_2"],
        [1, 2, 3, 4, 5],
        [None, None, None, None, None],
        [6, 7, 8, 9, 10],
    ]})
    got = table(decode(path)[0])
    assert got.column_names == ["name", "column_2", "name_2", "value", "column_2_2"]
    assert got.num_rows == 2
    assert column_names(["a", "a", "a_2"], 3) == ["a", "a_3", "a_2"]


def test_overrides(book: Path, tmp_path: Path) -> None:
    steps, _ = decode(book, sheet="orders", schema={"amount": "string", "id": "int32"})
    got = table(steps)
    assert errors(steps) == []
    assert got.schema.field("id").type == pa.int32()
    assert got.column("amount").to_pylist()[NA_RECORD - 1: NA_RECORD + 2] == [
        "30", "n/a", "32.5"]

    path = write_book(tmp_path / "codes.xlsx", {"s": [
        ["code", "when"], ["001", dt.datetime(2024, 1, 1, 5)], [2, dt.date(2024, 1, 2)],
        ["abc", dt.datetime(2024, 1, 3)], [4.5, None],
    ]})
    steps, _ = decode(path, schema={"code": "int64", "when": "timestamptz"})
    got = table(steps)
    assert got.column("code").to_pylist() == [1, 2]
    assert got.column("when").type == pa.timestamp("us", tz="UTC")
    assert got.column("when").to_pylist()[0] == dt.datetime(2024, 1, 1, 5, tzinfo=dt.UTC)
    assert [(e.line, e.value, e.reason) for e in errors(steps)] == [
        (4, "abc", "expected int64 in column 'code'"),
        (5, "4.5", "expected int64 in column 'code'"),
    ]


def test_empty_sheet_yields_nothing(tmp_path: Path) -> None:
    path = write_book(tmp_path / "empty.xlsx", {"blank": []})
    assert decode(path)[0] == []


def test_corrupt_workbooks_are_data_errors(book: Path, tmp_path: Path) -> None:
    cases = {
        "text.xlsx": b"id,amount\n1,2\n",
        "empty.xlsx": b"",
        "cut.xlsx": book.read_bytes()[: len(book.read_bytes()) // 2],
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    cases["zip.xlsx"] = buf.getvalue()
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DataError, match=re.escape(name)):
            decode(path)


# --- properties and fuzzing ---------------------------------------------------------------------

#: Plain bytes, or what looks like the start of a gzip, bz2 or zstd stream.
_FUZZ_DIR = Path(tempfile.mkdtemp(prefix="logflow-xlsx-fuzz-"))
_cells = st.one_of(
    st.none(), st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False),
    st.booleans(), st.text(alphabet="abc xyz01", max_size=5),
    st.dates(dt.date(1950, 1, 1), dt.date(2090, 1, 1)),
    st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2090, 1, 1)).map(
        lambda d: d.replace(microsecond=0)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_cells, min_size=3, max_size=3), min_size=1, max_size=12),
       st.integers(1, 5))
def test_every_non_empty_row_is_a_record_or_an_error(rows: list[list[Any]], size: int) -> None:
    path = write_book(_FUZZ_DIR / "prop.xlsx", {"s": rows})
    steps, _ = decode(path, batch_size=size)
    non_empty = [i + 1 for i, r in enumerate(rows) if any(c not in (None, "") for c in r)]
    produced = sum(s.records for s in steps)
    assert all(s.records <= size for s in steps)
    assert produced in (len(non_empty), len(non_empty) - 1)  # minus the header row
    if produced == len(non_empty) - 1:  # a header: text cells only
        assert all(c is None or isinstance(c, str) for c in rows[non_empty[0] - 1])
    assert {e.line for e in errors(steps)} <= set(non_empty)


_buf = io.BytesIO()
_fuzz_book = openpyxl.Workbook()
for _i in range(30):
    _fuzz_book.active.append(record(_i))
_fuzz_book.save(_buf)
_VALID_BYTES = _buf.getvalue()


def _decode_or_logflow_error(data: bytes) -> None:
    path = _FUZZ_DIR / "fuzz.xlsx"
    path.write_bytes(data)
    try:
        steps, _ = decode(path, batch_size=8)
    except LogflowError:
        return
    for step in steps:
        assert step.batch is None or isinstance(step.batch, pa.RecordBatch)
        assert all(e.line is not None for e in step.errors)


@FUZZ
@given(magic_then_garbage())
def test_fuzz_random_bytes(data: bytes) -> None:
    _decode_or_logflow_error(data)


@FUZZ
@given(flipped_or_cut(_VALID_BYTES))
def test_fuzz_mutated_and_truncated(data: bytes) -> None:
    _decode_or_logflow_error(data)
