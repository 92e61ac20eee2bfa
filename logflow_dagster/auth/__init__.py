"""Identity, authentication and authorization interfaces (the semantic layer's policies plug in
here). The defaults: no authentication (an anonymous identity) and allow-all authorization,
or API keys from the environment.

Example:
    >>> from logflow_dagster.auth import AllowAll, Identity
    >>> AllowAll().can_read(Identity("anonymous"), "raw.orders")
    True
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Identity:
    """Who is asking: a subject and the groups/attributes policies look at."""

    subject: str
    groups: frozenset[str] = frozenset()
    attributes: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Authenticator(Protocol):
    """Turns a credential (an API key, a token) into an :class:`Identity` or ``None``."""

    def authenticate(self, credential: str | None) -> Identity | None: ...


@runtime_checkable
class Authorizer(Protocol):
    """Decides what an identity may read: tables, and (for the semantic layer) rows/columns."""

    def can_read(self, identity: Identity, table: str) -> bool: ...

    def row_filter(self, identity: Identity, table: str) -> str | None: ...

    def hidden_columns(self, identity: Identity, table: str) -> frozenset[str]: ...


class Anonymous:
    """No authentication: everyone is ``anonymous``."""

    def authenticate(self, credential: str | None) -> Identity | None:
        return Identity("anonymous")


class ApiKeys:
    """API keys from ``LOGFLOW_API_KEYS`` (``subject:key,subject2:key2``), compared in constant
    time.

    Example:
        >>> ApiKeys({"ana": "s3cret"}).authenticate("s3cret").subject
        'ana'
    """

    def __init__(self, keys: dict[str, str] | None = None) -> None:
        if keys is None:
            raw = os.environ.get("LOGFLOW_API_KEYS", "")
            keys = dict(p.split(":", 1) for p in raw.split(",") if ":" in p)
        self._keys = keys

    def authenticate(self, credential: str | None) -> Identity | None:
        if not credential:
            return None
        for subject, key in self._keys.items():
            if hmac.compare_digest(key.encode(), credential.encode()):
                return Identity(subject)
        return None


class AllowAll:
    """Every identity reads every table, every row and column."""

    def can_read(self, identity: Identity, table: str) -> bool:
        return True

    def row_filter(self, identity: Identity, table: str) -> str | None:
        return None

    def hidden_columns(self, identity: Identity, table: str) -> frozenset[str]:
        return frozenset()


__all__ = ["AllowAll", "Anonymous", "ApiKeys", "Authenticator", "Authorizer", "Identity"]
