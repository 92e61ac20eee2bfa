"""The log decoder: parsed values, rejected lines with exact positions, streaming, round trips."""

from __future__ import annotations

import gzip
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logflow_dagster.core.decoders import DecodedBatch, DecodeOptions, get_decoder
from logflow_dagster.core.decoders.log import LogDecoder, split_lines
from logflow_dagster.core.decoders.text_blocks import TextBlock
from logflow_dagster.core.detect.result import Detection
from logflow_dagster.core.errors import DataError, LogflowError, RowError, UsageError
from logflow_dagster.core.source import Source

CASES = Path(__file__).parents[2] / "cases" / "log"
ACCESS = CASES / "access_combined.log"


def run(path: Path, grammar: str | None, **options: object) -> tuple[list[DecodedBatch], dict]:
    src = Source.open_path(path)
    det = Detection("log", compression=src.compression, encoding="utf-8", log_grammar=grammar)
    dec = get_decoder("log")(src, det, DecodeOptions(**{"batch_size": 1000, **options}))
    return list(dec.batches()), dec.info


def decode(path: Path, grammar: str | None, **options: object) -> tuple[pa.Table, list[RowError]]:
    out, _ = run(path, grammar, **options)
    tables = [pa.Table.from_batches([b.batch]) for b in out if b.batch is not None]
    errors = [e for b in out for e in b.errors]
    return pa.concat_tables(tables, promote_options="default"), errors


def line_starts(data: bytes) -> dict[int, int]:
    """1-based line number -> byte offset of the line's first byte."""
    starts, pos = {}, 0
    for number, piece in enumerate(data.split(b"\n"), start=1):
        starts[number] = pos
        pos += len(piece) + 1
    return starts


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- combined access log ------------------------------------------------------------------


def test_combined_values() -> None:
    table, _ = decode(ACCESS, "combined")
    rows = table.to_pylist()
    assert table.num_rows == 6
    assert table.schema.field("status").type == pa.int64()
    assert table.schema.field("bytes").type == pa.int64()
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert rows[0] == {
        "host": "127.0.0.1",
        "ident": None,
        "user": "frank",
        "time": utc(2000, 10, 10, 20, 55, 36),
        "method": "GET",
        "path": "/apache_pb.gif",
        "protocol": "HTTP/1.0",
        "status": 200,
        "bytes": 2326,
        "referer": "http://www.example.com/start.html",
        "user_agent": "Mozilla/4.08 [en] (Win98; I ;Nav)",
    }
    # bytes '-' -> null, referer '-' -> null
    assert (rows[1]["status"], rows[1]["bytes"], rows[1]["referer"]) == (302, None, None)
    assert rows[1]["time"] == utc(2024, 11, 25, 17, 35, 1)
    # escaped quotes in the referer are unescaped, +0100 becomes UTC
    assert rows[2]["referer"] == 'https://example.org/?q="quoted"'
    assert rows[2]["user_agent"].endswith("Überbrowser/1.0")
    assert rows[2]["time"] == utc(2024, 11, 25, 16, 35, 2)
    # common log format: no referer, no user agent
    assert rows[3]["user"] == "alice"
    assert (rows[3]["referer"], rows[3]["user_agent"]) == (None, None)
    assert (rows[3]["status"], rows[3]["bytes"]) == (204, 0)
    assert rows[3]["time"] == utc(2024, 11, 25, 22, 36, 0)
    # a "-" request line: no method, path or protocol
    assert [rows[5][k] for k in ("method", "path", "protocol", "status")] == [None] * 3 + [400]
    assert table.column("status").to_pylist() == [200, 302, 200, 204, 404, 400]


def test_combined_rejected_lines_have_exact_positions() -> None:
    data = ACCESS.read_bytes()
    starts = line_starts(data)
    _, errors = decode(ACCESS, "combined")
    assert [e.line for e in errors] == [4, 7]
    assert [e.byte_offset for e in errors] == [starts[4], starts[7]]
    for e in errors:
        assert data[e.byte_offset :].startswith(e.raw.encode())
    garbage, bad_date = errors
    assert garbage.raw == "this is not an access log line"
    assert garbage.reason == "line does not match the combined grammar"
    assert garbage.column is None
    assert (bad_date.column, bad_date.value) == ("time", "31/Feb/2024:10:00:00 +0000")
    assert bad_date.raw.startswith("198.51.100.7 ")


