"""Table maintenance as services: compaction, snapshot expiry and orphan removal, each loading
the table from the project's catalog and never deleting a file another table owns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..core.errors import UsageError
from .project import Project

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """Reads ``7d``, ``12h``, ``30m``, ``90s``, ``2w``.

    Raises:
        UsageError: For anything else.

    Example:
        >>> parse_duration("7d")
        datetime.timedelta(days=7)
    """
    m = _DURATION.match(text)
    if not m:
        raise UsageError(f"bad duration {text!r}; use e.g. 7d, 12h, 30m, 90s")
    return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})


def _age(value: timedelta | str) -> timedelta:
    return parse_duration(value) if isinstance(value, str) else value


@contextmanager
def _guarded(project: Project, table: str) -> Iterator[tuple[Any, Any]]:
    """``table`` loaded, and the catalog's other tables whose files a deleting verb must
    keep (:class:`~logflow_dagster.lakehouse.maintenance.OtherTables`)."""
    from ..lakehouse.maintenance import OtherTables

    with project.open_catalog() as catalog:
        loaded = project.load_table(table, catalog)
        yield loaded, OtherTables.of(catalog, loaded)


def compact_table(project: Project, table: str, *, target_file_size: int | None = None,
                  identity: Any = None) -> Any:
    """Rewrites ``table``'s small data files into files near the target size (one snapshot).

    Returns:
        The :class:`~logflow_dagster.lakehouse.maintenance.CompactionResult`.

    Raises:
        Forbidden: ``identity`` may not maintain the table (None: the trusted caller).
    """
    from ..lakehouse.maintenance import DEFAULT_TARGET_FILE_SIZE, compact

    project.authorize(identity, "maintain", table)
    with project.open_catalog() as catalog:
        return compact(project.load_table(table, catalog),
                       target_file_size=target_file_size or DEFAULT_TARGET_FILE_SIZE)


def expire_table(project: Project, table: str, *, older_than: timedelta | str,
                 retain_last: int = 1, identity: Any = None) -> Any:
    """Expires old snapshots of ``table`` and deletes the files only they referenced (never a
    file another table references or holds under its location).

    Returns:
        The :class:`~logflow_dagster.lakehouse.maintenance.ExpiryResult`.
    """
    from ..lakehouse.maintenance import expire_snapshots

    project.authorize(identity, "maintain", table)
    with _guarded(project, table) as (loaded, others):
        return expire_snapshots(loaded, older_than=_age(older_than), retain_last=retain_last,
                                others=others)


def remove_table_orphans(project: Project, table: str, *, older_than: timedelta | str,
                         dry_run: bool = False, identity: Any = None) -> Any:
    """Deletes files under ``table``'s location that nothing references, except files that
    belong to another table (reported as ``protected_paths``).

    Returns:
        The :class:`~logflow_dagster.lakehouse.maintenance.OrphanResult`.
    """
    from ..lakehouse.maintenance import remove_orphans

    project.authorize(identity, "maintain", table)
    with _guarded(project, table) as (loaded, others):
        return remove_orphans(loaded, older_than=_age(older_than), dry_run=dry_run,
                              others=others)


@dataclass
class MaintenanceReport:
    """One maintenance pass on a table: compaction, then expiry."""

    compaction: Any
    expiry: Any

    def metadata(self) -> dict[str, Any]:
        """Flat numbers for Dagster metadata and JSON output."""
        c, e = self.compaction, self.expiry
        return {"files_before": c.files_before, "files_after": c.files_after,
                "bytes_before": c.bytes_before, "bytes_after": c.bytes_after,
                "expired_files_deleted": e.deleted_paths,
                "snapshot_id": c.snapshot_id_after}


def maintain_table(project: Project, table: str, *, identity: Any = None) -> MaintenanceReport:
    """Compacts ``table``, then expires snapshots older than ``maintenance.expire_older_than``.
    """
    compaction = compact_table(project, table, identity=identity)
    expiry = expire_table(project, table,
                          older_than=project.config.maintenance.expire_older_than,
                          identity=identity)
    return MaintenanceReport(compaction, expiry)


def maintenance_due(project: Project) -> list[tuple[str, str, int | None]]:
    """Tables past the thresholds of ``maintenance:`` (small files, snapshots), as (table,
    reason, current snapshot id).

    Example:
        >>> maintenance_due(Project.load("/nonexistent"))
        []
    """
    from pyiceberg.exceptions import NoSuchTableError

    from .tables import describe_table

    settings = project.config.maintenance
    due = []
    tables = sorted({s.table for s in project.config.sources})
    if not tables:
        return due
    with project.open_catalog() as catalog:
        for name in tables:
            try:
                info = describe_table(catalog.load_table(name))
            except NoSuchTableError:
                continue
            if info.small_files >= settings.small_files or info.snapshots > settings.max_snapshots:
                reason = (f"{info.small_files} small files, {info.snapshots} snapshots "
                          f"(thresholds {settings.small_files}, {settings.max_snapshots})")
                due.append((name, reason, info.current_snapshot_id))
    return due
