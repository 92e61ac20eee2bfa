"""The quarantine file: one line per bad record for every reader, and no record of an earlier
run lost to a run that stopped early."""

from __future__ import annotations

import json
from pathlib import Path

from logflow_dagster.core.errors import RowError
from logflow_dagster.core.errors.quarantine import QuarantineWriter


def test_unicode_line_breaks_stay_inside_one_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    w = QuarantineWriter(str(path), source="in.txt")
    raw = "a\x85b\u2028c\u2029d\x0be"
    w.write([RowError("bad", line=7, raw=raw), RowError("bad", line=9, raw="x")])
    w.close()
    lines = path.read_text(encoding="utf-8").splitlines()  # splits at U+0085/U+2028 too
    assert len(lines) == 2
    assert [json.loads(line)["raw"] for line in lines] == [raw, "x"]


def test_a_run_that_stops_before_a_bad_record_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"line": 3}\n')
    QuarantineWriter(str(path), source="in.txt").close(finished=False)
    assert path.read_text() == '{"line": 3}\n'
    QuarantineWriter(str(path), source="in.txt").close()  # finished clean: no stale records
    assert path.read_text() == ""
