"""AuditLog under concurrent writers (several processes, lines longer than PIPE_BUF): every
line whole and parseable; IPv6 peers truncated to their /48 for a redacting purpose."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from logflow_dagster.auth import Identity
from logflow_dagster.semantic.audit import AuditLog

LINES, RESOURCE = 150, "r" * 6000  # > PIPE_BUF (4096): one write() per line must suffice


def _write(path: str, who: str) -> None:
    log = AuditLog(path)
    for i in range(LINES):
        log.record("query", identity=Identity(who), resource=RESOURCE, outcome="allowed",
                   rows=i)


def test_concurrent_processes_write_whole_lines(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write, args=(path, f"p{n}")) for n in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    lines = [json.loads(x) for x in Path(path).read_text().splitlines()]
    assert len(lines) == 3 * LINES and all(x["resource"] == RESOURCE for x in lines)
    for n in range(3):  # each writer's lines all there, in its own order
        assert [x["rows"] for x in lines if x["identity"]["id"] == f"p{n}"] == list(range(LINES))


def test_ipv6_peer_truncated_for_a_redacting_purpose(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl", {"research": ["identity", "ip"]})
    who = Identity("ana", tenant="acme").with_request(peer="2001:db8:aa:bb::1",
                                                      purpose="research")
    log.record("sql", identity=who, resource="shop.orders", outcome="allowed")
    log.record("sql", identity=who.with_request(peer="2001:db8:aa:bb::1", purpose="ops"),
               resource="shop.orders", outcome="allowed")
    research, ops = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert research["identity"] is None and research["peer"] == "2001:db8:aa::/48"
    assert ops["identity"]["id"] == "ana" and ops["peer"] == "2001:db8:aa:bb::1"
