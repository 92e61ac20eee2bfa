"""``ingest`` into an embedded (SQLite) catalog, checked with DuckDB's iceberg_scan.

Covers the streamed ingest and its IngestResult, lineage columns and snapshot summary, skip of
an identical file, replace of a changed one (other sources untouched), ``force``, every
partition transform (one partition per data file, independent transform arithmetic), the three
schema policies, the quarantine, an aborted ingest leaving no file behind, and time travel.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import mmh3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xxhash
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import EqualTo, GreaterThanOrEqual, LessThan
from pyiceberg.transforms import (
    BucketTransform,
    DayTransform,
    IdentityTransform,
    MonthTransform,
    TruncateTransform,
)
from pyiceberg.types import LongType

from logflow_dagster.core.convert import ReadOptions
from logflow_dagster.core.errors import DataError, UsageError
from logflow_dagster.lakehouse import CatalogConfig, close_catalog, open_catalog, storage
from logflow_dagster.lakehouse.duckdb_reader import iceberg_scan_sql
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.samples import events, write_csv
from tests.lakehouse.helpers import local_files, plain

TABLE = "raw.events"
REGIONS = ("EU", "US", "APAC", "LATAM")
CASE_PREFIXES = ("AX", "AY", "BX", "BZ", "CQ", "DW")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Data and helpers
# ---------------------------------------------------------------------------------------------


def frame(rows: int, seed: int, *, id_base: int | None = None) -> pd.DataFrame:
    """Event rows: unique ``event_id``, ``case_id`` with 6 two-letter prefixes, zoned ``ts``
    over ~75 days across the March DST switch, ``amount`` with 2 decimals, ``region``, ``qty``.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-03-01 08:00", tz="Europe/Berlin")
    ts = start + pd.to_timedelta(np.sort(rng.integers(0, 75 * 86_400, rows)), unit="s")
    prefixes = rng.choice(np.array(CASE_PREFIXES), rows)
    numbers = rng.integers(0, 400, rows)
    return pd.DataFrame({
        "event_id": np.arange(rows, dtype=np.int64) + (seed * 1_000_000 if id_base is None
                                                        else id_base),
        "case_id": [f"{p}-{n:04d}" for p, n in zip(prefixes, numbers, strict=True)],
        "activity": rng.choice(np.array(["create", "approve", "ship", "pay"]), rows),
        "ts": ts,
        "amount": rng.integers(0, 1_000_000, rows) / 100,
        "region": rng.choice(np.array(REGIONS), rows),
        "qty": rng.integers(1, 50, rows),
    })


def write(df: pd.DataFrame, path: Path) -> Path:
    """``df`` as CSV (pandas writes ``ts`` as ``2024-03-01 08:00:00+01:00``)."""
    df.to_csv(path, index=False)
    return path


def cents(df: pd.DataFrame) -> int:
    """Exact sum of ``amount`` in cents."""
    return int(np.round(df["amount"].to_numpy() * 100).astype(np.int64).sum())


