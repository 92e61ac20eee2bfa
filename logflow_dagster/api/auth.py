"""Who is calling: the one seam between an HTTP request and :mod:`logflow_dagster.auth`.

The project's authenticator (``auth:`` in ``logflow.yaml``: API keys, JWT) gets the raw
``Authorization`` header and the peer address. With nothing configured the API is anonymous and
serves loopback peers only: a missing or empty header, the literal ``undefined`` Cube's client
sends without a token, or any other value from a loopback peer is the anonymous identity; any
other peer is refused (401).

Example:
    >>> from logflow_dagster.config import ProjectConfig
    >>> authenticator_for(ProjectConfig()).authenticate("undefined", peer="127.0.0.1").id
    'anonymous'
    >>> has_authenticator(ProjectConfig())
    False
"""

from __future__ import annotations

from typing import Any

from ..auth import authenticator_for, is_local


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or ``localhost``) is the loopback interface.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    return bool(host) and is_local(host)


def has_authenticator(config: Any) -> bool:
    """Whether the project configures authentication (required to bind a public address)."""
    return bool(authenticator_for(config).configured)


__all__ = ["authenticator_for", "has_authenticator", "is_loopback"]
