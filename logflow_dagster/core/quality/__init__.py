"""Streaming quality profile and the rules evaluated against it."""

from .profile import Profiler, checksum_sql

__all__ = ["Profiler", "checksum_sql"]
