"""The catalog resource closes what it opens: the catalog behind load_table at teardown,
the one of get_catalog when its block ends."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from logflow_dagster.resources import IcebergCatalogResource


def _pool_size(catalog: object) -> int:
    return catalog.engine.pool.checkedin()  # type: ignore[attr-defined]


def test_teardown_closes_the_catalog_load_table_opened(tmp_path: Path) -> None:
    resource = IcebergCatalogResource(root=str(tmp_path))
    with resource.get_catalog() as catalog:
        catalog.create_namespace("raw")
        import pyarrow as pa

        catalog.create_table("raw.t", schema=pa.schema([("a", pa.int64())]))
        assert _pool_size(catalog) >= 1
    assert _pool_size(catalog) == 0  # disposed when the block ended
    with dg.build_resources({"cat": resource}) as resources:
        table = resources.cat.load_table("raw.t")
        opened = resources.cat._open[0]
        assert table.name() == ("raw", "t") and _pool_size(opened) >= 1
    assert resources.cat._open == [] and _pool_size(opened) == 0
