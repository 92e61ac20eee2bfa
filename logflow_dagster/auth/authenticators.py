"""Authenticators: a credential (the raw ``Authorization`` header) and the peer address in, an
:class:`~.identity.Identity` out, or :class:`~.identity.Unauthenticated`.

- :class:`Anonymous`: nothing configured. In-process callers (``peer=None``: the CLI, Python)
  and loopback peers are :data:`~.identity.ANONYMOUS`; any other peer is refused.
- :class:`ApiKeys`: keys from a file (see :mod:`.keys`), stored as SHA-256 hashes.
- :class:`Jwt`: JSON Web Tokens (HS256 with a secret, RS256/ES256 with a public key) through
  PyJWT, ``exp``/``nbf`` (and ``aud``/``iss`` when configured) checked; claims become the
  identity (``sub`` -> id, the tenant and roles claims, everything else -> attributes), which
  is what Cube's clients send.
- :class:`Chain`: API keys and JWTs side by side.

A credential is taken with or without ``Bearer``; ``None``, an empty one and the literal
``undefined`` (what Cube's JS client sends without a token) are "no credential".

Example:
    >>> Anonymous().authenticate("undefined", peer="127.0.0.1").id
    'anonymous'
    >>> Anonymous().authenticate(None, peer="10.0.0.5")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    logflow_dagster.core.errors.exceptions.Unauthenticated: no authentication is configured ...
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .identity import ANONYMOUS, Identity, Unauthenticated
from .keys import KeyStore


@runtime_checkable
class Authenticator(Protocol):
    """Turns a credential into an identity (raises :class:`Unauthenticated`)."""

    #: Whether anything is configured (a public address needs it).
    configured: bool

    def authenticate(self, credential: str | None, *, peer: str | None = None) -> Identity:
        ...


def bare_credential(credential: str | None) -> str | None:
    """The token of an ``Authorization`` value: ``Bearer`` stripped; None for no credential.

    Example:
        >>> bare_credential("Bearer abc"), bare_credential("undefined"), bare_credential(" ")
        ('abc', None, None)
    """
    if credential is None:
        return None
    token = credential.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return None if token in ("", "undefined", "null") else token


def is_local(peer: str | None) -> bool:
    """In-process (``None``) or a loopback address.

    Example:
        >>> is_local(None), is_local("::1"), is_local("localhost"), is_local("10.0.0.1")
        (True, True, True, False)
    """
    if peer is None or peer == "localhost":
        return True
    try:
        return ipaddress.ip_address(peer.strip("[]")).is_loopback
    except ValueError:
        return False


class Anonymous:
    """No authentication configured: local callers are anonymous, others refused."""

    configured = False

    def authenticate(self, credential: str | None, *, peer: str | None = None) -> Identity:
        if not is_local(peer):
            raise Unauthenticated("no authentication is configured (auth: in logflow.yaml): "
                                  "only loopback clients are served")
        return ANONYMOUS.with_request(peer=peer)


class ApiKeys:
    """API keys of a :class:`~.keys.KeyStore` file (re-read when the file changes)."""

    configured = True

    def __init__(self, path: str | Path) -> None:
        self.store = KeyStore(path)

    def authenticate(self, credential: str | None, *, peer: str | None = None) -> Identity:
        token = bare_credential(credential)
        if token is None:
            raise Unauthenticated("no credential: send an API key or a token in the "
                                  "Authorization header")
        identity = self.store.identity_for(token)
        if identity is None:
            raise Unauthenticated("unknown or revoked API key")
        return identity.with_request(peer=peer)


#: JWT registered claims (RFC 7519 section 4.1) other than ``sub``.
_REGISTERED = ("iss", "aud", "exp", "nbf", "iat", "jti")


class Jwt:
    """JSON Web Tokens.

    Args:
        key: The HS secret, or the public key (PEM text) for RS/ES algorithms.
        algorithms: Accepted algorithms (never ``none``).
        audience, issuer: Required ``aud``/``iss`` when given.
        tenant_claim, roles_claim: The claims that hold the tenant and the roles.
        leeway: Seconds of clock skew allowed on ``exp``/``nbf``.
    """

    configured = True

    def __init__(self, key: str, algorithms: Sequence[str] = ("HS256",), *,
                 audience: str | None = None, issuer: str | None = None,
                 tenant_claim: str = "tenant", roles_claim: str = "roles",
                 leeway: float = 0) -> None:
        if not key:
            raise ValueError("auth.jwt: a secret or a public key is required")
        if any(a.lower() == "none" for a in algorithms):
            raise ValueError("auth.jwt: the 'none' algorithm is never accepted")
        self.key, self.algorithms = key, list(algorithms)
        self.audience, self.issuer = audience, issuer
        self.tenant_claim, self.roles_claim, self.leeway = tenant_claim, roles_claim, leeway

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token`` (raises :class:`Unauthenticated`)."""
        import jwt

        try:
            return jwt.decode(token, self.key, algorithms=self.algorithms,
                              audience=self.audience, issuer=self.issuer, leeway=self.leeway,
                              options={"verify_aud": self.audience is not None})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.InvalidTokenError as err:
            raise Unauthenticated(f"invalid token: {err}") from None

    def authenticate(self, credential: str | None, *, peer: str | None = None) -> Identity:
        token = bare_credential(credential)
        if token is None:
            raise Unauthenticated("no credential: send a token in the Authorization header")
        claims = self.claims(token)
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise Unauthenticated("invalid token: no 'sub' claim (the caller's id)")
        roles = claims.get(self.roles_claim) or []
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated(f"invalid token: {self.roles_claim!r} must be a string or "
                                  "a list of strings")
        tenant = claims.get(self.tenant_claim)
        if tenant is not None and not isinstance(tenant, (str, int)):
            raise Unauthenticated(f"invalid token: {self.tenant_claim!r} must be a string")
        # registered claims (exp, iat, jti...) change with every token of the same caller:
        # kept out of the attributes, so the identity's scope (the cache key) stays the same
        attributes = {k: v for k, v in claims.items()
                      if k not in ("sub", self.tenant_claim, self.roles_claim, *_REGISTERED)}
        return Identity(sub, type="user", tenant=None if tenant is None else str(tenant),
                        roles=frozenset(roles), attributes=attributes, peer=peer)


