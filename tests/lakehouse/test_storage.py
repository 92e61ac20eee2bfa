"""ObjectStorage speaks URIs on local disk and on a non-local (fsspec memory) store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from logflow_dagster.lakehouse.storage import ObjectStorage, canonical_uri


@pytest.mark.parametrize(("given", "canon"), [
    ("/tmp/x/a.parquet", "file:///tmp/x/a.parquet"),
    ("file:/tmp/x/a.parquet", "file:///tmp/x/a.parquet"),
    ("file:///tmp/x/../x/a.parquet", "file:///tmp/x/a.parquet"),
    ("s3a://bucket/k/a.parquet", "s3://bucket/k/a.parquet"),
    ("s3://bucket/k/a.parquet", "s3://bucket/k/a.parquet"),
])
def test_canonical_uri(given, canon):
    assert canonical_uri(given) == canon


def test_local_roundtrip(tmp_path):
    root = tmp_path.as_uri()
    store = ObjectStorage(root)
    with store.open_output(f"{root}/a/b/one.bin") as f:
        f.write(b"12345")
    with store.open_output(f"{root}/two.bin") as f:
        f.write(b"x")
    files = store.list(root)
    assert [f.path for f in files] == [f"{root}/a/b/one.bin", f"{root}/two.bin"]
    assert [f.size for f in files] == [5, 1]
    now = datetime.now(UTC)
    assert all(now - timedelta(minutes=5) < f.mtime <= now + timedelta(seconds=5) for f in files)
    assert store.exists(f"{root}/a/b/one.bin") and store.exists(f"{root}/a")
    with store.open_input(f"{root}/a/b/one.bin") as f:
        assert f.read() == b"12345"
    assert store.delete([f"{root}/two.bin", f"{root}/missing.bin"]) == [f"{root}/two.bin"]
    assert not store.exists(f"{root}/two.bin")
    assert store.list(f"{root}/nothing-here") == []


def test_memory_store_via_fsspec():
    store = ObjectStorage("memory://lf-test")
    with store.open_output("memory://lf-test/t/data/x.parquet") as f:
        f.write(b"abc")
    files = store.list("memory://lf-test/t")
    assert [(f.path, f.size) for f in files] == [("memory://lf-test/t/data/x.parquet", 3)]
    assert store.exists("memory://lf-test/t/data/x.parquet")
    assert store.delete(["memory://lf-test/t/data/x.parquet"])
    assert store.list("memory://lf-test/t") == []


def test_for_table_uses_table_location(catalog):
    from tests.lakehouse.helpers import small_file_table

    table = small_file_table(catalog, appends=1, files_per_append=2)
    store = ObjectStorage.for_table(table)
    paths = [f.path for f in store.list(table.location())]
    assert sum(p.endswith(".parquet") for p in paths) == 2
    assert all(p.startswith(table.location()) for p in paths)
