"""Who is calling: the one seam between an HTTP request and :mod:`logflow_dagster.auth`.

Until an authenticator is configured (the ``auth:`` section of ``logflow.yaml``), the API is
anonymous and serves loopback peers only: a missing or empty ``Authorization`` header, the
literal ``undefined`` Cube's client sends without a token, or any other value from a loopback
peer is :data:`~logflow_dagster.auth.identity.ANONYMOUS`; any other peer is refused (401).

Example:
    >>> LoopbackOnly().authenticate("undefined", peer="127.0.0.1").id
    'anonymous'
    >>> LoopbackOnly().authenticate(None, peer="10.1.2.3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    logflow_dagster.auth.identity.Unauthenticated: no authenticator is configured ...
"""

from __future__ import annotations

import ipaddress
from typing import Any, Protocol

from ..auth.identity import ANONYMOUS, Identity, Unauthenticated


class RequestAuthenticator(Protocol):
    """Turns the raw ``Authorization`` header and the peer address into an identity."""

    def authenticate(self, credential: str | None, *, peer: str | None = None) -> Identity:
        ...


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or ``localhost``) is the loopback interface.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class LoopbackOnly:
    """Nothing configured: loopback peers are anonymous, others are refused."""

    configured = False

    def authenticate(self, credential: str | None, *, peer: str | None = None) -> Identity:
        if not is_loopback(peer):
            raise Unauthenticated("no authenticator is configured (auth: in logflow.yaml): "
                                  "only loopback clients are served")
        return ANONYMOUS


def authenticator_for(config: Any) -> RequestAuthenticator:
    """The project's authenticator (the anonymous loopback default until ``auth:`` lands)."""
    return LoopbackOnly()


def has_authenticator(config: Any) -> bool:
    """Whether the project configures authentication (required to bind a public address)."""
    return bool(getattr(authenticator_for(config), "configured", True))