def test_records_account_for_every_non_blank_line() -> None:
    out, info = run(ACCESS, "combined")
    assert info == {"log_grammar": "combined"}
    assert sum(b.records for b in out) == 8  # 9 lines, one blank


@pytest.mark.parametrize(("block_size", "batch_size"), [(1, 1000), (64, 2), (300, 1), (1 << 20, 3)])
def test_block_and_batch_sizes_do_not_change_the_result(block_size: int, batch_size: int) -> None:
    ref_table, ref_errors = decode(ACCESS, "combined")
    out, _ = run(ACCESS, "combined", block_size=block_size, batch_size=batch_size)
    assert all(b.batch is None or b.batch.num_rows <= batch_size for b in out)
    table = pa.Table.from_batches([b.batch for b in out if b.batch is not None])
    assert table.equals(ref_table)
    assert [e for b in out for e in b.errors] == ref_errors


def test_cast_failures_name_column_and_value(tmp_path: Path) -> None:
    lines = [
        '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 12x "-" "-"',
        '1.2.3.4 - - [01/Jan/2024:00:00:01 +0000] "GET / HTTP/1.1" 200 99999999999999999999',
        '1.2.3.4 - - [yesterday] "GET / HTTP/1.1" 500 1',
        '1.2.3.4 - - [01/Jan/2024:00:00:02 +0000] "GET / HTTP/1.1" 200 7',
    ]
    path = tmp_path / "bad.log"
    path.write_text("\n".join(lines) + "\n")
    table, errors = decode(path, "combined")
    assert table.column("bytes").to_pylist() == [7]
    assert [(e.line, e.column, e.value) for e in errors] == [
        (1, "bytes", "12x"),
        (2, "bytes", "99999999999999999999"),
        (3, "time", "yesterday"),
    ]
    assert errors[0].reason == "bytes value is not a valid integer"


def test_day_of_month_is_checked_in_local_time(tmp_path: Path) -> None:
    stamps = [
        "31/Oct/2024:23:30:00 -0700",  # local 31 Oct, UTC 1 Nov: valid
        "31/Apr/2024:10:00:00 +0000",  # no 31 April
        "29/Feb/2024:00:30:00 +0100",  # leap day, UTC 28 Feb
        "29/Feb/2023:12:00:00 +0000",  # not a leap year
        "30/Apr/2024:12:00:00 +0000",
        "01/Jan/2024:00:00:00 +0000",
    ]
    path = tmp_path / "days.log"
    path.write_text("".join(f'h - - [{t}] "GET / HTTP/1.1" 200 1\n' for t in stamps))
    table, errors = decode(path, "combined")
    assert table.column("time").to_pylist() == [
        utc(2024, 11, 1, 6, 30),
        utc(2024, 2, 28, 23, 30),
        utc(2024, 4, 30, 12),
        utc(2024, 1, 1),
    ]
    assert [(e.line, e.value) for e in errors] == [(2, stamps[1]), (4, stamps[3])]


def test_gzip_detected_by_magic_bytes(tmp_path: Path) -> None:
    path = tmp_path / "access"  # no .gz suffix: the magic bytes decide
    path.write_bytes(gzip.compress(ACCESS.read_bytes()))
    assert Source.open_path(path).compression == "gzip"
    assert decode(path, "combined")[0].equals(decode(ACCESS, "combined")[0])
    errors = decode(path, "combined")[1]
    assert errors == decode(ACCESS, "combined")[1]  # offsets into the decompressed stream


def test_corrupt_gzip_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.log.gz"
    path.write_bytes(gzip.compress(ACCESS.read_bytes())[:60])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        run(path, "combined")


def test_crlf_line_endings(tmp_path: Path) -> None:
    data = ACCESS.read_bytes().replace(b"\n", b"\r\n")
    path = tmp_path / "crlf.log"
    path.write_bytes(data)
    table, errors = decode(path, "combined")
    assert table.equals(decode(ACCESS, "combined")[0])  # no '\r' left in any value
    starts = line_starts(data)
    assert [(e.line, e.byte_offset) for e in errors] == [(4, starts[4]), (7, starts[7])]
    assert errors[0].raw == "this is not an access log line"


