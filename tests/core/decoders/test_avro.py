"""AvroDecoder: schema mapping, logical types, bad records, corrupt blocks."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastavro.write import Writer
from hypothesis import given
from hypothesis import strategies as st

from logflow_dagster.core.convert import convert
from logflow_dagster.core.decoders import DecodedBatch, DecodeOptions, get_decoder
from logflow_dagster.core.detect.result import Detection
from logflow_dagster.core.errors import DataError, LogflowError
from logflow_dagster.core.source import Source
from tests.core.decoders.fuzzing import FUZZ, flipped_or_cut, magic_then_garbage

UTC = dt.UTC
N = 1000

SCHEMA: dict[str, Any] = {
    "type": "record", "name": "Event", "namespace": "test", "fields": [
        {"name": "id", "type": "long"},
        {"name": "small", "type": "int"},
        {"name": "ratio", "type": "float"},
        {"name": "score", "type": "double"},
        {"name": "ok", "type": "boolean"},
        {"name": "blob", "type": "bytes"},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "tm_us", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal",
                                    "precision": 12, "scale": 2}},
        {"name": "price", "type": {"type": "fixed", "name": "Money", "size": 8,
                                   "logicalType": "decimal", "precision": 10, "scale": 3}},
        {"name": "key", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "when", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {"name": "prices", "type": {"type": "map", "values": "Money"}},
        {"name": "ids", "type": {"type": "array", "items": {"type": "string",
                                                             "logicalType": "uuid"}}},
        {"name": "sub", "type": ["null", {"type": "record", "name": "Sub", "fields": [
            {"name": "x", "type": "int"}, {"name": "k", "type": "Kind"},
            {"name": "u", "type": ["null", {"type": "string", "logicalType": "uuid"}]}]}]},
        {"name": "mixed", "type": ["null", "long", "string", "Sub"]},
    ],
}

BASE = dt.datetime(2024, 1, 1, tzinfo=UTC)


def uid(i: int) -> uuid.UUID:
    return uuid.UUID(int=i * 7919 + 1)


def record(i: int) -> dict[str, Any]:
    return {
        "id": i, "small": i % 100, "ratio": 0.5, "score": i * 1.5, "ok": i % 2 == 0,
        "blob": bytes([i % 256, 1]),
        "day": dt.date(2024, 1, 1) + dt.timedelta(days=i % 365),
        "ts": BASE + dt.timedelta(milliseconds=i * 1001),
        "ts_us": BASE + dt.timedelta(microseconds=i * 7),
        "local": dt.datetime(2024, 6, 1, 12) + dt.timedelta(minutes=i),
        "tm": dt.time(1, 2, 3, 4000), "tm_us": dt.time(23, 59, 59, 999999),
        "amount": Decimal(i) / 100, "price": Decimal("1.125") * i,
        "key": uid(i), "kind": "ABC"[i % 3], "hash": b"\x00\x01\x02\x03",
        "note": None if i % 4 == 0 else f"note {i}",
        "when": None if i % 2 else BASE,
        "tags": [f"t{j}" for j in range(i % 4)],
        "attrs": {"a": i, "b": -i} if i % 2 else {},
        "prices": {"p": Decimal("0.001")},
        "ids": [uid(i), uid(i + 1)],
        "sub": None if i % 5 == 0 else {"x": i, "k": "B", "u": None if i % 2 else uid(i)},
        "mixed": [None, i, f"s{i}", {"x": 1, "k": "C", "u": None}][i % 4],
    }


def write_avro(path: Path, records: list[dict[str, Any]], schema: dict[str, Any] = SCHEMA,
               codec: str = "deflate", sync_interval: int = 4000) -> None:
    with path.open("wb") as fo:
        fastavro.writer(fo, schema, records, codec=codec, sync_interval=sync_interval)


def decode(path: Path, **options: Any) -> tuple[list[DecodedBatch], dict[str, Any]]:
    dec = get_decoder("avro")(Source.open_path(path), Detection("avro"), DecodeOptions(**options))
    return list(dec.batches()), dec.info


def table(steps: list[DecodedBatch]) -> pa.Table:
    return pa.Table.from_batches([s.batch for s in steps if s.batch is not None])


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("avro") / "events.avro"
    write_avro(path, [record(i) for i in range(N)])
    return path


def test_schema_mapping(sample: Path) -> None:
    steps, info = decode(sample, batch_size=300)
    assert info["codec"] == "deflate"
    assert info["avro_record"] == "test.Event"
    schema = steps[0].batch.schema  # type: ignore[union-attr]
    money = pa.decimal128(10, 3)
    kind_struct = pa.struct([pa.field("x", pa.int32(), False), pa.field("k", pa.string(), False),
                             pa.field("u", pa.string())])
    expected = {
        "id": pa.int64(), "small": pa.int32(), "ratio": pa.float32(), "score": pa.float64(),
        "ok": pa.bool_(), "blob": pa.binary(), "day": pa.date32(),
        "ts": pa.timestamp("ms", tz="UTC"), "ts_us": pa.timestamp("us", tz="UTC"),
        "local": pa.timestamp("ms"), "tm": pa.time32("ms"), "tm_us": pa.time64("us"),
        "amount": pa.decimal128(12, 2), "price": money, "key": pa.string(),
        "kind": pa.string(), "hash": pa.binary(), "note": pa.string(),
        "when": pa.timestamp("us", tz="UTC"),
        "tags": pa.list_(pa.field("item", pa.string(), False)),
        "attrs": pa.map_(pa.string(), pa.field("value", pa.int64(), False)),
        "prices": pa.map_(pa.string(), pa.field("value", money, False)),
        "ids": pa.list_(pa.field("item", pa.string(), False)),
        "sub": kind_struct, "mixed": pa.string(),
    }
    assert {f.name: f.type for f in schema} == expected
    nullable = {f.name for f in schema if f.nullable}
    assert nullable == {"note", "when", "sub", "mixed"}


def test_round_trip_through_duckdb(sample: Path, tmp_path: Path) -> None:
    steps, _ = decode(sample, batch_size=300)
    assert [s.batch.num_rows for s in steps if s.batch] == [300, 300, 300, 100]
    assert not any(s.errors for s in steps)
    out = tmp_path / "out.parquet"
    pq.write_table(table(steps), out)
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{out}')")
    count, ids, amount, price, notes, whens = con.execute(
        "SELECT count(*), sum(id), sum(amount), sum(price), count(note), count(\"when\") FROM t"
    ).fetchone()
    assert count == N
    assert ids == N * (N - 1) // 2
    assert amount == Decimal(N * (N - 1) // 2) / 100
    assert price == Decimal("1.125") * (N * (N - 1) // 2)
    assert notes == N - N // 4
    assert whens == N // 2
    row = con.execute(
        "SELECT day, epoch_ms(ts), local, tm, key, kind, tags, attrs['a'], sub.x, sub.u, mixed,"
        " ids[2], blob FROM t WHERE id = 7"
    ).fetchone()
    assert row == (
        dt.date(2024, 1, 8), int(BASE.timestamp() * 1000) + 7007,
        dt.datetime(2024, 6, 1, 12, 7), dt.time(1, 2, 3, 4000), str(uid(7)), "B",
        ["t0", "t1", "t2"], 7, 7, None, '{"x": 1, "k": "C", "u": null}', str(uid(8)),
        bytes([7, 1]),
    )
    mixed = con.execute("SELECT mixed FROM t WHERE id IN (0, 1, 2) ORDER BY id").fetchall()
    assert mixed == [(None,), ("1",), ("s2",)]
    assert con.execute("SELECT sub.u FROM t WHERE id = 8").fetchone() == (str(uid(8)),)


def test_overrides_cast_with_record_numbers(tmp_path: Path) -> None:
    schema = {"type": "record", "name": "R", "fields": [
        {"name": "n", "type": "string"}, {"name": "id", "type": "long"}]}
    path = tmp_path / "o.avro"
    write_avro(path, [{"n": v, "id": i} for i, v in enumerate(["1", "2", "x", "4", "5", "zz"])],
               schema)
    steps, _ = decode(path, batch_size=4, schema={"n": "int64", "id": "string"})
    errors = [e for s in steps for e in s.errors]
    assert [(e.record, e.column, e.value) for e in errors] == [(3, "n", "x"), (6, "n", "zz")]
    assert errors[0].reason == "expected int64 in column 'n'"
    assert json.loads(errors[0].raw or "") == {"n": "x", "id": 2}
    good = table(steps)
    assert good.column("n").to_pylist() == [1, 2, 4, 5]
    assert good.column("id").to_pylist() == ["0", "1", "3", "4"]


def test_record_arrow_rejects_is_a_row_error(tmp_path: Path) -> None:
    schema = {"type": "record", "name": "R", "fields": [
        {"name": "i", "type": "int"},
        {"name": "amt", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12,
                                 "scale": 2}}]}
    buf = io.BytesIO()
    values = ["1.23", "4.56", "12.34", "0.01"]
    fastavro.writer(buf, schema, [{"i": i, "amt": Decimal(v)} for i, v in enumerate(values)])
    data = buf.getvalue()
    assert data.count(b'"precision": 12') == 1
    path = tmp_path / "p.avro"  # declare precision 3: 12.34 no longer fits decimal128(3, 2)
    path.write_bytes(data.replace(b'"precision": 12', b'"precision":  3'))
    steps, _ = decode(path)
    errors = [e for s in steps for e in s.errors]
    # fastavro decodes in a decimal context of the declared precision: 12.34 -> 12.3
    assert [(e.record, e.column, e.value) for e in errors] == [(3, "amt", "12.3")]
    assert errors[0].reason.startswith("cannot convert record: ")
    assert json.loads(errors[0].raw or "") == {"i": 2, "amt": "12.3"}
    assert table(steps).column("i").to_pylist() == [0, 1, 3]


def _blocks(path: Path, blocks: int, per_block: int) -> list[int]:
    """Writes ``blocks`` blocks of ``per_block`` records; returns each block's end offset."""
    ends = []
    with path.open("wb") as fo:
        writer = Writer(fo, {"type": "record", "name": "R", "fields": [
            {"name": "a", "type": "long"}, {"name": "s", "type": "string"}]}, codec="null")
        for b in range(blocks):
            for i in range(per_block):
                writer.write({"a": b * per_block + i, "s": "x" * (i % 7)})
            writer.flush()
            ends.append(fo.tell())
    return ends


