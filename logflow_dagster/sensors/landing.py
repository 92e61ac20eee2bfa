"""A sensor per source: new or changed files in the landing location become partition runs.

The landing logic (listing, cursor state, partition keys, time windows) is Dagster-free, in
:mod:`logflow_dagster.landing` and :func:`logflow_dagster.services.landing_ready`; this module
turns what is ready into run requests. The cursor remembers each file by key, size,
modification time and content hash: a file is requested once its size and mtime held still
between two ticks; a changed file re-runs its partition; a re-dropped identical file does not.

(No ``from __future__ import annotations``: Dagster reads the annotations at runtime.)
"""

import dagster as dg

from ..assets.specs import partitions_for, table_key
from ..config import ProjectConfig, SourceConfig
from ..landing import LandingState
from ..services import Project, landing_ready

__all__ = ["TABLE_TAG", "build_landing_sensor"]

#: The run tag naming the table a run writes: the QueuedRunCoordinator's
#: ``tag_concurrency_limits`` use it to keep writers to one table from piling up.
TABLE_TAG = "logflow/table"


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
    tags = {TABLE_TAG: source.table}  # the run queue limits concurrent runs per table
    project = Project.from_config(config)

    @dg.sensor(name=f"{source.name}_landing", asset_selection=[key],
               minimum_interval_seconds=minimum_interval_seconds,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Watches {source.landing} for new and changed files.")
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = LandingState.load(context.cursor)
        ready = landing_ready(project, source, state)
        if source.partitioning != "file":  # a window partition per file's modification time
            return dg.SensorResult(
                run_requests=[dg.RunRequest(partition_key=part, run_key=f"{f.key}:{digest}",
                                            tags=tags)
                              for part, f, digest in ready],
                cursor=state.dump())
        ready = [(part, f, digest) for part, f, digest in ready
                 if not _already_ingested(context.instance, key, part, digest)]
        known = set(context.instance.get_dynamic_partitions(partitions.name or ""))
        new_keys = sorted({part for part, _, _ in ready if part not in known})
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=part, run_key=f"{part}:{digest}",
                                        tags=tags)
                          for part, _, digest in ready],
            dynamic_partitions_requests=[partitions.build_add_request(new_keys)]
            if new_keys else [],
            cursor=state.dump(),
        )

    return _sensor
