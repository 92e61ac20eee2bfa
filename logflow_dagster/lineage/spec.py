"""The OpenLineage spec this package writes: the schema URL of the run event and of each facet,
and the two helpers every event part is built with.

Events are plain JSON-ready dicts, serialized the way openlineage-python serializes its
``event_v2``/``facet_v2`` classes (None fields left out, every facet stamped with ``_producer``
and ``_schemaURL``). Building them without the library keeps its ~0.5 s import off the ingest
path; ``tests/lineage`` rebuilds every event with the library's classes and validates it against
the official JSON Schema, and checks that the URLs below are the pinned library's.

Example:
    >>> f = facet("DatasetVersionDatasetFacet", "urn:p", datasetVersion="7", extra=None)
    >>> sorted(f), f["_schemaURL"].split("/")[-4]
    (['_producer', '_schemaURL', 'datasetVersion'], '1-0-1')
"""

from __future__ import annotations

import os
import time
import uuid
from importlib import metadata
from typing import Any

#: The ``schemaURL`` of every run event (OpenLineage spec 2-0-2).
EVENT_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

#: Facet class -> the spec version of its schema (as openlineage-python 1.54 writes them).
FACET_VERSIONS = {
    "CatalogDatasetFacet": "1-1-0",
    "ColumnLineageDatasetFacet": "1-2-0",
    "DataQualityAssertionsDatasetFacet": "1-1-0",
    "DataQualityMetricsDatasetFacet": "1-0-1",
    "DatasetVersionDatasetFacet": "1-0-1",
    "ErrorMessageRunFacet": "1-0-1",
    "InputStatisticsInputDatasetFacet": "1-0-0",
    "JobTypeJobFacet": "2-0-4",
    "OutputStatisticsOutputDatasetFacet": "1-0-2",
    "ProcessingEngineRunFacet": "1-1-1",
    "SchemaDatasetFacet": "1-2-0",
}


def facet_schema_url(kind: str) -> str:
    """The ``_schemaURL`` of facet class ``kind``.

    Example:
        >>> facet_schema_url("JobTypeJobFacet")
        'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet'
    """
    return (f"https://openlineage.io/spec/facets/{FACET_VERSIONS[kind]}/{kind}.json"
            f"#/$defs/{kind}")


def facet(kind: str, producer: str, **fields: Any) -> dict[str, Any]:
    """One facet: ``fields`` without the None ones, stamped with producer and schema URL."""
    out = {"_producer": producer, "_schemaURL": facet_schema_url(kind)}
    out.update((k, v) for k, v in fields.items() if v is not None)
    return out


def openlineage_version() -> str:
    """The installed openlineage-python's version (the ``openlineageAdapterVersion``), read
    from its metadata without importing it."""
    try:
        return metadata.version("openlineage-python")
    except metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "unknown"


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then random.

    Example:
        >>> a, b = uuid7(), uuid7()
        >>> (a.version, a.variant == uuid.RFC_4122, str(a)[:8] <= str(b)[:8])
        (7, True, True)
    """
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    return uuid.UUID(int=value)
