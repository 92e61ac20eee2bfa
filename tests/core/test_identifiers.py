"""Table names are validated in one place: a name that could put a table's files inside
another table's folder, or that needs quoting, is refused with a usage error."""

from __future__ import annotations

import pytest

from logflow_dagster.core.errors import UsageError
from logflow_dagster.core.identifiers import TableName, identifier_problem


@pytest.mark.parametrize("name", ["raw.orders", "raw.orders_csv", "_x.y1", "A.B"])
def test_valid_names(name: str) -> None:
    assert identifier_problem(name) is None
    assert str(TableName.parse(name)) == name


@pytest.mark.parametrize(("name", "why"), [
    ("raw.t/x", "'/'"), ("raw.t\\x", "'\\\\'"), ('raw."t"', "'\"'"), ("raw.a;b", "';'"),
    ("raw.a b", "' '"), ("raw..x", "empty part"), (".x", "empty part"), ("raw.", "empty part"),
    ("a.b.c", "nested namespaces"), ("orders", "no namespace"), ("", "empty name"),
    ("raw.1x", "must start with a letter"), ("raw.é", "'é'"), ("raw." + "x" * 129, "128"),
])
def test_invalid_names_are_refused_naming_why(name: str, why: str) -> None:
    with pytest.raises(UsageError) as err:
        TableName.parse(name)
    assert why in str(err.value)
    assert err.value.exit_code == 2
