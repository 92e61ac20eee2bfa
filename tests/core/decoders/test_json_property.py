"""Property: JSON Lines and JSON arrays of random records (mixed types per key, nulls, nested
objects and lists, unicode, odd keys), with polluted lines at known places, convert under
quarantine with every clean record's values kept and every polluted line quarantined."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logflow_dagster.core.convert import convert

KEYS = st.sampled_from(["id", "name", "v", "", "a b", "é", "x\x01y", "n"])
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["p", "q", "r"]), inner, max_size=3),
                      max_leaves=6)
RECORDS = st.lists(st.dictionaries(KEYS, VALUES, min_size=1, max_size=4), min_size=1,
                   max_size=12)
POLLUTIONS = ['{"id": 1, "name": "tru', "this is not json", '{"id": 3} trailing']


def _clean_name(key: str) -> str:
    return "".join("_" if ord(c) < 32 or c == "\x7f" else c for c in key) or "column"


def _same(written: Any, source: Any, source_text: str | None) -> bool:
    """A written value equals its source: text columns hold strings as themselves and other
    values as their JSON text; structs compare field by field (absent fields are null)."""
    if isinstance(written, str) and not isinstance(source, str):
        return json.loads(written) == source and _number_text_kept(written, source_text)
    if source is None:
        return written is None
    if isinstance(source, bool) or isinstance(written, bool):
        return written is source
    if isinstance(source, int | float):
        return isinstance(written, int | float) and float(written) == float(source)
    if isinstance(source, dict):
        return isinstance(written, dict) and all(
            _same(written.get(k), source.get(k), None) for k in written) and set(source) <= set(
            written)
    if isinstance(source, list):
        return isinstance(written, list) and len(written) == len(source) and all(
            _same(w, s, None) for w, s in zip(written, source, strict=True))
    return written == source


def _number_text_kept(written: str, source_text: str | None) -> bool:
    """A number written as text is its token as the source wrote it."""
    return source_text is None or written == source_text


def _expected(records: list[dict]) -> list[dict]:
    out = []
    for rec in records:
        names: dict[str, Any] = {}
        for k, v in rec.items():
            names[_clean_name(k)] = v
        out.append(names)
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(records=RECORDS, polluted=st.lists(st.tuples(st.integers(0, 12),
                                                    st.sampled_from(POLLUTIONS)), max_size=3),
       as_array=st.booleans())
def test_json_records_round_trip_with_pollutions(records: list[dict],
                                                 polluted: list[tuple[int, str]],
                                                 as_array: bool) -> None:
    keys = {k for r in records for k in r}
    if len({_clean_name(k) for k in keys}) != len(keys):
        return  # keys that clean to one name are renamed with suffixes (tested elsewhere)
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    bad_lines: set[int] = set()
    if not as_array:
        for at, text in sorted(polluted, reverse=True):
            lines.insert(min(at, len(lines)), text)
        bad_lines = {i + 1 for i, ln in enumerate(lines) if ln in POLLUTIONS}
        doc = "\n".join(lines) + "\n"
    elif polluted:  # a truncated array: its last record cut in half, no closing bracket
        cut = lines[-1][: len(lines[-1]) // 2]
        lines[-1] = cut
        bad_lines = {len(lines) + 1}  # line 1 is "["
        doc = "[\n" + ",\n".join(lines)
        records = records[:-1]
    else:
        doc = "[\n" + ",\n".join(lines) + "\n]\n"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / ("in.json" if as_array else "in.jsonl")
        src.write_text(doc, encoding="utf-8")
        r = convert(src, Path(tmp) / "out.parquet", error_policy="quarantine",
                    format="json" if as_array else "jsonl")
        assert r.rows_read == r.rows_written + r.rows_rejected
        quarantined = [json.loads(x) for x in Path(r.quarantine).read_text().splitlines()]
        assert {q["line"] for q in quarantined} == bad_lines
        for q in quarantined:
            assert q["raw"] == lines[q["line"] - (2 if as_array else 1)]
        assert r.rows_rejected == len(bad_lines)
        assert r.rows_written == len(records)
        rows = pq.read_table(Path(tmp) / "out.parquet").to_pylist() if r.files else []
    for got, want, rec in zip(rows, _expected(records), records, strict=True):
        texts = _number_tokens(rec)
        for name, value in want.items():
            assert _same(got[name], value, texts.get(name)), (name, got[name], value)
        for name in set(got) - set(want):
            assert got[name] is None


def _number_tokens(rec: dict) -> dict[str, str]:
    """The text of each top-level number as json.dumps wrote it."""
    return {_clean_name(k): json.dumps(v) for k, v in rec.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}