def test_utf16_input_offsets_are_in_the_utf8_stream(tmp_path: Path) -> None:
    text = ACCESS.read_text(encoding="utf-8")
    path = tmp_path / "utf16.log"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    src = Source.open_path(path)
    det = Detection("log", encoding="utf-16-le", bom=2, log_grammar="combined")
    out = list(get_decoder("log")(src, det, DecodeOptions(block_size=100)).batches())
    table = pa.Table.from_batches([b.batch for b in out if b.batch is not None])
    assert table.equals(decode(ACCESS, "combined")[0])
    assert [e for b in out for e in b.errors] == decode(ACCESS, "combined")[1]


def test_parquet_round_trip_through_duckdb(tmp_path: Path) -> None:
    out, _ = run(ACCESS, "combined", batch_size=2)
    batches = [b.batch for b in out if b.batch is not None]
    target = tmp_path / "access.parquet"
    with pq.ParquetWriter(target, batches[0].schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false")
    row = con.execute(
        "SELECT count(*), sum(status), sum(bytes), count(bytes), count(referer),"
        " min(epoch_us(time)), max(epoch_us(time)) FROM read_parquet(?)",
        [str(target)],
    ).fetchone()
    first = int(utc(2000, 10, 10, 20, 55, 36).timestamp() * 1_000_000)
    last = int(utc(2024, 11, 25, 22, 36).timestamp() * 1_000_000)
    assert row == (6, 1710, 7599, 5, 3, first, last)


# -- syslog -------------------------------------------------------------------------------


def test_syslog5424() -> None:
    path = CASES / "syslog5424.log"
    table, errors = decode(path, "syslog5424")
    rows = table.to_pylist()
    assert table.num_rows == 5
    assert rows[0] == {
        "pri": 34,
        "facility": 4,
        "severity": 2,
        "version": 1,
        "timestamp": utc(2003, 10, 11, 22, 14, 15, 3000),
        "hostname": "mymachine.example.com",
        "app_name": "su",
        "procid": None,
        "msgid": "ID47",
        "structured_data": None,
        "message": "'su root' failed for lonvick on /dev/pts/8",  # BOM removed
    }
    assert rows[1]["timestamp"] == utc(2003, 8, 24, 12, 14, 15, 3)  # -07:00, microseconds
    assert (rows[1]["facility"], rows[1]["severity"], rows[1]["procid"]) == (20, 5, "8710")
    assert rows[2]["structured_data"] == (
        '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
    )
    assert rows[2]["message"] == "An application event log entry..."
    assert rows[3]["structured_data"].endswith('[examplePriority@32473 class="high"]')
    assert rows[3]["message"] is None
    assert rows[4] == dict.fromkeys(rows[4]) | {  # "<13>1 - - - - - -": all NILVALUE
        "pri": 13,
        "facility": 1,
        "severity": 5,
        "version": 1,
    }
    starts = line_starts(path.read_bytes())
    assert [(e.line, e.byte_offset, e.column, e.value) for e in errors] == [
        (6, starts[6], "pri", "999"),
        (7, starts[7], "timestamp", "2003-02-30T10:00:00Z"),
        (8, starts[8], None, None),
    ]
    assert errors[2].reason == "line does not match the syslog5424 grammar"


def test_syslog3164_with_given_year() -> None:
    path = CASES / "syslog3164.log"
    _, info = run(path, "syslog3164", extra={"year": 2024})
    assert info == {"log_grammar": "syslog3164", "syslog_year": 2024}
    table, errors = decode(path, "syslog3164", extra={"year": 2024})
    rows = table.to_pylist()
    assert rows[0] == {
        "pri": 34,
        "facility": 4,
        "severity": 2,
        "timestamp": utc(2024, 10, 11, 22, 14, 15),  # no zone in the line: read as UTC
        "hostname": "mymachine",
        "tag": "su",
        "pid": None,
        "message": "'su root' failed for lonvick on /dev/pts/8",
    }
    assert [rows[1][k] for k in ("pri", "tag", "pid", "timestamp")] == [
        None,
        "CRON",
        12345,
        utc(2024, 2, 5, 6, 25, 1),  # "Feb  5": space-padded day
    ]
    assert rows[2]["timestamp"] == utc(2024, 2, 29, 12)
    assert (rows[3]["tag"], rows[3]["pid"]) == ("sshd", 999)
    assert (rows[4]["tag"], rows[4]["message"]) == (None, "no tag here at all")
    assert [(e.line, e.byte_offset) for e in errors] == [(6, line_starts(path.read_bytes())[6])]


def test_syslog3164_leap_day_in_a_common_year_is_rejected() -> None:
    table, errors = decode(CASES / "syslog3164.log", "syslog3164", extra={"year": "2023"})
    assert table.num_rows == 4
    assert [(e.line, e.column, e.value) for e in errors] == [
        (3, "timestamp", "Feb 29 12:00:00"),
        (6, None, None),
    ]


def test_syslog3164_defaults_to_the_current_utc_year() -> None:
    before = datetime.now(UTC).year
    table, _ = decode(CASES / "syslog3164.log", "syslog3164")
    years = {t.year for t in table.column("timestamp").to_pylist()}
    assert years <= {before, datetime.now(UTC).year}


def test_bad_year_option_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="year"):
        run(CASES / "syslog3164.log", "syslog3164", extra={"year": "last"})