class Chain:
    """Tries each authenticator in turn: a JWT-shaped credential (three dot-separated parts)
    goes to the JWT authenticators, any other to the API keys."""

    configured = True

    def __init__(self, authenticators: Sequence[Any]) -> None:
        self.authenticators = list(authenticators)

    def authenticate(self, credential: str | None, *, peer: str | None = None) -> Identity:
        token = bare_credential(credential)
        looks_jwt = token is not None and token.count(".") == 2
        ordered = sorted(self.authenticators,
                         key=lambda a: isinstance(a, Jwt) != looks_jwt)
        error: Unauthenticated | None = None
        for auth in ordered:
            try:
                return auth.authenticate(credential, peer=peer)
            except Unauthenticated as err:
                error = error or err
        raise error or Unauthenticated("no credential")


def authenticator_for(config: Any) -> Authenticator:
    """The authenticator ``logflow.yaml`` configures (``auth:``), :class:`Anonymous` when
    nothing is.

    Example:
        >>> from logflow_dagster.config import ProjectConfig
        >>> authenticator_for(ProjectConfig()).configured
        False
    """
    auth = getattr(config, "auth", None)
    if auth is None:
        return Anonymous()
    root = Path(getattr(config, "root", "."))
    found: list[Any] = []
    if auth.keys_file:
        found.append(ApiKeys(root / auth.keys_file))
    if auth.jwt is not None:
        jwt_cfg = auth.jwt
        key = jwt_cfg.secret or ""
        if jwt_cfg.public_key:
            text = jwt_cfg.public_key
            key = text if "BEGIN" in text else (root / text).read_text(encoding="utf-8")
        found.append(Jwt(key, jwt_cfg.algorithms, audience=jwt_cfg.audience,
                         issuer=jwt_cfg.issuer, tenant_claim=jwt_cfg.tenant_claim,
                         roles_claim=jwt_cfg.roles_claim, leeway=jwt_cfg.leeway))
    if not found:
        return Anonymous()
    return found[0] if len(found) == 1 else Chain(found)


__all__ = ["Anonymous", "ApiKeys", "Authenticator", "Chain", "Jwt", "authenticator_for",
           "bare_credential", "is_local"]
