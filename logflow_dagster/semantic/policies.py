"""Cube's ``access_policy``: who sees which members of a cube, masked or not, and which rows.

A cube's ``access_policy`` is a list of policies, each for a ``role`` / ``group`` / ``groups``
(``"*"`` for everyone), with ``member_level`` (``includes``/``excludes``, ``"*"`` for all),
``member_masking`` (members shown masked: their ``mask``, else NULL) and ``row_level``
(``filters`` in Cube's query-filter format whose values may be ``{ securityContext.x }``, or
``allow_all``). As in Cube:

- once a cube has a policy, an identity that no policy names sees nothing of it (default deny);
- the policies that apply to one identity combine as a union: a member is visible if any of
  them shows it, masked if none shows it and one masks it; rows are visible if any policy's
  filters accept them (a policy without ``row_level`` accepts all rows).

The identity is duck-typed (``roles`` and ``security_context()``, see
:class:`logflow_dagster.auth.Identity`); ``None`` is the trusted in-process caller, to whom no
policy applies.

Example:
    >>> from logflow_dagster.semantic.loader import load_model_text
    >>> m = load_model_text('''
    ... cubes:
    ...   - name: orders
    ...     sql_table: raw.orders
    ...     dimensions:
    ...       - {name: tenant, sql: tenant, type: string}
    ...       - {name: email, sql: email, type: string}
    ...     measures: [{name: count, type: count}]
    ...     access_policy:
    ...       - role: analyst
    ...         member_level: {excludes: [email]}
    ...         row_level:
    ...           filters:
    ...             - {member: tenant, operator: equals, values: ["{ securityContext.tenant }"]}
    ... ''')
    >>> class Who:
    ...     roles = frozenset({"analyst"})
    ...     def security_context(self): return {"tenant": "acme"}
    >>> access = cube_access(m.cube("orders"), Who())
    >>> (access.shows("orders.count"), access.shows("orders.email"), access.row_filter)
    (True, False, {'member': 'orders.tenant', 'operator': 'equals', 'values': ['acme']})
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import Forbidden

#: ``{ securityContext.a.b }`` (or ``userAttributes``): a value taken from the identity.
_TEMPLATE = re.compile(
    r"^\s*\{\s*(securityContext|userAttributes)((?:\.[A-Za-z_][\w]*)+)\s*\}\s*$")


@dataclass(frozen=True)
class AccessPolicy:
    """One entry of a cube's ``access_policy`` (member names qualified ``cube.member``).

    Attributes:
        groups: The roles/groups it applies to; None for everyone (``"*"``).
        includes: Members it shows; None for all.
        excludes: Members it hides (``"*"``: all, as None in ``excludes_all``).
        mask_includes, mask_excludes: Members it shows masked (None: all).
        row_filters: Its row filters (Cube filter JSON), None when it has no ``row_level``.
        allow_all: ``row_level.allow_all``.
    """

    groups: frozenset[str] | None = None
    includes: frozenset[str] | None = None
    excludes: frozenset[str] = frozenset()
    excludes_all: bool = False
    masking: bool = False
    mask_includes: frozenset[str] | None = None
    mask_excludes: frozenset[str] = frozenset()
    row_filters: tuple[dict[str, Any], ...] | None = None
    allow_all: bool | None = None

    def applies(self, roles: frozenset[str]) -> bool:
        """Whether an identity with ``roles`` is one this policy is for."""
        return self.groups is None or bool(self.groups & roles)

    def shows(self, member: str) -> bool:
        """Whether this policy shows ``member`` unmasked."""
        if self.excludes_all or member in self.excludes:
            return False
        return self.includes is None or member in self.includes

    def masks(self, member: str) -> bool:
        """Whether this policy shows ``member`` masked (and not unmasked)."""
        if not self.masking or self.shows(member) or member in self.mask_excludes:
            return False
        return self.mask_includes is None or member in self.mask_includes


@dataclass(frozen=True)
class CubeAccess:
    """What one identity may see of one cube.

    Attributes:
        cube: The cube.
        restricted: Whether the cube has policies at all (False: everything, all rows).
        visible: Members shown unmasked (None: all).
        masked: Members shown masked.
        row_filter: A Cube filter (JSON) rows must pass, None for all rows.
    """

    cube: str
    restricted: bool = False
    visible: frozenset[str] | None = None
    masked: frozenset[str] = frozenset()
    row_filter: dict[str, Any] | None = None
    members: frozenset[str] = field(default_factory=frozenset)

    def shows(self, member: str) -> bool:
        """Whether ``member`` can be read at all (unmasked or masked)."""
        return self.visible is None or member in self.visible or member in self.masked

    def is_masked(self, member: str) -> bool:
        """Whether ``member`` reads as its mask."""
        return member in self.masked

    @property
    def full(self) -> bool:
        """No restriction for this identity: every member unmasked, every row."""
        return not self.restricted or (self.visible is None and not self.masked
                                       and self.row_filter is None)


def _lookup(context: dict[str, Any], path: list[str]) -> Any:
    value: Any = context
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def resolve_values(values: list[Any], context: dict[str, Any], where: str) -> list[Any]:
    """Filter values with ``{ securityContext.x }`` templates replaced from ``context`` (a
    list-valued attribute expands into several values).

    Raises:
        Forbidden: The identity lacks an attribute the policy needs.

    Example:
        >>> resolve_values(["{ securityContext.tenant }", "x"], {"tenant": "acme"}, "p")
        ['acme', 'x']
    """
    out: list[Any] = []
    for value in values:
        match = _TEMPLATE.match(value) if isinstance(value, str) else None
        if match is None:
            out.append(value)
            continue
        got = _lookup(context, match.group(2)[1:].split("."))
        if got is None or got == []:
            raise Forbidden(f"{where}: the identity has no {match.group(1)}"
                            f"{match.group(2)}, which this cube's access policy needs")
        out.extend(got if isinstance(got, list) else [got])
    return out


def _resolve_filter(raw: dict[str, Any], context: dict[str, Any], where: str
                    ) -> dict[str, Any]:
    if "and" in raw or "or" in raw:
        kind = "and" if "and" in raw else "or"
        return {kind: [_resolve_filter(f, context, where) for f in raw[kind]]}
    out = dict(raw)
    if "values" in out and out["values"] is not None:
        out["values"] = [v if isinstance(v, str) else str(v) if not isinstance(v, bool)
                         else str(v).lower()
                         for v in resolve_values(list(out["values"]), context, where)]
    return out


def cube_access(cube: Any, identity: Any) -> CubeAccess:
    """What ``identity`` may see of ``cube`` (see the module doc).

    Raises:
        Forbidden: The identity lacks an attribute a row filter needs.
    """
    policies: list[AccessPolicy] = list(getattr(cube, "access_policy", ()) or ())
    members = frozenset(f"{cube.name}.{m}" for m in
                        [*cube.dimensions, *cube.measures, *cube.segments])
    if not policies or identity is None:
        return CubeAccess(cube.name, members=members)
    roles = frozenset(getattr(identity, "roles", ()) or ())
    mine = [p for p in policies if p.applies(roles)]
    if not mine:
        return CubeAccess(cube.name, restricted=True, visible=frozenset(), members=members)
    visible = frozenset(m for m in members if any(p.shows(m) for p in mine))
    masked = frozenset(m for m in members - visible if any(p.masks(m) for p in mine))
    context = identity.security_context() if hasattr(identity, "security_context") else {}
    row_filter: dict[str, Any] | None = None
    if not any(p.row_filters is None or p.allow_all for p in mine):
        groups = []
        for p in mine:
            filters = [_resolve_filter(f, context, f"cube {cube.name}")
                       for f in (p.row_filters or ())]
            if p.allow_all is False and not filters:
                continue  # this policy admits no rows
            if filters:
                groups.append(filters[0] if len(filters) == 1 else {"and": filters})
        if not groups:
            raise Forbidden(f"cube {cube.name}: the access policy admits no rows for this "
                            "identity")
        row_filter = groups[0] if len(groups) == 1 else {"or": groups}
    return CubeAccess(cube.name, restricted=True,
                      visible=None if visible == members else visible, masked=masked,
                      row_filter=row_filter, members=members)
