"""Table statistics, in one place: what ``logflow tables``, the maintenance thresholds, the
Dagster metadata and the HTTP API report about a table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .project import Project

if TYPE_CHECKING:
    from pyiceberg.table import Table

#: A data file smaller than this share of the compaction target counts as small.
SMALL_FILE_SHARE = 0.75


@dataclass
class TableInfo:
    """What a table holds now.

    Example:
        >>> TableInfo("raw.a", "file:///wh/raw/a", rows=3).to_dict()["rows"]
        3
    """

    table: str
    location: str
    schema: list[dict[str, str]] = field(default_factory=list)
    partition_spec: list[str] = field(default_factory=list)
    snapshots: int = 0
    current_snapshot_id: int | None = None
    data_files: int = 0
    small_files: int = 0
    rows: int = 0
    bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def describe_table(table: Table, *, small_file_bytes: int | None = None) -> TableInfo:
    """Statistics of a loaded pyiceberg table.

    Args:
        table: The table.
        small_file_bytes: Files below this size are small (default: 75% of the compaction
            target).
    """
    from ..lakehouse.maintenance import DEFAULT_TARGET_FILE_SIZE

    limit = small_file_bytes if small_file_bytes is not None else int(
        DEFAULT_TARGET_FILE_SIZE * SMALL_FILE_SHARE)
    snap = table.current_snapshot()
    info = TableInfo(
        table=".".join(table.name()[-2:]), location=table.location(),
        schema=[{"name": f.name, "type": str(f.field_type)} for f in table.schema().fields],
        partition_spec=[str(f) for f in table.spec().fields],
        snapshots=len(table.snapshots()),
        current_snapshot_id=snap.snapshot_id if snap else None)
    if snap is not None:
        files = table.inspect.files()
        sizes = files.column("file_size_in_bytes").to_pylist()
        info.data_files = len(sizes)
        info.small_files = sum(1 for s in sizes if s < limit)
        info.rows = int(sum(files.column("record_count").to_pylist()))
        info.bytes = int(sum(sizes))
    return info


def list_tables(project: Project) -> list[TableInfo]:
    """Every table of the project's catalog, described.

    Example:
        >>> import pathlib, tempfile
        >>> from logflow_dagster.lakehouse.ingest import ingest
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = pathlib.Path(tmp, "a.csv").write_text("id\\n1\\n2\\n")
        ...     _ = ingest(f"{tmp}/a.csv", "raw.orders", project_dir=tmp)
        ...     [(t.table, t.rows, t.data_files) for t in list_tables(Project.load(tmp))]
        [('raw.orders', 2, 1)]
    """
    out = []
    with project.open_catalog() as catalog:
        for namespace in catalog.list_namespaces():
            for ident in catalog.list_tables(namespace):
                out.append(describe_table(catalog.load_table(ident)))
    return sorted(out, key=lambda t: t.table)


def last_runs(project: Project, limit: int = 10) -> tuple[int, list[dict[str, Any]]]:
    """The number of tables and the latest snapshot commits across them (newest first), from
    the snapshots' own summaries: ``[{"table", "snapshot_id", "committed_at", "operation",
    "added_records", "total_records"}]`` (what ``/health`` reports as the last runs).

    Example:
        >>> import pathlib, tempfile
        >>> from logflow_dagster.lakehouse.ingest import ingest
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = pathlib.Path(tmp, "a.csv").write_text("id\\n1\\n2\\n")
        ...     _ = ingest(f"{tmp}/a.csv", "raw.orders", project_dir=tmp, lineage=False)
        ...     n, runs = last_runs(Project.load(tmp))
        ...     n, runs[0]["table"], runs[0]["operation"], runs[0]["added_records"]
        (1, 'raw.orders', 'append', 2)
    """
    from datetime import UTC, datetime

    tables = 0
    out: list[dict[str, Any]] = []
    with project.open_catalog() as catalog:
        for namespace in catalog.list_namespaces():
            for ident in catalog.list_tables(namespace):
                tables += 1
                table = catalog.load_table(ident)
                name = ".".join(table.name()[-2:])
                for snap in table.snapshots()[-limit:]:
                    summary = snap.summary
                    extra = summary.additional_properties if summary is not None else {}
                    out.append({
                        "table": name, "snapshot_id": snap.snapshot_id,
                        "committed_at": datetime.fromtimestamp(
                            snap.timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds"),
                        "operation": str(summary.operation.value) if summary else None,
                        "added_records": int(extra.get("added-records", 0)),
                        "total_records": int(extra.get("total-records", 0))})
    out.sort(key=lambda r: r["committed_at"], reverse=True)
    return tables, out[:limit]
