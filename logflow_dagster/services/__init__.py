"""What a user can ask logflow for, Dagster-free: the one implementation the CLI, the Dagster
assets, sensors and checks, and the HTTP API all call, each rendering the typed result its
own way.

* :class:`Project`: a project folder's config, resolved catalog, lineage and rules;
* :func:`ingest_file`: a file into its table, with the quality rules and the lineage events
  (an :class:`IngestReport`);
* :func:`files_for_partition`, :func:`landing_ready`: what a source's partition holds, what
  landed since the last look;
* :func:`describe_table`, :func:`list_tables`: table statistics;
* :func:`compact_table`, :func:`expire_table`, :func:`remove_table_orphans`,
  :func:`maintain_table`: table maintenance, guarded against deleting another table's files;
* :mod:`.semantic` (imported on use: it loads sqlglot): the semantic layer's query, plan,
  meta and read-only SQL.

Example:
    >>> from logflow_dagster.services import Project
    >>> Project.load("/nonexistent-project").config.sources
    []
"""

from __future__ import annotations

from .ingest import IngestReport, ingest_file
from .landing import files_for_partition, landing_ready
from .maintenance import (
    MaintenanceReport,
    compact_table,
    expire_table,
    maintain_table,
    parse_duration,
    remove_table_orphans,
)
from .project import Project, catalog_config_for
from .tables import TableInfo, describe_table, list_tables

__all__ = [
    "IngestReport",
    "MaintenanceReport",
    "Project",
    "TableInfo",
    "catalog_config_for",
    "compact_table",
    "describe_table",
    "expire_table",
    "files_for_partition",
    "ingest_file",
    "landing_ready",
    "list_tables",
    "maintain_table",
    "parse_duration",
    "remove_table_orphans",
]
