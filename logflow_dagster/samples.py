"""Deterministic sample event logs (CSV, JSON Lines, XES) for the demo and the example project.

An order-to-cash process: each case walks through a few activities with timestamps, resources
and amounts. The CSV carries a few deliberately bad records so that the quarantine shows.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import quoteattr

ACTIVITIES = ("create order", "check credit", "approve", "pick", "ship", "invoice", "pay")
RESOURCES = tuple(f"clerk-{i:02d}" for i in range(1, 13))
REGIONS = ("EU", "US", "APAC")


@dataclass(frozen=True)
class Event:
    case_id: str
    activity: str
    timestamp: datetime
    resource: str
    amount: float
    region: str


def events(cases: int = 200, seed: int = 7) -> list[Event]:
    """The sample's events, identical on every call with the same arguments.

    Example:
        >>> len(events(cases=3)) > 3
        True
    """
    rng = random.Random(seed)
    start = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    out: list[Event] = []
    for c in range(cases):
        t = start + timedelta(minutes=37 * c)
        amount = round(rng.uniform(20, 2000), 2)
        region = rng.choice(REGIONS)
        steps = ACTIVITIES[: rng.randint(3, len(ACTIVITIES))]
        for act in steps:
            t += timedelta(minutes=rng.randint(5, 600))
            out.append(Event(f"O-{c + 1:05d}", act, t, rng.choice(RESOURCES), amount, region))
    return out


def write_csv(path: Path, evs: list[Event], *, bad_every: int = 0,
              odd_region_every: int = 0) -> list[int]:
    """Writes the events as CSV; returns the lines of the bad records it planted.

    ``bad_every`` plants records the engine rejects (amount ``n/a``); ``odd_region_every``
    plants valid records a quality rule flags (region ``eu`` instead of ``EU``).
    """
    lines = ["case_id,activity,timestamp,resource,amount,region,note"]
    bad: list[int] = []
    for i, e in enumerate(evs):
        ts = e.timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z")
        note = '"first step, ""new"" customer"' if e.activity == ACTIVITIES[0] else ""
        amount = f"{e.amount:.2f}"
        if bad_every and i % bad_every == bad_every - 1:
            amount = "n/a"
            bad.append(len(lines) + 1)
        region = "eu" if odd_region_every and i % odd_region_every == odd_region_every - 1 \
            else e.region
        lines.append(f"{e.case_id},{e.activity},{ts},{e.resource},{amount},{region},{note}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bad


def write_jsonl(path: Path, evs: list[Event]) -> None:
    """Writes the events as JSON Lines."""
    with path.open("w", encoding="utf-8") as fh:
        for e in evs:
            fh.write(json.dumps({"case_id": e.case_id, "activity": e.activity,
                                 "timestamp": e.timestamp.isoformat(), "resource": e.resource,
                                 "amount": e.amount, "region": e.region}) + "\n")


def write_xes(path: Path, evs: list[Event]) -> None:
    """Writes the events as an IEEE XES log (one trace per case)."""
    by_case: dict[str, list[Event]] = {}
    for e in evs:
        by_case.setdefault(e.case_id, []).append(e)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<log xes.version="1.0" xes.features="nested-attributes" '
           'xmlns="http://www.xes-standard.org/">',
           '  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>',
           '  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>']
    for case, items in by_case.items():
        out.append("  <trace>")
        out.append(f'    <string key="concept:name" value={quoteattr(case)}/>')
        out.append(f'    <string key="region" value={quoteattr(items[0].region)}/>')
        for e in items:
            out.append("    <event>")
            out.append(f'      <string key="concept:name" value={quoteattr(e.activity)}/>')
            out.append(f'      <date key="time:timestamp" value="{e.timestamp.isoformat()}"/>')
            out.append(f'      <string key="org:resource" value={quoteattr(e.resource)}/>')
            out.append('      <string key="lifecycle:transition" value="complete"/>')
            out.append(f'      <float key="amount" value="{e.amount}"/>')
            out.append("    </event>")
        out.append("  </trace>")
    out.append("</log>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def write_samples(folder: Path, cases: int = 200) -> dict[str, Path]:
    """Writes ``orders.csv`` (with planted bad rows), ``orders.jsonl`` and ``orders.xes``."""
    folder.mkdir(parents=True, exist_ok=True)
    evs = events(cases)
    paths = {"csv": folder / "orders.csv", "jsonl": folder / "orders.jsonl",
             "xes": folder / "orders.xes"}
    write_csv(paths["csv"], evs, bad_every=250)
    write_jsonl(paths["jsonl"], evs)
    write_xes(paths["xes"], evs)
    return paths
