"""Opening inputs on object storage: pyarrow file systems built from pyiceberg-style properties.

The engine reads a URI (``s3://bucket/key``) through pyarrow's ``S3FileSystem`` built from
the same properties that open the Iceberg catalog (``s3.endpoint``, ``s3.access-key-id``,
``s3.secret-access-key``, ``s3.session-token``, ``s3.region``,
``s3.force-virtual-addressing``), handed down by the caller; other schemes go through
pyarrow's own file systems (``gs://``, ``hdfs://``) or fsspec. The files it opens are seekable
(ranged GETs), so formats that need random access (Parquet) read without a local copy.

Example:
    >>> fs, path = filesystem_for("s3://bucket/in/a.csv", {"s3.endpoint": "http://127.0.0.1:9"})
    >>> type(fs).__name__, path
    ('S3FileSystem', 'bucket/in/a.csv')
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import BinaryIO
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs

SCHEME_ALIASES = {"s3a": "s3", "s3n": "s3", "gcs": "gs"}

_S3_ARGS = {
    "s3.endpoint": "endpoint_override",
    "s3.access-key-id": "access_key",
    "s3.secret-access-key": "secret_key",
    "s3.session-token": "session_token",
    "s3.region": "region",
}


def s3_filesystem(properties: Mapping[str, str]) -> pafs.S3FileSystem:
    """pyarrow's S3 file system from pyiceberg-style properties (an ``http://`` endpoint
    turns TLS off).

    Example:
        >>> s3_filesystem({"s3.region": "eu-west-1"}).region
        'eu-west-1'
    """
    return _s3_cached(tuple(sorted((k, str(v)) for k, v in properties.items()
                                   if k.startswith("s3."))))


@functools.lru_cache(maxsize=16)
def _s3_cached(items: tuple[tuple[str, str], ...]) -> pafs.S3FileSystem:
    properties = dict(items)
    kwargs: dict[str, object] = {arg: properties[key] for key, arg in _S3_ARGS.items()
                                 if properties.get(key)}
    if "s3.force-virtual-addressing" in properties:
        kwargs["force_virtual_addressing"] = properties["s3.force-virtual-addressing"] == "true"
    if str(kwargs.get("endpoint_override", "")).startswith("http://"):
        kwargs["scheme"] = "http"
    return pafs.S3FileSystem(**kwargs)  # type: ignore[arg-type]


def filesystem_for(uri: str, properties: Mapping[str, str] | None = None
                   ) -> tuple[pafs.FileSystem, str]:
    """The file system that holds ``uri`` and the path of ``uri`` on it.

    Example:
        >>> filesystem_for("s3://b/k.csv")[1]
        'b/k.csv'
    """
    parsed = urlparse(uri)
    scheme = SCHEME_ALIASES.get(parsed.scheme, parsed.scheme)
    path = f"{parsed.netloc}{parsed.path}"
    if scheme == "s3":
        return s3_filesystem(properties or {}), path
    try:
        fs, inner = pafs.FileSystem.from_uri(uri)
        return fs, inner
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OSError):
        from fsspec.core import url_to_fs

        fs, inner = url_to_fs(uri)
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), inner


def open_uri(uri: str, properties: Mapping[str, str] | None = None) -> BinaryIO:
    """Opens ``uri`` for reading: seekable, read in ranged requests, nothing copied locally.

    Raises:
        FileNotFoundError: Nothing is stored at ``uri``.

    Examples:
        .. code-block:: python

            props = {"s3.endpoint": "http://127.0.0.1:8333", "s3.access-key-id": "admin",
                     "s3.secret-access-key": "secret"}
            with open_uri("s3://bucket/in/a.csv", props) as f:
                head = f.read(4)
    """
    fs, path = filesystem_for(uri, properties)
    return fs.open_input_file(path)  # type: ignore[return-value]


def uri_size(uri: str, properties: Mapping[str, str] | None = None) -> int | None:
    """The stored size of ``uri`` in bytes (``None`` when the store does not say).

    Raises:
        FileNotFoundError: Nothing is stored at ``uri``.
    """
    fs, path = filesystem_for(uri, properties)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(uri)
    if info.type == pafs.FileType.Directory:
        raise IsADirectoryError(uri)
    return info.size
