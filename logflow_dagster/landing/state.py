"""The cursor of a landing location: which files were taken, which are still settling.

A file is taken only once its size and modification time held still between two looks (files
still being written wait); a changed file is taken again; a re-dropped identical file (same
content hash) is not. The state is a small JSON document (a Dagster sensor cursor, or a file
for ``logflow run``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.hashing import content_hash
from ..core.source import Source
from .listing import LandedFile, list_landing


@dataclass
class LandingState:
    """Files done (key -> [size, mtime_ns, hash]) and files seen once (key -> [size, mtime_ns]).

    Example:
        >>> s = LandingState.load('{"seen": {"a.csv": [1, 2, "h"]}}')
        >>> s.seen["a.csv"][2]
        'h'
    """

    seen: dict[str, list[Any]] = field(default_factory=dict)
    pending: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, cursor: str | None) -> LandingState:
        """Reads a cursor written by :meth:`dump` (empty or None: a fresh state)."""
        if not cursor:
            return cls()
        data = json.loads(cursor)
        return cls(data.get("seen", {}), data.get("pending", {}))

    def dump(self) -> str:
        """The state as a cursor string."""
        return json.dumps({"seen": self.seen, "pending": self.pending}, sort_keys=True)


def _hash_of(file: LandedFile, properties: Mapping[str, str] | None = None) -> str:
    return content_hash(Source.open_path(file.path, compression=None,
                                         storage_options=properties))


def scan_landing(root: str, landing: str, state: LandingState, *,
                 properties: Mapping[str, str] | None = None,
                 hasher: Callable[[LandedFile], str] | None = None
                 ) -> list[tuple[LandedFile, str]]:
    """Files to ingest now, with their content hash; updates ``state``.

    Args:
        root: The project folder.
        landing: The source's landing folder, glob or URI.
        state: The cursor state (changed in place).
        properties: Object-storage options.
        hasher: How a file's content hash is computed (default: xxh3-128 of its bytes,
            streamed, never mapped: a landing file may be rewritten while it is read; object
            storage is read through ``properties``).

    Example:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (pathlib.Path(d) / "a.csv").write_text("x\\n1\\n")
        ...     state = LandingState()
        ...     first = scan_landing(d, ".", state)   # seen once: settling
        ...     second = scan_landing(d, ".", state)  # unchanged since: ready
        ...     [f.key for f, _ in first], [f.key for f, _ in second]
        ([], ['a.csv'])
    """
    if hasher is None:
        def hasher(file: LandedFile) -> str:
            return _hash_of(file, properties)
    ready: list[tuple[LandedFile, str]] = []
    present = set()
    for file in list_landing(root, landing, properties):
        present.add(file.key)
        now = [file.size, file.mtime_ns]
        done = state.seen.get(file.key)
        if done is not None and done[:2] == now:
            continue
        if state.pending.get(file.key) != now:  # new or still changing: look again next time
            state.pending[file.key] = now
            continue
        del state.pending[file.key]
        digest = hasher(file)
        state.seen[file.key] = [*now, digest]
        if done is None or done[2] != digest:
            ready.append((file, digest))
    for key in list(state.pending):
        if key not in present:
            del state.pending[key]
    return ready