def epoch_us(ts: pd.Timestamp) -> int:
    """Microseconds since the epoch (UTC) of a zoned pandas timestamp."""
    return int(ts.value // 1000)


def scan(table) -> str:
    """DuckDB's table function call for the table's current snapshot."""
    return iceberg_scan_sql(table)


def stats(ice: duckdb.DuckDBPyConnection, table, where: str = "true") -> tuple[int, ...]:
    """count, cents sum, min/max ts (epoch us), distinct event ids, summed qty."""
    row = ice.execute(
        f"SELECT count(*), coalesce(sum(round(amount * 100)::BIGINT), 0), epoch_us(min(ts)), "
        f"epoch_us(max(ts)), count(DISTINCT event_id), coalesce(sum(qty), 0) "
        f"FROM {scan(table)} WHERE {where}").fetchone()
    return tuple(int(v) if v is not None else None for v in row)


def expected_stats(df: pd.DataFrame) -> tuple[int, ...]:
    """What :func:`stats` gives for exactly the rows of ``df``."""
    return (len(df), cents(df), epoch_us(df["ts"].min()), epoch_us(df["ts"].max()),
            df["event_id"].nunique(), int(df["qty"].sum()))


def where_source(path: Path) -> str:
    """SQL condition selecting the rows of one source file."""
    return f"_source_uri = '{path.as_uri()}'"


def data_folder(table) -> set[str]:
    """Plain paths of every file under the table's data/ folder."""
    return local_files(table, "data")


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CatalogConfig:
    """The embedded catalog of a project in tmp_path (environment overrides removed)."""
    monkeypatch.delenv("LOGFLOW_CATALOG_URI", raising=False)
    monkeypatch.delenv("LOGFLOW_WAREHOUSE", raising=False)
    return CatalogConfig.embedded(tmp_path)


def run(src: Path, cfg: CatalogConfig, tmp_path: Path, **kwargs):
    """``ingest`` into TABLE of the embedded catalog."""
    return ingest(src, kwargs.pop("table", TABLE), catalog=cfg, project_dir=tmp_path, **kwargs)


def load(catalog: Catalog, name: str = TABLE):
    """The table as the catalog has it now."""
    return catalog.load_table(name)


@pytest.fixture
def cat(cfg: CatalogConfig) -> Iterator[Catalog]:
    """An open handle on the same embedded catalog the ingests write to."""
    c = open_catalog(cfg)
    yield c
    close_catalog(c)


# ---------------------------------------------------------------------------------------------
# Streaming ingest, lineage, result
# ---------------------------------------------------------------------------------------------


def test_csv_ingest_matches_source_read_by_duckdb(tmp_path, cfg, cat, ice):
    df = frame(6000, seed=1)
    src = write(df, tmp_path / "events.csv")
    progress: list[tuple[int, int | None]] = []
    before = datetime.now(UTC)

    result = run(src, cfg, tmp_path, on_progress=lambda done, total: progress.append((done, total)))

    table = load(cat)
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (6000, 6000, 0)
    assert result.table == TABLE and not result.skipped and not result.replaced
    assert stats(ice, table) == expected_stats(df)
    # ts kept its instant: the table stores timestamptz (UTC)
    assert str(table.schema().find_field("ts").field_type) == "timestamptz"

    columns = [r[0] for r in ice.execute(f"DESCRIBE SELECT * FROM {scan(table)}").fetchall()]
    assert columns == [*df.columns, "_source_uri", "_source_hash", "_ingested_at"]
    digest = xxhash.xxh3_128(src.read_bytes()).hexdigest()
    lineage = ice.execute(
        f"SELECT DISTINCT _source_uri, _source_hash, epoch_us(_ingested_at) FROM {scan(table)}"
    ).fetchall()
    assert len(lineage) == 1
    uri, source_hash, ingested_us = lineage[0]
    assert (uri, source_hash) == (src.as_uri(), digest)
    ingested = EPOCH + timedelta(microseconds=ingested_us)
    assert before - timedelta(seconds=1) <= ingested <= datetime.now(UTC)

    snap = table.current_snapshot()
    assert result.snapshot_id == snap.snapshot_id
    assert snap.summary["logflow.source"] == src.as_uri()
    assert snap.summary["logflow.source-hash"] == digest
    assert snap.summary["added-records"] == "6000"
    assert result.data_files
    assert all(Path(plain(f)).is_file() for f in result.data_files)
    assert set(result.data_files) == set(table.inspect.files()["file_path"].to_pylist())
    assert {plain(f) for f in result.data_files} == data_folder(table)
    assert progress and progress[-1][0] == src.stat().st_size


def test_identical_file_is_skipped_without_a_snapshot(tmp_path, cfg, cat, ice):
    df = frame(3000, seed=2)
    src = write(df, tmp_path / "events.csv")
    first = run(src, cfg, tmp_path)
    snapshots = len(load(cat).snapshots())

    again = run(src, cfg, tmp_path)

    table = load(cat)
    assert again.skipped and not again.replaced
    assert again.snapshot_id == first.snapshot_id == table.current_snapshot().snapshot_id
    assert len(table.snapshots()) == snapshots
    assert again.rows_written == first.rows_written and again.data_files == []  # what it holds
    assert stats(ice, table) == expected_stats(df)


def test_skipped_re_ingest_keeps_the_quarantine_and_writes_nothing(tmp_path, cfg, cat):
    src = tmp_path / "bad.csv"
    src.write_text("id,amount\n" + "".join(f"{i},{i}.5\n" for i in range(500)) + "x,oops\n")
    first = ingest(src, TABLE, catalog=cfg, project_dir=tmp_path, error_policy="quarantine")
    quarantined = Path(first.quarantine).read_text(encoding="utf-8")
    assert first.rows_rejected == 1 and '"line": 502' in quarantined
    files = local_files(load(cat))

    again = ingest(src, TABLE, catalog=cfg, project_dir=tmp_path, error_policy="quarantine")

    assert again.skipped and again.snapshot_id == first.snapshot_id
    assert Path(first.quarantine).read_text(encoding="utf-8") == quarantined
    assert local_files(load(cat)) == files  # no data file written and left behind


def test_changed_file_replaces_exactly_its_rows(tmp_path, cfg, cat, ice):
    a, b = frame(3000, seed=3), frame(2000, seed=4)
    src_a, src_b = write(a, tmp_path / "a.csv"), write(b, tmp_path / "b.csv")
    first_a = run(src_a, cfg, tmp_path)
    first_b = run(src_b, cfg, tmp_path)
    table = load(cat)
    b_before = ice.execute(f"SELECT count(*), sum(hash(event_id, case_id, ts, amount, region, "
                           f"qty, _ingested_at)) FROM {scan(table)} WHERE {where_source(src_b)}"
                           ).fetchone()

    # fewer rows, other values, same path
    changed = frame(1200, seed=5, id_base=3_000_000)
    changed["amount"] = changed["amount"] + 1000
    write(changed, src_a)
    result = run(src_a, cfg, tmp_path)

    table = load(cat)
    assert result.replaced and not result.skipped
    assert result.snapshot_id == table.current_snapshot().snapshot_id
    assert stats(ice, table, where_source(src_a)) == expected_stats(changed)
    assert stats(ice, table, where_source(src_b)) == expected_stats(b)
    assert stats(ice, table) == expected_stats(pd.concat([changed, b]))
    got_a = ice.execute(f"SELECT event_id, round(amount * 100)::BIGINT FROM {scan(table)} "
                        f"WHERE {where_source(src_a)} ORDER BY event_id").fetchall()
    want_a = list(zip(changed["event_id"].tolist(),
                      np.round(changed["amount"] * 100).astype(np.int64).tolist(), strict=True))
    assert got_a == want_a
    b_after = ice.execute(f"SELECT count(*), sum(hash(event_id, case_id, ts, amount, region, "
                          f"qty, _ingested_at)) FROM {scan(table)} WHERE {where_source(src_b)}"
                          ).fetchone()
    assert b_after == b_before  # b's rows untouched (same values, same ingest time)
    live = set(table.inspect.files()["file_path"].to_pylist())
    assert set(first_b.data_files) <= live  # b's files kept as they were
    assert not set(first_a.data_files) & live  # a's old files no longer in the snapshot
    assert set(result.data_files) <= live
    digest = xxhash.xxh3_128(src_a.read_bytes()).hexdigest()
    assert ice.execute(f"SELECT DISTINCT _source_hash FROM {scan(table)} "
                       f"WHERE {where_source(src_a)}").fetchall() == [(digest,)]

    # force: same file again -> a new snapshot, still exactly one copy of its rows
    snapshots = len(table.snapshots())
    forced = run(src_a, cfg, tmp_path, force=True)
    table = load(cat)
    assert forced.replaced and not forced.skipped and forced.rows_written == 1200
    assert forced.snapshot_id == table.current_snapshot().snapshot_id
    assert len(table.snapshots()) > snapshots
    assert stats(ice, table, where_source(src_a)) == expected_stats(changed)
    assert stats(ice, table) == expected_stats(pd.concat([changed, b]))


def test_first_ingest_of_a_new_source_is_not_a_replace(tmp_path, cfg, cat):
    """Another source in the same folder must not make a first ingest report ``replaced``
    (nor put a delete into its commit)."""
    run(write(frame(50, seed=6), tmp_path / "first.csv"), cfg, tmp_path)
    second = run(write(frame(50, seed=7), tmp_path / "second.csv"), cfg, tmp_path)
    assert not second.replaced
    table = load(cat)
    assert [s.summary.operation.value for s in table.snapshots()] == ["append", "append"]


def test_table_name_needs_a_namespace(tmp_path, cfg):
    with pytest.raises(UsageError, match="namespace"):
        run(write(frame(5, seed=8), tmp_path / "x.csv"), cfg, tmp_path, table="events")


# ---------------------------------------------------------------------------------------------
# Partitioning
# ---------------------------------------------------------------------------------------------


def _day(ts_us: int) -> object:
    return (EPOCH + timedelta(microseconds=ts_us)).date()


def _month(ts_us: int) -> int:
    d = EPOCH + timedelta(microseconds=ts_us)
    return (d.year - 1970) * 12 + d.month - 1


def _bucket4(value: str) -> int:
    return (mmh3.hash(value.encode("utf-8"), signed=True) & 0x7FFFFFFF) % 4


PARTITION_CASES = {
    # spec: (partition field name, transform, source column, independent per-value transform)
    "region": ("region", IdentityTransform(), "region", lambda v: v),
    "day(ts)": ("ts_day", DayTransform(), "ts", _day),
    "month(ts)": ("ts_month", MonthTransform(), "ts", _month),
    "bucket(4, case_id)": ("case_id_bucket_4", BucketTransform(4), "case_id", _bucket4),
    "truncate(2, case_id)": ("case_id_truncate_2", TruncateTransform(2), "case_id",
                             lambda v: v[:2]),
}


@pytest.mark.parametrize("spec", list(PARTITION_CASES))
def test_partition_spec_one_partition_per_file(tmp_path, cfg, cat, ice, spec):
    name, transform, column, fn = PARTITION_CASES[spec]
    df = frame(4000, seed=9)
    src = write(df, tmp_path / "events.csv")

    result = run(src, cfg, tmp_path, partition_by=[spec])

    table = load(cat)
    fields = table.spec().fields
    assert [(f.name, f.transform) for f in fields] == [(name, transform)]
    assert table.schema().find_column_name(fields[0].source_id) == column
    assert stats(ice, table) == expected_stats(df)

    files = table.inspect.files()
    assert set(files["file_path"].to_pylist()) == set(result.data_files)
    seen = {}
    for path, part, count in zip(files["file_path"].to_pylist(), files["partition"].to_pylist(),
                                 files["record_count"].to_pylist(), strict=True):
        data = pq.read_table(plain(path), columns=[column])
        assert data.num_rows == count
        values = data.column(column)
        if column == "ts":
            values = values.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        keys = {fn(v) for v in values.to_pylist()}
        assert keys == {part[name]}, f"{path} holds {sorted(map(str, keys))}"
        seen[part[name]] = seen.get(part[name], 0) + count
    # every partition of the source is there with all its rows
    if column == "ts":
        source_keys = [fn(epoch_us(t)) for t in df["ts"]]
    else:
        source_keys = [fn(v) for v in df[column]]
    assert seen == pd.Series(source_keys).value_counts().to_dict()
    assert len(seen) > 1

    # partition values in the manifests are right: a filtered scan (pruned by them) is exact
    if column == "ts":
        lo = pd.Timestamp("2024-04-10", tz="UTC")
        hi = lo + pd.Timedelta(days=1)
        flt = GreaterThanOrEqual("ts", lo.isoformat()) & LessThan("ts", hi.isoformat())
        want = int(((df["ts"] >= lo) & (df["ts"] < hi)).sum())
    else:
        value = df[column].iloc[17]
        flt = EqualTo(column, value)
        want = int((df[column] == value).sum())
    assert want > 0
    assert table.scan(row_filter=flt).to_arrow().num_rows == want


# ---------------------------------------------------------------------------------------------
# Schema policies
# ---------------------------------------------------------------------------------------------


def test_strict_rejects_extra_and_missing_columns_table_unchanged(tmp_path, cfg, cat, ice):
    base = frame(500, seed=10)
    run(write(base, tmp_path / "base.csv"), cfg, tmp_path)
    table = load(cat)
    snap, files = table.current_snapshot().snapshot_id, data_folder(table)

    extra = frame(100, seed=11).assign(channel="web")
    with pytest.raises(DataError, match=r"new column 'channel'"):
        run(write(extra, tmp_path / "extra.csv"), cfg, tmp_path, schema_policy="strict")
    missing = frame(100, seed=12).drop(columns=["qty"])
    with pytest.raises(DataError, match=r"missing column 'qty'"):
        run(write(missing, tmp_path / "missing.csv"), cfg, tmp_path, schema_policy="strict")

    table = load(cat)
    assert table.current_snapshot().snapshot_id == snap
    assert data_folder(table) == files
    assert "channel" not in table.schema().column_names
    assert stats(ice, table) == expected_stats(base)


def test_merge_adds_a_column_old_rows_read_null(tmp_path, cfg, cat, ice):
    base = frame(500, seed=13)
    src_base = write(base, tmp_path / "base.csv")
    run(src_base, cfg, tmp_path)
    wider = frame(300, seed=14).assign(channel=lambda d: np.where(d["qty"] % 2 == 0, "web", "shop"))
    src_wider = write(wider, tmp_path / "wider.csv")

    result = run(src_wider, cfg, tmp_path, schema_policy="merge")

    table = load(cat)
    assert result.rows_written == 300
    assert "channel" in table.schema().column_names
    nulls = ice.execute(
        f"SELECT _source_uri, count(*), count(channel), count(*) FILTER (channel = 'web') "
        f"FROM {scan(table)} GROUP BY 1 ORDER BY 1").fetchall()
    assert nulls == sorted([(src_base.as_uri(), 500, 0, 0),
                            (src_wider.as_uri(), 300, 300, int((wider["qty"] % 2 == 0).sum()))])
    assert stats(ice, table) == expected_stats(pd.concat([base, wider.drop(columns="channel")]))


def test_merge_widens_int_to_long(tmp_path, cfg, cat, ice):
    """Parquet inputs keep their int32/float32 types; a later int64/float64 file widens."""
    narrow = tmp_path / "narrow.parquet"
    wide = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int32()),
                             "v": pa.array([0.5, 1.5, 2.5], pa.float32())}), narrow)
    pq.write_table(pa.table({"id": pa.array([2**40, 2**41], pa.int64()),
                             "v": pa.array([1e300, -1e300], pa.float64())}), wide)
    run(narrow, cfg, tmp_path, table="raw.numbers")
    assert str(load(cat, "raw.numbers").schema().find_field("id").field_type) == "int"

    run(wide, cfg, tmp_path, table="raw.numbers", schema_policy="merge")

    table = load(cat, "raw.numbers")
    assert table.schema().find_field("id").field_type == LongType()
    assert str(table.schema().find_field("v").field_type) == "double"
    rows = ice.execute(f"SELECT id, v FROM {scan(table)} ORDER BY id").fetchall()
    assert rows == [(1, 0.5), (2, 1.5), (3, 2.5), (2**40, 1e300), (2**41, -1e300)]


