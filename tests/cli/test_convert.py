"""`logflow convert` as a user runs it: JSON contract, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

KEYS = {"input", "output", "format", "encoding", "delimiter", "rows_read", "rows_written",
        "rows_rejected", "quarantine", "columns", "checksum", "duration_s", "rows_per_s",
        "bytes_per_s"}


def logflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def dirty_csv(tmp_path: Path) -> Path:
    p = tmp_path / "in.csv"
    rows = [f"{i},{i * 1.5},ok" for i in range(200)]
    rows.insert(10, "x,not-a-number,bad")
    p.write_text("id,amount,note\n" + "\n".join(rows) + "\n")
    return p


def test_json_output_has_the_contract_keys(dirty_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.parquet"
    q = tmp_path / "q.jsonl"
    proc = logflow("convert", str(dirty_csv), str(out), "--error-policy", "quarantine",
                   "--quarantine", str(q), "--json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert payload.keys() >= KEYS
    assert payload["rows_read"] == payload["rows_written"] + payload["rows_rejected"] == 201
    assert payload["rows_rejected"] == 1 and payload["quarantine"] == str(q)
    assert payload["delimiter"] == "," and payload["format"] == "csv"
    assert json.loads(q.read_text())["line"] == 12
    assert proc.stderr == ""


def test_strict_exit_1_names_file_line_column_value(dirty_csv: Path, tmp_path: Path) -> None:
    proc = logflow("convert", str(dirty_csv), str(tmp_path / "o.parquet"))
    assert proc.returncode == 1
    assert f"{dirty_csv}:12" in proc.stderr
    assert "'id'" in proc.stderr and "'x'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [
    ["convert", "/nonexistent/file.csv", "o.parquet"],
    ["convert", "IN", "o.parquet", "--format", "nope"],
    ["convert", "IN", "o.parquet", "--error-policy", "lenient"],
    ["convert", "IN", "o.parquet", "--schema", "{not json"],
    ["convert", "IN", "o.parquet", "--schema", '{"id": "integerish"}'],
])
def test_usage_errors_exit_2(args: list[str], dirty_csv: Path, tmp_path: Path) -> None:
    args = [str(dirty_csv) if a == "IN" else str(tmp_path / a) if a == "o.parquet" else a
            for a in args]
    proc = logflow(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = logflow("convert", "/nonexistent.csv", str(tmp_path / "o.parquet"), "--debug")
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_plain_summary_line(dirty_csv: Path, tmp_path: Path) -> None:
    proc = logflow("convert", str(dirty_csv), str(tmp_path / "o.parquet"),
                   "--error-policy", "permissive")
    assert proc.returncode == 0
    assert "201 read, 200 written, 1 rejected" in proc.stdout


def test_module_entry_point_has_every_command() -> None:
    out = logflow("--help")
    assert out.returncode == 0
    for command in ("convert", "ingest", "tables", "compact", "expire", "orphans", "run"):
        assert command in out.stdout
