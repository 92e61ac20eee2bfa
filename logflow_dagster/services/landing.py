"""A source's landing location as the orchestrators see it: what is ready to ingest, and which
files one partition holds (one file, or a daily/hourly window of files).
"""

from __future__ import annotations

from ..config import SourceConfig
from ..landing import LandedFile, LandingState, list_landing, scan_landing, window_key
from ..landing.windows import window_bounds
from .project import Project


def landing_ready(project: Project, source: SourceConfig, state: LandingState
                  ) -> list[tuple[str, LandedFile, str]]:
    """Files of ``source`` ready now, as (partition key, file, content hash); updates
    ``state``. The key is the file's own for per-file partitioning, else its window's.

    Example:
        >>> landing_ready(Project.load("."), source, LandingState())  # doctest: +SKIP
        []
    """
    ready = scan_landing(project.root, source.landing, state,
                         properties=project.storage_options(source))
    if source.partitioning == "file":
        return [(f.key, f, digest) for f, digest in ready]
    return [(window_key(source.partitioning, f.mtime_ns), f, digest) for f, digest in ready]


def files_for_partition(project: Project, source: SourceConfig, key: str) -> list[LandedFile]:
    """The files one partition of ``source`` ingests: the file ``key`` names, or the files
    modified in the window ``key`` names.

    Example:
        >>> [f.key for f in files_for_partition(project, source, "2024-03-01")]  # doctest: +SKIP
        ['landing/a.csv', 'landing/b.csv']
    """
    files = list_landing(project.root, source.landing, project.storage_options(source))
    if source.partitioning == "file":
        found = [f for f in files if f.key == key]
        if found:
            return found
        import os

        path = key if "://" in key else os.path.join(project.root, key)
        uri = path if "://" in path else "file://" + os.path.abspath(path)
        return [LandedFile(key, uri, 0, 0)]  # gone since: the ingest names the missing file
    lo, hi = window_bounds(source.partitioning, key)
    return [f for f in files if lo <= f.mtime_ns < hi]
