"""Schema policies for writing into an existing Iceberg table, and Iceberg-ready Arrow types."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import DataError
from ..core.errors.policy import Choice


class SchemaPolicy(Choice):
    """What an ingest may do to the table's schema.

    - ``strict``: the file's columns and types must be the table's; any difference is an
      error naming the columns.
    - ``merge`` (default): new columns are added; types widen where Iceberg allows
      (int -> long, float -> double, decimal precision); a column the file lacks is an error.
    - ``evolve``: as ``merge``, and a column the file lacks is null for its rows.
    """

    STRICT = "strict"
    MERGE = "merge"
    EVOLVE = "evolve"


def _ready_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(t):
        return _ready_type(t.value_type)
    if pa.types.is_timestamp(t) and t.unit != "us":
        return pa.timestamp("us", tz=t.tz)
    if pa.types.is_unsigned_integer(t):
        return pa.int64()
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t):
        return pa.binary()
    return t


def iceberg_ready(table: pa.Table) -> pa.Table:
    """Casts types Iceberg (format v2) cannot store to ones it can.

    Dictionaries are decoded, unsigned integers become ``int64``, all-null columns ``string``,
    and timestamps are stored in microseconds (a nanosecond part would be lost: that is an
    error, never a silent rounding).

    Example:
        >>> iceberg_ready(pa.table({"n": pa.array([1], pa.uint32())})).schema.field("n").type
        DataType(int64)
    """
    columns = []
    changed = False
    for f, col in zip(table.schema, table.columns, strict=True):
        target = _ready_type(f.type)
        if target != f.type:
            changed = True
            try:
                col = pc.cast(col, target)
            except pa.ArrowInvalid as err:
                raise DataError(f"column {f.name!r} cannot be stored in Iceberg as {target}: "
                                f"{err}") from None
        columns.append(col)
    if not changed:
        return table
    return pa.Table.from_arrays(columns, names=table.column_names)


def _norm(t: pa.DataType) -> pa.DataType:
    """A type as Iceberg sees it: large/view variants, list item names and nullability of
    nested fields do not matter (pyiceberg reads strings back as ``large_string``)."""
    t = _ready_type(t)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return pa.list_(_norm(t.value_type))
    if pa.types.is_map(t):
        return pa.map_(_norm(t.key_type), _norm(t.item_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _norm(f.type)) for f in t])
    return t


def _same(a: pa.DataType, b: pa.DataType) -> bool:
    return _norm(a) == _norm(b)


def _widens(old: pa.DataType, new: pa.DataType) -> bool:
    """Iceberg's allowed promotions, as Arrow types."""
    if pa.types.is_integer(old) and pa.types.is_integer(new):
        return new.bit_width >= old.bit_width
    if pa.types.is_floating(old) and pa.types.is_floating(new):
        return new.bit_width >= old.bit_width
    if pa.types.is_decimal(old) and pa.types.is_decimal(new):
        return new.scale == old.scale and new.precision >= old.precision
    return False


def apply_schema_policy(table: Any, schema: pa.Schema, policy: SchemaPolicy,
                        *, dry_run: bool = False) -> list[str]:
    """Checks ``schema`` (the data's) against the table's and evolves the table if allowed.

    Returns:
        What changed (``added column x``, ``widened y from int to long``).

    Raises:
        DataError: Naming the columns the policy does not accept.
    """
    current = table.schema().as_arrow()
    have = {f.name: f.type for f in current}
    new = [f for f in schema if f.name not in have]
    missing = [n for n in have if n not in schema.names]
    changed = [(f.name, have[f.name], f.type) for f in schema
               if f.name in have and not _same(have[f.name], f.type)]
    problems = []
    if policy is SchemaPolicy.STRICT:
        problems += [f"new column {f.name!r} ({f.type})" for f in new]
        problems += [f"missing column {n!r}" for n in missing]
        problems += [f"column {n!r} is {a} in the table, {b} in the file" for n, a, b in changed]
    else:
        if policy is SchemaPolicy.MERGE:
            problems += [f"missing column {n!r} (use schema policy 'evolve' to allow it)"
                         for n in missing]
        problems += [f"column {n!r} is {a} in the table, {b} in the file (Iceberg cannot "
                     "widen that)" for n, a, b in changed if not _widens(a, b)]
    if problems:
        raise DataError(f"schema of the data does not fit table {'.'.join(table.name())} "
                        f"under policy {policy.value}: " + "; ".join(problems))
    done = [f"added column {f.name}" for f in new]
    done += [f"widened {n} from {a} to {b}" for n, a, b in changed]
    if done and not dry_run:
        with table.update_schema() as update:
            update.union_by_name(schema)
    return done
