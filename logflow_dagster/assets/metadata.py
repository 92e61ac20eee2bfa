"""Dagster materialization metadata of an ingest, from the service's typed results.

Numbers Dagster plots over time (rows, rejects, throughput) stay numeric; the quality profile
is a table (one row per column: nulls, null ratio, distinct, min, max, entropy) that the asset
page shows as such; a skipped file (same content already in the table) reports what the table
holds for it, never zeros that read as data loss.

(No ``from __future__ import annotations``: the Dagster layer keeps annotations resolvable.)
"""

from typing import Any

import dagster as dg

from ..core.result import IngestResult

PROFILE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("column", "string"),
    dg.TableColumn("type", "string"),
    dg.TableColumn("nulls", "int"),
    dg.TableColumn("null_ratio", "float"),
    dg.TableColumn("distinct", "int"),
    dg.TableColumn("distinct_exact", "bool"),
    dg.TableColumn("min", "string"),
    dg.TableColumn("max", "string"),
    dg.TableColumn("entropy", "float"),
])


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def profile_table(result: IngestResult) -> dg.TableMetadataValue:
    """The quality profile as Dagster table metadata, one record per column.

    Example:
        >>> r = IngestResult("a.csv", "t", "csv", columns=[{"name": "a", "type": "int64"}],
        ...                  profile={"columns": [{"name": "a", "nulls": 1, "null_ratio": 0.5,
        ...                                        "distinct": 1, "min": 1, "max": 1}]})
        >>> profile_table(r).records[0].data["null_ratio"]
        0.5
    """
    types = {c["name"]: c["type"] for c in result.columns}
    records = []
    for col in result.profile.get("columns", []):
        records.append(dg.TableRecord({
            "column": col["name"], "type": types.get(col["name"], ""),
            "nulls": int(col.get("nulls") or 0),
            "null_ratio": round(float(col.get("null_ratio") or 0.0), 6),
            "distinct": int(col.get("distinct") or 0),
            "distinct_exact": bool(col.get("distinct_exact", True)),
            "min": _text(col.get("min")), "max": _text(col.get("max")),
            "entropy": float(col["entropy"]) if col.get("entropy") is not None else None}))
    return dg.MetadataValue.table(records, schema=PROFILE_SCHEMA)


def column_schema(result: IngestResult) -> dg.TableSchema:
    """The written columns as ``dagster/column_schema``."""
    return dg.TableSchema(columns=[dg.TableColumn(c["name"], c["type"])
                                   for c in result.columns])


def ingest_metadata(result: IngestResult) -> dict[str, Any]:
    """Materialization metadata of one file's ingest.

    Example:
        >>> md = ingest_metadata(IngestResult("a.csv", "t", "csv", rows_read=2,
        ...                                   rows_written=2, skipped=True, snapshot_id=7))
        >>> md["dagster/row_count"], md["logflow/skipped"], "logflow/profile" in md
        (2, True, False)
    """
    md: dict[str, Any] = {
        "dagster/row_count": result.rows_written,
        "dagster/column_schema": column_schema(result),
        "logflow/rows_read": result.rows_read,
        "logflow/rows_rejected": result.rows_rejected,
        "logflow/quarantine": result.quarantine or "",
        "logflow/snapshot_id": str(result.snapshot_id or ""),
        "logflow/skipped": result.skipped,
        "logflow/source_hash": result.source_hash or "",
    }
    if result.skipped:  # nothing was read now: the counts are the earlier ingest's
        md["logflow/note"] = ("identical content already in the table: rows and columns are "
                              "what the table holds for this file")
        return md
    md.update({
        "logflow/checksum": result.checksum or "",
        "logflow/rows_per_s": float(result.rows_per_s),
        "logflow/profile": profile_table(result),
    })
    return md


def window_metadata(results: list[IngestResult]) -> dict[str, Any]:
    """Materialization metadata of a time window: sums over its files (one file: its own).

    Example:
        >>> window_metadata([])["logflow/files"]
        0
    """
    if len(results) == 1:
        return ingest_metadata(results[0])
    merged: dict[str, Any] = {
        "dagster/row_count": sum(r.rows_written for r in results),
        "logflow/rows_read": sum(r.rows_read for r in results),
        "logflow/rows_rejected": sum(r.rows_rejected for r in results),
        "logflow/files": len(results),
        "logflow/source_hash": "",
    }
    if results:
        merged["dagster/column_schema"] = column_schema(results[-1])
        merged["logflow/snapshot_id"] = str(results[-1].snapshot_id or "")
    return merged