def test_merge_rejects_a_missing_column_evolve_fills_nulls(tmp_path, cfg, cat, ice):
    base = frame(400, seed=15)
    run(write(base, tmp_path / "base.csv"), cfg, tmp_path)
    snap = load(cat).current_snapshot().snapshot_id
    lacking = frame(250, seed=16).drop(columns=["region"])
    src = write(lacking, tmp_path / "lacking.csv")

    with pytest.raises(DataError, match=r"missing column 'region'.*evolve"):
        run(src, cfg, tmp_path, schema_policy="merge")
    assert load(cat).current_snapshot().snapshot_id == snap

    result = run(src, cfg, tmp_path, schema_policy="evolve")

    table = load(cat)
    assert result.rows_written == 250 and not result.skipped
    counts = ice.execute(f"SELECT count(*), count(region) FROM {scan(table)} "
                         f"WHERE {where_source(src)}").fetchone()
    assert counts == (250, 0)
    assert stats(ice, table) == expected_stats(pd.concat([base, lacking]))


def test_unknown_schema_policy_is_a_usage_error(tmp_path, cfg):
    with pytest.raises(UsageError, match="schema policy"):
        run(write(frame(5, seed=17), tmp_path / "x.csv"), cfg, tmp_path, schema_policy="loose")


# ---------------------------------------------------------------------------------------------
# Bad records: quarantine, strict abort
# ---------------------------------------------------------------------------------------------


