"""Numbers written as codes (leading zeros, a plus sign) stay text: typing must round-trip."""

from __future__ import annotations

import pyarrow as pa
import pytest

from logflow_dagster.core.schema import TextTyper
from logflow_dagster.core.schema.infer import infer_kind


@pytest.mark.parametrize(("values", "kind"), [
    (["08123", "12345"], "string"),
    (["007", "8"], "string"),
    (["-007", "5"], "string"),
    (["+5", "6"], "string"),
    (["00", "1"], "string"),
    (["-0", "1"], "string"),
    (["0", "10", "-3"], "int"),
    (["0.5", "1.50", "-2"], "float"),
    (["007.5", "1.5"], "string"),
    (["+1.5", "2.5"], "string"),
    (["1e5", "2"], "float"),
    (["1e+05", "-0.0"], "float"),
])
def test_codes_are_text(values: list[str], kind: str) -> None:
    assert infer_kind(pa.array(values)) == kind


def test_code_in_a_later_batch_widens_int_column_to_text() -> None:
    typer = TextTyper()
    typer.infer(pa.record_batch({"zip": ["12345", "90210"]}))
    assert typer.plans["zip"].kind == "int"
    typed, failures = typer.apply(pa.record_batch({"zip": ["23456", "02134", None]}))
    assert failures == []
    assert typed.column(0).type == pa.string()
    assert typed.column(0).to_pylist() == ["23456", "02134", None]
    assert typer.plans["zip"].kind == "string"


def test_float_column_keeps_numbers_not_their_spelling() -> None:
    """Like ``1.50`` read as 1.5, a later ``+2.5`` or ``007.5`` in a float column is a number."""
    typer = TextTyper()
    typer.infer(pa.record_batch({"x": ["1.25", "2.5"]}))
    typed, failures = typer.apply(pa.record_batch({"x": ["3.50", "007.5", "+2.5", "n/a"]}))
    assert typed.column(0).to_pylist() == [3.5, 7.5, 2.5]
    assert failures[0].values == ["n/a"]
