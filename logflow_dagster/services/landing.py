"""A source's landing location as the orchestrators see it: what is ready to ingest, and which
files one partition holds (one file, or a daily/hourly window of files).
"""

from __future__ import annotations

import os

from ..config import SourceConfig
from ..landing import LandedFile, LandingState, list_landing, scan_landing, window_key
from ..landing.windows import window_bounds
from .project import Project


def landing_ready(project: Project, source: SourceConfig, state: LandingState
                  ) -> list[tuple[str, LandedFile, str]]:
    """Files of ``source`` ready now, as (partition key, file, content hash); updates
    ``state``. The key is the file's own for per-file partitioning, else its window's.

    Example:
        >>> import pathlib, tempfile
        >>> yaml = "sources:\\n  - {name: a, landing: in, table: raw.a}\\n"
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = pathlib.Path(tmp, "logflow.yaml").write_text(yaml)
        ...     pathlib.Path(tmp, "in").mkdir()
        ...     _ = pathlib.Path(tmp, "in", "a.csv").write_text("id\\n1\\n")
        ...     project, state = Project.load(tmp), LandingState()
        ...     landing_ready(project, project.config.sources[0], state)  # first seen: wait
        ...     [key for key, _, _ in landing_ready(project, project.config.sources[0], state)]
        []
        ['in/a.csv']
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
        >>> import os, pathlib, tempfile
        >>> yaml = ("sources:\\n  - {name: a, landing: in, table: raw.a, partitioning: daily,"
        ...         " partition_start: '2024-03-01'}\\n")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = pathlib.Path(tmp, "logflow.yaml").write_text(yaml)
        ...     pathlib.Path(tmp, "in").mkdir()
        ...     for day, mtime in (("1", 1709294400), ("2", 1709380800)):  # 2024-03-01/02 12:00Z
        ...         _ = pathlib.Path(tmp, "in", f"{day}.csv").write_text("id\\n1\\n")
        ...         os.utime(pathlib.Path(tmp, "in", f"{day}.csv"), (mtime, mtime))
        ...     project = Project.load(tmp)
        ...     source = project.config.sources[0]
        ...     [f.key for f in files_for_partition(project, source, "2024-03-01")]
        ['in/1.csv']
    """
    files = list_landing(project.root, source.landing, project.storage_options(source))
    if source.partitioning == "file":
        found = [f for f in files if f.key == key]
        if found:
            return found
        path = key if "://" in key else os.path.join(project.root, key)
        uri = path if "://" in path else "file://" + os.path.abspath(path)
        return [LandedFile(key, uri, 0, 0)]  # gone since: the ingest names the missing file
    lo, hi = window_bounds(source.partitioning, key)
    return [f for f in files if lo <= f.mtime_ns < hi]