def test_quarantine_default_path_and_accounting(tmp_path, monkeypatch, ice):
    monkeypatch.delenv("LOGFLOW_CATALOG_URI", raising=False)
    monkeypatch.delenv("LOGFLOW_WAREHOUSE", raising=False)
    src = tmp_path / "landing" / "orders.csv"
    src.parent.mkdir()
    evs = events(cases=300)
    bad_lines = write_csv(src, evs, bad_every=97)
    assert len(bad_lines) >= 5

    # catalog=None: the embedded default under project_dir. The bad amounts lie inside the
    # type-inference sample (amount would be inferred as text), so the type is given.
    result = ingest(src, TABLE, project_dir=tmp_path, error_policy="quarantine",
                    reading=ReadOptions(schema={"amount": "double"}))

    expected_q = tmp_path / ".logflow" / "quarantine" / TABLE / "orders.csv.jsonl"
    assert Path(result.quarantine) == expected_q and expected_q.is_file()
    assert result.rows_read == len(evs)
    assert result.rows_rejected == len(bad_lines)
    assert result.rows_read == result.rows_written + result.rows_rejected
    quarantined = ice.execute(f"SELECT line, value FROM read_json('{expected_q}') ORDER BY line"
                              ).fetchall()
    assert quarantined == [(line, "n/a") for line in bad_lines]
    catalog = open_catalog(CatalogConfig.embedded(tmp_path))
    try:
        t = catalog.load_table(TABLE)
        assert ice.execute(f"SELECT count(*) FROM {scan(t)}").fetchone()[0] == result.rows_written
        assert t.current_snapshot().snapshot_id == result.snapshot_id
    finally:
        close_catalog(catalog)


