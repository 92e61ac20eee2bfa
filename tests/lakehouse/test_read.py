"""Time travel: read as of now, a snapshot id or a time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logflow_dagster.core.errors import UsageError
from logflow_dagster.lakehouse import CatalogConfig, open_catalog
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.lakehouse.read import read_table


def test_read_as_of_snapshot_and_time(tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text("id,v\n" + "".join(f"{i},{i}\n" for i in range(100)))
    second = tmp_path / "b.csv"
    second.write_text("id,v\n" + "".join(f"{i},{i}\n" for i in range(100, 130)))
    r1 = ingest(first, "raw.t", project_dir=tmp_path)
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    r2 = ingest(second, "raw.t", project_dir=tmp_path)
    table = open_catalog(CatalogConfig.embedded(tmp_path)).load_table("raw.t")
    summary = table.current_snapshot().summary
    assert (summary["logflow.rows-read"], summary["logflow.rows-rejected"]) == ("30", "0")
    assert summary["logflow.profile-checksum"] == r2.checksum
    assert read_table(table).read_all().num_rows == 130
    assert read_table(table, snapshot_id=r1.snapshot_id).read_all().num_rows == 100
    assert read_table(table, snapshot_id=r2.snapshot_id).read_all().num_rows == 130
    assert read_table(table, as_of=between).read_all().num_rows == 100
    got = read_table(table, columns=("id",), row_filter="id >= 120").read_all()
    assert sorted(got.column("id").to_pylist()) == list(range(120, 130))
    with pytest.raises(UsageError):
        read_table(table, snapshot_id=1)
    with pytest.raises(UsageError):
        read_table(table, as_of=datetime(2000, 1, 1, tzinfo=UTC))
