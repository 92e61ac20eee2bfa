"""Iceberg catalog configuration and opening.

One small typed config names where the catalog lives (SQL database or REST service) and where
the table files go (the warehouse URI: ``file:///abs/path`` or ``s3://bucket/prefix``). The
embedded default is a SQLite catalog plus a local warehouse under ``<root>/.logflow/``.

Environment overrides (for deployments that reuse a project's config):
``LOGFLOW_CATALOG_URI`` replaces ``uri`` and ``LOGFLOW_WAREHOUSE`` replaces ``warehouse``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from ..config import CatalogSettings

ENV_CATALOG_URI = "LOGFLOW_CATALOG_URI"
ENV_WAREHOUSE = "LOGFLOW_WAREHOUSE"
EMBEDDED_DIR = ".logflow"


class CatalogConfig(BaseModel):
    """Where an Iceberg catalog lives and where its tables' files are stored.

    Attributes:
        name: The catalog's name (part of every table's identity in a SQL catalog).
        kind: ``"sql"`` (SQLAlchemy URL in ``uri``) or ``"rest"`` (http(s) URL in ``uri``).
        uri: ``sqlite:////abs/catalog.db``, ``postgresql+psycopg2://user@host:5432/db``
            (name the driver: a bare ``postgresql://`` means psycopg 3), or a REST endpoint.
        warehouse: Root URI for table files: ``file:///abs/path`` or ``s3://bucket/prefix``.
        properties: Passed through to pyiceberg unchanged (``s3.endpoint``,
            ``s3.access-key-id``, ``token``, ...).

    Example:
        >>> cfg = CatalogConfig(kind="sql", uri="sqlite:////tmp/c.db",
        ...                     warehouse="file:///tmp/wh")
        >>> cfg.kind
        'sql'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "logflow"
    kind: Literal["sql", "rest"] = "sql"
    uri: str
    warehouse: str
    properties: dict[str, str] = Field(default_factory=dict)

    @field_validator("warehouse")
    @classmethod
    def _warehouse_is_uri(cls, value: str) -> str:
        if "://" not in value:
            if not os.path.isabs(value):
                raise ValueError(
                    f"warehouse must be a URI (file:///abs/path or s3://bucket/prefix), "
                    f"got {value!r}"
                )
            value = Path(value).as_uri()
        return value.rstrip("/") if not value.endswith(":///") else value

    @classmethod
    def embedded(cls, root: Path | str, *, name: str = "logflow") -> CatalogConfig:
        """The zero-setup default: SQLite catalog and local warehouse under ``root/.logflow``.

        Nothing is created until :func:`open_catalog` runs.

        Args:
            root: The project directory.
            name: Catalog name.

        Returns:
            A config with ``uri=sqlite:///<root>/.logflow/catalog.db`` and
            ``warehouse=file://<root>/.logflow/warehouse``.

        Example:
            >>> CatalogConfig.embedded("/srv/proj").warehouse
            'file:///srv/proj/.logflow/warehouse'
        """
        base = Path(root).expanduser().resolve() / EMBEDDED_DIR
        return cls(
            name=name,
            kind="sql",
            uri=f"sqlite:///{base / 'catalog.db'}",
            warehouse=(base / "warehouse").as_uri(),
        )

    def with_env_overrides(self, environ: dict[str, str] | None = None) -> CatalogConfig:
        """Return a copy with ``LOGFLOW_CATALOG_URI`` / ``LOGFLOW_WAREHOUSE`` applied.

        Args:
            environ: Mapping to read instead of ``os.environ`` (tests).

        Returns:
            A new config; unchanged fields are kept.

        Example:
            >>> cfg = CatalogConfig.embedded("/p")
            >>> cfg.with_env_overrides({"LOGFLOW_WAREHOUSE": "s3://b/wh"}).warehouse
            's3://b/wh'
        """
        env = os.environ if environ is None else environ
        update: dict[str, str] = {}
        if env.get(ENV_CATALOG_URI):
            update["uri"] = env[ENV_CATALOG_URI]
        if env.get(ENV_WAREHOUSE):
            update["warehouse"] = env[ENV_WAREHOUSE]
        if not update:
            return self
        return CatalogConfig.model_validate({**self.model_dump(), **update})


def _prepare_local(config: CatalogConfig) -> None:
    """Create the SQLite file's folder and a local warehouse folder; nothing for remote ones."""
    if config.kind == "sql" and config.uri.startswith("sqlite:///"):
        db_path = config.uri.removeprefix("sqlite:///")
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    parsed = urlparse(config.warehouse)
    if parsed.scheme == "file":
        Path(parsed.path).mkdir(parents=True, exist_ok=True)


_FIRST_OPEN_ATTEMPTS = 5


def _open_sql_catalog(name: str, properties: dict[str, str]) -> Catalog:
    """A ``SqlCatalog``, safe when several processes open a new catalog at once.

    pyiceberg checks for its bookkeeping tables and then creates them; two first openers can
    both see them missing, and the slower one's ``CREATE TABLE`` fails ("already exists" on
    SQLite, a unique violation on PostgreSQL). Opening again finds the tables the other made,
    so an open whose ``CREATE TABLE`` failed is retried a few times before its error is
    raised. Other errors (an unreachable server, bad credentials) are raised at once.
    """
    from pyiceberg.catalog.sql import SqlCatalog
    from sqlalchemy.exc import DBAPIError

    for attempt in range(1, _FIRST_OPEN_ATTEMPTS):
        try:
            return SqlCatalog(name, **properties)
        except DBAPIError as err:
            if not (err.statement or "").lstrip().upper().startswith("CREATE TABLE"):
                raise
            time.sleep(0.05 * attempt)
    return SqlCatalog(name, **properties)


def open_catalog(config: CatalogConfig) -> Catalog:
    """Open (and on first use create) the catalog a config describes.

    SQL catalogs create their two bookkeeping tables when missing; a local warehouse folder
    and the SQLite file's folder are created. Remote storage is never touched here.

    Args:
        config: The catalog config (apply :meth:`CatalogConfig.with_env_overrides` first if
            the environment may override it).

    Returns:
        A pyiceberg catalog (``SqlCatalog`` or ``RestCatalog``).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     cat = open_catalog(CatalogConfig.embedded(tmp))
        ...     _ = ensure_namespace(cat, "raw")
        ...     cat.list_namespaces(), sorted(p.name for p in Path(tmp, ".logflow").iterdir())
        ...     close_catalog(cat)
        ([('raw',)], ['catalog.db', 'warehouse'])
    """
    _prepare_local(config)
    properties = {**config.properties, "uri": config.uri, "warehouse": config.warehouse}
    if config.kind == "sql":
        return _open_sql_catalog(config.name, properties)
    from pyiceberg.catalog.rest import RestCatalog

    return RestCatalog(config.name, **properties)


def ensure_namespace(catalog: Catalog, namespace: str | tuple[str, ...]) -> tuple[str, ...]:
    """Create ``namespace`` if it does not exist (safe under concurrent callers).

    Args:
        catalog: An open catalog.
        namespace: ``"raw"``, ``"a.b"`` or ``("a", "b")``.

    Returns:
        The namespace as a tuple.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     cat = open_catalog(CatalogConfig.embedded(tmp))
        ...     ensure_namespace(cat, "raw"), ensure_namespace(cat, "raw")  # the second: no-op
        ...     close_catalog(cat)
        (('raw',), ('raw',))
    """
    ident = tuple(namespace.split(".")) if isinstance(namespace, str) else tuple(namespace)
    try:
        catalog.create_namespace_if_not_exists(ident)
    except Exception:  # a concurrent creator won (PostgreSQL: unique violation): fine if it exists
        if not catalog.namespace_exists(ident):
            raise
    return ident


def close_catalog(catalog: Catalog) -> None:
    """Release a SQL catalog's connection pool (no-op for other kinds).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     cat = open_catalog(CatalogConfig.embedded(tmp))
        ...     _ = cat.list_namespaces()  # leaves one open connection in the pool
        ...     close_catalog(cat)
        ...     cat.engine.pool.checkedin()  # the pool holds no connection any more
        0
    """
    engine = getattr(catalog, "engine", None)
    if engine is not None:
        engine.dispose()


def catalog_config_for(root: str | os.PathLike[str], settings: CatalogSettings | None = None,
                       *, uri: str | None = None, warehouse: str | None = None
                       ) -> CatalogConfig:
    """The catalog a project uses: the embedded default under ``root/.logflow`` (with the
    ``LOGFLOW_CATALOG_URI``/``LOGFLOW_WAREHOUSE`` overrides), replaced by what ``settings``
    (the ``catalog:`` section) and then ``uri``/``warehouse`` (command-line options) set.

    Example:
        >>> catalog_config_for("/p").uri.endswith("/p/.logflow/catalog.db")
        True
        >>> catalog_config_for("/p", uri="http://cat:8181").kind
        'rest'
    """
    from ..config import CatalogSettings

    base = CatalogConfig.embedded(root).with_env_overrides()
    settings = settings or CatalogSettings()
    kind = settings.kind
    if uri:
        kind = "rest" if uri.startswith(("http://", "https://")) else "sql"
    chosen_uri = uri or settings.uri
    chosen_wh = warehouse or settings.warehouse
    if not (chosen_uri or chosen_wh or settings.properties):
        return base
    if chosen_wh and "://" not in chosen_wh and not os.path.isabs(chosen_wh):
        chosen_wh = str(Path(root, chosen_wh).resolve())
    return CatalogConfig(name=base.name, kind=kind, uri=chosen_uri or base.uri,
                         warehouse=chosen_wh or base.warehouse,
                         properties=dict(settings.properties))
