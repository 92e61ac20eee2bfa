"""Who is asking: :class:`Identity`, and the errors that refuse a caller.

An identity is what every data path (semantic queries, SQL, REST, CLI, Python, ingest and
maintenance) is asked for: the policies of the model read its tenant, roles and attributes
(Cube's ``securityContext``), the result cache keys answers by its :meth:`Identity.scope`, and
the audit log records it (with ``peer`` and ``purpose``, which are about the request, not the
person, and so are not part of the scope).

Example:
    >>> ana = Identity("ana", tenant="acme", roles=frozenset({"analyst"}))
    >>> ana.security_context()["tenant"], ana.scope() == ana.with_request(peer="10.0.0.1").scope()
    ('acme', True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.errors import AuthError, Forbidden, Unauthenticated


@dataclass(frozen=True)
class Identity:
    """A caller.

    Attributes:
        id: The subject (a user name, a key's id, a JWT ``sub``).
        type: ``user``, ``service`` or ``anonymous``.
        tenant: The tenant the caller belongs to (policies read it as
            ``securityContext.tenant``), or None.
        roles: The roles policies are written for.
        attributes: More claims (``securityContext.<name>``), JSON values.
        peer: The client address of the request (audit only).
        purpose: The purpose the caller declared (audit redaction only).
    """

    id: str
    type: str = "user"
    tenant: str | None = None
    roles: frozenset[str] = frozenset()
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    peer: str | None = field(default=None, compare=False)
    purpose: str | None = field(default=None, compare=False)

    def security_context(self) -> dict[str, Any]:
        """The identity as Cube's ``securityContext``: the attributes, then ``sub``,
        ``tenant`` and ``roles`` (which win over attributes of the same name)."""
        return {**self.attributes, "sub": self.id, "tenant": self.tenant,
                "roles": sorted(self.roles)}

    def scope(self) -> str:
        """What policies may depend on, as one string: two identities with the same scope see
        the same rows and members (the result cache's key part)."""
        return json.dumps([self.id, self.type, self.tenant, sorted(self.roles),
                           self.attributes], sort_keys=True, default=str)

    def with_request(self, *, peer: str | None = None, purpose: str | None = None
                     ) -> Identity:
        """The same identity with the request's peer address and declared purpose."""
        return replace(self, peer=peer, purpose=purpose)


#: The caller when nothing is configured (loopback only).
ANONYMOUS = Identity("anonymous", type="anonymous")


__all__ = ["ANONYMOUS", "AuthError", "Forbidden", "Identity", "Unauthenticated"]
