"""The semantic layer as a service: open a project's layer, answer a Cube query (or plan it),
describe the model, run read-only SQL over the project's tables. The CLI, Dagster and the
HTTP API call these and render the typed results their own way.

Examples:
    .. code-block:: python

        from logflow_dagster.services import semantic

        semantic.run_query("logflow-demo", {"measures": ["sales.events"]}).data
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..config import ProjectConfig
from ..core.errors import UsageError
from ..semantic import QueryPlan, QueryResult, SemanticLayer, SqlResult
from ..semantic.rollups import BuildResult

PathLike = str | os.PathLike[str]


def open_layer(project: PathLike = ".", *, catalog_uri: str | None = None,
               warehouse: str | None = None, require_models: bool = True) -> SemanticLayer:
    """The project's semantic layer (its ``logflow.yaml``, models and catalog).

    Raises:
        UsageError: No ``logflow.yaml``, no models (when ``require_models``), a model error.
    """
    return SemanticLayer.from_project(project, catalog_uri=catalog_uri, warehouse=warehouse,
                                      require_models=require_models)


def parse_query_arg(text: str) -> Any:
    """A query given on a command line: JSON text, or ``@file.json``.

    Raises:
        UsageError: A missing file or text that is not JSON.

    Example:
        >>> parse_query_arg('{"measures": ["orders.count"]}')
        {'measures': ['orders.count']}
    """
    source = "query"
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise UsageError(f"{path}: no such query file")
        source, text = str(path), path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{source}: not valid JSON: {err.msg} (line {err.lineno}, column "
                         f"{err.colno})") from None


def run_query(project: PathLike, query: Any, identity: Any = None, **options: Any
              ) -> QueryResult:
    """Answers a Cube query in a project (``options`` as :func:`open_layer`)."""
    with open_layer(project, **options) as layer:
        return layer.query(query, identity)


def plan_query(project: PathLike, query: Any, identity: Any = None, **options: Any
               ) -> QueryPlan:
    """How a query would run: source, SQL, rejected rollups."""
    with open_layer(project, **options) as layer:
        return layer.plan(query, identity)


def describe_model(project: PathLike, identity: Any = None, **options: Any) -> dict[str, Any]:
    """Cube's ``/meta`` of the project's model (what ``identity`` may see)."""
    with open_layer(project, **options) as layer:
        return layer.meta(identity)


def run_sql(project: PathLike, text: str, identity: Any = None, **options: Any) -> SqlResult:
    """One read-only SELECT over the project's tables (no models needed), under the access
    policies of ``identity``."""
    with open_layer(project, require_models=False, **options) as layer:
        return layer.sql(text, identity)


def identity_for(project: PathLike, token: str | None) -> Any:
    """The identity a CLI user acts as: the project's authenticator applied to ``token``
    (``--token`` / ``LOGFLOW_TOKEN``); None (the trusted local user) without one.

    Raises:
        Unauthenticated: A token the project's authenticator refuses.
    """
    if not token:
        return None
    from .project import Project

    return Project.load(project, require_config=True).identity_for(token)


def build_rollups(project: PathLike = ".", names: list[str] | None = None, *,
                  lineage: Any = None, run_id: str | None = None, identity: Any = None,
                  **options: Any) -> list[BuildResult]:
    """Builds the project's rollup tables (all, or those named) from the current snapshots of
    their tables (a partitioned rollup rebuilds only the partitions a change touched when that
    can be proven, else the whole table: ``BuildResult.mode``), emitting OpenLineage
    START/COMPLETE (FAIL on error) per rollup with the ``columnLineage`` facet.

    Args:
        project: The project folder.
        names: Rollups as ``cube.name`` (or the table name ``cube__name``); None for all.
        lineage: A :class:`~logflow_dagster.lineage.LineageEmitter` (default: the project's;
            ``False`` for none).
        run_id: The OpenLineage run id (default: a new one per rollup).
        identity: Who asks (the project's authorizer must allow ``build_rollup`` on each
            rollup table); None for the trusted in-process caller.
        **options: As :func:`open_layer`.

    Raises:
        UsageError: An unknown rollup name, a model error, a table that is not ingested.
        Forbidden: The identity may not build a rollup.
    """
    layer = open_layer(project, **options)
    chosen = layer.rollups(names)
    if identity is not None:
        from ..auth import authorizer_for
        from ..auth.authorizer import authorize

        for rollup in chosen:
            authorize(authorizer_for(layer.config), identity, "build_rollup", rollup.table)
    emitter = None
    own = False
    if lineage is not False:
        from ..lineage import lineage_disabled

        if lineage is not None:
            emitter = lineage
        elif not lineage_disabled() and layer.config.lineage.transport != "off":
            from ..lineage import LineageEmitter

            emitter = LineageEmitter.from_config(layer.config, warehouse=layer.catalog.warehouse)
            own = True
    out = []
    try:
        for rollup in chosen:
            out.append(_build_one(layer, rollup, emitter, run_id))
    finally:
        if own and emitter is not None:
            emitter.close()
        layer.close()
    return out


def _build_one(layer: SemanticLayer, rollup: Any, emitter: Any, run_id: str | None
               ) -> BuildResult:
    from ..lakehouse.catalog import close_catalog, open_catalog
    from ..semantic.rollups import build_rollup

    rid = run_id
    if emitter is not None:
        from ..lineage import new_run_id
        from ..lineage.rollups import rollup_start

        rid = run_id or new_run_id()
        emitter.emit(rollup_start(emitter.events, rid, rollup.table, table=rollup.table,
                                  sources={}))
    catalog = open_catalog(layer.catalog)
    try:
        result = build_rollup(rollup, catalog, layer.catalog.warehouse, layer.timezones,
                              layer.model)
    except Exception as err:
        if emitter is not None:
            from ..lineage.rollups import rollup_fail

            emitter.emit(rollup_fail(emitter.events, rid, rollup.table, table=rollup.table,
                                     error=err))
        raise
    finally:
        close_catalog(catalog)
    if emitter is not None:
        from ..lineage.rollups import rollup_complete

        emitter.emit(rollup_complete(
            emitter.events, rid, rollup.table, table=result.table, sources=result.sources,
            snapshot_id=result.snapshot_id, rows=result.rows, schema=result.schema,
            lineage=result.lineage, aggregated=result.aggregated))
    return result



def rollup_specs(project: PathLike | ProjectConfig = ".") -> list[dict[str, Any]]:
    """What the Dagster layer needs to declare one asset per rollup, without building:
    ``[{rollup, table, sources, description}]`` (empty without ``semantic.models``).

    Args:
        project: The project folder, or its loaded config.
    """
    if isinstance(project, ProjectConfig):
        if not project.semantic.models:
            return []
        from ..lakehouse.catalog import catalog_config_for
        from ..semantic.loader import load_model

        layer = SemanticLayer(load_model(project.semantic.models, project.root),
                              catalog_config_for(project.root, project.catalog), project)
    else:
        layer = open_layer(project, require_models=False)
    out = []
    for r in layer.rollups():
        grain = ", ".join([*r.dimensions, *r.segments,
                           *([f"{r.time[0]} by {r.time[1]}"] if r.time else [])])
        out.append({"rollup": r.path, "table": r.table, "sources": sorted(r.source_tables()),
                    "description": f"Rollup {r.path}: {', '.join(r.pre.measures)} by "
                                   f"{grain or 'nothing'} (built per zone: "
                                   f"{', '.join(layer.timezones)})."})
    return out


def rollup_status(project: PathLike = ".", **options: Any) -> dict[str, str | None]:
    """Per rollup: None when built and fresh, else why it needs a build."""
    with open_layer(project, **options) as layer:
        return layer.rollup_status()
