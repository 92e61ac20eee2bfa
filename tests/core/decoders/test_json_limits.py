"""JSON nesting depth and record size limits: bombs end in seconds with a clean outcome, run
in a subprocess under a 2 GiB address-space limit so that a regression is killed, not the host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from logflow_dagster.core.decoders import DecodeOptions, get_decoder
from logflow_dagster.core.decoders.records import MAX_DEPTH, RAW_LIMIT
from logflow_dagster.core.detect import detect
from logflow_dagster.core.source import Source

_RUN = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import DataError
try:
    r = convert(sys.argv[1], sys.argv[2], error_policy="quarantine", format=sys.argv[3])
    q = [json.loads(x) for x in open(r.quarantine).read().splitlines()]
    print(json.dumps({"read": r.rows_read, "written": r.rows_written,
                      "rejected": r.rows_rejected,
                      "q": [(e["line"], e["reason"], len(e["raw"] or "")) for e in q]}))
except DataError as err:
    print(json.dumps({"error": str(err)[:300]}))
"""

BOMBS = {
    "arrays": b"[" * 100_000,
    "objects": b'{"a":' * 20_000,
    "mixed": b'[{"a":' * 16_000,
    "closed": b"[" * 50_000 + b"]" * 50_000,
}


def _run(tmp_path: Path, name: str, data: bytes, fmt: str) -> dict:
    src = tmp_path / name
    src.write_bytes(data)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", _RUN, str(src), str(tmp_path / f"{name}.parquet"),
                          fmt], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_nesting_bomb_line_is_a_bad_record(tmp_path: Path, bomb: str) -> None:
    data = b'{"x": 1}\n' + BOMBS[bomb] + b'\n{"x": 2}\n'
    got = _run(tmp_path, "b.jsonl", data, "jsonl")
    assert (got["read"], got["written"], got["rejected"]) == (3, 2, 1)
    ((line, reason, raw_len),) = got["q"]
    assert line == 2 and "nested deeper than 64" in reason and 0 < raw_len <= RAW_LIMIT


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_nesting_bomb_in_array_is_a_bad_record(tmp_path: Path, bomb: str) -> None:
    data = b'[{"x": 1},\n' + BOMBS[bomb]
    got = _run(tmp_path, "b.json", data, "json")
    assert (got["read"], got["written"], got["rejected"]) == (2, 1, 1)
    ((line, reason, raw_len),) = got["q"]
    assert line == 2 and "nested deeper than 64" in reason and 0 < raw_len <= RAW_LIMIT


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_nesting_bomb_document(tmp_path: Path, bomb: str) -> None:
    # a whole document that is a bomb: auto-detected, no crash, no memory blow-up
    got = _run(tmp_path, "d.json", BOMBS[bomb], "auto")
    assert "error" in got or (got["written"], got["rejected"]) == (0, 1)


def _decode(path: Path, fmt: str, **extra) -> tuple[list[dict], list]:
    source = Source.open_path(path)
    decoder = get_decoder(fmt)(source, detect(source, format=fmt), DecodeOptions(extra=extra))
    rows, errors = [], []
    for step in decoder.batches():
        if step.batch is not None:
            rows.extend(step.batch.to_pylist())
        errors.extend(step.errors)
    return rows, errors


def _nested(depth: int) -> dict:
    value: object = 1
    for _ in range(depth - 1):
        value = {"a": value}
    return value  # type: ignore[return-value]


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_depth_limit_is_exact_and_configurable(tmp_path: Path, fmt: str) -> None:
    # _nested(n) has n - 1 levels of objects; the record is one of them
    recs = [{"id": 0, "v": 1}, _nested(MAX_DEPTH + 1) | {"id": 1},
            _nested(MAX_DEPTH + 2) | {"id": 2}]
    src = tmp_path / f"d.{fmt}"
    body = [json.dumps(r) for r in recs]
    src.write_text("\n".join(body) + "\n" if fmt == "jsonl" else "[" + ",\n".join(body) + "]")
    rows, errors = _decode(src, fmt)
    assert [r["id"] for r in rows] == [0, 1]
    assert [(e.line, "nested deeper than 64" in e.reason) for e in errors] == [(3, True)]
    rows, errors = _decode(src, fmt, json_max_depth=10)
    assert [r["id"] for r in rows] == [0] and [e.line for e in errors] == [2, 3]


def test_record_size_limit_jsonl(tmp_path: Path) -> None:
    big = json.dumps({"id": 1, "s": "x" * 100_000})
    src = tmp_path / "s.jsonl"
    src.write_text('{"id": 0, "s": "a"}\n' + big + '\n{"id": 2, "s": "b"}\n')
    rows, errors = _decode(src, "jsonl", json_max_record_bytes=50_000)
    assert [r["id"] for r in rows] == [0, 2]
    (err,) = errors
    assert err.line == 2 and "larger than 50000 bytes" in err.reason
    assert err.raw == big[:RAW_LIMIT] and err.byte_offset == 20


def test_record_size_limit_json_array(tmp_path: Path) -> None:
    big = json.dumps({"id": 1, "s": "x" * 100_000})
    src = tmp_path / "s.json"
    src.write_text('[{"id": 0, "s": "a"},\n' + big + ',\n{"id": 2, "s": "b"}]')
    rows, errors = _decode(src, "json", json_max_record_bytes=50_000)
    assert [r["id"] for r in rows] == [0, 2]
    (err,) = errors
    assert err.line == 2 and "larger than 50000 bytes" in err.reason and len(err.raw) == RAW_LIMIT
