"""Which files a table's snapshots and metadata still reference.

Built on pyiceberg's public metadata API: ``Snapshot.manifests(io)`` reads a manifest list,
``ManifestFile.fetch_manifest_entry(io, discard_deleted=True)`` reads the live entries of a
manifest. Paths are compared in :func:`~logflow_dagster.lakehouse.storage.canonical_uri` form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..storage import canonical_uri

if TYPE_CHECKING:
    from pyiceberg.io import FileIO
    from pyiceberg.manifest import ManifestFile
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

FileKind = Literal["data", "delete", "manifest", "manifest_list", "metadata", "statistics"]


@dataclass(frozen=True)
class RefFile:
    """A file some part of the table's metadata points at.

    Attributes:
        path: The location exactly as written in the metadata (use it for deletion).
        size: Size in bytes when the metadata records it, else None.
        kind: What the file is.

    Example:
        >>> RefFile("file:///wh/t/data/a.parquet", 812, "data").kind
        'data'
    """

    path: str
    size: int | None
    kind: FileKind


Referenced = dict[str, RefFile]  # canonical URI -> file


class ManifestCache:
    """Live entries per manifest path, so shared manifests are read once per run.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> table.append(pa.table({"id": [3]}))
        >>> cache = ManifestCache(table.io)
        >>> files = snapshot_files(table.metadata.snapshots, cache)  # reads each manifest once
        >>> sorted(ref.kind for ref in files.values())
        ['data', 'data', 'manifest', 'manifest', 'manifest_list', 'manifest_list']
        >>> close_catalog(catalog); tmp.cleanup()
    """

    def __init__(self, io: FileIO) -> None:
        self.io = io
        self._entries: dict[str, list[RefFile]] = {}
        self._lists: dict[str, list[ManifestFile]] = {}

    def manifests(self, snapshot: Snapshot) -> list[ManifestFile]:
        """The manifests of a snapshot (its manifest list is read once per cache)."""
        path = snapshot.manifest_list
        if path not in self._lists:
            self._lists[path] = list(snapshot.manifests(self.io))
        return self._lists[path]

    def _read(self, manifest: ManifestFile) -> list[RefFile]:
        from pyiceberg.manifest import DataFileContent

        out = []
        for entry in manifest.fetch_manifest_entry(self.io, discard_deleted=True):
            data_file = entry.data_file
            kind: FileKind = "data" if data_file.content == DataFileContent.DATA else "delete"
            out.append(RefFile(data_file.file_path, data_file.file_size_in_bytes, kind))
        return out

    def entries(self, manifests: Iterable[ManifestFile]) -> dict[str, list[RefFile]]:
        """Live content files of each manifest (read in parallel when not cached)."""
        from pyiceberg.utils.concurrent import ExecutorFactory

        todo = {m.manifest_path: m for m in manifests if m.manifest_path not in self._entries}
        if todo:
            executor = ExecutorFactory.get_or_create()
            for path, files in zip(todo, executor.map(self._read, todo.values()), strict=True):
                self._entries[path] = files
        return self._entries


def snapshot_files(snapshots: Iterable[Snapshot], cache: ManifestCache) -> Referenced:
    """Every file reachable from ``snapshots``: manifest lists, manifests, data/delete files.

    Args:
        snapshots: Snapshots to walk (typically all snapshots left in the metadata).
        cache: Manifest cache bound to the table's FileIO.

    Returns:
        Canonical URI -> :class:`RefFile`.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> refs = snapshot_files(table.snapshots(), ManifestCache(table.io))
        >>> sorted(ref.kind for ref in refs.values())
        ['data', 'manifest', 'manifest_list']
        >>> close_catalog(catalog); tmp.cleanup()
    """
    out: Referenced = {}
    manifests: dict[str, ManifestFile] = {}
    for snapshot in snapshots:
        out[canonical_uri(snapshot.manifest_list)] = RefFile(snapshot.manifest_list, None,
                                                              "manifest_list")
        for manifest in cache.manifests(snapshot):
            manifests[manifest.manifest_path] = manifest
    entries = cache.entries(manifests.values())
    for path, manifest in manifests.items():
        out[canonical_uri(path)] = RefFile(path, manifest.manifest_length, "manifest")
        for ref in entries[path]:
            out.setdefault(canonical_uri(ref.path), ref)
    return out


def metadata_files(table: Table) -> Referenced:
    """The current and logged previous metadata.json files, statistics files and version hint.

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> sorted(uri.rsplit("/", 1)[1][:6] for uri in metadata_files(table))
        ['00000-', '00001-', 'versio']
        >>> close_catalog(catalog); tmp.cleanup()
    """
    meta = table.metadata
    out: Referenced = {}
    paths = [table.metadata_location, *(entry.metadata_file for entry in meta.metadata_log)]
    for path in paths:
        out[canonical_uri(path)] = RefFile(path, None, "metadata")
    for stats in [*meta.statistics, *meta.partition_statistics]:
        out[canonical_uri(stats.statistics_path)] = RefFile(stats.statistics_path, None,
                                                             "statistics")
    hint = table.location().rstrip("/") + "/metadata/version-hint.text"
    out[canonical_uri(hint)] = RefFile(hint, None, "metadata")
    return out


def referenced_files(table: Table, cache: ManifestCache | None = None) -> Referenced:
    """Everything the table's current metadata keeps alive (all snapshots + metadata files).

    Example:
        >>> import tempfile, pyarrow as pa
        >>> from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog
        >>> tmp = tempfile.TemporaryDirectory()
        >>> catalog = open_catalog(CatalogConfig.embedded(tmp.name))
        >>> catalog.create_namespace("raw")
        >>> table = catalog.create_table("raw.t", pa.schema([("id", pa.int64())]))
        >>> table.append(pa.table({"id": [1, 2]}))
        >>> data_file = table.scan().plan_files()[0].file.file_path
        >>> canonical_uri(data_file) in referenced_files(table)
        True
        >>> close_catalog(catalog); tmp.cleanup()
    """
    cache = cache or ManifestCache(table.io)
    return {**snapshot_files(table.metadata.snapshots, cache), **metadata_files(table)}


def is_under(path: str, location: str) -> bool:
    """True when ``path`` lies under the folder ``location`` (canonical comparison).

    Example:
        >>> is_under("file:///wh/t/data/a.parquet", "file:///wh/t")
        True
        >>> is_under("file:///wh/t2/a.parquet", "file:///wh/t")
        False
    """
    return canonical_uri(path).startswith(canonical_uri(location).rstrip("/") + "/")
