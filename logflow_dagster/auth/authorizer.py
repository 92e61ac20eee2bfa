"""Table-level authorization: may this identity do this action on this table?

Actions: ``read`` (reading data; row and member access is the model's access policies, see
:mod:`.policies`), ``ingest``, ``maintain`` (compact, expire, remove orphans) and
``build_rollup``. ``identity=None`` is the trusted in-process caller (a Dagster run, a Python
script): it may do everything. :class:`RoleAuthorizer` is the default: reading is open to every
authenticated identity, writing needs one of ``auth.write_roles``; with nothing configured the
anonymous local caller may do everything (it is the machine's own user).

Example:
    >>> from logflow_dagster.auth.identity import Identity
    >>> RoleAuthorizer(["writer"]).allowed(Identity("bo"), "maintain", "raw.orders")
    False
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from .identity import Forbidden, Identity

ACTIONS = ("read", "ingest", "maintain", "build_rollup")


@runtime_checkable
class Authorizer(Protocol):
    """Decides table-level actions. Plug in your own through the ``logflow_auth`` resource."""

    def allowed(self, identity: Identity | None, action: str, resource: str) -> bool:
        ...


class RoleAuthorizer:
    """Read for everyone authenticated; ingest, maintain and rollup builds for ``roles``.

    Args:
        roles: The roles that may write.
        open_anonymous: Whether the anonymous caller may write (true when no authentication
            is configured: it is then the machine's own user).
    """

    def __init__(self, roles: Iterable[str] = ("admin", "writer"), *,
                 open_anonymous: bool = False) -> None:
        self.roles = frozenset(roles)
        self.open_anonymous = open_anonymous

    def allowed(self, identity: Identity | None, action: str, resource: str) -> bool:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
        if identity is None or action == "read":
            return True
        if identity.type == "anonymous":
            return self.open_anonymous
        return bool(identity.roles & self.roles)


def authorize(authorizer: Authorizer, identity: Identity | None, action: str,
              resource: str) -> None:
    """Raises :class:`Forbidden` unless ``authorizer`` allows the action.

    Example:
        >>> authorize(RoleAuthorizer(), Identity("bo"), "ingest", "raw.orders")
        Traceback (most recent call last):
        ...
        logflow_dagster.core.errors.exceptions.Forbidden: bo may not ingest raw.orders
    """
    if not authorizer.allowed(identity, action, resource):
        who = identity.id if identity is not None else "?"
        raise Forbidden(f"{who} may not {action.replace('_', ' ')} {resource}")


def authorizer_for(config: Any) -> RoleAuthorizer:
    """The default authorizer of a project: ``auth.write_roles``; anonymous writes are open
    when no authentication is configured.

    Example:
        >>> from logflow_dagster.config import ProjectConfig
        >>> authorizer_for(ProjectConfig()).open_anonymous
        True
    """
    auth = getattr(config, "auth", None)
    configured = auth is not None and (auth.keys_file or auth.jwt is not None)
    roles = auth.write_roles if auth is not None else ("admin", "writer")
    return RoleAuthorizer(roles, open_anonymous=not configured)
