"""API keys: a JSON file of hashed keys, each with the identity it stands for.

A key is ``lf_<id>_<secret>`` with 32 random bytes of secret; the file keeps only its SHA-256
(a key is random, so a plain hash is as strong as a slow one and costs microseconds per
request), compared in constant time. ``logflow keys add/list/revoke`` write the file: each
write goes to a temporary file that replaces the old one (readers never see half a file), and
a server re-reads it when its modification time changes, so a revoked key stops working
without a restart.

Example:
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     store = KeyStore(pathlib.Path(tmp, "keys.json"))
    ...     key = store.add("etl", tenant="acme", roles=["analyst"])
    ...     who = store.identity_for(key)
    ...     store.revoke("etl")
    ...     (who.id, who.tenant, sorted(who.roles), store.identity_for(key))
    ('etl', 'acme', ['analyst'], None)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from .identity import Identity

PREFIX = "lf_"


def _digest(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """The keys file.

    Args:
        path: The JSON file (created by the first :meth:`add`).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._keys: list[dict[str, Any]] = []

    def _load(self) -> list[dict[str, Any]]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._keys = None, []
            return self._keys
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                keys = data["keys"]
                assert isinstance(keys, list)
            except (ValueError, KeyError, TypeError, AssertionError):
                raise UsageError(f"{self.path}: not a logflow keys file") from None
            self._stamp, self._keys = stamp, keys
        return self._keys

    def _save(self, keys: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"keys": keys}, out, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None

    def add(self, key_id: str, *, tenant: str | None = None, roles: list[str] | None = None,
            attributes: dict[str, Any] | None = None) -> str:
        """Adds a key for ``key_id`` and returns it (the only time it is shown).

        Raises:
            UsageError: An id already holding an active key, or an id with characters other
                than letters, digits, ``-``, ``.`` and ``@``.
        """
        if not key_id or not all(c.isalnum() or c in "-.@" for c in key_id):
            raise UsageError(f"key id {key_id!r}: use letters, digits, '-', '.' or '@'")
        keys = list(self._load())
        if any(k["id"] == key_id and not k.get("revoked") for k in keys):
            raise UsageError(f"key id {key_id!r} has an active key (revoke it first)")
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        keys.append({"id": key_id, "hash": _digest(key), "tenant": tenant,
                     "roles": sorted(set(roles or [])), "attributes": dict(attributes or {}),
                     "created": int(time.time()), "revoked": None})
        self._save(keys)
        return key

    def revoke(self, key_id: str) -> None:
        """Revokes the active key of ``key_id``.

        Raises:
            UsageError: No active key has that id.
        """
        keys = [dict(k) for k in self._load()]
        hit = [k for k in keys if k["id"] == key_id and not k.get("revoked")]
        if not hit:
            raise UsageError(f"no active key with id {key_id!r}")
        for k in hit:
            k["revoked"] = int(time.time())
        self._save(keys)

    def list(self) -> list[dict[str, Any]]:
        """Every key without its hash: id, tenant, roles, attributes, created, revoked."""
        return [{k: v for k, v in key.items() if k != "hash"} for key in self._load()]

    def identity_for(self, key: str) -> Identity | None:
        """The identity of an active key, None for an unknown or revoked one."""
        digest = _digest(key)
        found = None
        for entry in self._load():  # every entry compared: no timing hint of which matched
            if hmac.compare_digest(entry.get("hash", ""), digest) and not entry.get("revoked"):
                found = entry
        if found is None:
            return None
        return Identity(found["id"], type="service", tenant=found.get("tenant"),
                        roles=frozenset(found.get("roles") or ()),
                        attributes=dict(found.get("attributes") or {}))
