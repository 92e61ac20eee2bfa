"""`logflow convert` on every format, run as the console script runs: pandas stays out of the
process (see logflow_dagster.startup) and the output is what the Python API writes."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import fastavro
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from logflow_dagster.core.convert import convert

CASES = Path(__file__).parent.parent / "cases"

# the console script's main(), plus a report of whether pandas was loaded at exit
RUNNER = ("import atexit, sys\n"
          "import os\n"
          "atexit.register(lambda: print('PANDAS-LOADED', 'pandas' in sys.modules,"
          " 'BLAS-THREADS', os.environ.get('OPENBLAS_NUM_THREADS'), file=sys.stderr))\n"
          "sys.argv[0] = 'logflow'\n"
          "from logflow_dagster.cli import main\n"
          "main()\n")

ROWS = [{"id": i, "name": f"n{i % 7}", "amount": i * 0.25, "ok": i % 3 == 0} for i in range(60)]


def _csv(path: Path) -> Path:
    pd.DataFrame(ROWS).to_csv(path, index=False)
    return path


def _tsv_gz(path: Path) -> Path:
    with gzip.open(path, "wt") as f:
        pd.DataFrame(ROWS).to_csv(f, index=False, sep="\t")
    return path


def _jsonl_bz2(path: Path) -> Path:
    path.write_bytes(bz2.compress("".join(json.dumps(r) + "\n" for r in ROWS).encode()))
    return path


def _json(path: Path) -> Path:
    path.write_text(json.dumps(ROWS))
    return path


def _parquet(path: Path) -> Path:
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    return path


def _avro(path: Path) -> Path:
    schema = {"type": "record", "name": "r", "fields": [
        {"name": "id", "type": "long"}, {"name": "name", "type": "string"},
        {"name": "amount", "type": "double"}, {"name": "ok", "type": "boolean"}]}
    with path.open("wb") as f:
        fastavro.writer(f, schema, ROWS)
    return path


def _xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(ROWS[0]))
    for r in ROWS:
        sheet.append(list(r.values()))
    book.save(path)
    return path


def _case(name: str):
    def copy(path: Path) -> Path:
        shutil.copy(CASES / name, path)
        return path
    return copy


WRITERS = {
    "in.csv": _csv, "in.tsv.gz": _tsv_gz, "in.jsonl.bz2": _jsonl_bz2, "in.json": _json,
    "in.parquet": _parquet, "in.avro": _avro, "in.xlsx": _xlsx,
    "in.xml": _case("xml/orders.xml"), "in.xes": _case("xes/small.xes"),
    "in.log": _case("log/access_combined.log"), "in.txt": _case("log/logfmt.log"),
}


@pytest.mark.parametrize("name", list(WRITERS))
def test_cli_convert_without_pandas_matches_the_python_api(name: str, tmp_path: Path) -> None:
    src = WRITERS[name](tmp_path / name)
    out = tmp_path / "cli.parquet"
    proc = subprocess.run([sys.executable, "-c", RUNNER, "convert", str(src), str(out), "--json",
                           "--error-policy", "permissive"],
                          capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"})
    assert proc.returncode == 0, proc.stderr
    assert "PANDAS-LOADED False BLAS-THREADS 1" in proc.stderr
    cli = json.loads(proc.stdout)
    api = convert(src, tmp_path / "api.parquet", error_policy="permissive")
    assert cli["rows_read"] == api.rows_read > 0
    assert (cli["rows_written"], cli["rows_rejected"]) == (api.rows_written, api.rows_rejected)
    assert cli["checksum"] == api.checksum
    assert [c["name"] for c in cli["columns"]] == [c["name"] for c in api.columns]
    con = duckdb.connect()
    a = con.execute(f"SELECT * FROM read_parquet('{out}') EXCEPT ALL "
                    f"SELECT * FROM read_parquet('{tmp_path / 'api.parquet'}')").fetchall()
    assert a == []
    assert con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0] == \
        api.rows_written


def test_allow_pandas_env_lets_it_load(tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv")
    proc = subprocess.run([sys.executable, "-c", RUNNER, "convert", str(src),
                           str(tmp_path / "o.parquet"), "--json"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LOGFLOW_ALLOW_PANDAS": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "PANDAS-LOADED True" in proc.stderr  # pyarrow's probe loaded it


@pytest.mark.parametrize(("args", "importable"), [
    (["convert", "--help"], False), (["tables", "--help"], True), (["--help"], True)])
def test_only_arrow_commands_refuse_pandas(args: list[str], importable: bool) -> None:
    probe = ("try:\n    main()\nfinally:\n    try:\n        import pandas  # noqa: F401\n"
             "        print('IMPORTABLE True', file=sys.stderr)\n"
             "    except ImportError:\n        print('IMPORTABLE False', file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", RUNNER.replace("main()\n", probe), *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"IMPORTABLE {importable}" in proc.stderr
