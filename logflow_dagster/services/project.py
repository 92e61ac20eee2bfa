"""A project: its ``logflow.yaml``, the catalog and storage it resolves to, its lineage and
rules. Catalog settings become a :class:`CatalogConfig` in one place,
:func:`~logflow_dagster.lakehouse.catalog.catalog_config_for` (re-exported here).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ProjectConfig, SourceConfig, load_config
from ..core.errors import UsageError
from ..core.identifiers import validate_table_name
from ..core.quality.rules import Rule, rules_from_config
from ..lakehouse.catalog import CatalogConfig, catalog_config_for, close_catalog, open_catalog

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from ..lineage import LineageEmitter

CONFIG_FILE = "logflow.yaml"

__all__ = ["CONFIG_FILE", "Project", "catalog_config_for"]


@dataclass
class Project:
    """A project folder and what it resolves to.

    Attributes:
        config: The validated ``logflow.yaml`` (defaults when the folder has none).
        catalog: Where its tables live.

    Example:
        >>> p = Project.from_config(ProjectConfig(root="/srv/proj"))
        >>> p.catalog.warehouse
        'file:///srv/proj/.logflow/warehouse'
    """

    config: ProjectConfig
    catalog: CatalogConfig
    #: A custom table-level authorizer (the ``logflow_auth`` resource's); default: the
    #: project's (``auth.write_roles``).
    authorizer: Any = None

    @classmethod
    def load(cls, root: str | os.PathLike[str] = ".", *, catalog_uri: str | None = None,
             warehouse: str | None = None, require_config: bool = False) -> Project:
        """Reads ``root/logflow.yaml`` when there is one (else the defaults).

        Raises:
            UsageError: An invalid config (naming file, line and key), or none when
                ``require_config``.
        """
        path = Path(root) / CONFIG_FILE
        if path.exists():
            config = load_config(path)
        elif require_config:
            raise UsageError(f"{path}: no such config file (run `logflow init` first)")
        else:
            config = ProjectConfig(root=str(Path(root).resolve()))
        return cls.from_config(config, catalog_uri=catalog_uri, warehouse=warehouse)

    @classmethod
    def from_config(cls, config: ProjectConfig, *, catalog_uri: str | None = None,
                    warehouse: str | None = None) -> Project:
        """The project of an already validated config."""
        return cls(config, catalog_config_for(config.root, config.catalog, uri=catalog_uri,
                                              warehouse=warehouse))

    @property
    def root(self) -> str:
        """The project folder."""
        return self.config.root

    def identity_for(self, token: str | None) -> Any:
        """The identity of a credential under the project's authenticator (``--token``);
        None (the trusted local user) without one.

        Raises:
            Unauthenticated: A credential the authenticator refuses.
        """
        if not token:
            return None
        from ..auth import authenticator_for

        return authenticator_for(self.config).authenticate(token)

    def authorize(self, identity: Any, action: str, table: str) -> None:
        """Checks a table-level action (``ingest``, ``maintain``, ``build_rollup``) against
        the project's authorizer; ``identity=None`` (the trusted in-process caller) passes.

        Raises:
            Forbidden: The identity may not.

        Example:
            >>> from logflow_dagster.auth import ANONYMOUS, Identity
            >>> p = Project.from_config(ProjectConfig(root="/p"))
            >>> p.authorize(ANONYMOUS, "ingest", "raw.a")  # nothing configured: the local user
            >>> p.authorize(Identity("bo", type="service"), "ingest", "raw.a")
            Traceback (most recent call last):
            ...
            logflow_dagster.core.errors.exceptions.Forbidden: bo may not ingest raw.a
        """
        if identity is None:
            return
        from ..auth import authorizer_for
        from ..auth.authorizer import authorize

        authorize(self.authorizer or authorizer_for(self.config), identity, action, table)

    @contextmanager
    def open_catalog(self) -> Iterator[Catalog]:
        """The catalog, closed (its database connections released) when the block ends."""
        catalog = open_catalog(self.catalog)
        try:
            yield catalog
        finally:
            close_catalog(catalog)

    def load_table(self, name: str, catalog: Catalog | None = None) -> Table:
        """Loads ``namespace.table`` (from ``catalog`` when given, else a fresh one).

        Raises:
            UsageError: An invalid name, or no such table.
        """
        from pyiceberg.exceptions import NoSuchTableError

        name = validate_table_name(name)
        if catalog is None:
            with self.open_catalog() as opened:
                return self.load_table(name, opened)
        try:
            return catalog.load_table(name)
        except NoSuchTableError:
            raise UsageError(f"no table {name!r} in the catalog") from None

    def source(self, name: str) -> SourceConfig:
        """The source called ``name``.

        Raises:
            UsageError: Naming the sources there are.
        """
        for source in self.config.sources:
            if source.name == name:
                return source
        names = ", ".join(s.name for s in self.config.sources) or "none"
        raise UsageError(f"no source {name!r} in {CONFIG_FILE} (sources: {names})")

    def storage_options(self, source: SourceConfig | None = None) -> dict[str, str]:
        """Object-storage properties for listing and reading landed files:
        ``catalog.properties`` with the source's ``options.storage_options`` over them.

        Example:
            >>> Project.from_config(ProjectConfig(root="/p")).storage_options()
            {}
        """
        return {**self.config.catalog.properties,
                **((source.options.storage_options or {}) if source is not None else {})}

    def source_for_table(self, table: str) -> SourceConfig | None:
        """The first source that writes ``table``, if any."""
        return next((s for s in self.config.sources if s.table == table), None)

    def rules_for(self, table: str) -> list[Rule]:
        """The quality rules declared for ``table`` (``checks:``), built.

        Raises:
            UsageError: A rule that cannot be built, naming ``checks.<table>``.
        """
        try:
            return rules_from_config(self.config.rules_for(table), root=self.root)
        except UsageError as err:
            raise UsageError(f"checks.{table}: {err}") from None

    def lineage_emitter(self, **overrides: Any) -> LineageEmitter:
        """The project's OpenLineage emitter (``lineage:``), or one with other settings
        (``transport=``, ``path=``, ``url=``, ``namespace=``)."""
        from ..lineage import LineageEmitter

        config = self.config.lineage.model_copy(update=overrides) if overrides \
            else self.config.lineage
        return LineageEmitter(config, self.root, warehouse=self.catalog.warehouse,
                              catalog_name=self.catalog.name, catalog_type=self.catalog.kind)
