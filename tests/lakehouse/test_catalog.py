"""Catalog config and opening: embedded SQLite, environment overrides, PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from logflow_dagster.lakehouse import CatalogConfig, close_catalog, ensure_namespace, open_catalog
from logflow_dagster.lakehouse.duckdb_reader import table_fingerprint
from logflow_dagster.lakehouse.maintenance import compact, expire_snapshots
from tests.lakehouse.helpers import PG_URL, SCHEMA, batch, require_postgres


def test_embedded_layout_created_on_first_use(tmp_path, ice):
    cfg = CatalogConfig.embedded(tmp_path)
    assert cfg.kind == "sql"
    assert cfg.uri == f"sqlite:///{tmp_path.resolve()}/.logflow/catalog.db"
    assert cfg.warehouse == (tmp_path.resolve() / ".logflow" / "warehouse").as_uri()
    assert not (tmp_path / ".logflow").exists()

    cat = open_catalog(cfg)
    try:
        assert (tmp_path / ".logflow" / "catalog.db").is_file()
        assert (tmp_path / ".logflow" / "warehouse").is_dir()
        assert ensure_namespace(cat, "raw.web") == ("raw", "web")
        assert ensure_namespace(cat, ("raw", "web")) == ("raw", "web")  # idempotent
        table = cat.create_table("raw.web.hits", schema=SCHEMA)
        table.append(batch(0, 3))
        assert table.location().startswith(cfg.warehouse + "/")
        assert table_fingerprint(ice, table)[0] == 3
    finally:
        close_catalog(cat)

    reopened = open_catalog(CatalogConfig.embedded(tmp_path))
    try:
        assert reopened.load_table("raw.web.hits").scan().to_arrow().num_rows == 3
    finally:
        close_catalog(reopened)


def test_env_overrides(tmp_path):
    cfg = CatalogConfig.embedded(tmp_path)
    assert cfg.with_env_overrides({}) is cfg
    other = cfg.with_env_overrides({"LOGFLOW_CATALOG_URI": PG_URL,
                                    "LOGFLOW_WAREHOUSE": "s3://bucket/wh/"})
    assert (other.uri, other.warehouse, other.kind) == (PG_URL, "s3://bucket/wh", "sql")


def test_env_overrides_from_os_environ(tmp_path, monkeypatch):
    monkeypatch.setenv("LOGFLOW_WAREHOUSE", str(tmp_path / "wh"))
    cfg = CatalogConfig.embedded(tmp_path).with_env_overrides()
    assert cfg.warehouse == (tmp_path / "wh").as_uri()


def test_config_validation():
    with pytest.raises(ValidationError, match="warehouse must be a URI"):
        CatalogConfig(uri="sqlite:///x.db", warehouse="relative/path")
    with pytest.raises(ValidationError):
        CatalogConfig(kind="hive", uri="thrift://x", warehouse="file:///w")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CatalogConfig(uri="sqlite:///x.db", warehouse="file:///w", unknown=1)  # type: ignore[call-arg]
    cfg = CatalogConfig(kind="rest", uri="http://localhost:8181", warehouse="s3://b/w",
                        properties={"s3.endpoint": "http://localhost:9000"})
    assert cfg.properties["s3.endpoint"] == "http://localhost:9000"


@pytest.mark.services
def test_postgres_catalog(tmp_path: Path, ice):
    require_postgres()
    cfg = CatalogConfig(name="logflow_test", uri=PG_URL,
                        warehouse=(tmp_path / "warehouse").as_uri())
    cat = open_catalog(cfg)
    namespace = f"lf_test_{uuid.uuid4().hex[:12]}"
    try:
        ensure_namespace(cat, namespace)
        table = cat.create_table(f"{namespace}.events", schema=SCHEMA)
        for i in range(5):
            table.append(batch(i * 4, 4))
        before = table_fingerprint(ice, table)

        assert compact(table).files_after == 1
        expire_snapshots(table, older_than=timedelta(0))

        second = open_catalog(cfg)  # a second process's view, through the catalog only
        try:
            reloaded = second.load_table(f"{namespace}.events")
            assert table_fingerprint(ice, reloaded) == before == (20, before[1])
            assert len(reloaded.snapshots()) == 1
        finally:
            close_catalog(second)
    finally:
        for ident in cat.list_tables(namespace):
            cat.drop_table(ident)
        cat.drop_namespace(namespace)
        assert namespace not in {ns[0] for ns in cat.list_namespaces()}
        close_catalog(cat)


def open_at_once(cfg: CatalogConfig, openers: int = 6) -> list[str]:
    """Open a new catalog from several threads released together, each then making namespace
    ``ns<i>`` (the first open of a new catalog creates its bookkeeping tables); the errors."""
    barrier = threading.Barrier(openers)
    errors: list[str] = []

    def first_use(i: int) -> None:
        barrier.wait()
        try:
            cat = open_catalog(cfg)
            try:
                ensure_namespace(cat, f"ns{i}")
            finally:
                close_catalog(cat)
        except Exception as exc:  # collected: the test asserts there are none
            errors.append(f"{exc.__class__.__name__}: {exc}")

    threads = [threading.Thread(target=first_use, args=(i,)) for i in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_first_open_sqlite(tmp_path: Path):
    """Parallel first ingests open the new embedded catalog together: none may fail on the
    bookkeeping tables another opener created between pyiceberg's check and its CREATE."""
    for attempt in range(5):
        cfg = CatalogConfig.embedded(tmp_path / f"p{attempt}")
        assert open_at_once(cfg) == []
        cat = open_catalog(cfg)
        assert sorted(ns[0] for ns in cat.list_namespaces()) == [f"ns{i}" for i in range(6)]
        close_catalog(cat)


@pytest.mark.services
def test_concurrent_first_open_postgres(tmp_path: Path):
    """The same on PostgreSQL, in a new schema (there the loser gets a unique violation)."""
    import sqlalchemy

    require_postgres()
    engine = sqlalchemy.create_engine(PG_URL)
    try:
        for attempt in range(3):
            schema = f"lf_first_open_{uuid.uuid4().hex[:10]}"
            with engine.begin() as con:
                con.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
            try:
                sep = "&" if "?" in PG_URL else "?"
                cfg = CatalogConfig(name="first_open",
                                    uri=f"{PG_URL}{sep}options=-csearch_path%3D{schema}",
                                    warehouse=(tmp_path / f"w{attempt}").as_uri())
                assert open_at_once(cfg) == []
                with engine.connect() as con:
                    made = con.execute(sqlalchemy.text(
                        f"SELECT count(DISTINCT namespace) FROM {schema}.iceberg_namespace_properties"
                    )).scalar()
                assert made == 6
            finally:
                with engine.begin() as con:
                    con.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        engine.dispose()
