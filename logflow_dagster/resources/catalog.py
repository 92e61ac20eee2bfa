"""The Iceberg catalog as a Dagster resource (a thin wrapper over the project's catalog
resolution, :func:`logflow_dagster.services.catalog_config_for`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from ..config import CatalogSettings
from ..lakehouse import CatalogConfig, close_catalog, open_catalog
from ..services import catalog_config_for


class IcebergCatalogResource(dg.ConfigurableResource):
    """Where logflow's tables live: embedded SQLite by default, PostgreSQL or REST by config.

    Everything it opens it closes: :meth:`get_catalog` closes its catalog when the block ends,
    and the catalog behind :meth:`load_table` is closed when the step (or sensor tick) that
    used the resource ends.

    Examples:
        .. code-block:: python

            import dagster as dg
            from logflow_dagster.resources import IcebergCatalogResource

            defs = dg.Definitions(resources={"logflow_catalog": IcebergCatalogResource(
                uri="postgresql+psycopg2://postgres@127.0.0.1:5432/test",
                warehouse="file:///srv/warehouse")})
    """

    root: str = Field(".", description="Project folder (embedded catalog under .logflow/).")
    kind: str = Field("sql", description="sql or rest.")
    uri: str | None = Field(None, description="Catalog URL; empty: embedded SQLite.")
    warehouse: str | None = Field(None, description="Warehouse URI; empty: .logflow/warehouse.")
    properties: dict[str, str] = Field(default_factory=dict, description="pyiceberg props.")

    def catalog_config(self) -> CatalogConfig:
        """The lakehouse config this resource stands for."""
        settings = CatalogSettings(kind=self.kind, uri=self.uri,  # type: ignore[arg-type]
                                   warehouse=self.warehouse, properties=self.properties)
        return catalog_config_for(self.root, settings)

    @contextmanager
    def get_catalog(self) -> Iterator[Any]:
        """An open pyiceberg catalog, closed when the block ends."""
        catalog = open_catalog(self.catalog_config())
        try:
            yield catalog
        finally:
            close_catalog(catalog)

    _open: list[Any] = PrivateAttr(default_factory=list)

    def load_table(self, identifier: str) -> Any:
        """Loads one table; its catalog is closed when the resource is torn down."""
        if not self._open:
            self._open.append(open_catalog(self.catalog_config()))
        return self._open[0].load_table(identifier)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Closes the catalog :meth:`load_table` opened."""
        self.close()

    def close(self) -> None:
        """Closes what :meth:`load_table` opened (also called at teardown)."""
        for catalog in self._open:
            close_catalog(catalog)
        self._open.clear()