# -- logfmt, unknown text, sniffing -------------------------------------------------------


def test_logfmt() -> None:
    path = CASES / "logfmt.log"
    table, errors = decode(path, "logfmt")
    assert table.column_names == ["time", "level", "msg", "port", "duration_ms", "err", "retry"]
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("duration_ms").type == pa.float64()
    rows = table.to_pylist()
    assert rows[0]["time"] == utc(2024, 11, 25, 17, 35, 1)
    assert rows[1]["msg"] == 'slow request "GET /"'
    assert rows[1]["duration_ms"] == 1532.5
    assert (rows[2]["err"], rows[2]["retry"], rows[2]["port"]) == (
        "dial tcp: connection refused",
        None,
        None,
    )
    # "notaport" in the first (only) batch: port is text, nothing is rejected for it
    assert table.column("port").to_pylist() == ["8080", "8080", None, "notaport"]
    assert [(e.line, e.byte_offset) for e in errors] == [(4, line_starts(path.read_bytes())[4])]


def test_logfmt_cast_failure_after_inference() -> None:
    path = CASES / "logfmt.log"
    out, _ = run(path, "logfmt", batch_size=2)  # batches: lines 1-2, 3-4, 5
    assert [b.batch is not None for b in out] == [True, True, False]
    first, second = out[0].batch, out[1].batch
    assert first.schema.field("port").type == pa.int64()  # inferred from "8080", "8080"
    assert "err" not in first.column_names  # a key seen later adds a column
    assert second.column_names == [*first.column_names, "err", "retry"]
    errors = [e for b in out for e in b.errors]
    assert [(e.line, e.column, e.value) for e in errors] == [
        (4, None, None),
        (5, "port", "notaport"),
    ]
    assert errors[1].reason == "port value is not a valid int"


def test_unknown_text_is_one_line_column() -> None:
    out, info = run(CASES / "unknown.txt", None)
    assert info == {"log_grammar_share": 0.0, "log_grammar": "line"}
    table = pa.Table.from_batches([b.batch for b in out if b.batch is not None])
    assert table.column_names == ["line"]
    assert table.column("line").to_pylist()[:2] == [
        "Traceback (most recent call last):",
        '  File "app.py", line 3, in <module>',
    ]
    assert table.num_rows == 5 and not any(b.errors for b in out)


@pytest.mark.parametrize(
    ("case", "grammar"),
    [
        ("access_combined.log", "combined"),
        ("syslog5424.log", "syslog5424"),
        ("syslog3164.log", "syslog3164"),
        ("logfmt.log", "logfmt"),
    ],
)
def test_grammar_is_sniffed_when_detection_has_none(case: str, grammar: str) -> None:
    _, info = run(CASES / case, None, block_size=100)  # sniffing spans several blocks
    assert info["log_grammar"] == grammar


def test_unknown_grammar_name() -> None:
    with pytest.raises(UsageError, match="unknown log grammar"):
        run(ACCESS, "apache2")


def test_empty_input(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"\n\r\n  \n")
    out, info = run(path, None)
    assert out == [] and info["log_grammar"] == "line"


