"""XesDecoder: a hand-checked log, a generated one, bad values, broken files and fuzzing."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from logflow_dagster.core.decoders import DecodedBatch, DecodeOptions, get_decoder
from logflow_dagster.core.decoders import xes as xes_module
from logflow_dagster.core.detect.markup import XES_NAMESPACE, sniff_markup
from logflow_dagster.core.detect.result import Detection
from logflow_dagster.core.errors import DataError, LogflowError, RowError
from logflow_dagster.core.source import Source
from tests.core.decoders.fuzzing import compressed_garbage

SMALL = Path(__file__).resolve().parents[2] / "cases" / "xes" / "small.xes"
UTC = dt.UTC


def decode(path: Path, **options: object) -> tuple[list[DecodedBatch], dict[str, object]]:
    src = Source.open_path(path)
    decoder = get_decoder("xes")(src, Detection("xes", compression=src.compression),
                                 DecodeOptions(**options))  # type: ignore[arg-type]
    return list(decoder.batches()), decoder.info


def rows_of(batches: list[DecodedBatch]) -> list[dict[str, object]]:
    return [row for b in batches if b.batch is not None for row in b.batch.to_pylist()]


def errors_of(batches: list[DecodedBatch]) -> list[RowError]:
    return [e for b in batches for e in b.errors]


def write_log(path: Path, body: str, *, namespace: bool = True) -> None:
    xmlns = f' xmlns="{XES_NAMESPACE}"' if namespace else ""
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0"{xmlns}>\n'
                    f"{body}</log>\n")


# --- the hand-checked log ------------------------------------------------------------------

# (case, activity, resource, UTC time, transition), worked out by hand from small.xes
EXPECTED = [
    ("case-1", "register", "Ann", dt.datetime(2010, 12, 31, 23, 0, tzinfo=UTC), "complete"),
    ("case-1", "check", "Bob", dt.datetime(2011, 1, 1, 9, 30, tzinfo=UTC), "start"),
    ("case-1", "check", "Bob", dt.datetime(2011, 1, 1, 10, 45, 10, 250_000, tzinfo=UTC),
     "complete"),
    ("case-2", "register", "Cid", dt.datetime(2011, 3, 27, 6, 30, tzinfo=UTC), "complete"),
    ("case-2", "decide", "Ann", dt.datetime(2011, 3, 28, 4, 0, tzinfo=UTC), "complete"),
    ("case-2", "pay", "Dee", dt.datetime(2011, 3, 28, 4, 0, tzinfo=UTC), "complete"),
    ("case-3", "register", "Eve", dt.datetime(2011, 6, 30, 18, 29, 59, 999_000, tzinfo=UTC),
     "complete"),
    ("case-3", "reject", "Eve", dt.datetime(2011, 7, 1, 0, 0, tzinfo=UTC), "complete"),
]


def test_small_log_exact_values() -> None:
    batches, info = decode(SMALL)
    assert errors_of(batches) == []
    rows = rows_of(batches)
    got = [(r["case:concept:name"], r["concept:name"], r["org:resource"], r["time:timestamp"],
            r["lifecycle:transition"]) for r in rows]
    assert got == EXPECTED
    assert [r["cost"] for r in rows] == [50, 20, None, 50, -3, None, None, None]
    assert [r["urgent"] for r in rows] == [True, False, None, None, False, None, None, True]
    assert [r["score"] for r in rows] == [0.5, None, None, None, None, 125.0, None, None]
    assert [r["case:amount"] for r in rows] == [100.5] * 3 + [7.25] * 3 + [0.0] * 2
    assert [r["case:vip"] for r in rows] == [True] * 3 + [False] * 5
    assert [r["case:priority"] for r in rows] == [None] * 3 + [2] * 3 + [None] * 2
    assert info["classifiers"] == {"Activity": "concept:name",
                                   "Activity and transition": "concept:name lifecycle:transition"}
    assert info["xes_version"] == "1.0"
    schema = batches[0].batch.schema
    assert schema.field("time:timestamp").type == pa.timestamp("us", tz="UTC")
    assert schema.field("cost").type == pa.int64()
    assert schema.field("score").type == pa.float64()
    assert schema.field("urgent").type == pa.bool_()
    assert schema.field("case:vip").type == pa.bool_()
    assert "__INVALID__" not in {r["concept:name"] for r in rows}  # globals are no rows


def test_small_log_gzip(tmp_path: Path) -> None:
    path = tmp_path / "small.xes.gz"
    path.write_bytes(gzip.compress(SMALL.read_bytes()))
    assert Source.open_path(path).compression == "gzip"
    assert sniff_markup(Source.open_path(path).head())[:2] == ("xes", 0.99)
    rows = rows_of(decode(path, batch_size=3)[0])
    assert [(r["case:concept:name"], r["concept:name"], r["time:timestamp"],
             r["lifecycle:transition"]) for r in rows] == [(c, a, t, lc)
                                                           for c, a, _, t, lc in EXPECTED]


def test_corrupt_gzip_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "gen.xes"
    _generate(path, traces=300, events=5)
    packed = gzip.compress(path.read_bytes())
    broken = tmp_path / "broken.xes.gz"
    broken.write_bytes(packed[: len(packed) // 2])  # the deflate stream ends early
    with pytest.raises(DataError) as caught:  # from Source or from the decoder
        decode(broken)
    assert str(broken) in str(caught.value)


# --- a generated log -----------------------------------------------------------------------


def _generate(path: Path, traces: int, events: int, seed: int = 3) -> dict[str, list[int]]:
    """Writes a log with lxml; returns each case's event costs."""
    rnd = random.Random(seed)
    ns = "{" + XES_NAMESPACE + "}"
    log = etree.Element(ns + "log", {"xes.version": "1.0"}, nsmap={None: XES_NAMESPACE})
    etree.SubElement(log, ns + "classifier", name="Activity", keys="concept:name")
    costs: dict[str, list[int]] = {}
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    for t in range(traces):
        case = f"c{t:04d}"
        trace = etree.SubElement(log, ns + "trace")
        etree.SubElement(trace, ns + "string", key="concept:name", value=case)
        etree.SubElement(trace, ns + "int", key="size", value=str(events))
        costs[case] = []
        for e in range(events):
            cost = rnd.randint(-10**12, 10**12)
            costs[case].append(cost)
            moment = start + dt.timedelta(minutes=t * events + e)
            event = etree.SubElement(trace, ns + "event")
            etree.SubElement(event, ns + "string", key="concept:name", value=f"act{e}")
            etree.SubElement(event, ns + "date", key="time:timestamp",
                             value=moment.isoformat(timespec="milliseconds"))
            etree.SubElement(event, ns + "int", key="cost", value=str(cost))
            etree.SubElement(event, ns + "float", key="ratio", value=repr(cost / 7))
            if e == 0:
                box = etree.SubElement(event, ns + "container", key="extra")
                etree.SubElement(box, ns + "boolean", key="ok", value="true")
    etree.ElementTree(log).write(str(path), xml_declaration=True, encoding="UTF-8",
                                 pretty_print=True)
    return costs


