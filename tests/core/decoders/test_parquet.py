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


# --- types the engine cannot hold as they are, INT96, empty and encrypted files ---------------

def convert_cli(path: Path, tmp_path: Path) -> tuple[int, str, pa.Table | None]:
    """Runs the CLI's convert on ``path``; returns exit code, stderr and the output table."""
    from typer.testing import CliRunner

    from logflow_dagster.cli import app

    out = tmp_path / (path.stem + ".out.parquet")
    res = CliRunner().invoke(app, ["convert", str(path), str(out), "--quiet"])
    stderr = res.stderr if res.stderr_bytes is not None else res.output
    return res.exit_code, stderr, pq.read_table(out) if res.exit_code == 0 else None


def test_float16_is_read_as_float32_losslessly(tmp_path: Path) -> None:
    import numpy as np

    values = np.array([1.5, -2.25, 65504.0, 0.000061035156], dtype=np.float16)
    path = tmp_path / "f16.parquet"
    pq.write_table(pa.table({"h": pa.array(values), "l": pa.array([[values[0]], [], None, [values[1]]],
                                                                   pa.list_(pa.float16()))}), path)
    code, err, out = convert_cli(path, tmp_path)
    assert code == 0, err
    assert "internal error" not in err
    assert out is not None
    assert out.schema.field("h").type == pa.float32()
    assert out.schema.field("l").type == pa.list_(pa.float32())
    assert out.column("h").to_pylist() == [float(v) for v in values]
    assert out.column("l").to_pylist() == [[1.5], [], None, [-2.25]]


def test_byte_stream_split_on_every_type_that_allows_it(tmp_path: Path) -> None:
    import numpy as np

    table = pa.table({
        "i32": pa.array([1, -2, 3], pa.int32()), "i64": pa.array([2**40, 0, -1]),
        "f32": pa.array([1.5, 2.5, None], pa.float32()), "f64": [0.1, 0.2, 0.3],
        "f16": pa.array(np.array([0.5, 1.0, 2.0], dtype=np.float16)),
        "fsb": pa.array([b"ab", b"cd", b"ef"], pa.binary(2)),
        "dec": pa.array([Decimal("1.25"), Decimal("-3.5"), None], pa.decimal128(10, 2)),
    })
    path = tmp_path / "bss.parquet"
    pq.write_table(table, path, use_byte_stream_split=True, use_dictionary=False)
    encodings = {pq.ParquetFile(path).metadata.row_group(0).column(i).encodings
                 for i in range(table.num_columns)}
    assert all("BYTE_STREAM_SPLIT" in e for e in encodings)
    code, err, out = convert_cli(path, tmp_path)
    assert code == 0, err
    assert out is not None
    for name in table.column_names:
        want = table.column(name)
        if name == "f16":
            want = want.cast(pa.float32())
        assert out.column(name).to_pylist() == want.to_pylist(), name


def test_int96_nanoseconds_are_exact(tmp_path: Path) -> None:
    path = tmp_path / "i96.parquet"
    ns = [1577836800123456789, None, -2208988800000000001]
    pq.write_table(pa.table({"t": pa.array(ns, pa.timestamp("ns"))}), path,
                   use_deprecated_int96_timestamps=True)
    assert pq.ParquetFile(path).schema.column(0).physical_type == "INT96"
    steps, info = decode(path)
    assert info["int96_unit"] == "ns"
    assert steps[0].batch is not None
    assert steps[0].batch.column(0).cast(pa.int64()).to_pylist() == ns
    code, err, out = convert_cli(path, tmp_path)
    assert code == 0, err
    assert out is not None and out.column(0).cast(pa.int64()).to_pylist() == ns


def test_int96_outside_the_nanosecond_range_is_not_wrapped(tmp_path: Path) -> None:
    """pyarrow's default nanosecond read wraps 9999-12-31 around to some date in 1816."""
    path = tmp_path / "i96big.parquet"
    values = [dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(1, 1, 1),
              dt.datetime(2020, 1, 1, 0, 0, 0, 5), None]
    pq.write_table(pa.table({"t": pa.array(values, pa.timestamp("us")),
                             "s": pa.array([{"u": v} for v in values],
                                           pa.struct([("u", pa.timestamp("us"))]))}),
                   path, use_deprecated_int96_timestamps=True)
    steps, info = decode(path, batch_size=2)
    assert info["int96_unit"] == "us"
    table = pa.Table.from_batches([s.batch for s in steps if s.batch is not None])
    assert table.column("t").to_pylist() == values
    assert table.column("s").to_pylist() == [{"u": v} for v in values]
    code, err, out = convert_cli(path, tmp_path)
    assert code == 0, err
    assert out is not None and out.column("t").to_pylist() == values


