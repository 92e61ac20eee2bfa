"""A sensor per source: new or changed files in the landing location become partition runs.

The cursor remembers each file by path, size, modification time and content hash. A file is
requested only once its size and mtime held still between two ticks (files still being written
wait); a changed file re-runs its partition; a re-dropped identical file (same hash) does not.
"""

import glob
import json
import os
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import xxhash

from ..assets.ingest import partitions_for, window_key
from ..assets.specs import table_key
from ..config import ProjectConfig, SourceConfig


@dataclass
class LandingState:
    """What the cursor holds: files done (size, mtime, hash) and files seen once (size, mtime)."""

    seen: dict[str, list[Any]] = field(default_factory=dict)
    pending: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, cursor: str | None) -> "LandingState":
        if not cursor:
            return cls()
        data = json.loads(cursor)
        return cls(data.get("seen", {}), data.get("pending", {}))

    def dump(self) -> str:
        return json.dumps({"seen": self.seen, "pending": self.pending}, sort_keys=True)


def landing_files(root: str, landing: str) -> list[str]:
    base = os.path.join(root, landing)
    pattern = os.path.join(base, "**", "*") if os.path.isdir(base) else base
    out = []
    for path in glob.glob(pattern, recursive=True):
        name = os.path.basename(path)
        if os.path.isfile(path) and not name.startswith(".") and not name.endswith(".tmp"):
            out.append(os.path.relpath(path, root))
    return sorted(out)


def _hash(path: str) -> str:
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def scan_landing(root: str, landing: str, state: LandingState) -> list[tuple[str, str]]:
    """Files to ingest now, as (project-relative path, content hash); updates ``state``.

    Example:
        >>> state = LandingState()
        >>> scan_landing("/srv/proj", "landing/orders", state)  # doctest: +SKIP
        []
    """
    ready: list[tuple[str, str]] = []
    present = set()
    for rel in landing_files(root, landing):
        present.add(rel)
        st = os.stat(os.path.join(root, rel))
        now = [st.st_size, st.st_mtime_ns]
        done = state.seen.get(rel)
        if done is not None and done[:2] == now:
            continue
        if state.pending.get(rel) != now:  # new or still changing: look again next tick
            state.pending[rel] = now
            continue
        del state.pending[rel]
        digest = _hash(os.path.join(root, rel))
        state.seen[rel] = [*now, digest]
        if done is None or done[2] != digest:
            ready.append((rel, digest))
    for rel in list(state.pending):
        if rel not in present:
            del state.pending[rel]
    return ready


def _already_ingested(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str,
                      digest: str) -> bool:
    """True when the partition's latest materialization ingested these exact bytes (another
    cursor, e.g. ``logflow run`` beside the daemon, may have seen the file first)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1).records
    if not records:
        return False
    mat = records[0].asset_materialization
    value = mat.metadata.get("logflow/source_hash") if mat is not None else None
    return value is not None and getattr(value, "value", value) == digest


def build_landing_sensor(*, config: ProjectConfig, source: SourceConfig,
                         minimum_interval_seconds: int = 30) -> dg.SensorDefinition:
    """The sensor over one source's landing location.

    Examples:
        .. code-block:: python

            import dagster as dg
            from logflow_dagster.config import load_config
            from logflow_dagster.sensors import build_landing_sensor

            config = load_config("logflow.yaml")
            defs = dg.Definitions(sensors=[build_landing_sensor(config=config, source=s)
                                           for s in config.sources])
    """
    partitions = partitions_for(source)
    key = table_key(config, source.table)

    @dg.sensor(name=f"{source.name}_landing", asset_selection=[key],
               minimum_interval_seconds=minimum_interval_seconds,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Watches {source.landing} for new and changed files.")
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = LandingState.load(context.cursor)
        ready = scan_landing(config.root, source.landing, state)
        if source.partitioning != "file":  # a window partition per file's modification time
            requests = []
            for rel, digest in ready:
                mtime = state.seen[rel][1]
                requests.append(dg.RunRequest(partition_key=window_key(source, mtime),
                                              run_key=f"{rel}:{digest}"))
            return dg.SensorResult(run_requests=requests, cursor=state.dump())
        ready = [(rel, digest) for rel, digest in ready
                 if not _already_ingested(context.instance, key, rel, digest)]
        known = set(context.instance.get_dynamic_partitions(partitions.name or ""))
        new_keys = sorted({rel for rel, _ in ready if rel not in known})
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=rel, run_key=f"{rel}:{digest}")
                          for rel, digest in ready],
            dynamic_partitions_requests=[partitions.build_add_request(new_keys)]
            if new_keys else [],
            cursor=state.dump(),
        )

    return _sensor