def test_corrupt_block_keeps_earlier_records(tmp_path: Path) -> None:
    path = tmp_path / "blocks.avro"
    ends = _blocks(path, 5, 100)
    cut = tmp_path / "cut.avro"
    cut.write_bytes(path.read_bytes()[: ends[2] + 30])  # inside block 4
    steps, _ = decode(cut, batch_size=128)
    got = table(steps)
    assert got.column("a").to_pylist() == list(range(300))
    errors = [e for s in steps for e in s.errors]
    assert len(errors) == 1
    assert errors[0].record == 301
    assert errors[0].reason.startswith("corrupt Avro data after record 300: ")
    assert sum(s.records for s in steps) == 301

    data = bytearray(path.read_bytes())
    data[ends[0] - 3] ^= 0xFF  # block 1's sync marker: its records decode, then the error
    path.write_bytes(bytes(data))
    steps, _ = decode(path, batch_size=1000)
    assert table(steps).num_rows == 100
    assert [e.record for s in steps for e in s.errors] == [101]


def test_empty_container_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.avro"
    write_avro(path, [])
    assert decode(path)[0] == []


def test_plain_value_schema_and_recursion(tmp_path: Path) -> None:
    path = tmp_path / "longs.avro"
    write_avro(path, [1, 2, 3], {"type": "long"})  # type: ignore[arg-type]
    assert table(decode(path)[0]).to_pydict() == {"value": [1, 2, 3]}

    node = {"type": "record", "name": "Node", "fields": [
        {"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]}
    path = tmp_path / "list.avro"
    write_avro(path, [{"v": 1, "next": {"v": 2, "next": None}}, {"v": 3, "next": None}], node)
    got = table(decode(path)[0])
    assert got.schema.field("next").type == pa.string()
    assert got.column("next").to_pylist() == ['{"v": 2, "next": null}', None]


def test_gzip_compressed(sample: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.avro.gz"
    data = gzip.compress(sample.read_bytes())
    path.write_bytes(data)
    assert sum(s.records for s in decode(path, batch_size=5000)[0]) == N
    path.write_bytes(data[: len(data) // 2])  # a truncated gzip stream: Source's DataError
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        decode(path)


@pytest.mark.parametrize("data", [b"", b"Obj", b"PAR1 not avro", b'{"a": 1}\n'])
def test_not_avro_is_a_data_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.avro"
    path.write_bytes(data)
    with pytest.raises(DataError, match=re.escape("bad.avro")):
        decode(path)


# --- fuzzing: any input gives batches and row errors, or a LogflowError ------------------------

#: Plain bytes, or what looks like the start of a gzip, bz2 or zstd stream.
_FUZZ_DIR = Path(tempfile.mkdtemp(prefix="logflow-avro-fuzz-"))
_buf = io.BytesIO()
fastavro.writer(_buf, SCHEMA, [record(i) for i in range(40)], codec="null", sync_interval=600)
_VALID_BYTES = _buf.getvalue()


def _decode_or_logflow_error(data: bytes) -> None:
    path = _FUZZ_DIR / "fuzz.avro"
    path.write_bytes(data)
    try:
        steps, _ = decode(path, batch_size=16)
    except LogflowError:
        return
    for step in steps:
        assert step.batch is None or isinstance(step.batch, pa.RecordBatch)
        assert all(e.record is not None for e in step.errors)


@FUZZ
@given(magic_then_garbage())
def test_fuzz_random_bytes(data: bytes) -> None:
    _decode_or_logflow_error(data)


@FUZZ
@given(st.binary(max_size=500))
def test_fuzz_random_blocks_after_valid_header(data: bytes) -> None:
    header_end = _VALID_BYTES.index(b"}\x00") + 2 + 16  # schema JSON, map end, sync marker
    _decode_or_logflow_error(_VALID_BYTES[:header_end] + data)


@FUZZ
@given(flipped_or_cut(_VALID_BYTES))
def test_fuzz_mutated_and_truncated(data: bytes) -> None:
    _decode_or_logflow_error(data)


def test_records_of_a_type_without_fields_are_rejected_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "empty.avro"
    with open(path, "wb") as f:
        fastavro.writer(f, {"type": "record", "name": "r", "fields": []}, [{}, {}, {}])
    r = convert(path, tmp_path / "e.parquet", error_policy="permissive")
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (3, 0, 3)
    assert "without fields" in r.errors_sample[0]["reason"]
    assert [e["record"] for e in r.errors_sample] == [1, 2, 3]


# --- codecs, unions, container versions -------------------------------------------------------

CODEC_SCHEMA = {"type": "record", "name": "C", "fields": [
    {"name": "n", "type": "long"}, {"name": "s", "type": "string"}]}


@pytest.mark.parametrize("codec", ["null", "deflate", "bzip2", "xz", "snappy", "zstandard", "lz4"])
def test_every_codec_reads(tmp_path: Path, codec: str) -> None:
    path = tmp_path / f"{codec}.avro"
    records = [{"n": i, "s": f"row {i}, ok"} for i in range(500)]
    write_avro(path, records, CODEC_SCHEMA, codec=codec, sync_interval=1000)
    steps, info = decode(path, batch_size=128)
    assert info["codec"] == codec
    assert not [e for s in steps for e in s.errors]
    assert table(steps).to_pylist() == records
    out = tmp_path / f"{codec}.parquet"
    result = convert(path, out, error_policy="strict")
    assert (result.format, result.rows_written, result.rows_rejected) == ("avro", 500, 0)
    assert pq.read_table(out).column("s").to_pylist()[499] == "row 499, ok"


def test_codec_without_its_library_is_refused_by_name(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from fastavro._read_common import missing_codec_lib
    from fastavro.read import BLOCK_READERS

    from logflow_dagster.core.errors import UsageError

    path = tmp_path / "snappy.avro"
    write_avro(path, [{"n": 1, "s": "x"}], CODEC_SCHEMA, codec="snappy")
    monkeypatch.setitem(BLOCK_READERS, "snappy", missing_codec_lib("snappy", "cramjam"))
    with pytest.raises(UsageError, match="'snappy' needs the Python package cramjam"):
        decode(path)


def test_unknown_codec_is_refused_not_a_bad_record(tmp_path: Path) -> None:
    from logflow_dagster.core.errors import UsageError

    path = tmp_path / "odd.avro"
    write_avro(path, [{"n": 1, "s": "x"}], CODEC_SCHEMA, codec="null")
    path.write_bytes(path.read_bytes().replace(b"\x08null", b"\x08brot", 1))
    with pytest.raises(UsageError, match="unsupported Avro codec 'brot'"):
        decode(path)


UNION_SCHEMA = {"type": "record", "name": "U", "fields": [
    {"name": "ns", "type": ["null", "string"]},
    {"name": "sn", "type": ["string", "null"]},
    {"name": "sl", "type": ["string", "long"]},
    {"name": "il", "type": ["null", "int", "long"]},
    {"name": "fd", "type": ["int", "float", "double"]},
    {"name": "rec", "type": ["null", {"type": "record", "name": "P", "fields": [
        {"name": "x", "type": ["null", "string"]}]}]},
    {"name": "multi", "type": ["null", "string", "boolean", "double", "bytes", "P",
                               {"type": "array", "items": "int"}]},
    {"name": "items", "type": {"type": "array", "items": ["null", "string", "long"]}},
]}


def test_union_values_are_the_values_not_json_quoted(tmp_path: Path) -> None:
    path = tmp_path / "unions.avro"
    records = [
        {"ns": "text", "sn": "a \"q\"", "sl": "abc", "il": 1, "fd": 1, "rec": {"x": "in"},
         "multi": "hi", "items": ["a", 1, None]},
        {"ns": None, "sn": None, "sl": 42, "il": 2**40, "fd": 1.5, "rec": None,
         "multi": True, "items": []},
        {"ns": "", "sn": "", "sl": "42", "il": None, "fd": 0.1, "rec": {"x": None},
         "multi": 2.5, "items": [None]},
        {"ns": "x", "sn": "y", "sl": -1, "il": -3, "fd": -7, "rec": None,
         "multi": {"x": "z"}, "items": ["q"]},
        {"ns": "x", "sn": "y", "sl": "", "il": 0, "fd": 0, "rec": None,
         "multi": [1, 2], "items": [2]},
        {"ns": "x", "sn": "y", "sl": "", "il": 0, "fd": 0, "rec": None,
         "multi": b"\x00\xff", "items": []},
    ]
    write_avro(path, records, UNION_SCHEMA, codec="snappy")
    got = table(decode(path)[0])
    assert got.schema.field("ns").type == pa.string()
    assert got.schema.field("il").type == pa.int64()
    assert got.schema.field("fd").type == pa.float64()
    assert got.schema.field("rec").type == pa.struct([("x", pa.string())])
    assert got.schema.field("items").type == pa.list_(pa.string())
    assert got.column("ns").to_pylist() == ["text", None, "", "x", "x", "x"]
    assert got.column("sn").to_pylist() == ['a "q"', None, "", "y", "y", "y"]
    assert got.column("sl").to_pylist() == ["abc", "42", "42", "-1", "", ""]
    assert got.column("il").to_pylist() == [1, 2**40, None, -3, 0, 0]
    assert got.column("fd").to_pylist() == [1.0, 1.5, 0.1, -7.0, 0.0, 0.0]
    assert got.column("rec").to_pylist() == [{"x": "in"}, None, {"x": None}, None, None, None]
    assert got.column("multi").to_pylist() == [
        "hi", "true", "2.5", '{"x": "z"}', "[1, 2]", "\x00\xff"]
    assert got.column("items").to_pylist() == [["a", "1", None], [], [None], ["q"], ["2"], []]


@pytest.mark.parametrize("version", [0, 2])
def test_other_container_versions_are_refused_not_read_as_text(tmp_path: Path,
                                                                version: int) -> None:
    path = tmp_path / "old.avro"
    write_avro(path, [{"n": 1, "s": "a,b"}], CODEC_SCHEMA, codec="null")
    data = path.read_bytes()
    path.write_bytes(b"Obj" + bytes([version]) + data[4:])
    out = tmp_path / "old.parquet"
    with pytest.raises(LogflowError, match=f"Avro container version {version} is not supported"):
        convert(path, out, error_policy="quarantine")


def _zigzag(n: int) -> bytes:
    n, out = (n << 1) ^ (n >> 63), b""
    while n > 0x7F:
        out, n = out + bytes([(n & 0x7F) | 0x80]), n >> 7
    return out + bytes([n])


def test_container_without_codec_key_reads(tmp_path: Path) -> None:
    """The header map holds only avro.schema (the spec's codec default is null)."""
    path = tmp_path / "nocodec.avro"
    write_avro(path, [{"n": 7, "s": "x"}, {"n": 8, "s": "y"}], CODEC_SCHEMA, codec="null")
    data = path.read_bytes()
    sync = data[-16:]
    body = data[data.index(sync) + 16:]
    schema = json.dumps(CODEC_SCHEMA).encode()
    header = (b"Obj\x01" + _zigzag(1) + _zigzag(11) + b"avro.schema" + _zigzag(len(schema))
              + schema + _zigzag(0))
    path.write_bytes(header + sync + body)
    with path.open("rb") as fo:
        assert "avro.codec" not in fastavro.reader(fo).metadata
    result = convert(path, tmp_path / "nocodec.parquet")
    assert (result.format, result.rows_written) == ("avro", 2)
    assert pq.read_table(tmp_path / "nocodec.parquet").column("n").to_pylist() == [7, 8]
