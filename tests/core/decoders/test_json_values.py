"""JSON and JSON Lines values: mixed types become text as written, shapes are never rewritten,
renamed keys are recorded, invalid documents and empty inputs are clean errors, every rejected
record has its line and raw text."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import DataError

POLICIES = ("strict", "permissive", "quarantine")


def _as_array(jsonl: str) -> str:
    return "[\n" + ",\n".join(ln for ln in jsonl.splitlines() if ln.strip()) + "\n]\n"


def _convert(tmp_path: Path, name: str, text: str, policy: str = "quarantine", **kw):
    src = tmp_path / name
    src.write_text(text)
    out = tmp_path / f"{name}.parquet"
    r = convert(src, out, error_policy=policy, **kw)
    assert r.rows_read == r.rows_written + r.rows_rejected
    return r, pq.read_table(out) if r.files else None


def _quarantine(r) -> list[dict]:
    return [json.loads(x) for x in Path(r.quarantine).read_text().splitlines()]


# -- 1. mixed numbers, strings and booleans ------------------------------------------------

MIXED = [
    ('{"id": "R-1"}\n{"id": 2}\n{"id": 2.50}\n{"id": true}\n', ["R-1", "2", "2.50", "true"]),
    ('{"id": 2}\n{"id": 2.50}\n{"id": "R-1"}\n', ["2", "2.50", "R-1"]),
    ('{"id": true}\n{"id": "yes"}\n{"id": false}\n', ["true", "yes", "false"]),
    ('{"id": 1e400}\n{"id": 12345678901234567890123}\n', ["1e400", "12345678901234567890123"]),
]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize("text,expected", MIXED)
def test_mixed_scalars_become_text_as_written(tmp_path: Path, policy: str, fmt: str, text: str,
                                              expected: list[str]) -> None:
    doc = text if fmt == "jsonl" else _as_array(text)
    r, table = _convert(tmp_path, f"m.{fmt}", doc, policy)
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (len(expected), len(expected), 0)
    assert {c["name"]: c["type"] for c in r.columns} == {"id": "string"}
    assert table.column("id").to_pylist() == expected


@pytest.mark.parametrize("policy", POLICIES)
def test_numbers_block_then_strings_block_jsonl(tmp_path: Path, policy: str) -> None:
    # the first blocks are all integers (pyarrow's reader, written as int64), a later block
    # has identifiers: the written part is widened to text, every value as written
    lines = [json.dumps({"n": i, "id": i}) for i in range(3000)]
    lines += [json.dumps({"n": 3000 + i, "id": f"R-{i}"}) for i in range(5)]
    lines += [json.dumps({"n": 3005 + i, "id": i}) for i in range(300)]
    src = tmp_path / "b.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "b.parquet"
    from logflow_dagster.core import convert as convert_module
    from logflow_dagster.core.decoders import DecodeOptions

    class Small(DecodeOptions):
        def __init__(self, **kw) -> None:
            super().__init__(**{**kw, "block_size": 4096})

    orig = convert_module.DecodeOptions
    convert_module.DecodeOptions = Small
    try:
        r = convert(src, out, error_policy=policy)
    finally:
        convert_module.DecodeOptions = orig
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (3305, 3305, 0)
    t = pq.read_table(out).sort_by("n")
    want = [str(i) for i in range(3000)] + [f"R-{i}" for i in range(5)] + \
        [str(i) for i in range(300)]
    assert t.column("id").to_pylist() == want


def test_numbers_batch_then_strings_batch_json_array(tmp_path: Path) -> None:
    recs = [{"n": i, "id": i} for i in range(70_000)] + [{"n": 70_000, "id": "R-1"}]
    src = tmp_path / "a.json"
    src.write_text(json.dumps(recs))
    r = convert(src, tmp_path / "a.parquet", error_policy="strict")
    assert r.rows_written == 70_001
    t = pq.read_table(tmp_path / "a.parquet")
    got = t.column("id").to_pylist()
    assert got[:3] == ["0", "1", "2"] and got[-1] == "R-1" and got[69_999] == "69999"


def test_number_among_timestamps_in_one_block_is_text_as_written(tmp_path: Path) -> None:
    # JSON strings are typed like CSV text only while the field holds strings alone; a number
    # there in the same block makes the field text (a later one, once typed: a bad record,
    # see test_jsonl.py::test_zoned_times_parsed_while_reading_equal_the_text_path)
    lines = [json.dumps({"ts": f"2024-02-01T10:{i % 60:02d}:00Z"}) for i in range(200)]
    lines.insert(100, '{"ts": 17}')
    r, table = _convert(tmp_path, "t.jsonl", "\n".join(lines) + "\n")
    assert (r.rows_written, r.rows_rejected) == (201, 0)
    assert table.column("ts").to_pylist()[99:102] == [
        "2024-02-01T10:39:00Z", "17", "2024-02-01T10:40:00Z"]


# -- 2. lists of objects, shapes, empty objects ------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_list_of_objects_kept_in_robust_path(tmp_path: Path, fmt: str) -> None:
    text = ('{"a": 1, "l": [{"x": 1}, {"x": 2, "y": "b"}]}\n{"a": "two", "l": []}\n'
            '{"a": 3, "l": [{"x": 3}]}\n')
    doc = text if fmt == "jsonl" else _as_array(text)
    _r, table = _convert(tmp_path, f"l.{fmt}", doc, "strict")
    assert table.column("l").to_pylist() == [
        [{"x": 1, "y": None}, {"x": 2, "y": "b"}], [], [{"x": 3, "y": None}]]
    assert table.column("a").to_pylist() == ["1", "two", "3"]


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize("text,expected", [
    ('{"v": [[1]]}\n{"v": [""]}\n', ["[[1]]", '[""]']),
    ('{"v": []}\n{"v": ""}\n', ["[]", ""]),
    ('{"v": {"a": 1}}\n{"v": {"a": "x"}}\n', ['{"a":1}', '{"a":"x"}']),
    ('{"v": [1, 2.50]}\n{"v": 3}\n', ["[1,2.50]", "3"]),
])
def test_other_shapes_widen_to_json_text(tmp_path: Path, fmt: str, text: str,
                                         expected: list[str]) -> None:
    doc = text if fmt == "jsonl" else _as_array(text)
    _r, table = _convert(tmp_path, f"s.{fmt}", doc, "strict")
    assert table.column("v").to_pylist() == expected


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_empty_object_value_is_kept(tmp_path: Path, fmt: str) -> None:
    text = '{"id": 1, "v": {}}\n{"id": 2, "v": {}}\n'
    doc = text if fmt == "jsonl" else _as_array(text)
    _r, table = _convert(tmp_path, f"e.{fmt}", doc, "strict")
    assert table.to_pylist() == [{"id": 1, "v": "{}"}, {"id": 2, "v": "{}"}]


# -- 3. renamed keys ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_renamed_keys_are_recorded(tmp_path: Path, fmt: str) -> None:
    text = '{"": 1, "a\\u0000": 2, "a_": 3, "b\\tc": 4}\n{"": 5, "a\\u0000": 6, "a_": 7, "b\\tc": 8}\n'
    doc = text if fmt == "jsonl" else _as_array(text)
    r, table = _convert(tmp_path, f"k.{fmt}", doc, "strict")
    renamed = {"": "column", "a\x00": "a_", "a_": "a__2", "b\tc": "b_c"}
    assert r.renamed_columns == renamed
    assert json.loads(r.to_json())["renamed_columns"] == renamed
    assert table.column_names == ["column", "a_", "a__2", "b_c"]
    assert table.to_pylist()[1] == {"column": 5, "a_": 6, "a__2": 7, "b_c": 8}
    meta = pq.read_metadata(tmp_path / f"k.{fmt}.parquet").metadata
    assert json.loads(meta[b"logflow.renamed_columns"]) == renamed


def test_no_renamed_columns_metadata_when_nothing_renamed(tmp_path: Path) -> None:
    r, _ = _convert(tmp_path, "n.jsonl", '{"a": 1}\n')
    assert r.renamed_columns == {}
    assert b"logflow.renamed_columns" not in pq.read_metadata(tmp_path / "n.jsonl.parquet").metadata


# -- 4. invalid documents, empty inputs, scalars --------------------------------------------

@pytest.mark.parametrize("text,line", [
    ('[{"a": 1}] xx', 1),
    ('{"a": 1} {"a": 2}', 1),
    ('[{"a": 1},\n {"a": 2}]\n// note\n', 3),
    ('{"a": 1}\n\n[]', 3),
])
@pytest.mark.parametrize("policy", POLICIES)
def test_trailing_content_is_a_data_error_with_position(tmp_path: Path, text: str, line: int,
                                                        policy: str) -> None:
    src = tmp_path / "t.json"
    src.write_text(text)
    with pytest.raises(DataError, match="trailing content") as err:
        convert(src, tmp_path / "t.parquet", error_policy=policy, format="json")
    assert err.value.line == line and "character offset" in str(err.value)
    assert not (tmp_path / "t.parquet").exists()


@pytest.mark.parametrize("name", ["e.json", "e.jsonl"])
@pytest.mark.parametrize("text", ["", "  \n\n", "\f\n \f \n", "\t\r\n"])
def test_empty_or_whitespace_input_is_a_data_error(tmp_path: Path, name: str, text: str) -> None:
    src = tmp_path / name
    src.write_text(text)
    with pytest.raises(DataError, match="no records"):
        convert(src, tmp_path / "e.parquet", error_policy="quarantine", format=name[2:])


@pytest.mark.parametrize("text", ["42", '"x"', "null", "true", "-1.5e3"])
@pytest.mark.parametrize("fmt", ["auto", "json"])
def test_scalar_document_is_named(tmp_path: Path, text: str, fmt: str) -> None:
    src = tmp_path / "s.json"
    src.write_text(text + "\n")
    with pytest.raises(DataError, match="single value"):
        convert(src, tmp_path / "s.parquet", error_policy="quarantine", format=fmt)


# -- 5. rejected records carry line and raw ---------------------------------------------------

def test_garbage_in_array_is_quarantined_with_line_and_raw(tmp_path: Path) -> None:
    text = '[\n{"a": 1},\n{"a": 2}\n/* comment */,\n{"a": 3}\n]\n'
    r, _table = _convert(tmp_path, "g.json", text)
    assert (r.rows_written, r.rows_rejected) == (2, 1)
    (q,) = _quarantine(r)
    assert q["line"] == 4 and q["raw"].startswith("/* comment */")
    src = tmp_path / "g.json"
    with pytest.raises(DataError) as err:
        convert(src, tmp_path / "g2.parquet")
    assert err.value.line == 4


def test_truncated_array_element_is_quarantined_with_its_line(tmp_path: Path) -> None:
    text = '[\n  {"a": 1},\n  {"a": 2},\n  {"a": 3, "b": "unfini'
    r, _table = _convert(tmp_path, "t.json", text)
    assert (r.rows_written, r.rows_rejected) == (2, 1)
    (q,) = _quarantine(r)
    assert q["line"] == 4 and q["raw"] == '{"a": 3, "b": "unfini'


def test_bad_element_in_array_has_its_line(tmp_path: Path) -> None:
    text = '[\n{"a": 1},\n{"a": 2},\n{"a": tru},\n{"a": 4}\n]'
    r, table = _convert(tmp_path, "b.json", text)
    q = _quarantine(r)
    assert q[0]["line"] == 4 and q[0]["raw"].startswith('{"a": tru}')
    assert table.column("a").to_pylist() == [1, 2]


def test_array_records_rejected_by_type_carry_lines(tmp_path: Path) -> None:
    recs = [{"d": f"2024-01-{1 + i % 28:02d}"} for i in range(200)] + [{"d": "not a date"}]
    text = "[\n" + ",\n".join(json.dumps(x) for x in recs) + "\n]"
    r, _table = _convert(tmp_path, "d.json", text)
    (q,) = _quarantine(r)
    assert (q["line"], q["raw"], q["record"]) == (202, '{"d": "not a date"}', 201)


def test_wrapped_records_carry_lines(tmp_path: Path) -> None:
    recs = [{"d": f"2024-01-{1 + i % 28:02d}"} for i in range(200)] + [{"d": "not a date"}]
    text = '{"meta": {"v": 1},\n "data": [\n' + ",\n".join(json.dumps(x) for x in recs) + "]}"
    r, _table = _convert(tmp_path, "w.json", text)
    assert (r.rows_written, r.rows_rejected) == (200, 1)
    (q,) = _quarantine(r)
    assert (q["line"], q["raw"]) == (203, '{"d":"not a date"}')
