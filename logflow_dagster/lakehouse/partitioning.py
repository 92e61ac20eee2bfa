"""Partition specs from configuration strings, and partition keys of Arrow batches.

Spec strings, one per partition field: ``region`` (identity), ``year(ts)``, ``month(ts)``,
``day(ts)``, ``hour(ts)``, ``bucket(16, case_id)``, ``truncate(4, name)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import UsageError

_SPEC = re.compile(r"^\s*(?:(\w+)\s*\(\s*(?:(\d+)\s*,\s*)?([^()\s,]+)\s*\)|([^()\s,]+))\s*$")
_TRANSFORMS = ("identity", "year", "month", "day", "hour", "bucket", "truncate")


@dataclass(frozen=True)
class PartitionField:
    """One parsed partition field.

    Attributes:
        transform: ``identity``, ``year``, ``month``, ``day``, ``hour``, ``bucket`` or
            ``truncate``.
        column: The source column.
        param: Bucket count or truncate width.
    """

    transform: str
    column: str
    param: int | None = None

    @property
    def name(self) -> str:
        """The partition field's name (``ts_day``, ``case_id_bucket_16``, ``region``)."""
        if self.transform == "identity":
            return self.column
        suffix = f"_{self.param}" if self.param is not None else ""
        return f"{self.column}_{self.transform}{suffix}"

    def iceberg_transform(self) -> object:
        """The pyiceberg transform object."""
        from pyiceberg import transforms as t

        match self.transform:
            case "identity":
                return t.IdentityTransform()
            case "year":
                return t.YearTransform()
            case "month":
                return t.MonthTransform()
            case "day":
                return t.DayTransform()
            case "hour":
                return t.HourTransform()
            case "bucket":
                return t.BucketTransform(num_buckets=self.param or 1)
            case _:
                return t.TruncateTransform(width=self.param or 1)


def parse_partition_spec(specs: list[str] | str | None) -> list[PartitionField]:
    """Reads partition field strings.

    Raises:
        UsageError: For a string that is not a known transform.

    Example:
        >>> [f.name for f in parse_partition_spec(["day(ts)", "bucket(8, id)", "region"])]
        ['ts_day', 'id_bucket_8', 'region']
    """
    if specs is None:
        return []
    if isinstance(specs, str):
        specs = [s for s in re.split(r",\s*(?![^()]*\))", specs) if s.strip()]
    fields: list[PartitionField] = []
    for spec in specs:
        m = _SPEC.match(spec)
        if not m:
            raise UsageError(f"bad partition field {spec!r}; use col, day(col), "
                             "bucket(N, col) or truncate(W, col)")
        fn, param, column, bare = m.groups()
        if bare:
            fields.append(PartitionField("identity", bare))
            continue
        fn = fn.lower()
        if fn not in _TRANSFORMS:
            raise UsageError(f"unknown partition transform {fn!r} in {spec!r}; choose one of "
                             f"{', '.join(_TRANSFORMS)}")
        if fn in ("bucket", "truncate") and param is None:
            raise UsageError(f"{fn} needs a number: {fn}(N, {column})")
        fields.append(PartitionField(fn, column, int(param) if param else None))
    return fields


def split_by_partition(
    table: pa.Table, fields: list[PartitionField], iceberg_schema: object
) -> Iterator[tuple[str, tuple[object, ...], pa.Table]]:
    """Splits ``table`` into one part per partition value (a data file holds one partition).

    Yields:
        A path label (``ts_day=19800``), the transformed partition values in field order (what
        pyiceberg's ``PartitionKey`` takes) and the rows of that partition.
    """
    if not fields:
        yield "", (), table
        return
    keys = {}
    for f in fields:
        source_type = iceberg_schema.find_field(f.column).field_type  # type: ignore[attr-defined]
        fn = f.iceberg_transform().pyarrow_transform(source_type)  # type: ignore[attr-defined]
        column = table.column(f.column).combine_chunks()
        keys[f.name] = fn(column)
    key_table = pa.table(keys)
    groups = key_table.group_by(list(keys)).aggregate([])
    for group in groups.to_pylist():
        mask = None
        for name, value in group.items():
            col = key_table.column(name)
            m = pc.is_null(col) if value is None else pc.equal(col, pa.scalar(value, col.type))
            mask = m if mask is None else pc.and_(mask, m)
        label = "/".join(f"{k}={v}" for k, v in group.items())
        yield label, tuple(group.values()), table.filter(mask)
