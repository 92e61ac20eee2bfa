#!/usr/bin/env python3
"""Independent check of the files written by ``gen_data.py`` (pure-Python ``csv``/``json``).

Checks, without reusing any of the generator's code:

* ``events.csv``: the header, 10 fields per record, the record count from the manifest, value
  formats (ISO 8601 timestamp with zone offset, 2-decimal amount, integer quantity,
  ``true``/``false`` flag) and timestamps increasing within each case;
* ``events.jsonl``: every line is a JSON object equal to the matching CSV record (same keys,
  ``amount`` a number, ``flag`` a bool, empty ``resource`` as ``null``);
* ``events_dirty.csv``: tracks the physical line where each record starts with
  ``csv.reader.line_num``, classifies every record as good or bad by the rules above, and
  compares the bad ones (line and kind) with ``events_dirty.badlines.json``; good records must
  equal the clean record with the same index.

Example:
    python bench/verify_data.py --dir bench/data/rows_100000
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

HEADER = ["case_id", "activity", "timestamp", "resource", "amount", "quantity", "status",
          "region", "note", "flag"]
AMOUNT = re.compile(r"^\d+\.\d{2}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")
QUANTITY = re.compile(r"^\d+$")


def records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yields ``(start_line, fields)`` for every record after the header."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != HEADER:
            raise AssertionError(f"{path.name}: unexpected header {header}")
        last = reader.line_num
        for row in reader:
            yield last + 1, row
            last = reader.line_num


def problem(row: list[str]) -> str | None:
    """Names what is wrong with a record (``None`` when it is good)."""
    if len(row) < len(HEADER):
        return "missing_field"
    if len(row) > len(HEADER):
        return "extra_field"
    rec = dict(zip(HEADER, row, strict=True))
    if not AMOUNT.match(rec["amount"]):
        return "amount"
    if not TIMESTAMP.match(rec["timestamp"]):
        return "timestamp"
    try:
        datetime.fromisoformat(rec["timestamp"])
    except ValueError:
        return "timestamp"
    if not QUANTITY.match(rec["quantity"]) or rec["flag"] not in ("true", "false"):
        return "other"
    return None


def check_clean(path: Path, expected: int) -> list[list[str]]:
    """Checks the clean CSV; returns its records (for the JSONL and dirty comparisons)."""
    rows: list[list[str]] = []
    last_case, last_ts = "", datetime.min
    lines = 1
    for start, row in records(path):
        bad = problem(row)
        if bad:
            raise AssertionError(f"{path.name}: line {start} is bad ({bad}): {row}")
        ts = datetime.fromisoformat(row[2])
        if row[0] == last_case and ts <= last_ts:
            raise AssertionError(f"{path.name}: line {start}: timestamp not increasing in case")
        last_case, last_ts = row[0], ts
        rows.append(row)
        lines = start + row[8].count("\n")
    if len(rows) != expected:
        raise AssertionError(f"{path.name}: {len(rows)} records, manifest says {expected}")
    print(f"ok  {path.name}: {len(rows):,} records, {lines:,} physical lines, all good")
    return rows


def check_jsonl(path: Path, clean: list[list[str]], expected: int) -> None:
    """Checks that the JSON lines hold the first ``expected`` clean records."""
    n = 0
    with open(path, encoding="utf-8") as f:
        for n, (line, row) in enumerate(zip(f, clean, strict=False), start=1):
            obj: dict[str, Any] = json.loads(line)
            want: dict[str, Any] = dict(zip(HEADER, row, strict=True))
            want["resource"] = want["resource"] or None
            want["amount"] = float(want["amount"])
            want["quantity"] = int(want["quantity"])
            want["flag"] = want["flag"] == "true"
            if list(obj) != HEADER or obj != want:
                raise AssertionError(f"{path.name}: line {n} differs from CSV: {obj} != {want}")
            if not isinstance(obj["amount"], float) or not isinstance(obj["flag"], bool):
                raise AssertionError(f"{path.name}: line {n}: wrong JSON types")
        rest = sum(1 for _ in f)
    if n + rest != expected:
        raise AssertionError(f"{path.name}: {n + rest} lines, manifest says {expected}")
    print(f"ok  {path.name}: {n:,} lines equal the CSV records")


def check_dirty(path: Path, badlines_path: Path, clean: list[list[str]] | None,
                expected: int) -> None:
    """Checks the dirty CSV against its bad-lines list, independently classifying records."""
    spec = json.loads(badlines_path.read_text())
    listed = dict(zip(spec["lines"], spec["kinds"], strict=True))
    found: dict[int, str] = {}
    n = 0
    for n, (start, row) in enumerate(records(path), start=1):
        bad = problem(row)
        if bad:
            found[start] = bad
        elif clean is not None and n <= len(clean) and row != clean[n - 1]:
            raise AssertionError(f"{path.name}: good record at line {start} differs from clean")
    if n != expected or n != spec["records"]:
        raise AssertionError(f"{path.name}: {n} records, expected {expected}/{spec['records']}")
    if found != listed:
        missing = sorted(set(listed) - set(found))[:5]
        extra = sorted(set(found) - set(listed))[:5]
        kinds = [(k, listed[k], found[k]) for k in sorted(set(found) & set(listed))
                 if listed[k] != found[k]][:5]
        raise AssertionError(f"{path.name}: bad lines differ: listed-not-found {missing}, "
                             f"found-not-listed {extra}, kind mismatches {kinds}")
    counts: dict[str, int] = {}
    for kind in found.values():
        counts[kind] = counts.get(kind, 0) + 1
    print(f"ok  {path.name}: {n:,} records, {len(found):,} bad at exactly the listed lines "
          f"{dict(sorted(counts.items()))}; first lines {list(islice(sorted(found), 5))}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent / "data")
    a = p.parse_args(argv)
    files = json.loads((a.dir / "manifest.json").read_text())["files"]
    clean = None
    try:
        if "events.csv" in files:
            clean = check_clean(a.dir / "events.csv", files["events.csv"]["rows"])
        if "events.jsonl" in files and clean is not None:
            check_jsonl(a.dir / "events.jsonl", clean, files["events.jsonl"]["rows"])
        if "events_dirty.csv" in files:
            check_dirty(a.dir / "events_dirty.csv", a.dir / "events_dirty.badlines.json", clean,
                        files["events_dirty.csv"]["rows"])
    except AssertionError as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
