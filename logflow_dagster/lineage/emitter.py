"""Sends ingest run events per ``logflow.yaml``.

The ``lineage`` section chooses the transport:

- ``file`` (default): one JSON line per event appended to ``<root>/<path>``
  (``.logflow/openlineage.jsonl``), created with its folder by the first event. The file is
  opened per event with ``O_APPEND`` and the line written with one ``write`` call, so parallel
  worker processes do not interleave lines (tested with 4 processes). No openlineage-python
  import: the default path costs nothing at start-up.
- ``http``: openlineage-python's HTTP transport POSTs to ``url`` (``/api/v1/lineage``, e.g.
  Marquez); ``OPENLINEAGE_API_KEY`` in the environment adds a bearer token. The only transport
  that touches the network.
- ``console``: the library's console transport (INFO records on the
  ``openlineage.client.transport.console`` logger).
- ``off``: no client; nothing is written or sent.

``OPENLINEAGE_DISABLED=true`` in the environment turns any transport off, checked at every emit.
A failed emit (server down, unwritable file) is logged as a warning and reported by
:meth:`LineageEmitter.emit` returning False: lineage never fails an ingest unless
``raise_errors=True``.

Example:
    >>> import tempfile
    >>> from logflow_dagster.lineage import run_id_for
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     emitter = LineageEmitter(LineageConfig(transport="file", path="events.jsonl"), tmp)
    ...     run_id = run_id_for("dagster-run-id", "raw.orders")
    ...     event = emitter.start(run_id, "raw.orders", f"{tmp}/in.csv", table="raw.orders")
    ...     emitter.path.name, event["eventType"], emitter.path.read_text().count("\\n")
    ('events.jsonl', 'START', 1)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import LineageConfig, ProjectConfig
from ..core.errors import UsageError
from ..core.result import IngestResult
from . import lineage_disabled
from .events import PRODUCER, Event, IngestEventBuilder
from .facets import AssertionResult
from .naming import default_warehouse

if TYPE_CHECKING:
    from openlineage.client.transport import Transport

log = logging.getLogger(__name__)

ENV_API_KEY = "OPENLINEAGE_API_KEY"
ENV_WAREHOUSE = "LOGFLOW_WAREHOUSE"  # the same override as lakehouse.catalog.ENV_WAREHOUSE


class LineageEmitter:
    """Builds and emits the START/COMPLETE/FAIL events of ingest runs.

    Args:
        config: The ``lineage`` section of ``logflow.yaml``.
        root: The project folder (the file transport's path and relative landing paths are
            relative to it).
        warehouse: The Iceberg warehouse URI the tables live in (names the output datasets);
            default: ``LOGFLOW_WAREHOUSE`` or the embedded ``<root>/.logflow/warehouse``.
        catalog_name: The Iceberg catalog's name.
        catalog_type: ``sql`` or ``rest``.
        producer: The ``producer`` URI of the events.
        raise_errors: Raise when an event cannot be emitted instead of logging a warning.

    Raises:
        UsageError: ``transport: http`` without a ``url``.

    Example:
        >>> from logflow_dagster.config import LineageConfig
        >>> LineageEmitter(LineageConfig(transport="off"), "/srv/proj").enabled
        False
    """

    def __init__(self, config: LineageConfig, root: str | os.PathLike[str], *,
                 warehouse: str | None = None, catalog_name: str = "logflow",
                 catalog_type: str = "sql", producer: str = PRODUCER,
                 raise_errors: bool = False) -> None:
        if config.transport == "http" and not config.url:
            raise UsageError("lineage.url: required when lineage.transport is http")
        self.config = config
        self.root = Path(os.path.abspath(os.path.expanduser(root)))
        self.raise_errors = raise_errors
        self.events = IngestEventBuilder(
            namespace=config.namespace, root=self.root,
            warehouse=warehouse or os.environ.get(ENV_WAREHOUSE) or default_warehouse(self.root),
            catalog_name=catalog_name, catalog_type=catalog_type, producer=producer)
        self._transport: Transport | None = None

    @classmethod
    def from_config(cls, config: LineageConfig | ProjectConfig,
                    root: str | os.PathLike[str] | None = None, **options: Any,
                    ) -> LineageEmitter:
        """The emitter of a project: from the whole config or just its ``lineage`` section.

        Args:
            config: A :class:`ProjectConfig` (its ``lineage``, ``root`` and ``catalog`` are used)
                or a :class:`LineageConfig`.
            root: The project folder; default: ``config.root`` (or the working directory).
            **options: Passed to the constructor (``warehouse=``, ``raise_errors=`` ...).

        Example:
            >>> from logflow_dagster.config import ProjectConfig
            >>> em = LineageEmitter.from_config(ProjectConfig(root="/srv/proj"))
            >>> (em.path.as_posix(), em.events.namespace)
            ('/srv/proj/.logflow/openlineage.jsonl', 'logflow')
        """
        if isinstance(config, ProjectConfig):
            options.setdefault("warehouse", config.catalog.warehouse)
            options.setdefault("catalog_type", config.catalog.kind)
            return cls(config.lineage, root if root is not None else config.root, **options)
        return cls(config, root if root is not None else Path.cwd(), **options)

    @property
    def enabled(self) -> bool:
        """Whether events are sent (transport not ``off`` and not ``OPENLINEAGE_DISABLED``)."""
        return self.config.transport != "off" and not lineage_disabled()

    @property
    def path(self) -> Path | None:
        """The JSON-lines file of the ``file`` transport (None for the others)."""
        if self.config.transport != "file":
            return None
        return self.root / self.config.path

    @property
    def transport(self) -> Transport:
        """openlineage-python's transport of ``http`` and ``console`` (built on first use).

        Raises:
            UsageError: For ``file`` (written here, without the library) and ``off``.
        """
        if self.config.transport in ("file", "off"):
            raise UsageError(f"lineage.transport is {self.config.transport}: events are not "
                             "sent through an openlineage-python transport")
        if self._transport is None:
            if self.config.transport == "http":
                from openlineage.client.transport.http import HttpConfig, HttpTransport

                params: dict[str, Any] = {"url": self.config.url}
                if api_key := os.environ.get(ENV_API_KEY):
                    params["auth"] = {"type": "api_key", "apiKey": api_key}
                self._transport = HttpTransport(HttpConfig.from_dict(params))
            else:
                from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport

                self._transport = ConsoleTransport(ConsoleConfig())
        return self._transport

    def _append(self, event: Event) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(event, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def emit(self, event: Event) -> bool:
        """Sends ``event``; True when it was handed to the transport without error.

        Raises:
            Exception: The transport's error, only with ``raise_errors=True``.
        """
        if not self.enabled:
            return False
        try:
            if self.path is not None:
                self._append(event)
            else:
                self.transport.emit(event)  # type: ignore[arg-type]
        except Exception as err:
            if self.raise_errors:
                raise
            log.warning("OpenLineage %s event for %s not emitted (%s transport): %s",
                        event.get("eventType", "?"), event.get("job", {}).get("name"),
                        self.config.transport, err)
            return False
        return True

    def start(self, run_id: str, job_name: str, input_uri: str | os.PathLike[str], *,
              table: str | None = None) -> Event:
        """Emits (and returns) the START event; see :meth:`IngestEventBuilder.start`."""
        event = self.events.start(run_id, job_name, input_uri, table=table)
        self.emit(event)
        return event

    def complete(self, run_id: str, job_name: str, result: IngestResult,
                 assertions: Iterable[AssertionResult] = ()) -> Event:
        """Emits (and returns) the COMPLETE event; see :meth:`IngestEventBuilder.complete`."""
        event = self.events.complete(run_id, job_name, result, assertions)
        self.emit(event)
        return event

    def fail(self, run_id: str, job_name: str, input_uri: str | os.PathLike[str],
             error: str | BaseException, *, table: str | None = None) -> Event:
        """Emits (and returns) the FAIL event; see :meth:`IngestEventBuilder.fail`."""
        event = self.events.fail(run_id, job_name, input_uri, error, table=table)
        self.emit(event)
        return event

    def close(self, timeout: float = -1.0) -> bool:
        """Flushes and closes the library transport (a no-op when none was built)."""
        return self._transport.close(timeout) if self._transport is not None else True
