"""The audit log: one JSON line per query, SQL statement and model read, allowed or refused.

Each record: ``time`` (UTC), ``identity`` (id, type, tenant, roles; ``null`` for the trusted
in-process caller), ``action`` (``query``, ``sql``, ``meta``), ``resource`` (the cubes or
tables asked for), ``tables`` (table -> snapshot id read), ``source`` (raw or the rollup),
``rows``, ``duration_ms``, ``outcome`` (``allowed``, ``denied`` or ``error``), ``reason``,
``peer`` and ``purpose``. Lines are appended with one ``write`` on an ``O_APPEND`` descriptor,
so several processes (the API server, the CLI, Dagster runs) share one file without
interleaving, and nothing is ever rewritten.

A caller may declare a purpose (``Identity.purpose``; the HTTP API's ``X-Logflow-Purpose``
header); ``auth.audit.redact`` maps purposes to what their records hide: ``identity`` (dropped)
and ``ip`` (the peer truncated to its /24 or /48 network). By default a ``research`` purpose
drops the identity and truncates the address.

Example:
    >>> import json, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     log = AuditLog(pathlib.Path(tmp, "audit.jsonl"), {"research": ["identity", "ip"]})
    ...     log.record("query", identity=None, resource=["orders"], outcome="allowed",
    ...                peer="10.1.2.3", purpose="research")
    ...     line = json.loads(pathlib.Path(tmp, "audit.jsonl").read_text())
    >>> line["identity"], line["peer"], line["outcome"]
    (None, '10.1.2.0/24', 'allowed')
"""

from __future__ import annotations

import ipaddress
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def truncate_ip(peer: str | None) -> str | None:
    """An address as its /24 (IPv4) or /48 (IPv6) network; other text is dropped.

    Example:
        >>> truncate_ip("192.168.7.42"), truncate_ip("2001:db8:1:2::9"), truncate_ip("x")
        ('192.168.7.0/24', '2001:db8:1::/48', None)
    """
    if not peer:
        return None
    try:
        addr = ipaddress.ip_address(peer.strip("[]"))
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


class AuditLog:
    """An append-only JSON-lines audit file.

    Args:
        path: The file (created with its folder on the first record).
        redact: Purpose -> redacted fields (``identity``, ``ip``).
    """

    def __init__(self, path: str | os.PathLike[str],
                 redact: dict[str, list[str]] | None = None) -> None:
        self.path = Path(path)
        self.redact = {k: set(v) for k, v in (redact or {}).items()}
        self._folder_made = False

    @classmethod
    def from_config(cls, config: Any) -> AuditLog | None:
        """The audit log ``auth.audit`` configures (None for ``path: off``)."""
        audit = config.auth.audit
        if audit.path == "off":
            return None
        return cls(Path(config.root) / audit.path, audit.redact)

    def record(self, action: str, *, identity: Any, resource: list[str] | str,
               outcome: str, reason: str | None = None, tables: dict[str, Any] | None = None,
               source: str | None = None, rows: int | None = None,
               duration_ms: float | None = None, peer: str | None = None,
               purpose: str | None = None) -> None:
        """Appends one record (see the module doc)."""
        peer = peer if peer is not None else getattr(identity, "peer", None)
        purpose = purpose if purpose is not None else getattr(identity, "purpose", None)
        who = None if identity is None else {
            "id": identity.id, "type": getattr(identity, "type", None),
            "tenant": getattr(identity, "tenant", None),
            "roles": sorted(getattr(identity, "roles", ()) or ())}
        hidden = self.redact.get(purpose or "", set())
        if "identity" in hidden:
            who = None
        if "ip" in hidden:
            peer = truncate_ip(peer)
        line = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "identity": who, "action": action, "resource": resource,
                "tables": tables or {}, "source": source, "rows": rows,
                "duration_ms": duration_ms, "outcome": outcome, "reason": reason,
                "peer": peer, "purpose": purpose}
        data = (json.dumps(line, default=str, ensure_ascii=False) + "\n").encode("utf-8")
        if not self._folder_made:  # once, not on every query
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._folder_made = True
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
