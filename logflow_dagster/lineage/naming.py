"""OpenLineage dataset names for landing files and Iceberg tables.

Files follow the OpenLineage naming conventions: a local file is namespace ``file`` with its
absolute path as name; an object is namespace ``<scheme>://<bucket>`` with its key as name
(``s3a://``/``s3n://`` are spelled ``s3://``). An Iceberg table is namespace
``iceberg://<warehouse location>`` (the warehouse URI without its scheme) with ``namespace.table``
as name, so the same table written through two catalogs over one warehouse is one dataset.
Credentials in a URI (``user:secret@host``) never reach an event.

Example:
    >>> file_dataset("s3a://landing/orders/a.csv")
    ('s3://landing', 'orders/a.csv')
    >>> iceberg_namespace("s3://lake/warehouse")
    'iceberg://lake/warehouse'
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

_SCHEME_ALIASES = {"s3a": "s3", "s3n": "s3"}
EMBEDDED_WAREHOUSE = Path(".logflow") / "warehouse"


def _host(netloc: str) -> str:
    """``netloc`` without ``user:password@``."""
    return netloc.rsplit("@", 1)[-1]


def _is_local(scheme: str) -> bool:
    # A one-letter scheme is a Windows drive (C:\data\a.csv), not a URI.
    return scheme in ("", "file") or len(scheme) == 1


def file_dataset(uri: str | os.PathLike[str], root: str | os.PathLike[str] | None = None,
                 ) -> tuple[str, str]:
    """The ``(namespace, name)`` of a file or object.

    Args:
        uri: A local path (absolute or relative), a ``file:`` URI or an object URI.
        root: The folder a relative path is relative to (default: the working directory).

    Returns:
        ``("file", "/abs/path")`` for a local file, ``("s3://bucket", "key")`` for an object.

    Example:
        >>> file_dataset("landing/a.csv", root="/srv/proj")
        ('file', '/srv/proj/landing/a.csv')
        >>> file_dataset("file:///srv/proj/landing/a.csv")
        ('file', '/srv/proj/landing/a.csv')
    """
    text = os.fspath(uri)
    parsed = urlparse(text)
    if _is_local(parsed.scheme):
        path = unquote(parsed.path) if parsed.scheme == "file" else text
        base = Path(root) if root is not None else Path.cwd()
        return "file", os.path.normpath(base / path)
    scheme = _SCHEME_ALIASES.get(parsed.scheme, parsed.scheme)
    return f"{scheme}://{_host(parsed.netloc)}", parsed.path.lstrip("/") or "/"


def default_warehouse(root: str | os.PathLike[str]) -> str:
    """The embedded warehouse URI of a project (``file://<root>/.logflow/warehouse``).

    Example:
        >>> default_warehouse("/srv/proj")
        'file:///srv/proj/.logflow/warehouse'
    """
    return (Path(root).expanduser().resolve() / EMBEDDED_WAREHOUSE).as_uri()


def iceberg_namespace(warehouse: str) -> str:
    """The dataset namespace of the tables stored under ``warehouse``.

    Args:
        warehouse: The warehouse URI (``file:///abs/path``, ``s3://bucket/prefix``) or path.

    Returns:
        ``iceberg://`` followed by the warehouse's host and path, without credentials or a
        trailing slash.

    Example:
        >>> iceberg_namespace("file:///srv/proj/.logflow/warehouse/")
        'iceberg:///srv/proj/.logflow/warehouse'
    """
    parsed = urlparse(warehouse)
    if _is_local(parsed.scheme):
        path = unquote(parsed.path) if parsed.scheme == "file" else warehouse
        return "iceberg://" + os.path.normpath(os.path.abspath(path))
    return f"iceberg://{_host(parsed.netloc)}{parsed.path.rstrip('/')}"


def redact_uri(uri: str) -> str:
    """``uri`` without the ``user:password@`` part, for facets that name a location.

    Example:
        >>> redact_uri("s3://key:secret@bucket/wh")
        's3://bucket/wh'
    """
    parsed = urlparse(uri)
    if "@" not in parsed.netloc:
        return uri
    return parsed._replace(netloc=_host(parsed.netloc)).geturl()
