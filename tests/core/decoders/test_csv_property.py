"""Property: clean records load exactly, polluted ones are quarantined with their line.

A small table (ints, floats, text with delimiters, quotes, newlines and non-ASCII, zero-padded
codes, nulls) is rendered by Python's csv module or by pandas, record by record with mixed
``\\n`` / ``\\r\\n`` ends; known pollutions are put at known physical lines (a stray quote at
the start of a field, one separator too many or too few, a preamble), and the file is converted
under the quarantine policy.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logflow_dagster.core.convert import convert

NAMES = ["i", "f", "t", "c"]
text = st.text(st.sampled_from(list('ab ,"\n;é€\t')), max_size=8).map(lambda s: "x" + s)
code = st.text(st.sampled_from(list("0123456789")), min_size=1, max_size=5)
row = st.tuples(
    st.none() | st.integers(-10**6, 10**6),
    st.none() | st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).map(
        lambda v: round(v, 3)),
    st.none() | text,
    st.none() | code,
)
# about one record in five polluted: the table's shape must stay clear from its records
pollution = st.sampled_from(["stray_quote", "extra_sep", "missing_sep"] + ["none"] * 9)


@dataclass
class Case:
    """A rendered file and what it must give."""

    text: str
    clean: list[tuple]  # source texts (None: null) of the clean records, in order
    bad_lines: dict[int, str]  # physical line -> raw text of the polluted records
    preamble: int


def _render_row(values: tuple, writer: str) -> str:
    if writer == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(["" if v is None else v for v in values])
        return buf.getvalue()[:-2]  # (a line break in a value is quoted by the writer)
    frame = pd.DataFrame([values], columns=NAMES).astype(
        {"i": "Int64", "f": "float64", "t": "object", "c": "object"})
    return frame.to_csv(header=False, index=False, lineterminator="\n")[:-1]


def _texts(values: tuple) -> tuple:
    """Each value as the source text it is written as (None for a null)."""
    return tuple(None if v is None else str(v) for v in values)


def _field_starts(line: str) -> list[int]:
    """Offsets where the fields of one well-formed single-line record start."""
    starts, inside = [0], False
    for k, ch in enumerate(line):
        if ch == '"':
            inside = not inside
        elif ch == "," and not inside:
            starts.append(k + 1)
    return starts


def _pollute(line: str, kind: str, pick: int) -> str | None:
    starts = _field_starts(line)
    # a stray quote before a value (not before an empty field: '",,' opens a quoted field
    # that two such quotes make valid CSV, which no reader can tell from a stray quote)
    unquoted = [s for s in starts if line[s : s + 1] not in ('"', ",", "")]
    if kind == "stray_quote" and unquoted:
        s = unquoted[pick % len(unquoted)]
        return line[:s] + '"' + line[s:]
    if kind == "extra_sep":
        return line + ",x"
    if kind == "missing_sep" and len(starts) > 1:
        # drop the separator before an unquoted field: two fields become one
        cut = [s for s in starts[1:] if line[s : s + 1] != '"']
        if cut:
            s = cut[pick % len(cut)]
            return line[: s - 1] + line[s:]
    return None


@st.composite
def cases(draw: st.DrawFn) -> Case:
    rows = draw(st.lists(row, min_size=3, max_size=25))
    writer = draw(st.sampled_from(["csv", "pandas"]))
    preamble = draw(st.sampled_from([0, 0, 1, 2]))
    parts = [f"# preamble line {k + 1}\n" for k in range(preamble)]
    parts.append(",".join(NAMES) + "\n")
    line = preamble + 2
    clean, bad = [], {}
    first_bad_ok = 3  # the first records stay clean: dialect and header sniffing see them
    for n, values in enumerate(rows):
        rendered = _render_row(values, writer)
        end = draw(st.sampled_from(["\n", "\r\n"]))
        kind = draw(pollution) if n >= first_bad_ok else "none"
        polluted = None
        if kind != "none" and "\n" not in rendered and "\r" not in rendered:
            polluted = _pollute(rendered, kind, draw(st.integers(0, 9)))
        if polluted is not None:
            bad[line] = polluted
            rendered = polluted
        else:
            clean.append(_texts(values))
        parts.append(rendered + end)
        line += rendered.count("\n") + 1
    return Case("".join(parts), clean, bad, preamble)


def _matches(value: object, source: str | None) -> bool:
    if source is None or source == "":
        return value is None
    if isinstance(value, str):
        return value == source
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return str(value) == source  # an integer must give back its exact text
    if isinstance(value, float):
        return float(source) == value
    return False


def check(case: Case, tmp: Path) -> None:
    src = tmp / "in.csv"
    src.write_bytes(case.text.encode())
    out = tmp / "out.parquet"
    qpath = tmp / "q.jsonl"
    r = convert(src, out, error_policy="quarantine", quarantine=str(qpath), delimiter=",",
                header=True)
    assert r.rows_read == r.rows_written + r.rows_rejected
    got = pq.read_table(out).to_pylist() if r.rows_written else []
    assert len(got) == len(case.clean), (case.text, got)
    for row_out, row_in in zip(got, case.clean, strict=True):
        for name, source in zip(NAMES, row_in, strict=True):
            assert _matches(row_out[name], source), (name, row_out[name], source, case.text)
    entries = [json.loads(x) for x in qpath.read_text().splitlines()]
    assert {e["line"]: e["raw"] for e in entries} == case.bad_lines, case.text
    notes = r.detection["notes"]
    for k in range(case.preamble):
        assert f"line {k + 1} is a preamble, not a record: '# preamble line {k + 1}'" in notes


@given(case=cases())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_clean_records_exact_polluted_quarantined(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        check(case, Path(tmp))
