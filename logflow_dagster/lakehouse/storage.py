"""Object storage addressed by URI: local files, S3 (and S3-compatible), or any fsspec scheme.

Everything here speaks URIs (``file:///abs/x``, ``s3://bucket/key``); nothing assumes a local
path. pyarrow's file systems are used where they exist (``FileSystem.from_uri``); S3 is built
from pyiceberg-style properties (``s3.endpoint``, ``s3.access-key-id``...) so the same
properties that open the catalog open the storage; other schemes fall back to fsspec.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs

from ..core.remote import SCHEME_ALIASES as _SCHEME_ALIASES
from ..core.remote import s3_filesystem


def canonical_uri(uri: str) -> str:
    """Normalize a file location so two spellings of one object compare equal.

    ``/a/b``, ``file:/a/b`` and ``file:///a/b`` all become ``file:///a/b``; ``s3a://`` and
    ``s3n://`` become ``s3://``.

    Example:
        >>> canonical_uri("file:/tmp/x") == canonical_uri("/tmp/x") == "file:///tmp/x"
        True
    """
    parsed = urlparse(uri)
    scheme = _SCHEME_ALIASES.get(parsed.scheme, parsed.scheme)
    if scheme in ("", "file"):
        path = os.path.normpath(parsed.path) if parsed.path else parsed.path
        return "file://" + path
    return f"{scheme}://{parsed.netloc}{parsed.path}"


@dataclass(frozen=True)
class FileInfo:
    """One stored object.

    Attributes:
        path: Full URI of the object (same scheme as the storage root).
        size: Size in bytes.
        mtime: Last modification time (UTC), or None when the store does not say.
        mtime_ns: The same in nanoseconds since the epoch, where the store gives them.

    Example:
        >>> FileInfo("s3://b/t/data/a.parquet", 1024, None).size
        1024
    """

    path: str
    size: int
    mtime: datetime | None
    mtime_ns: int | None = None


class ObjectStorage:
    """A file system rooted at a URI, with the few verbs table maintenance needs.

    Args:
        uri: Any URI under the store (``file:///wh``, ``s3://bucket/wh``, ``memory://x``).
        properties: pyiceberg-style options (``s3.endpoint``, ``s3.access-key-id``, ...).

    Example:
        >>> store = ObjectStorage("file:///tmp")
        >>> isinstance(store.exists("file:///tmp"), bool)
        True
    """

    def __init__(self, uri: str, properties: Mapping[str, str] | None = None) -> None:
        props = dict(properties or {})
        parsed = urlparse(uri)
        self.scheme = _SCHEME_ALIASES.get(parsed.scheme, parsed.scheme) or "file"
        self.fs: pafs.FileSystem
        if self.scheme == "file":
            self.fs = pafs.LocalFileSystem()
        elif self.scheme == "s3":
            self.fs = s3_filesystem(props)
        else:
            try:
                self.fs, _ = pafs.FileSystem.from_uri(uri)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OSError):
                import fsspec

                handler = pafs.FSSpecHandler(fsspec.filesystem(self.scheme))
                self.fs = pafs.PyFileSystem(handler)

    @classmethod
    def for_table(cls, table: object) -> ObjectStorage:
        """Storage for a pyiceberg table's location, using the table IO's properties.

        Example:
            >>> import tempfile, pyarrow as pa
            >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
            >>> tmp = tempfile.TemporaryDirectory()
            >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
            >>> catalog.create_namespace("raw")
            >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
            >>> table.append(pa.table({"id": [1, 2]}))
            >>> files = ObjectStorage.for_table(table).list(table.location())
            >>> sorted({f.path.rsplit("/", 2)[1] for f in files})
            ['data', 'metadata']
            >>> close_catalog(catalog); tmp.cleanup()
        """
        location: str = table.location()  # type: ignore[attr-defined]
        props = getattr(getattr(table, "io", None), "properties", {}) or {}
        return cls(location, props)

    def _path(self, uri: str) -> str:
        parsed = urlparse(uri)
        if self.scheme == "file":
            return parsed.path or uri
        if not parsed.scheme:
            return uri
        return f"{parsed.netloc}{parsed.path}"

    def _uri(self, path: str) -> str:
        if self.scheme == "file":
            return "file://" + path
        return f"{self.scheme}://{path.lstrip('/')}"

    def list(self, prefix: str) -> list[FileInfo]:
        """Every file (recursively) under ``prefix``; an absent prefix lists nothing; a
        prefix that is a file lists that file.

        Args:
            prefix: URI of a "directory".

        Returns:
            Files sorted by path, as full URIs.

        Example:
            >>> [f.path for f in ObjectStorage("file:///nope").list("file:///nope")]
            []
        """
        path = self._path(prefix).rstrip("/")
        single = self.fs.get_file_info(path)
        if single.type == pafs.FileType.File:
            found = [single]
        else:
            found = self.fs.get_file_info(pafs.FileSelector(path, recursive=True,
                                                            allow_not_found=True))
        out: list[FileInfo] = []
        for info in found:
            if info.type != pafs.FileType.File:
                continue
            mtime = info.mtime
            if mtime is not None and mtime.tzinfo is None:
                mtime = mtime.replace(tzinfo=UTC)
            out.append(FileInfo(self._uri(info.path), int(info.size or 0), mtime,
                                info.mtime_ns))
        out.sort(key=lambda f: f.path)
        return out

    def exists(self, uri: str) -> bool:
        """True when a file or directory exists at ``uri``.

        Example:
            >>> ObjectStorage("file:///").exists("file:///definitely/not/here")
            False
        """
        return self.fs.get_file_info(self._path(uri)).type != pafs.FileType.NotFound

    def delete(self, uris: Iterable[str]) -> list[str]:
        """Delete files; ones already gone are skipped silently.

        Args:
            uris: File URIs.

        Returns:
            The URIs actually deleted.

        Example:
            >>> ObjectStorage("file:///").delete(["file:///definitely/not/here"])
            []
        """
        deleted: list[str] = []
        for uri in uris:
            try:
                self.fs.delete_file(self._path(uri))
            except FileNotFoundError:
                continue
            deleted.append(uri)
        return deleted

    def open_input(self, uri: str) -> pa.NativeFile:
        """Open a file for reading (random access).

        Example:
            >>> import pathlib, tempfile
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     _ = pathlib.Path(tmp, "k.bin").write_bytes(b"PAR1....")
            ...     with ObjectStorage(f"file://{tmp}").open_input(f"file://{tmp}/k.bin") as f:
            ...         f.read(4)
            b'PAR1'
        """
        return self.fs.open_input_file(self._path(uri))

    def open_output(self, uri: str) -> pa.NativeFile:
        """Open a file for writing (local parent folders are created; object stores need none).

        Example:
            >>> import pathlib, tempfile
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     with ObjectStorage(f"file://{tmp}").open_output(f"file://{tmp}/new/x.bin") as f:
            ...         _ = f.write(b"hi")
            ...     pathlib.Path(tmp, "new", "x.bin").read_bytes()
            b'hi'
        """
        path = self._path(uri)
        if self.scheme == "file":
            self.fs.create_dir(path.rsplit("/", 1)[0] or "/", recursive=True)
        return self.fs.open_output_stream(path, compression=None)  # bytes as given, never by suffix


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC).

    Example:
        >>> utcnow().tzinfo is UTC
        True
    """
    return datetime.now(UTC)
