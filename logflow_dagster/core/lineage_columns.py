"""The lineage columns an ingest adds to every row of a table (one place for their names).

Example:
    >>> LINEAGE_COLUMNS
    ('_source_uri', '_source_hash', '_ingested_at')
"""

from __future__ import annotations

SOURCE_URI = "_source_uri"
SOURCE_HASH = "_source_hash"
INGESTED_AT = "_ingested_at"
LINEAGE_COLUMNS: tuple[str, ...] = (SOURCE_URI, SOURCE_HASH, INGESTED_AT)
