"""The result cache: query answers keyed by what determines them, stored as Arrow IPC bytes.

The key (:func:`cache_key`) is a hash of the normalized query (:meth:`Query.key`), the
caller's security scope (None until the auth layer exists; part of the key already) and the
snapshot id of every table the answer reads (raw tables and the rollup): a new snapshot gives a
new key, so nothing needs a TTL or an invalidation. Values are the result table as Arrow IPC
stream bytes, so any bytes store can hold them: :class:`LRUCache` (in-process, the default) or
:class:`RedisCache` (shared between processes, ``redis://127.0.0.1:6379/0``).

Example:
    >>> c = LRUCache(max_entries=2)
    >>> c.set("a", b"1"); c.set("b", b"2"); c.set("c", b"3")
    >>> c.get("a") is None, c.get("c")
    (True, b'3')
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

KEY_PREFIX = "logflow:semantic:"


class ResultCache(Protocol):
    """A bytes store: what a shared cache must implement."""

    def get(self, key: str) -> bytes | None:
        """The bytes stored under ``key``, or None."""

    def set(self, key: str, value: bytes) -> None:
        """Stores ``value`` under ``key``."""


class LRUCache:
    """In-process LRU by entry count and total bytes (thread-safe).

    Args:
        max_entries: Entries kept.
        max_bytes: Total value bytes kept (older entries are evicted first).
    """

    def __init__(self, max_entries: int = 512, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The value, marked as recently used; None when absent."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        """Stores a value (a value larger than ``max_bytes`` is not kept)."""
        if len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = value
            self._size += len(value)
            while len(self._items) > self.max_entries or self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


class RedisCache:
    """A shared cache in Redis (keys under ``logflow:semantic:``).

    Args:
        url: ``redis://host:port/db``.
        ttl_seconds: Expiry of entries (only to bound memory: keys never go stale, since a
            new snapshot makes a new key), None for none.
        client: A ready ``redis.Redis`` (tests).
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *,
                 ttl_seconds: int | None = 24 * 3600, client: Any = None) -> None:
        if client is None:
            import redis

            client = redis.Redis.from_url(url)
        self.client, self.ttl = client, ttl_seconds

    def get(self, key: str) -> bytes | None:
        """The value, or None (also when Redis is unreachable: the cache is optional)."""
        try:
            return self.client.get(KEY_PREFIX + key)
        except Exception:
            return None

    def set(self, key: str, value: bytes) -> None:
        """Stores the value (errors ignored: the cache is optional)."""
        import contextlib

        with contextlib.suppress(Exception):  # a cache outage must not fail the query
            self.client.set(KEY_PREFIX + key, value, ex=self.ttl)


def cache_key(query_key: str, scope: Any, snapshots: dict[str, int | None]) -> str:
    """A hash of the normalized query, the security scope and every snapshot read.

    Example:
        >>> a = cache_key('{"measures":["o.c"]}', None, {"raw.o": 1})
        >>> a == cache_key('{"measures":["o.c"]}', None, {"raw.o": 2})
        False
    """
    text = json.dumps({"q": query_key, "scope": scope, "snapshots": dict(sorted(
        snapshots.items()))}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def to_bytes(table: pa.Table) -> bytes:
    """A table as Arrow IPC stream bytes."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def from_bytes(data: bytes) -> pa.Table:
    """The table back from :func:`to_bytes`."""
    import pyarrow as pa

    return pa.ipc.open_stream(data).read_all()


def cache_from_url(url: str | None) -> ResultCache:
    """``None``/``memory`` -> :class:`LRUCache`; ``redis://...`` -> :class:`RedisCache`."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    return LRUCache()
