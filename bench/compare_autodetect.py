#!/usr/bin/env python3
"""How often does CSV auto-detection load a polluted file right? logflow vs DuckDB vs pandas.

Generates (seeded) small CSV files, each in one category of pollution with known clean records
and known bad lines: stray quotes, text after a closing quote, a separator too many or too few,
zero-padded codes, preambles, Excel's ``sep=`` hint, mixed line ends, multi-line values, a
second table (of another delimiter or width, also longer than the first), space delimiters,
``'`` quotes, apostrophes inside values, numbers with more digits than a double holds, and
clean controls. Each file is loaded with

* logflow: ``convert`` with auto-detection and ``--error-policy quarantine``,
* DuckDB: ``read_csv`` with auto-detection, default and ``ignore_errors=true``,
* pandas: ``read_csv`` default and ``on_bad_lines='skip'``,

and a load counts as right when the rows it gives are exactly the clean records, in order,
every value as the source wrote it (text equal, or a number equal to the text's number; an
integer must give back its exact text, so ``08123`` read as 8123 is wrong, and a float the
exact number of its text, so ``0.1000000000000000055511`` read as 0.1 is wrong), and nothing
else.
A tool that raises has not loaded the file. Prints per tool the share of right files, and a
category x tool table.

    python bench/compare_autodetect.py [--files-per-category 5] [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

NAMES = ["id", "zip", "amount", "name", "note"]
WORDS = ["alpha", "beta", "gamma", "delta", "ünïcode", "naïve", "€uro", "x"]


@dataclass
class Case:
    """A generated file: its text and what a right load gives."""

    category: str
    text: str
    clean: list[list[str | None]] = field(default_factory=list)  # source texts, None = null


def _value_rows(rng: random.Random, n: int, codes: bool) -> list[list[str | None]]:
    rows = []
    for i in range(n):
        zip_code = f"{rng.randrange(0, 99999):05d}" if codes else str(rng.randrange(10000, 99999))
        name = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.2:
            name += ", " + rng.choice(WORDS)  # quoted by the writer
        note = rng.choice(WORDS) + (' said "hi"' if rng.random() < 0.1 else "")
        rows.append([str(i + 1), zip_code, f"{rng.uniform(0, 1000):.2f}",
                     name, None if rng.random() < 0.05 else note])
    return rows


def _render(row: list[str | None], delimiter: str = ",", quotechar: str = '"') -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, quotechar=quotechar, lineterminator="\r\n").writerow(
        ["" if v is None else v for v in row])
    return buf.getvalue()[:-2]


def _field_starts(line: str) -> list[int]:
    starts, inside = [0], False
    for k, ch in enumerate(line):
        if ch == '"':
            inside = not inside
        elif ch == "," and not inside:
            starts.append(k + 1)
    return starts


def _pollute(line: str, kind: str, rng: random.Random) -> str:
    starts = _field_starts(line)
    if kind == "stray_quote":
        s = rng.choice([s for s in starts if line[s : s + 1] not in ('"', ",", "")])
        return line[:s] + '"' + line[s:]
    if kind == "text_after_quote":  # the name field becomes "v"w (the field count stays)
        return line[: starts[3]] + '"v"w' + line[starts[4] - 1 :]
    if kind == "extra_sep":
        return line + ",extra"
    if kind == "missing_sep":
        s = rng.choice([s for s in starts[1:] if line[s : s + 1] != '"'])
        return line[: s - 1] + line[s:]
    raise ValueError(kind)


def make_case(category: str, rng: random.Random) -> Case:
    """One file of ``category`` with about 60 records."""
    codes = category == "codes"
    rows = _value_rows(rng, 60, codes)
    if category == "apostrophes":
        for row in rng.sample(rows, 10):
            row[3] = rng.choice(["O'Brien", "D'Arcy", "l'été", "rock 'n' roll"])
    if category == "long_digits":
        for row in rng.sample(rows, 3):
            row[2] = rng.choice(["9007199254740993", "0.1000000000000000055511151231257827",
                                 "123456789.123456789123"])
    if category == "multiline":
        for row in rng.sample(rows, 6):
            row[4] = "first line\nsecond line"
    head = ",".join(NAMES)
    lines: list[str] = []
    clean: list[list[str | None]] = []
    ends = ["\n"] * len(rows)
    if category == "mixed_line_ends":
        ends = [rng.choice(["\n", "\r\n"]) for _ in rows]
    bad_at = set()
    if category in ("stray_quote", "text_after_quote", "extra_sep", "missing_sep"):
        bad_at = set(rng.sample(range(5, len(rows)), 3))
    for n, row in enumerate(rows):
        text = _render(row)
        if n in bad_at:
            text = _pollute(text, category, rng)
        else:
            clean.append(row)
        lines.append(text + ends[n])
    body = "".join(lines)
    if category == "preamble":
        text = "# exported by the shop system\n# 2024-06-01\n" + head + "\n" + body
    elif category == "sep_hint":
        text = "sep=;\n" + head.replace(",", ";") + "\n" + "".join(
            _render(r, ";") + "\n" for r in rows)
    elif category == "space_delimited":
        text = " ".join(NAMES) + "\n" + "".join(_render(r, " ") + "\n" for r in rows)
    elif category == "single_quote":
        text = head + "\n" + "".join(_render(r, ",", "'") + "\n" for r in rows)
    elif category == "two_tables":
        text = head + "\n" + body + "\nregion;total\nEU;12\nUS;7\n"
    elif category == "two_tables_longer_second":
        text = head + "\n" + body + "\nregion;total;count\n" + "".join(
            f"R{k};{k * 3};{k % 7}\n" for k in range(90))
    elif category == "two_tables_same_sep":
        text = head + "\n" + body + "\nregion,total,count\nEU,12,3\nUS,7,4\nASIA,1,1\n"
    else:
        text = head + "\n" + body
    return Case(category, text, clean)


CATEGORIES = ["clean", "multiline", "mixed_line_ends", "codes", "stray_quote",
              "text_after_quote", "extra_sep", "missing_sep", "preamble", "sep_hint",
              "space_delimited", "single_quote", "two_tables", "two_tables_same_sep",
              "two_tables_longer_second",
              "apostrophes", "long_digits"]


def _matches(value: Any, source: str | None) -> bool:
    if isinstance(value, float) and math.isnan(value):
        value = None
    if source is None or source == "":
        return value is None
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        return value == source
    if isinstance(value, int):
        return str(value) == source
    if isinstance(value, float):
        try:
            return Decimal(source) == Decimal(repr(value))
        except ArithmeticError:
            return False
    return str(value) == source


def right(rows: list[dict[str, Any]], case: Case) -> bool:
    """Exactly the clean records, in order, each value as the source says."""
    if len(rows) != len(case.clean):
        return False
    for got, want in zip(rows, case.clean, strict=True):
        if list(got) != NAMES:
            return False
        if not all(_matches(got[n], w) for n, w in zip(NAMES, want, strict=True)):
            return False
    return True


def load_logflow(path: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    from logflow_dagster.core.convert import convert

    out = path + ".parquet"
    result = convert(path, out, error_policy="quarantine")
    return pq.read_table(out).to_pylist() if result.rows_written else []


def _duckdb(path: str, **options: Any) -> list[dict[str, Any]]:
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    try:
        rel = con.read_csv(path, **options)
        return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
    finally:
        con.close()


def _pandas(path: str, **options: Any) -> list[dict[str, Any]]:
    import pandas as pd

    frame = pd.read_csv(path, **options)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


TOOLS: dict[str, Callable[[str], list[dict[str, Any]]]] = {
    "logflow (quarantine)": load_logflow,
    "duckdb read_csv": lambda p: _duckdb(p),
    "duckdb ignore_errors": lambda p: _duckdb(p, ignore_errors=True),
    "pandas default": lambda p: _pandas(p),
    "pandas on_bad_lines=skip": lambda p: _pandas(p, on_bad_lines="skip"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files-per-category", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cases = [make_case(c, rng) for c in CATEGORIES for _ in range(args.files_per_category)]
    score: dict[str, dict[str, int]] = {t: dict.fromkeys(CATEGORIES, 0) for t in TOOLS}
    with tempfile.TemporaryDirectory() as tmp:
        for k, case in enumerate(cases):
            path = os.path.join(tmp, f"{k:03d}_{case.category}.csv")
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(case.text)
            for tool, load in TOOLS.items():
                try:
                    ok = right(load(path), case)
                except Exception:
                    ok = False
                score[tool][case.category] += ok
    n = args.files_per_category
    width = max(len(c) for c in CATEGORIES)
    print(f"{len(cases)} files, {n} per category; cell = files loaded right\n")
    print(" " * width + " | " + " | ".join(f"{t[:12]:>12}" for t in TOOLS))
    for c in CATEGORIES:
        print(f"{c:<{width}} | " + " | ".join(f"{score[t][c]:>10}/{n}" for t in TOOLS))
    print()
    for tool in TOOLS:
        share = sum(score[tool].values()) / len(cases)
        print(f"{tool:<26} {share:6.1%} of files loaded right")


if __name__ == "__main__":
    main()
