"""JSON Lines and JSON arrays: late fields, widening, bad lines, nested values."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from logflow_dagster.core.convert import convert
from logflow_dagster.core.decoders import DecodeOptions, get_decoder
from logflow_dagster.core.decoders import jsonl as jsonl_module
from logflow_dagster.core.detect import detect
from logflow_dagster.core.source import Source


def test_jsonl_written_by_pandas_matches_duckdb(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    df = pd.DataFrame({"id": range(3000), "amount": [i * 0.25 for i in range(3000)],
                       "tags": [["a", "b"][: i % 3] for i in range(3000)],
                       "ts": [f"2024-02-01T10:{i % 60:02d}:00+02:00" for i in range(3000)]})
    src = tmp_path / "e.jsonl"
    df.to_json(src, orient="records", lines=True)
    r = convert(src, tmp_path / "e.parquet")
    assert r.format == "jsonl" and r.rows_written == 3000
    got = duck.execute(f"SELECT count(*), sum(amount), sum(len(tags)), min(ts) FROM '{tmp_path / 'e.parquet'}'").fetchone()
    assert got[0] == 3000 and got[1] == df.amount.sum() and got[2] == sum(i % 3 for i in range(3000))
    assert str(got[3]).startswith("2024-02-01 08:00:00")


def test_late_fields_and_widening_are_kept(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    rows = [{"id": i, "v": i} for i in range(40_000)]
    rows.append({"id": 40_000, "v": 0.5, "late": "here"})
    src = tmp_path / "late.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    r = convert(src, tmp_path / "late.parquet")
    types = {c["name"]: c["type"] for c in r.columns}
    assert types == {"id": "int64", "v": "double", "late": "string"}
    got = duck.execute(f"SELECT sum(v), count(late), max(late) FROM '{tmp_path / 'late.parquet'}'").fetchone()
    assert got == (sum(range(40_000)) + 0.5, 1, "here")


def test_bad_lines_quarantined_with_lines_and_offsets(tmp_path: Path) -> None:
    lines = [json.dumps({"id": i, "n": i}) for i in range(100)]
    lines[9] = '{"id": 9, "n": '  # truncated
    lines[49] = '{"id": 49, "n": tru}'  # invalid literal ("many" would make n text)
    src = tmp_path / "bad.jsonl"
    data = "\n".join(lines) + "\n"
    src.write_text(data)
    r = convert(src, tmp_path / "b.parquet", error_policy="quarantine")
    assert (r.rows_read, r.rows_rejected) == (100, 2)
    q = [json.loads(x) for x in Path(r.quarantine).read_text().splitlines()]
    assert [x["line"] for x in q] == [10, 50]
    for x in q:
        assert data.encode()[x["byte_offset"] :].startswith(x["raw"].encode())


def test_json_array_nested(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    recs = [{"id": i, "user": {"name": f"u{i}", "roles": ["r"] * (i % 2)}} for i in range(500)]
    src = tmp_path / "a.json"
    src.write_text(json.dumps(recs, indent=2))
    r = convert(src, tmp_path / "a.parquet")
    assert r.format == "json" and r.rows_written == 500
    got = duck.execute(f"SELECT count(*), max(user.name), sum(len(user.roles)) FROM '{tmp_path / 'a.parquet'}'").fetchone()
    assert got == (500, "u99", 250)


def test_json_object_wrapping_records(tmp_path: Path) -> None:
    src = tmp_path / "w.json"
    src.write_text(json.dumps({"meta": {"v": 1}, "data": [{"a": 1}, {"a": 2}]}))
    r = convert(src, tmp_path / "w.parquet")
    assert r.rows_written == 2


def _decode_jsonl(path: Path, block_size: int) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    source = Source.open_path(path)
    decoder = get_decoder("jsonl")(source, detect(source), DecodeOptions(block_size=block_size))
    batches, errors = [], []
    for step in decoder.batches():
        if step.batch is not None and step.batch.num_rows:
            batches.append(step.batch)
        errors.extend((e.line, e.raw) for e in step.errors)
    return pa.Table.from_batches(batches).combine_chunks(), errors


def test_zoned_times_parsed_while_reading_equal_the_text_path(tmp_path: Path,
                                                              monkeypatch) -> None:
    spellings = ["2024-03-01T10:15:30.123+01:00", "2024-03-01 10:15:30Z", "2024-03-01T10:15:30",
                 "2024-03-01", "2024-03-01T10:15:30+0100", "2024-03-01T10:15:30+01",
                 "2024-03-01T10:15:30-05:30", None, "2024-13-45T99:00:00", "abc", 17]
    lines = [json.dumps({"id": i, "ts": f"2024-02-01T10:{i % 60:02d}:00+02:00"}) for i in range(300)]
    lines += [json.dumps({"id": 300 + i, "ts": v}) for i, v in enumerate(spellings * 20)]
    src = tmp_path / "t.jsonl"
    src.write_text("\n".join(lines) + "\n")
    typed, typed_errors = _decode_jsonl(src, block_size=2048)
    monkeypatch.setattr(jsonl_module, "_parse_typed", lambda raw, typer: None)
    text, text_errors = _decode_jsonl(src, block_size=2048)
    assert typed.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert typed.equals(text)
    assert typed_errors == text_errors and len(typed_errors) == 3 * 20
    assert {line for line, _ in typed_errors} == {
        301 + i for i, v in enumerate(spellings * 20)
        if v in ("2024-13-45T99:00:00", "abc", 17)}
    ts = dict(zip(typed.column("id").to_pylist(), typed.column("ts").to_pylist(), strict=True))
    assert [ts[300 + i].isoformat() if ts[300 + i] else None for i in range(8)] == [
        "2024-03-01T09:15:30.123000+00:00", "2024-03-01T10:15:30+00:00",
        "2024-03-01T10:15:30+00:00", "2024-03-01T00:00:00+00:00", "2024-03-01T09:15:30+00:00",
        "2024-03-01T09:15:30+00:00", "2024-03-01T15:45:30+00:00", None]


def test_mapped_and_streamed_reads_agree(tmp_path: Path, monkeypatch) -> None:
    """A memory-mapped file and the same file read as a stream give the same rows, bad lines
    (line numbers, offsets, raw text) and types, at block sizes that cut every few lines."""
    lines = []
    for i in range(400):
        rec: dict = {"id": i, "name": f"n{i}", "ts": f"2024-02-01T10:{i % 60:02d}:00Z"}
        if i % 50 == 7:
            rec["late"] = i  # a field first seen mid-stream
        lines.append("{broken" if i % 61 == 3 else "" if i % 97 == 5 else json.dumps(rec))
    src = tmp_path / "m.jsonl"
    src.write_text("\n".join(lines))  # no newline at the end
    results = {}
    for mode in ("1", "0"):
        monkeypatch.setenv("LOGFLOW_MMAP", mode)
        source = Source.open_path(src)
        steps = list(get_decoder("jsonl")(source, detect(source),
                                          DecodeOptions(block_size=700)).batches())
        table = pa.concat_tables([pa.Table.from_batches([s.batch]) for s in steps
                                  if s.batch is not None], promote_options="default")
        results[mode] = table, [(e.line, e.byte_offset, e.raw) for s in steps for e in s.errors]
    (mapped, mapped_errors), (streamed, streamed_errors) = results["1"], results["0"]
    assert mapped.equals(streamed) and mapped.num_rows == 400 - 7 - 5
    assert mapped_errors == streamed_errors and len(mapped_errors) == 7
    assert "late" in mapped.column_names


def test_empty_objects_are_never_dropped(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    # only empty objects: there is no column to write them to, so they are rejected (kept in
    # quarantine with their lines); beside records with fields they are rows of nulls
    lines = tmp_path / "e.jsonl"
    lines.write_text("{}\n{ }\n")
    array = tmp_path / "e.json"
    array.write_text("[{}, {}, {}]")
    for src, n in ((lines, 2), (array, 3)):
        q = tmp_path / f"{src.name}.quarantine.jsonl"
        r = convert(src, tmp_path / f"{src.name}.parquet", error_policy="quarantine", quarantine=str(q))
        assert (r.rows_read, r.rows_written, r.rows_rejected) == (n, 0, n)
        bad = [json.loads(x) for x in q.read_text().splitlines()]
        assert len(bad) == n and all("without fields" in b["reason"] for b in bad)
    assert [b["line"] for b in (json.loads(x) for x in
                                (tmp_path / "e.jsonl.quarantine.jsonl").read_text().splitlines())] == [1, 2]
    mixed = tmp_path / "m.jsonl"
    mixed.write_text("{}\n" * 3 + "".join(f'{{"a": {i}}}\n' for i in range(5)) + "{}\n")
    r = convert(mixed, tmp_path / "m.parquet")
    assert (r.rows_read, r.rows_written) == (9, 9)
    got = duck.execute(f"SELECT count(*), count(a), sum(a) FROM '{tmp_path / 'm.parquet'}'").fetchone()
    assert got == (9, 5, 10)


def test_empty_objects_after_known_columns_are_rows_of_nulls() -> None:
    from logflow_dagster.core.decoders.records import RecordBatcher

    batcher = RecordBatcher()
    first, _ = batcher.build([{"a": 1, "b": "x"}], [1], ['{"a": 1, "b": "x"}'])
    later, bad = batcher.build([{}, {}], [2, 3], ["{}", "{}"])
    assert first is not None and later is not None and not bad
    assert later.to_pylist() == [{"a": None, "b": None}, {"a": None, "b": None}]