def _int96_file(path: Path, values_ns: list[int], julian_days: dict[int, int]) -> None:
    """Writes INT96 timestamps, then sets the Julian day of some values in the file's bytes
    (pyarrow cannot write a date outside the nanosecond range together with nanoseconds)."""
    import struct

    pq.write_table(pa.table({"t": pa.array(values_ns, pa.timestamp("ns"))}), path,
                   use_deprecated_int96_timestamps=True, compression="NONE",
                   use_dictionary=False, write_statistics=False)
    data = bytearray(path.read_bytes())
    for i, day in julian_days.items():
        days, nanos = divmod(values_ns[i], 86_400 * 10**9)
        old = struct.pack("<qI", nanos, days + 2_440_588)
        at = data.index(old)
        data[at:at + 12] = struct.pack("<qI", nanos, day)
    path.write_bytes(bytes(data))


def test_int96_needing_both_units_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "i96both.parquet"
    ns = [1577836800123456789, 1577923200000000000]  # 2020-01-01T00:00:00.123456789, 01-02
    _int96_file(path, ns, {1: 5_373_484})  # Julian day 5373484: 9999-12-31
    with pytest.raises(DataError, match="sub-microsecond") as info:
        decode(path)
    assert info.value.column == "t"
    assert info.value.record == 1


def test_int96_far_date_patched_in_bytes_reads_exactly(tmp_path: Path) -> None:
    path = tmp_path / "i96far.parquet"
    _int96_file(path, [1577836800123456000, 1577923200000000000], {1: 5_373_484})
    steps, info = decode(path)
    assert info["int96_unit"] == "us"
    assert steps[0].batch is not None
    assert steps[0].batch.column(0).to_pylist() == [
        dt.datetime(2020, 1, 1, 0, 0, 0, 123456), dt.datetime(9999, 12, 31)]


def test_wide_decimal_and_extension_types(tmp_path: Path) -> None:
    import uuid

    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    path = tmp_path / "ext.parquet"
    pq.write_table(pa.table({
        "u": pa.array([u.bytes, None], pa.uuid()),
        "j": pa.array(['{"a": 1}', None], pa.json_()),
        "d": pa.array([Decimal("12345.67"), None], pa.decimal256(20, 2)),
        "v": pa.array(["x", None], pa.string_view()),
        "ns": pa.array([1, None], pa.time64("ns")),
        "dur": pa.array([5, None], pa.duration("s")),
    }), path)
    code, err, out = convert_cli(path, tmp_path)
    assert code == 0, err
    assert out is not None
    assert out.column("u").to_pylist() == [u.bytes, None]
    assert out.column("j").to_pylist() == ['{"a": 1}', None]
    assert out.schema.field("d").type == pa.decimal128(20, 2)
    assert out.column("d").to_pylist() == [Decimal("12345.67"), None]
    assert out.column("v").to_pylist() == ["x", None]
    assert out.column("ns").cast(pa.int64()).to_pylist() == [1, None]
    assert out.column("dur").to_pylist() == [dt.timedelta(seconds=5), None]

    wide = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"big": pa.array([Decimal(10) ** 45], pa.decimal256(50, 0))}), wide)
    code, err, _ = convert_cli(wide, tmp_path)
    assert code == 1
    assert "internal error" not in err
    assert "unsupported: decimal256(50, 0)" in err and "'big'" in err


def test_zero_rows_keep_their_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    schema = pa.schema([("a", pa.int64()), ("s", pa.string()), ("h", pa.float16())])
    pq.write_table(schema.empty_table(), path)
    steps, info = decode(path)
    assert info["rows"] == 0
    assert len(steps) == 1 and steps[0].batch is not None and steps[0].batch.num_rows == 0
    code, err, out = convert_cli(path, tmp_path)
    assert code == 0, err
    assert out is not None and out.num_rows == 0
    assert out.schema.names == ["a", "s", "h"]
    assert out.schema.field("h").type == pa.float32()


def _encrypted(path: Path, *, plaintext_footer: bool) -> None:
    import base64

    import pyarrow.parquet.encryption as pe

    class Kms(pe.KmsClient):
        def __init__(self, config: object) -> None:
            super().__init__()

        def wrap_key(self, key: bytes, master_key_identifier: str) -> bytes:
            return base64.b64encode(key)

        def unwrap_key(self, wrapped: bytes, master_key_identifier: str) -> bytes:
            return base64.b64decode(wrapped)

    props = pe.CryptoFactory(Kms).file_encryption_properties(
        pe.KmsConnectionConfig(),
        pe.EncryptionConfiguration(footer_key="f", column_keys={"c": ["a"]},
                                   plaintext_footer=plaintext_footer))
    table = pa.table({"a": [1, 2]})
    with pq.ParquetWriter(path, table.schema, encryption_properties=props) as writer:
        writer.write_table(table)


@pytest.mark.parametrize("plaintext_footer", [False, True])
def test_encrypted_parquet_is_refused_by_name(tmp_path: Path, plaintext_footer: bool) -> None:
    path = tmp_path / "secret.bin"
    _encrypted(path, plaintext_footer=plaintext_footer)
    assert path.read_bytes()[:4] == (b"PAR1" if plaintext_footer else b"PARE")
    code, err, _ = convert_cli(path, tmp_path)
    assert code == 2
    assert "encrypted Parquet is not supported" in err
    assert not (tmp_path / "secret.out.parquet").exists()
