"""JSON values are written exactly as the source says or rejected: doubles written in an early
batch are not turned into text later (``2.50`` would come back as ``2.5``), repeated keys are
bad records (never last-wins), JSON array rejects carry byte offsets, and integers beyond 2^53
never meet fractions in a double column."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from logflow_dagster.core.convert import convert
from logflow_dagster.core.decoders import DecodeOptions, get_decoder
from logflow_dagster.core.detect import detect
from logflow_dagster.core.errors import DataError
from logflow_dagster.core.source import Source


def _rows(path: Path) -> list[tuple]:
    return duckdb.sql(f"SELECT * FROM '{path}'").fetchall()


def _quarantine(path: str) -> list[dict]:
    return [json.loads(x) for x in Path(path).read_text().splitlines()]


def _records(n: int) -> list[str]:
    return ['{"id": ' + str(i) + ', "v": ' + ('2.50', '1e3', '-0.0')[i % 3] + '}' for i in range(n)]


def test_json_array_doubles_of_an_early_batch_stay_doubles(tmp_path: Path) -> None:
    """Batch 1 types ``v`` as double and is handed on; a string in batch 2 is a bad record,
    and every double is written as the number the source says."""
    src = tmp_path / "a.json"
    src.write_text("[\n" + ",\n".join([*_records(6), '{"id": 99, "v": "abc"}']) + "\n]\n")
    out = tmp_path / "a.parquet"
    r = convert(src, out, error_policy="quarantine", batch_size=4)
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (7, 6, 1)
    assert {c["name"]: c["type"] for c in r.columns}["v"] == "double"
    assert [v for _, v in _rows(out)] == [2.5, 1000.0, -0.0, 2.5, 1000.0, -0.0]
    (bad,) = _quarantine(r.quarantine)
    assert (bad["line"], bad["column"], bad["value"], bad["reason"]) == (
        8, "v", "abc", "expected double in field 'v'")
    assert src.read_bytes()[bad["byte_offset"]:].startswith(b'{"id": 99, "v": "abc"}')


def test_jsonl_doubles_of_an_early_block_stay_doubles(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text("\n".join([*_records(3000), '{"id": 99, "v": "abc"}']) + "\n")
    det = detect(Source.open_path(src))
    decoder = get_decoder("jsonl")(Source.open_path(src), det,
                                   DecodeOptions(block_size=4096, batch_size=1000))
    written, errors = [], []
    for batch in decoder.batches():
        errors += batch.errors
        if batch.batch is not None:
            assert str(batch.batch.schema.field("v").type) == "double"
            written += batch.batch.column("v").to_pylist()
    assert len(written) == 3000 and set(written) == {2.5, 1000.0, -0.0}
    (bad,) = errors
    assert (bad.line, bad.column, bad.value) == (3001, "v", "abc")


def test_text_first_keeps_every_number_as_written(tmp_path: Path) -> None:
    """The other order: a key that is text from the first batch on writes numbers as their
    JSON text."""
    src = tmp_path / "t.json"
    src.write_text('[{"v": "abc"}, {"v": 2.50}, {"v": 1e3}, {"v": -0.0}]')
    out = tmp_path / "t.parquet"
    r = convert(src, out, error_policy="strict")
    assert r.rows_written == 4
    assert [v for (v,) in _rows(out)] == ["abc", "2.50", "1e3", "-0.0"]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_repeated_keys_are_bad_records(tmp_path: Path, fmt: str) -> None:
    lines = ['{"a": 1, "a": 2}', '{"a": 3, "b": {"c": 1, "c": 1}}', '{"a": 4}']
    text = "[" + ",\n".join(lines) + "]" if fmt == "json" else "\n".join(lines) + "\n"
    src = tmp_path / f"d.{fmt}"
    src.write_text(text)
    out = tmp_path / "d.parquet"
    r = convert(src, out, error_policy="quarantine", format=fmt)
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (3, 1, 2)
    assert _rows(out) == [(4,)]
    q = _quarantine(r.quarantine)
    assert [(e["line"], e["reason"], e["raw"]) for e in q] == [
        (1, "duplicate key 'a' in an object", lines[0]),
        (2, "duplicate key 'c' in an object", lines[1])]
    with pytest.raises(DataError, match=r"d\.json.?:1: duplicate key 'a'"):
        convert(src, tmp_path / "strict.parquet", error_policy="strict", format=fmt)


def test_json_array_rejects_carry_byte_offsets(tmp_path: Path) -> None:
    """Offsets count bytes of the file (BOM and multi-byte characters included)."""
    body = '[{"a": "\u00e9\u00e9"},\n {"a": 1, "a": 1},\n {"a": "\u4e2d"} oops ]'
    src = tmp_path / "o.json"
    src.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    r = convert(src, tmp_path / "o.parquet", error_policy="quarantine")
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (4, 2, 2)
    data = src.read_bytes()
    q = _quarantine(r.quarantine)
    assert [e["line"] for e in q] == [2, 3]
    assert data[q[0]["byte_offset"]:].startswith(b'{"a": 1, "a": 1}')
    assert data[q[1]["byte_offset"]:].startswith(b"oops")


def test_big_integers_never_meet_fractions_in_a_double(tmp_path: Path) -> None:
    """2^53 + 1 in an int column that a later batch would widen to double: a clear error
    naming the file and column (a double would round it), and the override that keeps it."""
    big = 2**53 + 1
    src = tmp_path / "b.json"
    src.write_text("[" + ",".join(f'{{"id": {i}, "v": {big if i == 1 else i}}}'
                                  for i in range(4)) + ', {"id": 9, "v": 1.5}]')
    with pytest.raises(DataError, match=r"b\.json: integers beyond 2\^53 .*column 'v'"):
        convert(src, tmp_path / "b.parquet", batch_size=2, error_policy="quarantine")
    out = tmp_path / "s.parquet"
    convert(src, out, batch_size=2, schema={"v": "string"})
    assert [v for _, v in _rows(out)] == ["0", str(big), "2", "3", "1.5"]


def test_lists_of_nulls_are_written_as_they_are(tmp_path: Path) -> None:
    """pyarrow's JSON reader builds an invalid array for a list that starts with nulls
    (``[null, false]``, found by the pollution property): such blocks take the
    record-by-record path."""
    src = tmp_path / "n.jsonl"
    src.write_text('{"id": [null, false]}\n{"id": []}\n{"id": [null]}\n{"id": [true]}\n')
    out = tmp_path / "n.parquet"
    r = convert(src, out, error_policy="strict")
    assert r.rows_written == 4
    assert duckdb.sql(f"SELECT id FROM '{out}'").fetchall() == [
        ([None, False],), ([],), ([None],), ([True],)]
