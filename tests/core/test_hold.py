"""While the sink is not ready, the pipeline decodes and profiles ahead, holds the steps back
(nothing written, nothing quarantined) up to a bound, then takes them in order."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from logflow_dagster.core import convert as convert_module
from logflow_dagster.core.convert import ReadOptions, run_pipeline
from logflow_dagster.core.decoders import DecodeOptions
from logflow_dagster.core.sinks.parquet import ParquetOptions, ParquetSink


class SlowToPrepare(ParquetSink):
    """A Parquet sink that says it is not ready for its first ``not_ready`` questions, and
    logs what the pipeline asks of it."""

    def __init__(self, dst: str, not_ready: int) -> None:
        super().__init__(dst, ParquetOptions())
        self.not_ready = not_ready
        self.log: list[str] = []

    def ready(self) -> bool:
        ok = self.not_ready <= 0
        self.not_ready -= 1
        self.log.append("ready" if ok else "wait")
        return ok

    def begin(self) -> None:
        self.log.append("begin")

    def write(self, batch: pa.RecordBatch | pa.Table, *, segment: int) -> None:
        assert "begin" in self.log, "a row was written before the sink began"
        self.log.append("write")
        super().write(batch, segment=segment)


def _input(tmp_path: Path) -> Path:
    src = tmp_path / "in.csv"
    lines = ["id,name"] + [f"{i},n{i}" if i % 1000 != 999 else f"{i},x,extra"
                           for i in range(20_000)]
    src.write_text("\n".join(lines) + "\n")
    return src


def _run(tmp_path: Path, sink: SlowToPrepare, src: Path) -> Any:
    return run_pipeline(src, sink, output=sink.dst, reading=ReadOptions(),
                        error_policy="quarantine", quarantine=str(tmp_path / "q.jsonl"))


def test_held_steps_are_taken_in_order_once_ready(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # small blocks: many steps
    monkeypatch.setattr(convert_module, "DecodeOptions", partial(DecodeOptions, block_size=4096))
    src = _input(tmp_path)
    sink = SlowToPrepare(str(tmp_path / "out.parquet"), not_ready=3)
    r = _run(tmp_path, sink, src)
    first_write = sink.log.index("write")
    assert sink.log[:first_write] == ["wait", "wait", "wait", "ready", "begin"]
    assert r.rows_read == 20_000 == r.rows_written + r.rows_rejected and r.rows_rejected == 20
    got = duckdb.sql(f"SELECT count(*), sum(id) FROM '{sink.dst}'").fetchone()
    assert got == (19_980, sum(i for i in range(20_000) if i % 1000 != 999))
    lines = [json.loads(x)["line"] for x in (tmp_path / "q.jsonl").read_text().splitlines()]
    assert lines == [i + 2 for i in range(20_000) if i % 1000 == 999]


def test_the_hold_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sink that is never ready is begun (waited for) once the hold is full."""
    monkeypatch.setattr(convert_module, "HOLD_BYTES", 1)
    src = _input(tmp_path)
    sink = SlowToPrepare(str(tmp_path / "out.parquet"), not_ready=10**9)
    r = _run(tmp_path, sink, src)
    assert sink.log[:2] == ["begin", "write"]  # the first step filled the hold
    assert r.rows_written == 19_980


def test_rows_without_columns_stop_with_a_clear_error(tmp_path) -> None:
    # a decoder that yields rows without any column (none of ours does: they reject such
    # records) must not have them dropped silently or crash the profile
    from logflow_dagster.core.convert import _Run
    from logflow_dagster.core.decoders.base import DecodedBatch
    from logflow_dagster.core.errors import DataError, ErrorPolicy

    class NoColumns:
        def batches(self):
            yield DecodedBatch(pa.RecordBatch.from_struct_array(
                pa.array([{}] * 3, type=pa.struct([]))))

    run = _Run("in.bin", ErrorPolicy.PERMISSIVE, None)
    sink = ParquetSink(str(tmp_path / "o.parquet"), ParquetOptions())
    with pytest.raises(DataError, match="3 records without any field"):
        run.consume(NoColumns(), sink)
