"""``SemanticLayer``: a project's model over its catalog; ``query``, ``plan``, ``meta``, ``sql``.

One query: normalize (:mod:`.query`), resolve every table it reads to its current snapshot
once (:mod:`.tables`), compile against those snapshots (:mod:`.compiler`), run on a locked
DuckDB connection (:mod:`.execute`), shape the rows as Cube does. The router
(:mod:`.router`) may answer from a rollup (``source`` ``rollup:<cube>.<name>``; ``rejected``
says why each other rollup could not); answers are cached (:mod:`.cache`) under the query,
the identity's scope and the snapshot of every table read.

Examples:
    .. code-block:: python

        with SemanticLayer.from_project("logflow-demo") as layer:
            result = layer.query({"measures": ["sales.events"], "dimensions": ["sales.region"]})
            print(result.source, result.data[:2])   # rollup:... or raw, rows keyed like Cube
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from ..config import ProjectConfig, load_config
from ..core.errors import AuthError, UsageError
from ..lakehouse.catalog import CatalogConfig, catalog_config_for, close_catalog, open_catalog
from .audit import AuditLog
from .cache import LRUCache, ResultCache, cache_key, from_bytes, to_bytes
from .compiler import Compiled, compile_query
from .execute import locked_connection, raw_source, run, to_data
from .loader import load_model
from .meta import annotation, meta
from .model import SemanticModel
from .query import Query, normalize_query
from .rollups import BuildResult, Rollup, build_rollup, rollup_state, rollups_of
from .router import Route, route
from .secure import has_policies, secure_query, table_guard, visible_meta
from .secure import query_members as secure_members
from .tables import (
    TableSnapshot,
    parse_select,
    pin_tables,
    resolve_snapshots,
    table_state,
    tables_in,
)

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class QueryPlan:
    """How a query would run: ``source`` (``raw`` or ``rollup:<cube>.<name>``), the SQL,
    ``rejected`` (rollup -> reason), the normalized query and the pinned snapshots."""

    query: Query
    source: str
    sql: str
    compiled: Compiled
    snapshots: dict[str, TableSnapshot]
    rejected: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``logflow query --dry-run --json``)."""
        return {"query": self.query.to_dict(), "source": self.source, "sql": self.sql,
                "rejected": dict(self.rejected),
                "snapshots": {t: s.snapshot_id for t, s in self.snapshots.items()}}


@dataclass
class QueryResult:
    """A query's answer.

    Attributes:
        table: The rows as Arrow (typed; time buckets as naive local timestamps).
        data: The rows keyed like Cube's ``/load`` (values formatted as Cube formats them).
        annotation: Per member title, shortTitle, type, format.
        source, sql, rejected, query: As in :class:`QueryPlan`.
        snapshots: ``namespace.table`` -> the snapshot id read.
        timings: Milliseconds per step (normalize, resolve, compile, execute, total).
        cache_hit: Whether the answer came from the result cache.
    """

    table: pa.Table
    data: list[dict[str, Any]]
    annotation: dict[str, Any]
    source: str
    sql: str
    query: Query
    snapshots: dict[str, int | None]
    timings: dict[str, float]
    rejected: dict[str, str] = field(default_factory=dict)
    cache_hit: bool = False

    def to_dict(self, *, data: bool = True) -> dict[str, Any]:
        """JSON-ready: ``data`` (unless ``data=False``), ``annotation``, ``source``, ``sql``,
        ``rejected``, ``query``, ``snapshots``, ``timings``, ``cache_hit``."""
        out: dict[str, Any] = {"data": self.data} if data else {}
        out.update({"annotation": self.annotation, "source": self.source, "sql": self.sql,
                    "rejected": dict(self.rejected), "query": self.query.to_dict(),
                    "snapshots": dict(self.snapshots), "timings": dict(self.timings),
                    "cache_hit": self.cache_hit})
        return out


@dataclass
class SqlResult:
    """A read-only SQL query's answer: the rows, the SQL run and the snapshots read."""

    table: pa.Table
    sql: str
    snapshots: dict[str, int | None]


