"""Detection of real application logs (not CSV, not JSON) and their grammar's columns."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from logflow_dagster.core.convert import convert
from logflow_dagster.core.detect import detect
from logflow_dagster.core.source import Source

CASES = Path(__file__).parents[2] / "cases" / "log"


@pytest.mark.parametrize(("name", "grammar", "lines", "records"), [
    ("log_hadoop.log", "log4j", 34, 25),
    ("log_cbs.log", "cbs", 23, 23),
    ("log_apache_error.log", "apache_error", 22, 22),
    ("log_openstack.log", "openstack", 18, 14),
    ("log_linux_syslog.log", "syslog3164", 20, 20),
    ("log_macos_system.log", "syslog3164", 20, 20),
    ("log_proxifier.log", "proxifier", 20, 20),
])
def test_application_logs_are_log_lines(tmp_path: Path, name: str, grammar: str, lines: int,
                                        records: int) -> None:
    path = CASES / name
    assert len(path.read_text().splitlines()) == lines
    det = detect(Source.open_path(path))
    assert (det.format, det.log_grammar) == ("log", grammar)
    assert 0.9 <= det.confidence <= 1.0
    out = tmp_path / "out.parquet"
    result = convert(path, out, error_policy="quarantine")
    assert result.format == "log"
    assert result.detection["log_grammar"] == grammar
    assert 0.9 <= result.detection["confidence"] <= 1.0
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (records, records, 0)
    table = pq.read_table(out)
    # every line is accounted for: a record's first line, or a continuation in its message
    text = "\n".join(str(v) for v in table.column("message").to_pylist())
    for line in path.read_text().splitlines():
        if line.startswith(("\t", "  ", "java.", "Caused", "...", "Traceback", "Instance")):
            assert line.strip() in text


def test_log4j_columns_and_stack_trace_continuation(tmp_path: Path) -> None:
    out = tmp_path / "hadoop.parquet"
    convert(CASES / "log_hadoop.log", out, error_policy="strict")
    rows = pq.read_table(out).to_pylist()
    assert rows[0] == {
        "timestamp": dt.datetime(2015, 10, 18, 18, 1, 47, 978000),
        "level": "INFO", "thread": "main",
        "component": "org.apache.hadoop.mapreduce.v2.app.MRAppMaster",
        "message": "Created MRAppMaster for application appattempt_1445144423722_0020_000001",
    }
    warn = rows[9]
    assert (warn["level"], warn["component"]) == ("WARN", "org.apache.hadoop.hdfs.DFSClient")
    assert warn["message"].split("\n") == [
        "Failed to connect to /10.86.169.121:50010 for block, add to deadNodes and continue.",
        "java.net.ConnectException: Connection refused: no further information",
        "\tat sun.nio.ch.SocketChannelImpl.checkConnect(Native Method)",
        "\tat sun.nio.ch.SocketChannelImpl.finishConnect(SocketChannelImpl.java:717)",
        "\tat org.apache.hadoop.net.SocketIOWithTimeout.connect(SocketIOWithTimeout.java:206)",
    ]
    assert rows[10]["message"].startswith("Emitting job history")
    assert rows[21]["thread"] == "Socket Reader #1 for port 62260"
    assert rows[22]["level"] == "ERROR" and rows[22]["message"].endswith("... 12 more")


def test_continuation_keeps_start_line_in_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(
        "orphan line before any record\n"
        "2015-10-18 18:01:47,978 INFO [main] a.B: first\n"
        "2015-02-30 18:01:48,000 ERROR [main] a.B: impossible day\n"
        "java.lang.IllegalStateException: boom\n"
        "\tat a.B.run(B.java:1)\n"
        "2015-10-18 18:01:49,5 INFO [main] a.B: last\n")
    out = tmp_path / "app.parquet"
    result = convert(path, out, error_policy="quarantine")
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (4, 2, 2)
    bad = [json.loads(x) for x in Path(result.quarantine).read_text().splitlines()]
    assert [(b["line"], b["raw"]) for b in bad] == [
        (1, "orphan line before any record"),
        (3, "2015-02-30 18:01:48,000 ERROR [main] a.B: impossible day\n"
            "java.lang.IllegalStateException: boom\n\tat a.B.run(B.java:1)"),
    ]
    rows = pq.read_table(out).to_pylist()
    assert [r["timestamp"] for r in rows] == [dt.datetime(2015, 10, 18, 18, 1, 47, 978000),
                                              dt.datetime(2015, 10, 18, 18, 1, 49, 500000)]


def test_continuation_across_blocks(tmp_path: Path) -> None:
    from logflow_dagster.core.decoders import DecodeOptions, get_decoder

    lines = []
    for i in range(300):
        lines.append(f"2020-01-01 00:00:{i % 60:02d},{i % 1000:03d} WARN [t{i}] x.Y: event {i}")
        lines += [f"\tat frame {i}.{k}" for k in range(i % 3)]
    path = tmp_path / "many.log"
    path.write_text("\n".join(lines) + "\n")
    det = detect(Source.open_path(path))
    dec = get_decoder("log")(Source.open_path(path), det,
                             DecodeOptions(block_size=1 << 10, batch_size=7))
    steps = list(dec.batches())
    assert not [e for s in steps for e in s.errors]
    messages = [m for s in steps if s.batch is not None
                for m in s.batch.column("message").to_pylist()]
    assert len(messages) == 300
    assert messages[5] == "event 5\n\tat frame 5.0\n\tat frame 5.1"
    assert messages[299] == "event 299\n\tat frame 299.0\n\tat frame 299.1"


def test_cbs_apache_openstack_columns(tmp_path: Path) -> None:
    def rows(name: str) -> list[dict[str, object]]:
        out = tmp_path / (name + ".parquet")
        convert(CASES / name, out)
        return pq.read_table(out).to_pylist()

    cbs = rows("log_cbs.log")
    assert cbs[0]["timestamp"] == dt.datetime(2016, 9, 28, 4, 30, 30)
    assert (cbs[0]["level"], cbs[0]["component"]) == ("Info", "CBS")
    assert cbs[0]["message"].startswith("Loaded Servicing Stack v6.1.7601.23505 with Core: C:\\")
    assert cbs[20]["level"] == "Error"

    apache = rows("log_apache_error.log")
    assert apache[0] == {"time": dt.datetime(2005, 12, 4, 4, 47, 44), "module": None,
                         "level": "notice", "pid": None, "tid": None, "client": None,
                         "message": "workerEnv.init() ok /etc/httpd/conf/workers2.properties"}
    assert apache[12]["client"] == "81.199.21.119"
    assert apache[20] == {
        "time": dt.datetime(2000, 10, 11, 14, 32, 52, 123456), "module": "core",
        "level": "error", "pid": 35708, "tid": 4328636416, "client": "72.15.99.187",
        "message": "File does not exist: /usr/local/apache2/htdocs/favicon.ico"}

    nova = rows("log_openstack.log")
    assert nova[0]["logfile"] == "nova-api.log.1.2017-05-16_13:53:08"
    assert nova[0]["timestamp"] == dt.datetime(2017, 5, 16, 0, 0, 0, 8000)
    assert (nova[0]["pid"], nova[0]["level"]) == (25746, "INFO")
    assert nova[0]["component"] == "nova.osapi_compute.wsgi.server"
    assert nova[0]["request"].startswith("req-38101a0b-2096-447d-96ea-a692162415ae ")
    assert nova[4]["request"] == "-"
    assert nova[8]["message"].endswith("could not be found.")
    assert nova[8]["message"].count("\n") == 4


def test_json_that_is_not_json_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "brackets.txt"
    path.write_text("[x] one, two\n[y] three, four, five\n[z] six\n")
    det = detect(Source.open_path(path))
    assert det.format != "json"
    path.write_text('[{"a": 1},\n {"a": 2}]\n')
    assert detect(Source.open_path(path)).format == "json"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": 3}\n')
    assert detect(Source.open_path(path)).format == "jsonl"
