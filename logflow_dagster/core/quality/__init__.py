"""Streaming quality profile and the rules evaluated against it.

``Profiler`` and ``checksum_sql`` load on first use, so that importing the rule types
(:mod:`.rule_types`, read by the config model) pulls in no pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .profile import Profiler, checksum_sql

__all__ = ["Profiler", "checksum_sql"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import profile

        return getattr(profile, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
