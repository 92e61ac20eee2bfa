"""The demo project the API tests serve: `logflow init --samples` (the demo's files and
models), its CSV ingested and its rollups built, as `logflow demo` leaves it (without the
Dagster runs, which the API does not need)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from logflow_dagster.lakehouse.catalog import CatalogConfig
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.scaffold import init_project
from logflow_dagster.services import semantic


def make_demo(root: Path, api: str = "") -> Path:
    """The demo project under ``root`` (with an ``api:`` section appended when given)."""
    init_project(root, samples=True)
    if api:
        with (root / "logflow.yaml").open("a") as f:
            f.write(api)
    ingest(root / "landing" / "csv" / "orders.csv", "raw.orders_csv",
           catalog=CatalogConfig.embedded(root), project_dir=root,
           error_policy="quarantine", lineage=False)
    semantic.build_rollups(root, lineage=False)
    return root


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project (built once: tests only read it)."""
    return make_demo(tmp_path_factory.mktemp("demo"))


def client_for(app, peer: str = "127.0.0.1") -> TestClient:
    """A test client whose requests come from ``peer``."""
    return TestClient(app, client=(peer, 50000), raise_server_exceptions=False)


@pytest.fixture(scope="session")
def client(demo: Path) -> Iterator[TestClient]:
    """The demo project's API, called from loopback."""
    from logflow_dagster.api import create_app

    with client_for(create_app(demo)) as c:
        yield c