#: Plans (and the tables of queries) remembered per layer.
_MEMO = 512


class SemanticLayer:
    """A loaded model and where its tables live.

    Args:
        model: The semantic model.
        catalog: The project's catalog.
        config: The project config (time zones, root), when there is one.
    """

    def __init__(self, model: SemanticModel, catalog: CatalogConfig,
                 config: ProjectConfig | None = None, cache: ResultCache | None = None
                 ) -> None:
        self.model = model
        self.catalog = catalog
        self.config = config or ProjectConfig()
        self.cache: ResultCache = cache if cache is not None else LRUCache()
        self._rollups: list[Rollup] | None = None
        self._fingerprints: dict[str, str] = {}
        self._sources: dict[str, set[str]] = {}
        #: False answers every query from the raw tables (comparisons, benchmarks).
        self.use_rollups = True
        # opened on first use and kept (closed by close()): a query then pays for neither
        # DuckDB's extension loading nor a new catalog connection
        self._lock = threading.Lock()
        self._con: Any = None
        self._catalog: Any = None
        self._tables_memo: dict[str, set[str]] = {}
        self._plans: dict[Any, QueryPlan] = {}
        self._formatted: dict[str, tuple[pa.Table, list[dict[str, Any]]]] = {}
        self._policies = has_policies(model)
        self._masked: dict[frozenset[str], SemanticModel] = {}  # masked copies of the model
        #: Where queries and refusals are recorded (set by :meth:`from_project`).
        self.audit: AuditLog | None = None

    def close(self) -> None:
        """Closes the DuckDB connection and the catalog the layer keeps open."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            if self._catalog is not None:
                close_catalog(self._catalog)
                self._catalog = None

    def __enter__(self) -> SemanticLayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _cursor(self) -> Any:
        """A cursor of the kept locked connection (one per query: cursors may run in
        different threads)."""
        with self._lock:
            if self._con is None:
                self._con = locked_connection(self.catalog.warehouse)
            return self._con.cursor()

    def _open_catalog(self) -> Any:
        with self._lock:
            if self._catalog is None:
                self._catalog = open_catalog(self.catalog)
            return self._catalog

    @property
    def timezones(self) -> list[str]:
        """The zones rollups are built for (``semantic.timezones``)."""
        return list(self.config.semantic.timezones or ["UTC"])

    def rollups(self, names: list[str] | None = None) -> list[Rollup]:
        """The model's rollups (resolved once), or those named."""
        if self._rollups is None:
            self._rollups = rollups_of(self.model)
        if not names:
            return list(self._rollups)
        return rollups_of(self.model, names)

    def build_rollups(self, names: list[str] | None = None) -> list[BuildResult]:
        """Builds (overwrites) rollup tables from the current snapshots of their tables."""
        catalog = open_catalog(self.catalog)
        try:
            return [build_rollup(r, catalog, self.catalog.warehouse, self.timezones,
                                 self.model) for r in self.rollups(names)]
        finally:
            close_catalog(catalog)

    def rollup_status(self) -> dict[str, str | None]:
        """Per rollup (``cube.name``): None when built and fresh, else why it must be built
        (``not built``, ``stale: ...``)."""
        from .router import freshness

        out: dict[str, str | None] = {}
        catalog = open_catalog(self.catalog)
        try:
            for r in self.rollups():
                built = rollup_state(catalog, r)
                if built is None:
                    out[r.path] = "not built"
                    continue
                current = {t: s.snapshot_id for t, s in
                           resolve_snapshots(catalog, r.source_tables()).items()}
                out[r.path] = freshness(r, built[1], current, r.fingerprint(self.timezones),
                                        None)
        finally:
            close_catalog(catalog)
        return out

    def _route(self, q: Query, compiled: Compiled, snapshots: dict[str, TableSnapshot]
               ) -> Route:
        rollups = self.rollups() if self.use_rollups else []
        if not rollups:
            return Route()
        catalog = self._open_catalog()
        known = dict(snapshots)

        def current(r: Rollup) -> dict[str, int | None]:
            if r.path not in self._sources:
                self._sources[r.path] = r.source_tables()
            missing = self._sources[r.path] - set(known)
            if missing:
                known.update(resolve_snapshots(catalog, missing))
            return {t: known[t].snapshot_id for t in self._sources[r.path]}

        def definition(r: Rollup) -> str:
            if r.path not in self._fingerprints:
                self._fingerprints[r.path] = r.fingerprint(self.timezones)
            return self._fingerprints[r.path]

        assert compiled.tree is not None
        return route(self.model, q, compiled.tree, rollups,
                     lambda r: rollup_state(catalog, r), current, definition)

    @classmethod
    def from_project(cls, path: str | os.PathLike[str] = ".", *, catalog_uri: str | None = None,
                     warehouse: str | None = None, require_models: bool = True
                     ) -> SemanticLayer:
        """The layer of a project folder (``logflow.yaml``, its models, its catalog).

        Args:
            path: The project folder.
            catalog_uri, warehouse: Overrides of the project's catalog settings.
            require_models: Refuse a project without ``semantic.models`` (``sql`` needs none).

        Raises:
            UsageError: No ``logflow.yaml``, no ``semantic.models``, or a model error.
        """
        file = os.path.join(path, "logflow.yaml")
        if not os.path.exists(file):
            raise UsageError(f"{file}: no such config file (run `logflow init` first)")
        config = load_config(file)
        if require_models and not config.semantic.models:
            raise UsageError(f"{file}: no semantic models (add semantic: {{models: [...]}})")
        model = load_model(config.semantic.models, config.root)
        catalog = catalog_config_for(config.root, config.catalog, uri=catalog_uri,
                                     warehouse=warehouse)
        layer = cls(model, catalog, config)
        layer.audit = AuditLog.from_config(config)
        return layer

    def _audited(self, action: str, identity: Any, resource: Any, run: Any) -> Any:
        """Runs ``run()`` and records it (or its refusal) in the audit log."""
        t0 = time.perf_counter()
        try:
            out = run()
        except (AuthError, UsageError) as err:
            if self.audit is not None:
                self.audit.record(action, identity=identity, resource=resource(None),
                                  outcome="denied" if isinstance(err, AuthError) else "error",
                                  reason=str(err),
                                  duration_ms=round((time.perf_counter() - t0) * 1000, 3))
            raise
        if self.audit is not None:
            self.audit.record(action, identity=identity, resource=resource(out),
                              outcome="allowed", tables=getattr(out, "snapshots", None),
                              source=getattr(out, "source", None),
                              rows=out.table.num_rows if hasattr(out, "table") else None,
                              duration_ms=round((time.perf_counter() - t0) * 1000, 3))
        return out

    # -- steps ----------------------------------------------------------------------------
    def normalize(self, query: Any, *, now: datetime | None = None) -> Query:
        """The normalized query (a :class:`UsageError` for a bad one)."""
        return query if isinstance(query, Query) else normalize_query(query, self.model,
                                                                      now=now)

    def _resolve(self, names: set[str]) -> dict[str, TableSnapshot]:
        return resolve_snapshots(self._open_catalog(), names)

    def _tables_of(self, compiled_cubes: list[str]) -> set[str]:
        out: set[str] = set()
        for name in compiled_cubes:
            cube = self.model.cube(name)
            out |= {cube.sql_table} if cube.sql_table else tables_in(cube.sql_ast)
        return out

    def _query_tables(self, q: Query) -> set[str]:
        """The raw tables ``q`` reads (from its join tree; remembered per query)."""
        key = q.key()
        tables = self._tables_memo.get(key)
        if tables is None:
            probe = compile_query(q, self.model, lambda cube, alias: _placeholder(alias))
            assert probe.tree is not None
            tables = self._tables_of(probe.tree.cubes)
            if len(self._tables_memo) >= _MEMO:
                self._tables_memo.clear()
            self._tables_memo[key] = tables
        return tables

    def secure(self, q: Query, identity: Any) -> tuple[Query, SemanticModel | None]:
        """``q`` under ``identity``'s access policies (see :mod:`.secure`): refused members
        raise :class:`~logflow_dagster.core.errors.Forbidden`, row filters are added; the
        masked model to compile with, or None."""
        if identity is None or not self._policies:
            return q, None
        probe = compile_query(q, self.model, lambda cube, alias: _placeholder(alias))
        assert probe.tree is not None
        return secure_query(q, self.model, identity, set(probe.tree.cubes), self._masked)

    def plan(self, query: Any, identity: Any = None, *, now: datetime | None = None
             ) -> QueryPlan:
        """How ``query`` would run for ``identity`` (tables resolved, nothing read but their
        metadata). ``identity=None`` is the trusted in-process caller: no access policy
        applies to it.

        A plan is determined by the query and the metadata files of the tables it may read
        (its raw tables and every rollup table): it is remembered under them, so an unchanged
        catalog costs one catalog row per table and no compilation.

        Raises:
            UsageError: A bad query.
            Forbidden: A member or cube the identity may not see.
        """
        q = self.normalize(query, now=now)
        q, masked = self.secure(q, identity)
        if masked is not None:  # masked members: compiled from the masked model, raw data
            tables = self._query_tables(q)
            snapshots = self._resolve(tables)
            compiled = compile_query(q, masked, raw_source(snapshots))
            return QueryPlan(q, "raw", compiled.sql, compiled, snapshots,
                             {r.path: "masked members are answered from the raw tables"
                              for r in self.rollups()})
        tables = self._query_tables(q)
        catalog = self._open_catalog()
        read = set(tables)
        if self.use_rollups:  # a rollup's own table and the tables its freshness depends on
            for r in self.rollups():
                if r.path not in self._sources:
                    self._sources[r.path] = r.source_tables()
                read |= {r.table, *self._sources[r.path]}
        state = tuple((t, (table_state(catalog, t) or (None,))[0]) for t in sorted(read))
        memo_key = (q.key(), self.use_rollups, state)
        cached = self._plans.get(memo_key)
        if cached is not None:
            return cached
        plan = self._plan(q, tables)
        if len(self._plans) >= _MEMO:
            self._plans.clear()
        self._plans[memo_key] = plan
        return plan

    def _plan(self, q: Query, tables: set[str]) -> QueryPlan:
        snapshots = self._resolve(tables)
        compiled = compile_query(q, self.model, raw_source(snapshots))
        routed = self._route(q, compiled, snapshots)
        if routed.rollup is not None and routed.compiled is not None:
            assert routed.snapshot is not None
            read = {**snapshots, routed.rollup.table: routed.snapshot}
            return QueryPlan(q, f"rollup:{routed.rollup.path}", routed.compiled.sql,
                             routed.compiled, read, routed.rejected)
        return QueryPlan(q, "raw", compiled.sql, compiled, snapshots, routed.rejected)

    def query(self, query: Any, identity: Any = None, *, now: datetime | None = None
              ) -> QueryResult:
        """Answers a Cube query for ``identity`` (recorded in the audit log); see
        :meth:`_query`."""
        def cubes(result: Any) -> list[str]:
            q = result.query if result is not None else query
            if isinstance(q, Query):
                return sorted({self.model.member(m).cube for m in secure_members(q)})
            return [str(m).split(".")[0] for m in (q.get("measures", []) if isinstance(
                q, dict) else [])]

        return self._audited("query", identity, cubes,
                             lambda: self._query(query, identity, now=now))

    def _query(self, query: Any, identity: Any = None, *, now: datetime | None = None
               ) -> QueryResult:
        """Answers a Cube query.

        Args:
            query: Cube's query JSON (a mapping) or a normalized :class:`Query`.
            identity: The caller: its access policies apply (row filters, hidden and masked
                members); None is the trusted in-process caller.
            now: The current time for relative date ranges (default: the clock).

        Raises:
            UsageError: A bad query (unknown member, wrong operator, bad date range...).
            Forbidden: A member or cube the identity may not see.
        """
        t0 = time.perf_counter()
        q = self.normalize(query, now=now)
        t1 = time.perf_counter()
        plan = self.plan(q, identity)
        q = plan.query
        t2 = time.perf_counter()
        key = cache_key(q.key(), _scope(identity),
                        {t: s.snapshot_id for t, s in plan.snapshots.items()})
        cached = self.cache.get(key)
        formatted = self._formatted.get(key) if cached is not None else None
        if formatted is not None:  # a hit this layer formatted before: no decoding again
            table, rows = formatted
            t3 = time.perf_counter()
        else:
            if cached is not None:
                table = from_bytes(cached)
            else:
                con = self._cursor()
                try:
                    table = run(con, plan.sql)
                finally:
                    con.close()
                self.cache.set(key, to_bytes(table))
            t3 = time.perf_counter()
            time_keys = {t.key: t.dimension for t in q.time_dimensions if t.key}
            rows = to_data(table, plan.compiled.columns, time_keys, q.timezone)
            if len(self._formatted) >= _MEMO:
                self._formatted.clear()
            self._formatted[key] = (table, rows)
        data = [dict(r) for r in rows]  # the caller's own copy
        t4 = time.perf_counter()
        ms = lambda a, b: round((b - a) * 1000, 3)  # noqa: E731
        return QueryResult(
            table=table, data=data, annotation=annotation(self.model, q), source=plan.source,
            sql=plan.sql, query=q, rejected=plan.rejected,
            snapshots={t: s.snapshot_id for t, s in plan.snapshots.items()},
            timings={"normalize_ms": ms(t0, t1), "plan_ms": ms(t1, t2),
                     "execute_ms": ms(t2, t3), "format_ms": ms(t3, t4),
                     "total_ms": ms(t0, t4)}, cache_hit=cached is not None)

    def meta(self, identity: Any = None) -> dict[str, Any]:
        """Cube's ``/meta`` of the model: what ``identity`` may see (None: everything)."""
        return self._audited("meta", identity, lambda _: ["model"],
                             lambda: visible_meta(meta(self.model), self.model, identity))

    def sql(self, text: str, identity: Any = None) -> SqlResult:
        """Runs read-only SQL for ``identity`` (recorded in the audit log); see :meth:`_sql`."""
        def tables(result: Any) -> list[str]:
            return sorted(result.snapshots) if result is not None else [text[:200]]

        return self._audited("sql", identity, tables, lambda: self._sql(text, identity))

    def _sql(self, text: str, identity: Any = None) -> SqlResult:
        """Runs one read-only SELECT over the project's tables (see :func:`.parse_select`),
        each read at its current snapshot, on the locked connection. For an identity, every
        table behind an access policy is read through it (see :func:`.secure.table_guard`).

        Raises:
            UsageError: Not one read-only SELECT over project tables.
            Forbidden: A table the identity may not read.
        """
        tree = parse_select(text, where="sql")
        snapshots = self._resolve(tables_in(tree))
        guard = None
        if identity is not None and self._policies:
            def guard(table: str, alias: str, scan: Any) -> Any:
                return table_guard(self.model, identity, table, alias, scan)
        pinned = pin_tables(tree, snapshots, guard).sql(dialect="duckdb")
        con = self._cursor()
        try:
            table = run(con, pinned)
        except duckdb.Error as err:  # the user's SQL: a clear error, never a traceback
            raise UsageError(f"sql: {type(err).__name__.replace('Exception', ' error')}: "
                             f"{str(err).splitlines()[0]}") from None
        finally:
            con.close()
        return SqlResult(table, pinned, {t: s.snapshot_id for t, s in snapshots.items()})


def _scope(identity: Any) -> Any:
    """The identity's security scope (part of the cache key); None until the auth layer."""
    scope = getattr(identity, "scope", None)
    return scope() if callable(scope) else scope


def _placeholder(alias: str) -> Any:
    from sqlglot import exp

    return exp.Table(this=exp.to_identifier(alias, quoted=True))
