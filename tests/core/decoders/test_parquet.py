"""ParquetDecoder: pass-through streaming, overrides, corrupt input."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given

from logflow_dagster.core.decoders import DecodedBatch, DecodeOptions, get_decoder
from logflow_dagster.core.detect.result import Detection
from logflow_dagster.core.errors import DataError, LogflowError, UsageError
from logflow_dagster.core.schema.cast import cast_overrides
from logflow_dagster.core.source import Source
from tests.core.decoders.fuzzing import FUZZ, flipped_or_cut, magic_then_garbage

UTC = dt.UTC
N = 2500


def decode(path: Path, **options: object) -> tuple[list[DecodedBatch], dict[str, object]]:
    dec = get_decoder("parquet")(Source.open_path(path), Detection("parquet"),
                                 DecodeOptions(**options))  # type: ignore[arg-type]
    return list(dec.batches()), dec.info


def to_duckdb(steps: list[DecodedBatch], path: Path) -> duckdb.DuckDBPyConnection:
    batches = [s.batch for s in steps if s.batch is not None]
    pq.write_table(pa.Table.from_batches(batches), path)
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{path}')")
    return con


def sample_table(n: int = N) -> pa.Table:
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        "amount": pa.array([Decimal(i) / 100 for i in range(n)], pa.decimal128(12, 2)),
        "ts": pa.array([base + dt.timedelta(seconds=i) for i in range(n)],
                       pa.timestamp("us", tz="UTC")),
        "tags": pa.array([[f"t{i}", "x"] if i % 3 else [] for i in range(n)],
                         pa.list_(pa.string())),
        "info": pa.array([{"a": i * 2, "b": None if i % 5 == 0 else f"b{i}"} for i in range(n)],
                         pa.struct([("a", pa.int32()), ("b", pa.string())])),
        "name": pa.array([None if i % 7 == 0 else f"n{i}" for i in range(n)]),
    })


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.parquet"
    pq.write_table(sample_table(), path, row_group_size=1000)
    return path


def test_streams_row_groups_and_round_trips(sample: Path, tmp_path: Path) -> None:
    steps, info = decode(sample, batch_size=400)
    assert info["row_groups"] == 3
    assert info["rows"] == N
    assert all(s.batch is not None and 0 < s.batch.num_rows <= 400 for s in steps)
    assert not any(s.errors for s in steps)
    assert sum(s.records for s in steps) == N
    assert steps[0].batch is not None
    assert steps[0].batch.schema == sample_table().schema.remove_metadata()

    con = to_duckdb(steps, tmp_path / "out.parquet")
    count, ids, amount, nulls = con.execute(
        "SELECT count(*), sum(id), sum(amount), count(*) FILTER (name IS NULL) FROM t"
    ).fetchone()
    assert count == N
    assert ids == N * (N - 1) // 2
    assert amount == Decimal(N * (N - 1) // 2) / 100
    assert nulls == len(range(0, N, 7))
    row = con.execute(
        "SELECT epoch_ms(ts), len(tags), tags[1], info.a, info.b, name FROM t WHERE id = 1234"
    ).fetchone()
    start = int(dt.datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert row == (start + 1234_000, 2, "t1234", 2468, "b1234", "n1234")
    assert con.execute("SELECT info.b, len(tags) FROM t WHERE id = 15").fetchone() == (None, 0)


def test_overrides_cast_and_report_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "o.parquet"
    pq.write_table(pa.table({
        "n": ["1", "2", "x", "4", None, "y", "7"],
        "f": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.5],
    }), path)
    steps, _ = decode(path, batch_size=3, schema={"n": "int64", "f": "float32"})
    errors = [e for s in steps for e in s.errors]
    assert [(e.record, e.column, e.value) for e in errors] == [(3, "n", "x"), (6, "n", "y")]
    assert errors[0].reason == "expected int64 in column 'n'"
    assert errors[0].raw == '{"n": "x", "f": 3.0}'
    assert sum(s.records for s in steps) == 7
    good = pa.Table.from_batches([s.batch for s in steps if s.batch is not None])
    assert good.schema.field("n").type == pa.int64()
    assert good.schema.field("f").type == pa.float32()
    assert good.column("n").to_pylist() == [1, 2, 4, None, 7]

    steps, _ = decode(path, schema={"f": "int64"})
    assert [(e.record, e.value) for s in steps for e in s.errors] == [(7, "7.5")]


def test_override_without_cast_is_a_usage_error(sample: Path) -> None:
    with pytest.raises(UsageError, match="info"):
        decode(sample, schema={"info": "int64"})


def test_cast_overrides_bisects_many_failures() -> None:
    values = [str(i) if i % 10 else f"bad{i}" for i in range(1000)]
    batch = pa.record_batch({"v": values})
    typed, misses = cast_overrides(batch, {"v": pa.int32()})
    assert [m.row for m in misses] == list(range(0, 1000, 10))
    assert typed.num_rows == 900
    assert typed.column(0).type == pa.int32()


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.int64())}), path)
    steps, info = decode(path)
    assert steps == []
    assert info["rows"] == 0


def test_gzip_compressed_parquet(sample: Path, tmp_path: Path) -> None:
    path = tmp_path / "sample.parquet.gz"
    path.write_bytes(gzip.compress(sample.read_bytes()))
    steps, _ = decode(path, batch_size=1000)
    assert sum(s.records for s in steps) == N


@pytest.mark.parametrize("data", [b"", b"hello, world\n", b"PAR1" + b"\x00" * 20 + b"PAR1"])
def test_not_parquet_is_a_data_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(data)
    with pytest.raises(DataError, match=re.escape("bad.parquet")):
        decode(path)


def test_corrupt_gzip_is_a_data_error(sample: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet.gz"
    path.write_bytes(gzip.compress(sample.read_bytes())[:-500])
    with pytest.raises(DataError, match=re.escape("bad.parquet.gz")):
        decode(path)


def test_truncated_file_is_a_data_error(sample: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.parquet"
    path.write_bytes(sample.read_bytes()[:-100])
    with pytest.raises(DataError, match=re.escape("cut.parquet")):
        decode(path)


def test_corrupt_data_page_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "pages.parquet"
    table = pa.table({"s": [f"value-{i}" * 5 for i in range(3000)]})
    pq.write_table(table, path, row_group_size=1000, compression="zstd")
    data = bytearray(path.read_bytes())
    meta = pq.ParquetFile(path).metadata
    start = meta.row_group(1).column(0).data_page_offset
    for i in range(start + 40, start + 400):  # inside row group 2's compressed page
        data[i] ^= 0x5A
    bad = tmp_path / "bad_page.parquet"
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match=re.escape("bad_page.parquet")) as info:
        decode(bad, batch_size=500)
    assert "after record 1000" in str(info.value)


# --- fuzzing: any input gives batches and row errors, or a LogflowError ------------------------

#: Plain bytes, or what looks like the start of a gzip, bz2 or zstd stream.
_FUZZ_DIR = Path(tempfile.mkdtemp(prefix="logflow-parquet-fuzz-"))
_VALID = _FUZZ_DIR / "valid.parquet"
pq.write_table(sample_table(300), _VALID, row_group_size=100)
_VALID_BYTES = _VALID.read_bytes()


def _decode_or_logflow_error(data: bytes, **options: object) -> None:
    path = _FUZZ_DIR / "fuzz.parquet"
    path.write_bytes(data)
    try:
        steps, _ = decode(path, batch_size=64, **options)
    except LogflowError:
        return
    for step in steps:
        assert step.batch is None or isinstance(step.batch, pa.RecordBatch)


@FUZZ
@given(magic_then_garbage())
def test_fuzz_random_bytes(data: bytes) -> None:
    _decode_or_logflow_error(data)


@FUZZ
@given(flipped_or_cut(_VALID_BYTES))
def test_fuzz_mutated_and_truncated(data: bytes) -> None:
    _decode_or_logflow_error(data,
                             schema={"name": "string"})
