"""XmlDecoder and sniff_markup: inputs written by independent writers, checked value by value."""

from __future__ import annotations

import datetime as dt
import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from logflow_dagster.core.convert import convert
from logflow_dagster.core.decoders import DecodedBatch, DecodeOptions, get_decoder
from logflow_dagster.core.decoders import xml as xml_module
from logflow_dagster.core.decoders.xml import RAW_CAP
from logflow_dagster.core.detect.markup import sniff_markup, xml_encoding
from logflow_dagster.core.detect.result import Detection
from logflow_dagster.core.errors import DataError, LogflowError, RowError
from logflow_dagster.core.source import Source
from tests.core.decoders.fuzzing import compressed_garbage

CASES = Path(__file__).resolve().parents[2] / "cases" / "xml"


def decode(path: Path, **options: object) -> tuple[list[DecodedBatch], dict[str, object]]:
    src = Source.open_path(path)
    decoder = get_decoder("xml")(src, Detection("xml", compression=src.compression),
                                 DecodeOptions(**options))  # type: ignore[arg-type]
    return list(decoder.batches()), decoder.info


def rows_of(batches: list[DecodedBatch]) -> list[dict[str, object]]:
    return [row for b in batches if b.batch is not None for row in b.batch.to_pylist()]


def errors_of(batches: list[DecodedBatch]) -> list[RowError]:
    return [e for b in batches for e in b.errors]


def as_table(batches: list[DecodedBatch]) -> pa.Table:
    tables = [pa.Table.from_batches([b.batch]) for b in batches if b.batch is not None]
    return pa.concat_tables(tables, promote_options="default")


# --- a hand-checked file ---------------------------------------------------------------


def test_hand_checked_orders_file() -> None:
    batches, info = decode(CASES / "orders.xml")
    assert info["record_tag"] == "order"
    assert errors_of(batches) == []
    rows = rows_of(batches)
    assert [r["id"] for r in rows] == [1, 2, 3]
    first = rows[0]
    assert first["status"] == "paid"
    assert first["customer"] == "Ann" and first["customer@vip"] is True
    assert first["qty"] == 3 and first["price"] == 12.5 and first["price@currency"] == "EUR"
    assert (first["tag"], first["tag[2]"]) == ("red", "big")  # repeated child: numbered
    assert first["ship.city"] == "Berlin" and first["ship.city@zip"] == 10115
    assert first["ship.date"] == dt.date(2024, 5, 2)
    assert rows[1]["note"] is None and rows[1]["ship.city"] is None and rows[1]["tag"] is None
    assert rows[2]["customer"] == "Zoë & Co"
    assert "header" not in first and "source" not in first  # not a record
    schema = batches[0].batch.schema
    assert schema.field("qty").type == pa.int64()
    assert schema.field("price").type == pa.float64()


# --- independent writers ------------------------------------------------------------------


def _write_records(path: Path, n: int, seed: int = 7) -> list[dict[str, object]]:
    """Writes ``n`` <item> records with ElementTree; returns the values written."""
    rnd = random.Random(seed)
    root = ET.Element("inventory", {"version": "2"})
    written: list[dict[str, object]] = []
    for i in range(n):
        item = ET.SubElement(root, "item", {"sku": f"S{i:05d}"})
        qty = rnd.randint(-1000, 10**9)
        price = round(rnd.uniform(0, 5000), 2)
        name = rnd.choice(["bolt", "nut <m8>", "wäsher & co", "  spaced  ", "\"quoted\""])
        ET.SubElement(item, "qty").text = str(qty)
        ET.SubElement(item, "price").text = repr(price)
        ET.SubElement(item, "name").text = name
        record: dict[str, object] = {"sku": f"S{i:05d}", "qty": qty, "price": price,
                                     "name": name.strip()}
        if i >= n // 2:  # a column that only later records have
            ET.SubElement(item, "batch").text = str(i % 7)
            record["batch"] = i % 7
        written.append(record)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return written


