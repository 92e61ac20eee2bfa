"""logflow.yaml validation names the file, line and key: unknown reader options, rules for a
table no source writes, and table names that could lose data are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from logflow_dagster.config import load_config
from logflow_dagster.core.errors import UsageError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "logflow.yaml"
    path.write_text(text)
    return path


def test_an_unknown_reader_option_is_named_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "sources:\n  - name: o\n    landing: in\n    table: raw.o\n"
                            "    options:\n      delimter: ';'\n")
    with pytest.raises(UsageError) as err:
        load_config(path)
    assert f"{path}:6: sources.0.options.delimter: Extra inputs are not permitted" \
        in str(err.value)


def test_known_reader_options_reach_the_reader(tmp_path: Path) -> None:
    from logflow_dagster.core.convert import ReadOptions
    from logflow_dagster.services.ingest import reading_options

    path = _write(tmp_path, "sources:\n  - name: o\n    landing: in\n    table: raw.o\n"
                            "    format: csv\n    options: {delimiter: ';', header: false,"
                            " schema: {a: int64}, mmap: true}\n")
    got = reading_options(load_config(path).sources[0])
    assert got == ReadOptions(format="csv", delimiter=";", header=False,
                              schema={"a": "int64"}, mmap=True)


def test_reader_options_cover_every_read_option() -> None:
    import dataclasses

    from logflow_dagster.config import ReaderOptions
    from logflow_dagster.core.convert import ReadOptions

    fields = {f.name for f in dataclasses.fields(ReadOptions)} - {"format"}
    names = {f.alias or name for name, f in ReaderOptions.model_fields.items()}
    assert names == fields


def test_checks_for_a_table_no_source_writes_fail(tmp_path: Path) -> None:
    path = _write(tmp_path, "sources:\n  - name: o\n    landing: in\n    table: raw.o\n"
                            "checks:\n  raw.typo:\n    - {type: row_count, min: 1}\n")
    with pytest.raises(UsageError) as err:
        load_config(path)
    assert f"{path}:5: checks: rules for 'raw.typo', which no source writes" in str(err.value)


@pytest.mark.parametrize("table", ["raw.t/x", "raw.a b", "raw..x", "a.b.c", "raw.a;b"])
def test_table_names_that_could_lose_data_are_refused(tmp_path: Path, table: str) -> None:
    path = _write(tmp_path, f"sources:\n  - name: o\n    landing: in\n    table: '{table}'\n")
    with pytest.raises(UsageError) as err:
        load_config(path)
    assert f"{path}:4: sources.0.table: " in str(err.value)
