"""Ingesting a file: the engine into the lakehouse, the table's quality rules on the rows the
file wrote, and the OpenLineage events, as one step whose typed report every entry point
renders (``logflow ingest``, the Dagster ingest assets, the HTTP API).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..config import SourceConfig
from ..core.convert import ReadOptions
from ..core.quality.rules import Rule, RuleOutcome
from ..core.result import IngestResult
from ..core.source import Source
from ..lakehouse.ingest import ingest as ingest_into_table
from .project import Project

if TYPE_CHECKING:
    from ..lineage import LineageEmitter

ROW_ACCOUNTING = "row_accounting"


@dataclass
class IngestReport:
    """One file's ingest: the engine's result and each rule's outcome on the rows it wrote.

    Example:
        >>> r = IngestReport(IngestResult("a.csv", "raw.a", "csv", rows_read=2, rows_written=2))
        >>> r.balanced, [(c["name"], c["passed"]) for c in r.to_dict()["checks"]]
        (True, [('row_accounting', True)])
    """

    result: IngestResult
    rules: list[Rule] = field(default_factory=list)
    outcomes: dict[str, RuleOutcome] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """Rows read = written + rejected (a skipped file reports its earlier ingest's)."""
        return self.result.balanced

    def assertions(self) -> list[tuple[str, bool, str | None]]:
        """(check name, passed, column) of row accounting and every rule (lineage assertions).
        """
        return [(ROW_ACCOUNTING, self.balanced, None)] + [
            (r.name, self.outcomes[r.name].passed, r.column)
            for r in self.rules if r.name in self.outcomes]

    @property
    def failed_blocking(self) -> list[str]:
        """Names of blocking checks that failed."""
        failed = [] if self.balanced else [ROW_ACCOUNTING]
        return failed + [r.name for r in self.rules
                         if r.blocking and r.name in self.outcomes
                         and not self.outcomes[r.name].passed]

    def to_dict(self) -> dict[str, Any]:
        """The result's fields plus ``checks`` (name, passed, blocking, failing_count,
        message), JSON-ready."""
        payload = self.result.to_dict()
        checks = [{"name": ROW_ACCOUNTING, "passed": self.balanced, "blocking": True,
                   "failing_count": 0 if self.balanced else abs(
                       self.result.rows_read - self.result.rows_written
                       - self.result.rows_rejected), "message": ""}]
        for rule in self.rules:
            got = self.outcomes.get(rule.name)
            if got is not None:
                checks.append({"name": rule.name, "passed": got.passed,
                               "blocking": rule.blocking, "failing_count": got.failing_count,
                               "message": got.message})
        payload["checks"] = checks
        return payload


def evaluate_file_rules(project: Project, rules: list[Rule], table: str,
                        source_uri: str) -> dict[str, RuleOutcome]:
    """Evaluates ``rules`` on the rows ``source_uri`` wrote into ``table``, as committed.

    When the table cannot be loaded every rule fails, saying why (the ingest stands).
    """
    from ..lakehouse.quality import evaluate_partition

    try:
        loaded = project.load_table(table)
    except Exception as err:
        why = f"table {table} could not be loaded: {type(err).__name__}: {err}"
        return {r.name: RuleOutcome(False, 0, [], {"error": why}, why) for r in rules}
    return evaluate_partition(rules, loaded, source_uri)


def reading_options(source: SourceConfig | None, **overrides: Any) -> ReadOptions:
    """The read options of a configured source (its ``format`` and ``options:``), with
    ``overrides`` (None values ignored) on top.

    Example:
        >>> reading_options(None, format="csv", delimiter=None).format
        'csv'
    """
    settings: dict[str, Any] = {}
    if source is not None:
        settings["format"] = source.format
        settings.update(source.options.model_dump(exclude_none=True))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return ReadOptions(**settings)


class _LineageRun:
    """One file's OpenLineage run, its START emitted on a worker thread: the lineage imports,
    the event and its write (an HTTP round trip with ``transport: http``) overlap the decode
    instead of delaying it. COMPLETE or FAIL waits for START, so the events keep their order.
    With lineage off (``lineage.transport: off`` or ``OPENLINEAGE_DISABLED=true``) nothing is
    imported."""

    def __init__(self, project: Project, emitter: LineageEmitter | None, run_id: str | None,
                 table: str, path: str | os.PathLike[str]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from ..lineage import lineage_disabled

        self.table, self.path = table, path
        self._own = emitter is None
        self._pool = None
        self._started: Any = None
        off = lineage_disabled() or (emitter is None and project.config.lineage.transport
                                     == "off")
        if not off:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="logflow-lineage")
            self._started = self._pool.submit(self._start, project, emitter, run_id)

    def _start(self, project: Project, emitter: LineageEmitter | None,
               run_id: str | None) -> tuple[LineageEmitter, str]:
        from ..lineage import new_run_id

        emitter = emitter or project.lineage_emitter()
        run_id = run_id or new_run_id()
        emitter.start(run_id, self.table, self.path, table=self.table)
        return emitter, run_id

    def complete(self, result: IngestResult, assertions: list[Any]) -> None:
        if self._started is not None:
            emitter, run_id = self._started.result()
            emitter.complete(run_id, self.table, result, assertions)

    def fail(self, error: BaseException) -> None:
        if self._started is not None:
            emitter, run_id = self._started.result()
            emitter.fail(run_id, self.table, self.path,
                         error if isinstance(error, Exception) else repr(error),
                         table=self.table)

    def close(self) -> None:
        if self._started is not None:
            try:
                emitter, _ = self._started.result()
                if self._own:
                    emitter.close()
            finally:
                assert self._pool is not None
                self._pool.shutdown()


def ingest_file(
    project: Project,
    path: str | os.PathLike[str],
    table: str | None = None,
    *,
    source: SourceConfig | None = None,
    error_policy: str | None = None,
    schema_policy: str | None = None,
    partition_by: list[str] | None = None,
    reading: ReadOptions | None = None,
    quarantine: str | None = None,
    lineage_columns: bool = True,
    force: bool = False,
    run_id: str | None = None,
    lineage: LineageEmitter | None = None,
    rules: list[Rule] | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
    identity: Any = None,
) -> IngestReport:
    """Ingests one file into its table, evaluates the table's rules on the rows it wrote and
    emits START and COMPLETE (or FAIL) OpenLineage events.

    Settings come from ``source`` (a source of the project's config) when given, else from
    the source that writes ``table``, else the defaults; explicit arguments win.

    Args:
        project: The project (catalog, rules, lineage).
        path: The file (path or URI).
        table: ``namespace.table``; default: ``source.table``.
        source: The configured source the file landed in.
        error_policy, schema_policy, partition_by, reading, quarantine, force: As for
            :func:`logflow_dagster.lakehouse.ingest.ingest`.
        lineage_columns: Add ``_source_uri``, ``_source_hash``, ``_ingested_at``.
        run_id: The OpenLineage run id (default: a new one).
        lineage: The emitter to use (default: the project's, closed when done).
        rules: The rules to evaluate (default: the project's rules for the table).
        on_progress: Called with (bytes read, total bytes or None).
        identity: Who asks (the project's authorizer must allow ``ingest`` on the table);
            None for the trusted in-process caller.

    Raises:
        UsageError, DataError, ConflictError: As the ingest raises them (after the FAIL
            event).
        Forbidden: The identity may not ingest into the table.

    Example:
        >>> import pathlib, tempfile
        >>> yaml = ("sources: [{name: a, landing: in, table: raw.a}]\\n"
        ...         "checks: {raw.a: [{type: range, column: n, min: 0, blocking: true}]}\\n")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = pathlib.Path(tmp, "logflow.yaml").write_text(yaml)
        ...     _ = pathlib.Path(tmp, "a.csv").write_text("n\\n1\\n-2\\n")
        ...     report = ingest_file(Project.load(tmp), f"{tmp}/a.csv", "raw.a")
        >>> report.result.rows_written, report.failed_blocking
        (2, ['range_n'])
    """
    if table is None:
        if source is None:
            raise ValueError("give a table or a source")
        table = source.table
    project.authorize(identity, "ingest", table)
    source = source or project.source_for_table(table)
    rules = project.rules_for(table) if rules is None else rules
    if reading is None:
        reading = reading_options(source)
    if "://" in os.fspath(path):  # object storage: the project's properties, then the reader's
        reading = replace(reading, storage_options={**project.storage_options(source),
                                                    **(reading.storage_options or {})})
    uri = Source(path=os.fspath(path)).uri
    events = _LineageRun(project, lineage, run_id, table, path)
    try:
        result = ingest_into_table(
            path, table, catalog=project.catalog, project_dir=project.root,
            partition_by=partition_by if partition_by is not None else (
                source.partition_by if source else None),
            schema_policy=schema_policy or (source.schema_policy if source else "merge"),
            error_policy=error_policy or (source.error_policy if source else "strict"),
            quarantine=quarantine, lineage=lineage_columns, force=force, reading=reading,
            on_progress=on_progress)
        outcomes = evaluate_file_rules(project, rules, table, uri) if rules else {}
        report = IngestReport(result, rules, outcomes)
        events.complete(result, report.assertions())
        return report
    except BaseException as err:
        events.fail(err)
        raise
    finally:
        events.close()


def merged_outcomes(rules: list[Rule], per_file: list[Mapping[str, RuleOutcome]]
                    ) -> dict[str, RuleOutcome]:
    """Per rule over several files: the outcome of the first file that failed it, else the
    last file's.

    Example:
        >>> merged_outcomes([], [{}])
        {}
    """
    worst: dict[str, RuleOutcome] = {}
    for outcomes in per_file:
        for rule in rules:
            got = outcomes.get(rule.name)
            if got is not None and (rule.name not in worst or worst[rule.name].passed):
                worst[rule.name] = got
    return worst