def test_elementtree_writer_roundtrip_and_duckdb(
    tmp_path: Path, duck: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "inventory.xml"
    written = _write_records(path, 2500)
    batches, info = decode(path, batch_size=1000)
    assert info["record_tag"] == "item"
    assert [b.records for b in batches] == [1000, 1000, 500]
    assert "batch" not in batches[0].batch.column_names  # only in later records
    assert "batch" in batches[2].batch.column_names
    rows = rows_of(batches)
    assert len(rows) == len(written) and errors_of(batches) == []
    for got, want in zip(rows, written, strict=True):
        assert {k: got[k] for k in want} == want
    table = as_table(batches)
    pq.write_table(table, tmp_path / "inventory.parquet")
    count, qty, price, n_batch = duck.execute(
        "SELECT count(*), sum(qty), sum(price), count(batch) FROM read_parquet(?)",
        [str(tmp_path / "inventory.parquet")],
    ).fetchone()
    assert count == 2500 and n_batch == 1250
    assert qty == sum(int(r["qty"]) for r in written)  # type: ignore[call-overload]
    assert price == pytest.approx(sum(float(r["price"]) for r in written))  # type: ignore[arg-type]


def test_pandas_to_xml_roundtrip(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "city": ["Berlin", "Paris", None, "Zürich"],
        "population": [3_600_000, 2_100_000, 5, 420_000],
        "area": [891.8, 105.4, float("nan"), 87.9],
        "capital": [True, True, False, False],
    })
    path = tmp_path / "cities.xml"
    frame.to_xml(path, index=False, row_name="city_row", root_name="cities")
    batches, info = decode(path)
    assert info["record_tag"] == "city_row"
    rows = rows_of(batches)
    assert [r["city"] for r in rows] == ["Berlin", "Paris", None, "Zürich"]
    assert [r["population"] for r in rows] == [3_600_000, 2_100_000, 5, 420_000]
    assert [r["area"] for r in rows] == [891.8, 105.4, None, 87.9]
    assert [r["capital"] for r in rows] == [True, True, False, False]


def test_schema_override_and_record_tag_option(tmp_path: Path) -> None:
    path = tmp_path / "nested.xml"
    path.write_text(
        "<doc><meta><count>2</count></meta><books>"
        '<book isbn="1"><n>7</n></book><book isbn="2"><n>8</n></book></books></doc>'
    )
    batches, info = decode(path, record_tag="book", schema={"n": "float64", "isbn": "string"})
    assert info["record_tag"] == "book"
    table = as_table(batches)
    assert table.column("n").to_pylist() == [7.0, 8.0]
    assert table.schema.field("isbn").type == pa.string()


