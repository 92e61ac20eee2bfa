"""A schema cache: what a file with the same head decoded as last time.

Keyed by a hash of the first 64 KiB of the decompressed input plus the options that change
decoding, it remembers the detection (format, encoding, dialect) and the *final* column kinds
of the last run, widening included. A re-run over the same (or a same-headed) file then plans
the widened types from the start and writes one segment instead of rewriting one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import Any

import xxhash

_SCHEMA = """CREATE TABLE IF NOT EXISTS schema_cache (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, updated REAL NOT NULL)"""


def cache_key(head: bytes, **options: Any) -> str:
    """The cache key of an input head and the decode options that matter.

    Example:
        >>> cache_key(b"a,b\\n1,2\\n", format="auto") == cache_key(b"a,b\\n1,2\\n", format="auto")
        True
    """
    h = xxhash.xxh3_64(head)
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    return h.hexdigest()


class SchemaCache:
    """SQLite-backed cache (``.logflow/schema_cache.sqlite`` in a project).

    Safe for several processes: each call opens its own connection; writes are single upserts.

    Example:
        >>> cache = SchemaCache("/tmp/logflow-doctest-cache.sqlite")
        >>> cache.put("k", {"types": {"a": "int"}})
        >>> cache.get("k")["types"]
        {'a': 'int'}
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with self._connect() as con:
            con.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached entry, or ``None``."""
        con = self._connect()
        try:
            row = con.execute("SELECT value FROM schema_cache WHERE key = ?", (key,)).fetchone()
        finally:
            con.close()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Stores (or replaces) an entry."""
        con = self._connect()
        try:
            with con:
                con.execute(
                    "INSERT INTO schema_cache (key, value, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                    "updated = excluded.updated",
                    (key, json.dumps(value), time.time()))
        finally:
            con.close()