def test_strict_error_late_in_a_big_file_leaves_table_and_folder_unchanged(
        tmp_path, cfg, cat, ice, monkeypatch):
    """A bad record after the first 16 MiB block: files were already written, abort deletes
    them all and the table keeps its snapshot."""
    base = frame(200, seed=18)
    run(write(base, tmp_path / "base.csv"), cfg, tmp_path)
    table = load(cat)
    snap, files = table.current_snapshot().snapshot_id, data_folder(table)

    big = tmp_path / "big.csv"
    rows = 500_000
    duckdb.sql(f"""COPY (SELECT 9000000 + i AS event_id, 'AX-' || lpad((i % 400)::VARCHAR, 4, '0')
        AS case_id, 'create' AS activity,
        TIMESTAMPTZ '2024-03-01 08:00:00+00' + i * INTERVAL 1 SECOND AS ts,
        round((i % 1000) / 100.0, 2) AS amount, 'EU' AS region, i % 50 AS qty
        FROM range({rows}) t(i)) TO '{big}' (HEADER)""")
    with big.open("a") as f:
        f.write("9999999,AX-0001,create,2024-03-09 08:00:00+00,n/a,EU,1\n")
    assert big.stat().st_size > 20 << 20
    deleted: list[str] = []
    real_delete = storage.ObjectStorage.delete

    def spy(self, uris):
        done = real_delete(self, list(uris))
        deleted.extend(done)
        return done

    monkeypatch.setattr(storage.ObjectStorage, "delete", spy)

    with pytest.raises(DataError, match="amount") as err:
        run(big, cfg, tmp_path)

    assert err.value.line == rows + 2  # header is line 1
    assert deleted, "the aborted ingest wrote no data file: the test proves nothing"
    assert all("/data/" in d for d in deleted)
    table = load(cat)
    assert table.current_snapshot().snapshot_id == snap
    assert data_folder(table) == files
    assert stats(ice, table) == expected_stats(base)


# ---------------------------------------------------------------------------------------------
# Time travel
# ---------------------------------------------------------------------------------------------


def test_time_travel_to_the_first_ingest(tmp_path, cfg, cat, ice):
    a, b = frame(1500, seed=19), frame(700, seed=20)
    first = run(write(a, tmp_path / "a.csv"), cfg, tmp_path)
    second = run(write(b, tmp_path / "b.csv"), cfg, tmp_path)
    table = load(cat)
    assert second.snapshot_id == table.current_snapshot().snapshot_id != first.snapshot_id

    assert table.scan(snapshot_id=first.snapshot_id).to_arrow().num_rows == 1500
    assert table.scan().to_arrow().num_rows == 2200
    location = table.metadata_location
    old = ice.execute(f"SELECT count(*), coalesce(sum(round(amount * 100)::BIGINT), 0) FROM "
                      f"iceberg_scan('{location}', snapshot_from_id={first.snapshot_id})"
                      ).fetchone()
    assert old == (1500, cents(a))
    assert stats(ice, table) == expected_stats(pd.concat([a, b]))