def test_generated_log_counts_and_duckdb(tmp_path: Path, duck: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "gen.xes"
    costs = _generate(path, traces=200, events=5)
    batches, info = decode(path, batch_size=300)
    assert [b.records for b in batches] == [300, 300, 300, 100]
    assert info["classifiers"] == {"Activity": "concept:name"}
    rows = rows_of(batches)
    assert errors_of(batches) == [] and len(rows) == 1000
    per_case = Counter(r["case:concept:name"] for r in rows)
    assert set(per_case.values()) == {5} and len(per_case) == 200
    for case, want in costs.items():
        assert [r["cost"] for r in rows if r["case:concept:name"] == case] == want
    assert rows[0]["time:timestamp"] == dt.datetime(2019, 12, 31, 22, 0, tzinfo=UTC)
    assert json.loads(rows[0]["extra"]) == {"ok": True}  # type: ignore[arg-type]
    assert rows[1]["extra"] is None

    table = pa.concat_tables([pa.Table.from_batches([b.batch]) for b in batches],
                             promote_options="default")
    pq.write_table(table, tmp_path / "gen.parquet")
    count, cases, total = duck.execute(
        'SELECT count(*), count(DISTINCT "case:concept:name"), sum(cost) FROM read_parquet(?)',
        [str(tmp_path / "gen.parquet")]).fetchone()
    assert (count, cases) == (1000, 200)
    assert total == sum(sum(v) for v in costs.values())
    lo, hi = duck.execute('SELECT min("time:timestamp"), max("time:timestamp") '
                         "FROM read_parquet(?)", [str(tmp_path / "gen.parquet")]).fetchone()
    assert (hi - lo) == dt.timedelta(minutes=999)


def test_partial_tree_stays_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Streaming: once an event or trace is read, nothing before it is left in the tree.

    (The parser reads ahead one chunk, so elements *after* it are not counted.)
    """
    path = tmp_path / "gen.xes"
    _generate(path, traces=50, events=20)  # pretty-printed: one element per line
    real = xes_module.drop_done
    sizes: list[int] = []

    def spy(element: etree._Element) -> None:
        line = element.sourceline
        real(element)
        root = element.getroottree().getroot()
        sizes.append(sum(1 for e in root.iter() if e.sourceline <= line))

    monkeypatch.setattr(xes_module, "drop_done", spy)
    assert sum(b.records for b in decode(path, batch_size=128)[0]) == 1000
    assert len(sizes) == 1050 and max(sizes) == 3  # log, trace, the cleared event


# --- values and structure --------------------------------------------------------------------


def test_bad_typed_value_is_a_row_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.xes"
    write_log(path, (
        "<trace>\n"  # line 3
        '<string key="concept:name" value="c1"/>\n'
        '<event><string key="concept:name" value="a"/><int key="x" value="1"/></event>\n'
        "<event>\n"  # line 6
        '  <string key="concept:name" value="b"/>\n'
        '  <int key="x" value="abc"/>\n'
        "</event>\n"
        '<event><string key="concept:name" value="c"/><int key="x" value="3"/></event>\n'
        "</trace>\n"
    ))
    batches = decode(path)[0]
    assert [r["concept:name"] for r in rows_of(batches)] == ["a", "c"]
    (err,) = errors_of(batches)
    assert (err.line, err.column, err.value, err.record) == (6, "x", "abc", 2)
    assert err.reason == "expected int in column 'x'"
    assert err.raw is not None and err.raw.startswith("<event") and 'value="abc"' in err.raw
    assert sum(b.records for b in batches) == 3


@pytest.mark.parametrize(
    ("element", "value"),
    [("float", "1,5"), ("boolean", "yes"), ("date", "2011-13-01T00:00:00"), ("int", "1.0"),
     ("int", "99999999999999999999")],
)
def test_each_declared_type_rejects_bad_text(tmp_path: Path, element: str, value: str) -> None:
    path = tmp_path / "bad.xes"
    write_log(path, f'<trace><event><{element} key="k" value="{value}"/></event></trace>\n')
    (err,) = errors_of(decode(path)[0])
    assert (err.line, err.column, err.value) == (3, "k", value)


def test_type_conflicts_between_events(tmp_path: Path) -> None:
    path = tmp_path / "mixed.xes"
    write_log(path, (
        "<trace>"
        '<event><int key="n" value="1"/><string key="s" value="x"/></event>'
        '<event><float key="n" value="2.5"/><int key="s" value="7"/></event>'
        '<event><string key="n" value="4"/></event>'
        '<event><string key="n" value="four"/></event>'
        "</trace>\n"
    ))
    batches = decode(path)[0]
    rows = rows_of(batches)
    assert [r["n"] for r in rows] == [1.0, 2.5, 4.0]  # int widened to float by a float
    assert [r["s"] for r in rows] == ["x", "7", None]  # string column keeps the text
    (err,) = errors_of(batches)
    assert (err.column, err.value, err.reason) == ("n", "four", "expected float in column 'n'")


def test_events_under_log_and_late_trace_attributes(tmp_path: Path) -> None:
    path = tmp_path / "loose.xes"
    write_log(path, (
        '<event><string key="concept:name" value="loose1"/></event>\n'
        '<trace><string key="concept:name" value="t"/>'
        '<event><string key="concept:name" value="in"/></event>'
        '<int key="late" value="9"/></trace>\n'
        '<event><string key="concept:name" value="loose2"/></event>\n'
    ), namespace=False)
    rows = rows_of(decode(path)[0])
    assert [(r["concept:name"], r["case:concept:name"], r["case:late"]) for r in rows] == [
        ("loose1", None, None), ("in", "t", 9), ("loose2", None, None)]


def test_bad_trace_attribute_rejects_its_events(tmp_path: Path) -> None:
    path = tmp_path / "badtrace.xes"
    write_log(path, (
        '<trace><int key="n" value="zz"/>\n<event><string key="a" value="1"/></event>\n'
        '<event><string key="a" value="2"/></event></trace>\n'
        '<trace><int key="n" value="5"/><event><string key="a" value="3"/></event></trace>\n'
    ))
    batches = decode(path)[0]
    assert [(r["a"], r["case:n"]) for r in rows_of(batches)] == [("3", 5)]
    assert [(e.line, e.column, e.value) for e in errors_of(batches)] == [
        (4, "case:n", "zz"), (5, "case:n", "zz")]


def test_list_and_container_become_json(tmp_path: Path) -> None:
    path = tmp_path / "nested.xes"
    write_log(path, (
        "<trace><event>"
        '<list key="items"><values><string key="item" value="a"/>'
        '<date key="at" value="2020-01-01T01:00:00+01:00"/></values></list>'
        '<container key="box"><int key="n" value="1"/>'
        '<container key="inner"><float key="f" value="0.5"/></container></container>'
        '<string key="meta" value="v"><int key="ignored" value="1"/></string>'
        "</event></trace>\n"
    ))
    (row,) = rows_of(decode(path)[0])
    assert json.loads(row["items"]) == [{"item": "a"}, {"at": "2020-01-01T00:00:00+00:00"}]
    assert json.loads(row["box"]) == {"n": 1, "inner": {"f": 0.5}}
    assert row["meta"] == "v"


def test_truncated_log_keeps_good_events(tmp_path: Path) -> None:
    text = SMALL.read_text()
    cut = text.index('<string key="org:resource" value="Ann"/>', text.index("case-2"))
    path = tmp_path / "cut.xes"
    path.write_text(text[:cut])  # inside the 5th event, which starts on line 59
    batches = decode(path, batch_size=2)[0]
    assert [r["concept:name"] for r in rows_of(batches)] == [e[1] for e in EXPECTED[:4]]
    (err,) = errors_of(batches)
    assert err.line == 59 and err.record == 5 and err.reason.startswith("malformed XML: ")
    assert err.raw is not None and err.raw.startswith("\t\t<event>\n")
    assert err.raw == "".join(text[:cut].splitlines(keepends=True)[58:])


def test_not_xes_and_not_xml(tmp_path: Path) -> None:
    path = tmp_path / "x.xes"
    path.write_text("<rows><trace/></rows>")
    with pytest.raises(DataError, match="not an XES log"):
        decode(path)
    path.write_text("<rows/>")
    with pytest.raises(DataError, match="not an XES log"):
        decode(path)
    path.write_text("concept:name,time:timestamp\n")
    with pytest.raises(DataError, match="not XML"):
        decode(path)


# --- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b'<?xml version="1.0"?>\n<log xes.version="1.0" xmlns="http://www.xes-standard.org/">',
        b'<log xmlns="http://www.xes-standard.org/"><trace><string key="a" val',
        b"<log><trace><event></event></trace></log>",
        b"<x:log xmlns:x='urn:other'><x:event/></x:log>",
    ],
)
def test_sniff_xes(head: bytes) -> None:
    fmt, confidence, tag = sniff_markup(head)
    assert fmt == "xes" and confidence >= 0.9 and tag is None


def test_sniff_log_root_without_xes_traits_is_xml() -> None:
    assert sniff_markup(b"<log><entry/><entry/></log>")[::2] == ("xml", "entry")


# --- fuzzing ---------------------------------------------------------------------------------

_VALID = SMALL.read_bytes()[SMALL.read_bytes().index(b"<log"):]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(_VALID)
    for _ in range(draw(st.integers(1, 5))):
        pos = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "value", "cut"]))
        if action == "insert":
            data[pos:pos] = draw(st.sampled_from(
                [b"<", b">", b'"', b"&", b"</event>", b"<trace>", b"\x00", b"\xff", b"]]>"]))
        elif action == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        elif action == "value":  # a plausible but wrong typed value
            at = data.find(b'value="', pos)
            if at >= 0:
                data[at + 7 : at + 7] = draw(st.sampled_from([b"x", b"-", b"9" * 30, b"T"]))
        else:
            del data[pos:]
    return bytes(data)




@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(_mutated(), st.binary(max_size=100), compressed_garbage))
def test_fuzz_only_logflow_errors(tmp_path: Path, content: bytes) -> None:
    sniff_markup(content)
    path = tmp_path / "fuzz.xes"
    path.write_bytes(content)
    try:
        batches = decode(path, batch_size=3)[0]
    except LogflowError:
        return
    for b in batches:
        assert b.batch is None or isinstance(b.batch, pa.RecordBatch)
        assert all(isinstance(e, RowError) for e in b.errors)


# --- events outside traces; detection without XES markers --------------------------------------

OUTSIDE = SMALL.parent / "xes_outside_trace.xes"


def test_events_outside_traces_are_flagged_never_in_a_trace(tmp_path: Path) -> None:
    from logflow_dagster.core.convert import convert

    out = tmp_path / "out.parquet"
    result = convert(OUTSIDE, out, error_policy="quarantine")
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (6, 5, 1)
    rows = pq.read_table(out).to_pylist()
    got = [(r["concept:name"], r["case:concept:name"], r["xes:outside_trace"]) for r in rows]
    assert got == [
        ("system start", None, True),
        ("register", "case-1", None),
        ("ship", "case-1", None),
        ("backup", None, True),
        ("register", "case-2", None),  # the late trace attribute is not the orphans'
    ]
    [bad] = [json.loads(x) for x in Path(result.quarantine).read_text().splitlines()]
    assert bad["line"] == 31 and bad["column"] == "time:timestamp"
    assert "shutdown" in bad["raw"] and bad["raw"].startswith("<event")


def test_small_batches_keep_orphans_out_of_the_open_trace() -> None:
    steps, _ = decode(OUTSIDE, batch_size=1)
    rows = [r for s in steps if s.batch is not None for r in s.batch.to_pylist()]
    flagged = {r["concept:name"]: (r.get("case:concept:name"), r.get("xes:outside_trace"))
               for r in rows}
    assert flagged["system start"] == (None, True)
    assert flagged["backup"] == (None, True)
    assert flagged["ship"] == ("case-1", None)


def _no_marker_log(preamble: int) -> bytes:
    lines = ["<log>"]
    lines += [f'  <extension name="Ext{i}" prefix="e{i}" uri="http://example.org/e{i}.xesext"/>'
              for i in range(preamble)]
    lines += ['  <global scope="event"><string key="concept:name" value="UNKNOWN"/></global>',
              '  <classifier name="Activity" keys="concept:name"/>',
              '  <string key="concept:name" value="L"/>',
              '  <trace><string key="concept:name" value="c1"/>',
              '    <event><string key="concept:name" value="a"/></event>',
              "  </trace>", "</log>"]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("preamble", [0, 1000])
def test_xes_without_markers_detected_from_its_structure(tmp_path: Path, preamble: int) -> None:
    from logflow_dagster.core.detect import detect

    path = tmp_path / "log.dat"
    data = _no_marker_log(preamble)
    path.write_bytes(data)
    assert (b"<trace>" in data[: 1 << 16]) == (preamble == 0)
    det = detect(Source.open_path(path))
    assert det.format == "xes"
    assert det.confidence >= 0.9
    steps, _ = decode(path)
    assert [r["case:concept:name"] for s in steps for r in s.batch.to_pylist()] == ["c1"]


def test_log_root_with_some_xes_children_is_xes_with_lower_confidence() -> None:
    head = b"<log><trace/><entry/><string key='a' value='b'/><entry/></log>"
    fmt, confidence, _ = sniff_markup(head)
    assert (fmt, confidence) == ("xes", 0.5)
    assert sniff_markup(b"<log><entry/><entry/><entry/><trace/></log>")[:2] == ("xml", 0.9)
