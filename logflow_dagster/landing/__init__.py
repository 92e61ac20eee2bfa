"""Landing locations, Dagster-free: listing what landed (local folders or object storage, through
:class:`~logflow_dagster.lakehouse.storage.ObjectStorage`), the cursor state that tells new and
changed files from ones already seen, and the partition keys and time windows files map to.

The Dagster sensors (:mod:`logflow_dagster.sensors`) and ``logflow run`` call these.

Example:
    >>> from logflow_dagster.landing import LandingState
    >>> LandingState.load(None).dump()
    '{"pending": {}, "seen": {}}'
"""

from __future__ import annotations

from .listing import LandedFile, list_landing, split_landing
from .state import LandingState, scan_landing
from .windows import window_bounds, window_key

__all__ = [
    "LandedFile",
    "LandingState",
    "list_landing",
    "scan_landing",
    "split_landing",
    "window_bounds",
    "window_key",
]
