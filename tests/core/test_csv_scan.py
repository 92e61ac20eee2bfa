"""The vectorized record scanner agrees with Python's csv module on lines and fields."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from logflow_dagster.core.decoders.csv_scan import last_record_end, scan_records

cell = st.text(alphabet=st.sampled_from(list('ab ,"\n1é')), max_size=6)  # bare CR is no line end
rows = st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=30)


def _physical_lines(text: str) -> list[int]:
    """Line where each record starts, by Python's csv reader (counting every newline)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, line = [], 1
    for _ in reader:
        starts.append(line)
        line = reader.line_num + 1
    return starts


@given(rows)
@settings(max_examples=200, deadline=None)
def test_scan_matches_python_csv(records: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(records)
    text = buf.getvalue()
    scan = scan_records(text.encode(), delimiter=",", quotechar='"', first_line=1)
    nonblank = ~scan.empty
    assert scan.lines[nonblank].tolist() == _physical_lines(text)
    assert set(scan.fields[nonblank].tolist()) <= {3}
    assert scan.consumed == len(text.encode())


def test_stray_quote_inside_unquoted_field_is_literal() -> None:
    data = b'a,b,c\n1,x"y,3\n2,"q,\n""z",4\n5,6,7\n'
    scan = scan_records(data, delimiter=",", quotechar='"', first_line=1)
    assert scan.lines.tolist() == [1, 2, 3, 5]
    assert scan.fields.tolist() == [3, 3, 3, 3]


def test_unterminated_quote_costs_one_record() -> None:
    data = b'a,b\n1,"open\n2,3\n4,5\n'
    scan = scan_records(data, delimiter=",", quotechar='"', first_line=1)
    assert scan.lines.tolist() == [1, 2, 3, 4]
    assert scan.fields.tolist() == [2, -1, 2, 2]


def test_block_boundary_respects_quotes() -> None:
    data = b'a,"x\ny"\nb,c\npartial'
    assert last_record_end(data, ord('"'), False) == 12
    assert last_record_end(b'a,"open\nstill', ord('"'), False) == -1
