"""Stray quotes and wrong field counts: the bad record goes to quarantine with its own
physical line and raw text, its neighbours load, and no value is silently rewritten."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from logflow_dagster.core import convert as convert_module
from logflow_dagster.core.convert import convert
from logflow_dagster.core.decoders import DecodeOptions


@pytest.fixture(params=["mapped", "streamed"])
def read_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOGFLOW_MMAP", "1" if request.param == "mapped" else "0")
    return str(request.param)


def _run(tmp_path: Path, text: str) -> tuple[list[dict], list[tuple[int, str]], object]:
    src = tmp_path / "in.csv"
    src.write_bytes(text.encode())
    out = tmp_path / "out.parquet"
    r = convert(src, out, error_policy="quarantine", header=True)
    assert r.rows_read == r.rows_written + r.rows_rejected
    rows = pq.read_table(out).to_pylist() if out.exists() else []
    q = [json.loads(x) for x in Path(r.quarantine).read_text().splitlines()]
    return rows, [(e["line"], e["raw"]) for e in q], r


HEAD = "id,v,w\n"


@pytest.mark.parametrize(("body", "good_ids", "bad"), [
    # a stray quote opening a field, with a later quoted field to pair with
    ('1,a,b\n2,"x,y\n3,c,d\n4,"e",f\n5,g,h\n', [1, 3, 4, 5], [(3, '2,"x,y')]),
    # stray quote in the first record
    ('1,"a,b\n2,x,y\n3,c,d\n4,e,"f"\n5,g,h\n', [2, 3, 4, 5], [(2, '1,"a,b')]),
    # stray quote near the end of the file, no partner
    ('1,a,b\n2,x,y\n3,c,"d\n', [1, 2], [(4, '3,c,"d')]),
    # stray quote at the start of the last field, before a good last record
    ('1,a,b\n2,x,"y\n3,c,d\n', [1, 3], [(3, '2,x,"y')]),
    # text after a closing quote
    ('1,a,b\n2,x,"y"z\n3,c,d\n', [1, 3], [(3, '2,x,"y"z')]),
    # missing and extra separators
    ('1,a,b\n2,x\n3,c,d,e\n4,f,g\n', [1, 4], [(3, "2,x"), (4, "3,c,d,e")]),
    # a legitimately multi-line quoted field, and a quote inside an unquoted field
    ('1,"a\nb",c\n2,ab"c,d\n3,"x""y",z\n', [1, 2, 3], []),
])
def test_bad_quoting_costs_one_line(tmp_path: Path, read_mode: str, body: str,
                                    good_ids: list[int], bad: list[tuple[int, str]]) -> None:
    rows, quarantined, _ = _run(tmp_path, HEAD + body)
    assert [r["id"] for r in rows] == good_ids
    assert quarantined == bad


def test_clean_values_are_exact(tmp_path: Path, read_mode: str) -> None:
    rows, quarantined, _ = _run(tmp_path, HEAD + '1,"a\nb",c\n2,ab"c,d\n3,"x""y",z\n')
    assert [(r["v"], r["w"]) for r in rows] == [("a\nb", "c"), ('ab"c', "d"), ('x"y', "z")]
    assert quarantined == []


def test_stray_quote_in_the_header_is_refused_or_quarantined(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text('id,"v,w\n1,a,b\n2,x,y\n')
    out = tmp_path / "out.parquet"
    r = convert(src, out, error_policy="quarantine", header=True)
    assert r.rows_read == r.rows_written + r.rows_rejected
    assert r.rows_written == 2
    assert pq.read_table(out).column_names == ["id", '"v', "w"]


def test_stray_quote_far_from_any_partner_is_bounded(tmp_path: Path, read_mode: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A quote that would swallow more than ``max_quoted_lines`` lines is a bad line: the
    lines after it are read as records, in small blocks as in one."""
    monkeypatch.setattr(convert_module, "DecodeOptions", partial(DecodeOptions, block_size=4096))
    n = 3000
    lines = [f"{i},a{i},b{i}\n" for i in range(n)]
    lines[10] = '10,"a10,b10\n'
    lines[2000] = '2000,"x",y\n'  # a partner 1990 lines later
    rows, quarantined, _r = _run(tmp_path, HEAD + "".join(lines))
    assert [e for e in quarantined] == [(12, '10,"a10,b10')]
    assert len(rows) == n - 1
    assert rows[1999]["v"] == "x"


def test_max_quoted_lines_is_an_option(tmp_path: Path) -> None:
    from logflow_dagster.core.decoders import get_decoder
    from logflow_dagster.core.detect import detect
    from logflow_dagster.core.source import Source

    src = tmp_path / "long.csv"
    src.write_text('id,v\n1,"' + "x\n" * 150 + '"\n2,y\n')
    source = Source.open_path(str(src))
    for limit, rejected in ((100, True), (200, False)):
        dec = get_decoder("csv")(source, detect(source),
                                 DecodeOptions(extra={"max_quoted_lines": limit}))
        steps = list(dec.batches())
        errors = [e for s in steps for e in s.errors]
        assert bool(errors) is rejected


def test_stray_quote_in_a_file_without_other_quotes(tmp_path: Path, read_mode: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """No partner at all: blocks are still cut (the splitters give up on quote parity past
    the bound) and every other line loads."""
    monkeypatch.setattr(convert_module, "DecodeOptions",
                        partial(DecodeOptions, block_size=1 << 14))
    n = 30_000
    lines = [f"{i},a{i},b{i}\n" for i in range(n)]
    lines[5] = '5,"a5,b5\n'
    rows, quarantined, _r = _run(tmp_path, HEAD + "".join(lines))
    assert quarantined == [(7, '5,"a5,b5')]
    assert [row["id"] for row in rows] == [i for i in range(n) if i != 5]


@pytest.mark.parametrize(("body", "good_ids", "bad"), [
    # the stray quote's partner opens a field that starts with a separator: the merged
    # record has the wrong field count, and the lines it swallowed are records again
    ('1,"a,b\n2,x,y\n3,",x",d\n4,e,f\n', [2, 3, 4], [(2, '1,"a,b')]),
    # a real multi-line value in a record of the wrong width stays one bad record
    ('1,"a\nb,c",x,y\n2,e,f\n', [2], [(2, '1,"a\nb,c",x,y')]),
])
def test_swallowed_lines_are_records_again(tmp_path: Path, read_mode: str, body: str,
                                           good_ids: list[int],
                                           bad: list[tuple[int, str]]) -> None:
    rows, quarantined, _ = _run(tmp_path, HEAD + body)
    assert [r["id"] for r in rows] == good_ids
    assert quarantined == bad
