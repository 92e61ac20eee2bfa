"""The bound on a quoted CSV field (``max_quoted_lines`` / ``max_quoted_bytes``) and the quote
character reach the reader every way in: the ``convert`` API, ``logflow convert``,
``logflow ingest`` and a source's ``options:`` in logflow.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import UsageError
from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import duckdb_connection, iceberg_scan_sql

#: A field quoted over 150 lines (and ~1 KB), then a plain record.
LONG = 'id,v\n1,"' + "xxxxxx\n" * 150 + '"\n2,y\n'


def logflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _parquet(path: Path) -> list[tuple]:
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    return con.execute(f"SELECT id, length(v) FROM read_parquet('{path}') ORDER BY id").fetchall()


@pytest.mark.parametrize(("limits", "written"), [
    ({}, 2), ({"max_quoted_lines": 200}, 2), ({"max_quoted_lines": 100}, 1),
    ({"max_quoted_bytes": 500}, 1), ({"max_quoted_bytes": 5000}, 2)])
def test_api_bounds(tmp_path: Path, limits: dict[str, int], written: int) -> None:
    src = tmp_path / "long.csv"
    src.write_text(LONG)
    r = convert(src, tmp_path / "out.parquet", error_policy="quarantine", **limits)
    assert (r.rows_written, r.rows_rejected) == (written, r.rows_read - written)
    if written == 2:
        assert _parquet(tmp_path / "out.parquet") == [(1, 150 * 7), (2, 1)]
    else:  # the stray quote's record is rejected with its line; the record after it loads
        assert _parquet(tmp_path / "out.parquet")[-1] == (2, 1)
        bad = [json.loads(x) for x in (tmp_path / "out.quarantine.jsonl").read_text().splitlines()]
        assert bad[0]["line"] == 2 and bad[0]["raw"] == '1,"xxxxxx'


def test_api_refuses_bad_values(tmp_path: Path) -> None:
    src = tmp_path / "long.csv"
    src.write_text(LONG)
    with pytest.raises(UsageError, match="max_quoted_lines must be a positive integer"):
        convert(src, tmp_path / "out.parquet", max_quoted_lines=0)
    with pytest.raises(UsageError, match="quote must be one character"):
        convert(src, tmp_path / "out.parquet", quote="''")


def test_cli_convert_flags(tmp_path: Path) -> None:
    (tmp_path / "long.csv").write_text(LONG)
    out = logflow("convert", "long.csv", "out.parquet", "--json", "--error-policy",
                  "quarantine", "--max-quoted-lines", "100", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rows_written"] == 1
    out = logflow("convert", "long.csv", "out2.parquet", "--json", "--max-quoted-bytes",
                  "5000", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert _parquet(tmp_path / "out2.parquet") == [(1, 150 * 7), (2, 1)]
    out = logflow("convert", "long.csv", "out3.parquet", "--max-quoted-lines", "0", cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_cli_convert_quote_flag(tmp_path: Path) -> None:
    """A file whose text holds more double quotes than single ones, quoted with ``'``:
    detection takes ``"``; ``--quote "'"`` reads it right."""
    (tmp_path / "q.csv").write_text(
        "id,said\n1,'he said \"a, b\" \"c\"'\n2,'\"x\", \"y\"'\n3,'plain'\n")
    out = logflow("convert", "q.csv", "out.parquet", "--json", "--quote", "'", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    assert con.execute(f"SELECT said FROM read_parquet('{tmp_path / 'out.parquet'}') "
                       "ORDER BY id").fetchall() == [('he said "a, b" "c"',), ('"x", "y"',),
                                                      ("plain",)]


def _project(tmp_path: Path, options: str) -> Path:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "long.csv").write_text(LONG)
    (tmp_path / "logflow.yaml").write_text(
        "sources:\n  - name: a\n    landing: in\n    table: raw.a\n"
        f"    error_policy: quarantine\n{options}")
    return tmp_path


def _table_ids(root: Path) -> list[int]:
    table = open_catalog(CatalogConfig.embedded(root)).load_table("raw.a")
    return [r[0] for r in duckdb_connection().execute(
        f"SELECT id FROM {iceberg_scan_sql(table)} ORDER BY id").fetchall()]


def test_cli_ingest_flag(tmp_path: Path) -> None:
    root = _project(tmp_path, "")
    out = logflow("ingest", "in/long.csv", "--table", "raw.a", "--json",
                  "--max-quoted-lines", "100", cwd=root)
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert (payload["rows_written"], payload["rows_rejected"]) == (1, payload["rows_read"] - 1)
    assert _table_ids(root) == [2]


def test_logflow_yaml_option(tmp_path: Path) -> None:
    root = _project(tmp_path, "    options: {max_quoted_lines: 100, quote: '\"'}\n")
    out = logflow("ingest", "in/long.csv", "--table", "raw.a", "--json", cwd=root)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rows_written"] == 1
    assert _table_ids(root) == [2]


def test_logflow_yaml_refuses_a_bad_bound(tmp_path: Path) -> None:
    root = _project(tmp_path, "    options: {max_quoted_lines: 0}\n")
    out = logflow("ingest", "in/long.csv", "--table", "raw.a", cwd=root)
    assert out.returncode == 2, out.stderr
    assert "max_quoted_lines" in out.stderr and "Traceback" not in out.stderr
