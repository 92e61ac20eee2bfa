"""Running out of commit attempts is a temporary failure (ConflictError, exit 75), not bad
data (exit 1): nothing is committed and the table stays at its last snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Transaction

from logflow_dagster.cli.app import fail
from logflow_dagster.core.errors import ConflictError
from logflow_dagster.lakehouse import CatalogConfig, iceberg_sink, open_catalog
from logflow_dagster.lakehouse.ingest import ingest


def test_exhausted_commit_retries_raise_conflict(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1,a\n2,b\n")
    (tmp_path / "b.csv").write_text("x,y\n3,c\n")
    first = ingest(tmp_path / "a.csv", "raw.t", project_dir=tmp_path)

    def lose(self: Transaction) -> None:
        raise CommitFailedException("another writer was first")

    monkeypatch.setattr(Transaction, "commit_transaction", lose)
    monkeypatch.setattr(iceberg_sink, "COMMIT_ATTEMPTS", 3)
    with pytest.raises(ConflictError, match="after 3 attempts"):
        ingest(tmp_path / "b.csv", "raw.t", project_dir=tmp_path)
    monkeypatch.undo()
    table = open_catalog(CatalogConfig.embedded(tmp_path)).load_table("raw.t")
    assert table.current_snapshot().snapshot_id == first.snapshot_id
    with pytest.raises(SystemExit) as done:
        fail(ConflictError("could not commit"), debug=False)
    assert done.value.code == 75
