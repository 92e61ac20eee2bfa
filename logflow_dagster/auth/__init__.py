"""Who may do what: identities, authenticators, the model's access policies, the audit log.

- :mod:`.identity`: :class:`Identity` (id, type, tenant, roles, attributes) and the errors
  that refuse a caller (:class:`Unauthenticated` 401, :class:`Forbidden` 403).
- :mod:`.authenticators`: anonymous (local only), API keys (:mod:`.keys`), JWT;
  :func:`authenticator_for` reads ``auth:`` in ``logflow.yaml``.
- :mod:`.authorizer`: table-level actions (ingest, maintain, build rollups) through one
  :class:`Authorizer` protocol; :class:`RoleAuthorizer` is the default.
- :mod:`.policies`: Cube's ``access_policy`` (row filters, member includes/excludes,
  masking) evaluated for an identity; the semantic layer applies it on every path.
- :mod:`.audit`: every query and refusal, append-only, redacted by declared purpose.

Example:
    >>> from logflow_dagster.auth import Identity, RoleAuthorizer
    >>> RoleAuthorizer(["admin"]).allowed(Identity("ana", roles=frozenset({"admin"})),
    ...                                   "ingest", "raw.orders")
    True
"""

from __future__ import annotations

from .authenticators import (
    Anonymous,
    ApiKeys,
    Authenticator,
    Chain,
    Jwt,
    authenticator_for,
    bare_credential,
    is_local,
)
from .authorizer import Authorizer, RoleAuthorizer, authorizer_for
from .identity import ANONYMOUS, AuthError, Forbidden, Identity, Unauthenticated
from .keys import KeyStore

__all__ = [
    "ANONYMOUS",
    "Anonymous",
    "ApiKeys",
    "AuthError",
    "Authenticator",
    "Authorizer",
    "Chain",
    "Forbidden",
    "Identity",
    "Jwt",
    "KeyStore",
    "RoleAuthorizer",
    "Unauthenticated",
    "authenticator_for",
    "authorizer_for",
    "bare_credential",
    "is_local",
]