def test_partial_tree_stays_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Streaming: once a record is read, nothing before it is left in the partial tree.

    (The parser reads ahead one chunk, so elements *after* the record are not counted.)
    """
    groups = "".join(
        f"<group n='{g}'>\n<meta>m</meta>\n" + "<rec><a>1</a><b><c>2</c></b></rec>\n" * 500
        + "</group>\n" for g in range(6))
    path = tmp_path / "groups.xml"
    path.write_text(f"<root>\n<head>h</head>\n{groups}</root>\n")
    real = xml_module.drop_done
    sizes: list[int] = []

    def spy(element: etree._Element) -> None:
        line = element.sourceline
        real(element)
        root = element.getroottree().getroot()
        sizes.append(sum(1 for e in root.iter() if e.sourceline <= line))

    monkeypatch.setattr(xml_module, "drop_done", spy)
    batches = decode(path, batch_size=700, record_tag="rec")[0]
    assert sum(b.records for b in batches) == 3000
    assert len(sizes) == 3000 and max(sizes) == 3  # root, group, the cleared record


# --- bad records ----------------------------------------------------------------------------


def test_bad_value_is_a_row_error_with_its_line(tmp_path: Path) -> None:
    lines = ["<?xml version='1.0'?>", "<rows>"]
    lines += [f"  <row id='{i}'><qty>{i}</qty></row>" for i in range(300)]
    lines[150] = "  <row id='148'><qty>lots</qty></row>"  # line 151, record 149
    lines.append("</rows>")
    path = tmp_path / "bad.xml"
    path.write_text("\r\n".join(lines))  # CRLF must not change line numbers
    batches = decode(path)[0]
    (err,) = errors_of(batches)
    assert err.line == 151 and err.record == 149
    assert err.column == "qty" and err.value == "lots"
    assert err.reason == "expected int in column 'qty'"
    assert err.raw == "<row id=\"148\"><qty>lots</qty></row>"
    assert sum(b.records for b in batches) == 300
    assert len(rows_of(batches)) == 299


def test_line_numbers_past_65535(tmp_path: Path) -> None:
    lines = ["<r>"] + [f"<i><v>{i}</v></i>" for i in range(70_000)] + ["</r>"]
    lines[69_990] = "<i><v>x</v></i>"
    path = tmp_path / "long.xml"
    path.write_text("\n".join(lines))
    (err,) = errors_of(decode(path)[0])
    assert err.line == 69_991 and err.value == "x"


def test_truncated_file_keeps_good_records(tmp_path: Path) -> None:
    text = "<log>\n" + "".join(f"<e n='{i}'>\n<v>{i}</v>\n</e>\n" for i in range(10))
    text += "<e n='10'>\n<v>1"  # cut in the middle of the 11th record, line 32
    path = tmp_path / "cut.xml"
    path.write_text(text)
    batches = decode(path, batch_size=4)[0]
    assert [r["n"] for r in rows_of(batches)] == list(range(10))
    (err,) = errors_of(batches)
    assert err.line == 32 and err.record == 11
    assert err.reason.startswith("malformed XML: ")
    assert err.raw == "<e n='10'>\n<v>1"
    assert batches[-1].errors == [err]


def test_broken_tag_mid_file(tmp_path: Path) -> None:
    good = "".join(f"<row><a>{i}</a></row>\n" for i in range(5))
    text = f"<t>\n{good}<row><a>5</b></row>\n{good}</t>\n"
    path = tmp_path / "mid.xml"
    path.write_text(text)
    batches = decode(path)[0]
    assert [r["a"] for r in rows_of(batches)] == [0, 1, 2, 3, 4]
    (err,) = errors_of(batches)
    assert err.line == 7 and "mismatch" in err.reason.lower()
    assert err.raw == text.split("\n", 6)[6]
    assert err.raw.startswith("<row><a>5</b>")


def test_malformed_remainder_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_text("<r>\n<x><a>1</a></x>\n<x><a>2</b></x>\n" + "y" * (2 * RAW_CAP) + "\n</r>")
    (err,) = errors_of(decode(path)[0])
    assert err.line == 3 and err.raw is not None
    assert len(err.raw.encode()) < RAW_CAP + 200 and "cut" in err.raw.splitlines()[-1]


def test_declared_encoding_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "latin1.xml"
    body = "<?xml version='1.0' encoding='ISO-8859-1'?>\n<r><p><n>café</n></p><p><n>naïve</n>"
    path.write_bytes(body.encode("latin-1"))  # truncated: the raw tail is decoded as latin-1
    assert xml_encoding(path.read_bytes()) == "iso8859-1"
    batches = decode(path)[0]
    assert [r["n"] for r in rows_of(batches)] == ["café"]
    assert errors_of(batches)[0].raw == "<r><p><n>café</n></p><p><n>naïve</n>"


def test_entities_internal_only_and_bounded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    path = tmp_path / "ent.xml"
    path.write_text('<!DOCTYPE r [<!ENTITY e "ent">]>\n<r><i><x>a &e; b</x></i></r>')
    assert rows_of(decode(path)[0]) == [{"x": "a ent b"}]  # internal entities resolve
    path.write_text(f'<!DOCTYPE r [<!ENTITY s SYSTEM "file://{secret}">]>\n'
                    "<r><i><x>&s;</x></i></r>")
    batches = decode(path)[0]
    assert rows_of(batches) == []  # the external entity is never read
    assert "TOPSECRET" not in repr(batches)
    lol = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    path.write_text(f"<!DOCTYPE r [{lol}]>\n<r><i><x>&j;</x></i></r>")  # a billion laughs
    (err,) = errors_of(decode(path)[0])
    assert err.line == 2 and err.reason.startswith("malformed XML: ")  # not a hang


def test_utf16_document(tmp_path: Path) -> None:
    root = ET.Element("people")
    for name in ["Åsa", "Ωmega", "李"]:
        ET.SubElement(ET.SubElement(root, "person"), "name").text = name
    ET.indent(root)
    path = tmp_path / "utf16.xml"
    ET.ElementTree(root).write(path, encoding="utf-16", xml_declaration=True)
    assert xml_encoding(path.read_bytes()) == "utf-16"
    assert [r["name"] for r in rows_of(decode(path)[0])] == ["Åsa", "Ωmega", "李"]
    text = path.read_text(encoding="utf-16")
    cut = tmp_path / "utf16-cut.xml"
    cut.write_bytes(text[: text.index("李")].encode("utf-16"))  # inside the 3rd record
    batches = decode(cut)[0]
    assert [r["name"] for r in rows_of(batches)] == ["Åsa", "Ωmega"]
    (err,) = errors_of(batches)
    assert err.line == 9 and err.raw == "  <person>\n    <name>"
    # detection is also given heads already transcoded to UTF-8 that still say UTF-16
    assert sniff_markup(text.encode("utf-8"))[::2] == ("xml", "person")


@pytest.mark.parametrize("content", [b"", b"just some text\n", b"a,b\n1,2\n", b"\x00\x01\x02"])
def test_not_xml_raises_data_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "not.xml"
    path.write_bytes(content)
    with pytest.raises(DataError, match="not XML") as caught:
        decode(path)
    assert str(path) in str(caught.value)


def test_records_without_values_before_any_column_are_rejected(tmp_path: Path) -> None:
    # a row with no column cannot be written (Parquet and Iceberg need one): rejected, counted
    path = tmp_path / "empty.xml"
    path.write_text("<r><e/><e/><e/></r>")
    batches = decode(path)[0]
    assert sum(b.records for b in batches) == 3 and len(errors_of(batches)) == 3


def test_no_repeated_child_falls_back_to_root_children(tmp_path: Path) -> None:
    path = tmp_path / "flat.xml"
    path.write_text("<r>" + " " * 70_000 + "<a x='1'/><b y='2'/></r>")  # head shows no child
    batches, info = decode(path)
    assert info["record_tag"] is None
    assert rows_of(batches) == [{"x": 1, "y": None}, {"x": None, "y": 2}]


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'<?xml version="1.0"?><a><meta/><row/><row/><ro', ("xml", "row")),
        (b"<p:a xmlns:p='urn:p'><p:rec/><p:rec/><p:other/></p:a>", ("xml", "rec")),
        (b"<only/>", ("xml", None)),
        (b"\xef\xbb\xbf<r><i/><i/></r>", ("xml", "i")),
        (b"", ("xml", None)),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ("xml", None)),
        (b'{"a": 1}', ("xml", None)),
    ],
)
def test_sniff_markup(head: bytes, expected: tuple[str, str | None]) -> None:
    fmt, confidence, tag = sniff_markup(head)
    assert (fmt, tag) == expected
    assert 0.0 <= confidence <= 1.0


def test_sniff_confidence_orders_garbage_below_xml() -> None:
    assert sniff_markup(b"garbage")[1] < 0.2
    assert sniff_markup(b"<html><body><p/><p/></body></html>")[1] < 0.5
    assert sniff_markup(b"<rows><row/><row/></rows>")[1] >= 0.9


# --- fuzzing ---------------------------------------------------------------------------------

_VALID = (
    b"<?xml version='1.0'?>\n<rows a='1'>\n"
    b"<row id='1'><q>1</q><s x='y'>t</s></row>\n"
    b"<row id='2'><q>2</q><s>u &amp; v</s><n><m>3</m></n></row>\n"
    b"<row id='3'><q>x</q><![CDATA[c]]></row>\n</rows>\n"
)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(_VALID)
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        if action == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        elif action == "replace" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        else:
            del data[pos:]
    return bytes(data)




@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=200), _mutated(), compressed_garbage))
def test_fuzz_only_logflow_errors(tmp_path: Path, content: bytes) -> None:
    sniff_markup(content)  # never raises
    path = tmp_path / "fuzz.xml"
    path.write_bytes(content)
    try:
        batches = decode(path, batch_size=2)[0]
    except LogflowError:
        return
    for b in batches:
        assert b.batch is None or isinstance(b.batch, pa.RecordBatch)
        assert all(isinstance(e, RowError) and (e.line is None or e.line >= 1) for e in b.errors)


def test_records_without_values_are_never_dropped(tmp_path: Path) -> None:
    # before any column is known they are rejected with their lines; after, rows of nulls
    only = tmp_path / "only.xml"
    only.write_text("<rows>\n<row/>\n<row></row>\n</rows>\n")
    q = tmp_path / "only.quarantine.jsonl"
    r = convert(only, tmp_path / "only.parquet", error_policy="quarantine", quarantine=str(q))
    assert (r.rows_read, r.rows_written, r.rows_rejected) == (2, 0, 2)
    bad = [json.loads(x) for x in q.read_text().splitlines()]
    assert [b["line"] for b in bad] == [2, 3] and "without values" in bad[0]["reason"]
    later = tmp_path / "later.xml"
    later.write_text("<rows>" + "".join(f'<row a="{i}"/>' for i in range(3)) + "<row/>" * 4
                     + "</rows>")
    r = convert(later, tmp_path / "later.parquet", batch_size=3)
    assert (r.rows_read, r.rows_written) == (7, 7)
    got = duckdb.sql(f"SELECT count(*), count(a), sum(a) FROM '{tmp_path / 'later.parquet'}'")
    assert got.fetchone() == (7, 3, 3)
