"""The Iceberg catalog as a Dagster resource (a thin wrapper over the lakehouse config)."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from ..lakehouse import CatalogConfig, open_catalog


class IcebergCatalogResource(dg.ConfigurableResource):
    """Where logflow's tables live: embedded SQLite by default, PostgreSQL or REST by config.

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
        base = CatalogConfig.embedded(self.root).with_env_overrides()
        if not (self.uri or self.warehouse or self.properties):
            return base
        return CatalogConfig(name=base.name, kind=self.kind,  # type: ignore[arg-type]
                             uri=self.uri or base.uri, warehouse=self.warehouse or base.warehouse,
                             properties=self.properties)

    def load_table(self, identifier: str) -> Any:
        """Opens the catalog and loads one table."""
        return open_catalog(self.catalog_config()).load_table(identifier)
