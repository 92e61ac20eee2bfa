"""DuckDB for querying logflow's tables: dagster-duckdb's resource, offline, iceberg-ready."""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from ..lakehouse.duckdb_reader import extension_files, s3_secret_sql


class LogflowDuckDBResource(DuckDBResource):
    """dagster-duckdb's ``DuckDBResource`` that never downloads extensions and has the iceberg
    (and avro) extensions loaded from their PyPI packages, so ``iceberg_scan`` just works.

    Examples:
        .. code-block:: python

            import dagster as dg
            from logflow_dagster.lakehouse.duckdb_reader import iceberg_scan_sql
            from logflow_dagster.resources import IcebergCatalogResource, LogflowDuckDBResource

            @dg.asset(deps=[dg.AssetKey(["raw", "orders_csv"])])
            def order_count(duckdb: LogflowDuckDBResource,
                            logflow_catalog: IcebergCatalogResource) -> int:
                table = logflow_catalog.load_table("raw.orders_csv")
                with duckdb.get_connection() as con:
                    return con.execute(f"SELECT count(*) FROM {iceberg_scan_sql(table)}"
                                       ).fetchone()[0]

            defs = dg.Definitions(assets=[order_count], resources={
                "duckdb": LogflowDuckDBResource(), "logflow_catalog": IcebergCatalogResource()})
    """

    storage_properties: dict[str, str] = Field(
        default_factory=dict, description="Object-storage properties (s3.*) of an S3 "
        "warehouse: httpfs is loaded from its package and a secret made from them.")

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with autoinstall off and the iceberg extension loaded."""
        config = {**self.connection_config, "autoinstall_known_extensions": "false",
                  "autoload_known_extensions": "false"}
        con = duckdb.connect(database=self.database, read_only=False, config=config)
        try:
            for path in extension_files():
                con.execute("LOAD '" + path.replace("'", "''") + "'")
            if any(k.startswith("s3.") for k in self.storage_properties):
                httpfs = extension_files(("duckdb_extension_httpfs",))[0]
                con.execute("LOAD '" + httpfs.replace("'", "''") + "'")
                con.execute(s3_secret_sql(self.storage_properties))
            yield con
        finally:
            con.close()
