"""Listing a landing location: a folder or a glob, local or on object storage.

A source's ``landing`` is a folder (every file below it), or a glob (``landing/orders/*.csv``,
``landing/**/*.json``), relative to the project or an absolute path or URI
(``s3://bucket/prefix/*.csv``). Hidden files (``.name``) and ``*.tmp`` files (writes in
progress) are left out. Local files are keyed by their project-relative path (the dynamic
partition key, stable when the project moves), remote ones by their URI.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from ..lakehouse.storage import ObjectStorage

_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class LandedFile:
    """One file in a landing location.

    Attributes:
        key: The partition key: project-relative path for local files, else the URI.
        uri: Where to read it (``file:///abs/path`` or ``s3://...``).
        size: Size in bytes.
        mtime_ns: Modification time in nanoseconds since the epoch (0 when unknown).

    Example:
        >>> LandedFile("landing/a.csv", "file:///p/landing/a.csv", 10, 0).path
        '/p/landing/a.csv'
    """

    key: str
    uri: str
    size: int
    mtime_ns: int

    @property
    def path(self) -> str:
        """A local path for ``file://`` URIs, else the URI (what the engine opens)."""
        return urlparse(self.uri).path if self.uri.startswith("file://") else self.uri


def _is_remote(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def split_landing(root: str, landing: str) -> tuple[str, str | None]:
    """The URI of the folder to list, and the glob pattern (relative to it) or None.

    Example:
        >>> split_landing("/p", "landing/orders/*.csv")
        ('file:///p/landing/orders', '*.csv')
        >>> split_landing("/p", "s3://b/in")
        ('s3://b/in', None)
    """
    if _is_remote(landing):
        scheme, rest = landing.split("://", 1)
        prefix = f"{scheme}://"
    else:
        path = landing[len("file://"):] if landing.startswith("file://") else landing
        rest = os.path.normpath(os.path.join(os.path.abspath(root), path)).lstrip("/")
        prefix = "file:///"
    parts = rest.split("/")
    first_glob = next((i for i, p in enumerate(parts) if _GLOB.search(p)), None)
    if first_glob is None:
        return prefix + rest.rstrip("/"), None
    return prefix + "/".join(parts[:first_glob]), "/".join(parts[first_glob:])


def _matches(relative: str, pattern: str) -> bool:
    """Glob match where ``*`` stays within a folder and ``**`` spans folders."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        else:
            j = i
            while j < len(pattern) and not pattern.startswith("**", j):
                j += 1
            regex += fnmatch.translate(pattern[i:j])[4:-3].replace(".*", "[^/]*")
            i = j
    return re.fullmatch(regex, relative) is not None


def list_landing(root: str, landing: str,
                 properties: Mapping[str, str] | None = None) -> list[LandedFile]:
    """Every file in a landing location, sorted by key.

    Args:
        root: The project folder (relative landings are under it).
        landing: Folder, glob or URI (see the module doc).
        properties: Object-storage options (``s3.endpoint``, ``s3.access-key-id`` ...).

    Example:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (pathlib.Path(d) / "in").mkdir()
        ...     _ = (pathlib.Path(d) / "in" / "a.csv").write_text("x\\n1\\n")
        ...     _ = (pathlib.Path(d) / "in" / ".hidden").write_text("")
        ...     [f.key for f in list_landing(d, "in/*.csv")]
        ['in/a.csv']
    """
    base, pattern = split_landing(root, landing)
    store = ObjectStorage(base, properties)
    local = base.startswith("file://")
    root_abs = os.path.abspath(root)
    out = []
    for info in store.list(base):
        relative = info.path[len(base):].lstrip("/")
        name = posixpath.basename(info.path)
        if name.startswith(".") or name.endswith(".tmp"):
            continue
        if pattern is not None and not _matches(relative, pattern):
            continue
        if pattern is None and not relative:  # the landing is one file
            relative = name
        mtime_ns = info.mtime_ns if info.mtime_ns is not None else (
            int(info.mtime.timestamp() * 1e9) if info.mtime is not None else 0)
        if local:
            path = urlparse(info.path).path
            key = os.path.relpath(path, root_abs)
        else:
            key = info.path
        out.append(LandedFile(key, info.path, info.size, mtime_ns))
    out.sort(key=lambda f: f.key)
    return out