def test_invalid_utf8_keeps_byte_offsets(tmp_path: Path) -> None:
    data = b"caf\xe9 au lait\nnot a log line\n"
    path = tmp_path / "latin.log"
    path.write_bytes(data)
    out, _ = run(path, "combined")
    errors = [e for b in out for e in b.errors]
    assert [(e.line, e.byte_offset, e.raw) for e in errors] == [
        (1, 0, "caf\ufffd au lait"),
        (2, data.index(b"not"), "not a log line"),
    ]


def test_split_lines() -> None:
    lines = split_lines(TextBlock(b"a\r\n\r\n \t\nb\rc\nlast", first_line=10, offset=100))
    assert lines.text.to_pylist() == ["a", "b\rc", "last"]
    assert lines.line.tolist() == [10, 13, 14]
    assert lines.offset.tolist() == [100, 108, 112]
    assert len(split_lines(TextBlock(b"", 1, 0))) == 0


def test_large_generated_log(tmp_path: Path) -> None:
    n = 200_000
    template = (
        '10.0.{a}.{b} - - [25/Nov/2024:17:{m:02d}:{s:02d} +0000] "GET /item/{i} HTTP/1.1" '
        '{status} {size} "https://example.org/" "Mozilla/5.0 (X11; Linux x86_64)"\n'
    )
    lines = [
        template.format(
            a=i % 256, b=i % 251, m=i % 60, s=i % 59, i=i, status=200 + i % 3, size=i % 1000
        )
        for i in range(n)
    ]
    lines[1234] = "garbage\n"
    path = tmp_path / "big.log"
    path.write_text("".join(lines))
    out, _ = run(path, None, batch_size=65_536, block_size=1 << 20)
    assert sum(b.batch.num_rows for b in out if b.batch is not None) == n - 1
    assert [e.line for b in out for e in b.errors] == [1235]
    statuses = pa.chunked_array([b.batch.column("status") for b in out if b.batch is not None])
    expected = sum(200 + i % 3 for i in range(n) if i != 1234)
    assert pc.sum(statuses).as_py() == expected


# -- fuzzing ------------------------------------------------------------------------------

_FRAGMENTS = [
    *(CASES / "access_combined.log").read_text(encoding="utf-8").splitlines(),
    *(CASES / "syslog5424.log").read_text(encoding="utf-8").splitlines(),
    *(CASES / "syslog3164.log").read_text(encoding="utf-8").splitlines(),
    *(CASES / "logfmt.log").read_text(encoding="utf-8").splitlines(),
]
_GRAMMARS = st.sampled_from([None, "combined", "syslog5424", "syslog3164", "logfmt", "line"])
_TEXT_LINES = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=80), max_size=30)


def _non_blank_lines(data: bytes) -> int:
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    texts = [p.removesuffix(b"\r").decode("utf-8", "replace") for p in pieces]
    return sum(1 for t in texts if t and not t.isspace())


def _check(data: bytes, grammar: str | None, batch_size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.log"
        path.write_bytes(data)
        try:
            src = Source.open_path(path)
            det = Detection(
                "log", compression=src.compression, encoding="utf-8", log_grammar=grammar
            )
            dec = LogDecoder(src, det, DecodeOptions(batch_size=batch_size, block_size=64))
            out = list(dec.batches())
        except LogflowError:
            return
    errors = [e for b in out for e in b.errors]
    assert all(isinstance(e, RowError) for e in errors)
    assert all(b.batch is None or b.batch.num_rows <= batch_size for b in out)
    if src.compression is None:
        assert sum(b.records for b in out) == _non_blank_lines(data)
        lines = [e.line for e in errors]
        assert lines == sorted(set(lines))
        for e in errors:
            if "\ufffd" not in e.raw:
                assert data[e.byte_offset :].startswith(e.raw.encode())


@settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.binary(max_size=600), grammar=_GRAMMARS, batch_size=st.integers(1, 8))
def test_fuzz_bytes(data: bytes, grammar: str | None, batch_size: int) -> None:
    _check(data, grammar, batch_size)


@settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(lines=_TEXT_LINES, crlf=st.booleans(), grammar=_GRAMMARS, batch_size=st.integers(1, 8))
def test_fuzz_log_like_text(
    lines: list[str], crlf: bool, grammar: str | None, batch_size: int
) -> None:
    data = ("\r\n" if crlf else "\n").join(lines).encode("utf-8")
    _check(data, grammar, batch_size)
