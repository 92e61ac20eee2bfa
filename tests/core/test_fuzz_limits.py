"""Every decoder on garbage and mutated small files, in a subprocess under a 2 GiB address-space
limit: each conversion ends as the CLI's exit code 0, 1 or 2 would (a result or a
LogflowError), never an internal error (what ``cli._fail`` prints for any other exception), and
the process is never killed. One subprocess per format runs its inputs in turn (starting one per
input would take minutes)."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

FORMATS = ("csv", "json", "jsonl", "xml", "xes", "parquet", "avro", "xlsx", "log")
PER_FORMAT = 20
LIMIT = 2 << 30

_RUNNER = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (MAX_BYTES, MAX_BYTES))
from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import LogflowError
fmt, outdir, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
internal = []
for i, src in enumerate(inputs):
    try:
        convert(src, f"{outdir}/out{i}.parquet", format=fmt, error_policy="quarantine")
    except LogflowError:
        pass
    except BaseException as err:  # the CLI prints these as "internal error"
        internal.append([src, f"{type(err).__name__}: {err}"[:300]])
print(json.dumps(internal))
""".replace("MAX_BYTES", str(LIMIT))


def _valid(fmt: str) -> bytes:
    rows = [{"id": i, "name": f"n{i}", "x": i / 4} for i in range(30)]
    if fmt == "csv":
        return ("id,name,x\n" + "".join(f"{r['id']},{r['name']},{r['x']}\n" for r in rows)).encode()
    if fmt == "json":
        return json.dumps(rows).encode()
    if fmt == "jsonl":
        return "".join(json.dumps(r) + "\n" for r in rows).encode()
    if fmt == "xml":
        return ("<rows>" + "".join(f"<row id='{r['id']}'><name>{r['name']}</name></row>"
                                   for r in rows) + "</rows>").encode()
    if fmt == "xes":
        return (Path(__file__).parents[1] / "cases" / "xes" / "small.xes").read_bytes()
    if fmt == "log":
        return (Path(__file__).parents[1] / "cases" / "log" / "log_hadoop.log").read_bytes()
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows), sink, row_group_size=10)
        return sink.getvalue()
    if fmt == "avro":
        import fastavro

        sink = io.BytesIO()
        schema = {"type": "record", "name": "R", "fields": [
            {"name": "id", "type": "long"}, {"name": "name", "type": ["null", "string"]},
            {"name": "x", "type": "double"}]}
        fastavro.writer(sink, schema, rows, codec="deflate", sync_interval=100)
        return sink.getvalue()
    import openpyxl  # xlsx

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "name", "x"])
    for r in rows:
        ws.append([r["id"], r["name"], r["x"]])
    sink = io.BytesIO()
    wb.save(sink)
    return sink.getvalue()


def _inputs(fmt: str) -> list[bytes]:
    rnd = random.Random(zlib.crc32(fmt.encode()))  # the same corpus in every run
    valid = _valid(fmt)
    out = [b"", rnd.randbytes(200), valid[: len(valid) // 2], valid[:10]]
    while len(out) < PER_FORMAT:
        data = bytearray(valid)
        for _ in range(rnd.randint(1, 8)):
            pos = rnd.randrange(len(data))
            action = rnd.choice(["flip", "cut", "dup", "insert"])
            if action == "flip":
                data[pos] ^= rnd.randint(1, 255)
            elif action == "cut":
                del data[pos:]
                if not data:
                    data = bytearray(valid[:1])
            elif action == "dup":
                data[pos:pos] = data[pos:pos + rnd.randint(1, 64)]
            else:
                data[pos:pos] = rnd.choice([b"\x00", b"{", b"[[[[", b"<a>", b'"', b"\n", b","])
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_decoders_under_memory_limit(tmp_path: Path, fmt: str) -> None:
    runner = tmp_path / "run.py"
    runner.write_text(_RUNNER)
    paths = []
    for i, data in enumerate(_inputs(fmt)):
        src = tmp_path / f"in{i}.{fmt}"
        src.write_bytes(data)
        paths.append(str(src))
    proc = subprocess.run(
        [sys.executable, str(runner), fmt, str(tmp_path), *paths],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[2],
        env={"PYTHONPATH": str(Path(__file__).parents[2]), "DAGSTER_DISABLE_TELEMETRY": "1",
             "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-2000:]  # not killed, no crash
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
