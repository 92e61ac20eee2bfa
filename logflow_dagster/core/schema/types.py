"""Arrow type names users write in overrides, and the widening order of inferred types."""

from __future__ import annotations

import pyarrow as pa

from ..errors import UsageError

_NAMED: dict[str, pa.DataType] = {
    "string": pa.string(),
    "str": pa.string(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bool": pa.bool_(),
    "boolean": pa.bool_(),
    "int": pa.int64(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "integer": pa.int64(),
    "long": pa.int64(),
    "bigint": pa.int64(),
    "float": pa.float64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "double": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "timestamp_tz": pa.timestamp("us", tz="UTC"),
}


def parse_type(name: str) -> pa.DataType:
    """Reads a type name such as ``int64``, ``timestamptz`` or ``decimal(12,2)``.

    Example:
        >>> parse_type("decimal(12,2)")
        Decimal128Type(decimal128(12, 2))
    """
    key = name.strip().lower().replace(" ", "")
    if key in _NAMED:
        return _NAMED[key]
    if key.startswith("decimal(") and key.endswith(")"):
        try:
            precision, scale = (int(p) for p in key[8:-1].split(","))
            return pa.decimal128(precision, scale)
        except ValueError:
            pass
    choices = ", ".join(sorted(_NAMED))
    raise UsageError(f"unknown type {name!r}; use one of {choices} or decimal(P,S)")


def type_label(t: pa.DataType) -> str:
    """A short, stable name for a type (used in results and the CLI's JSON)."""
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_dictionary(t):
        return type_label(t.value_type)
    return str(t)
