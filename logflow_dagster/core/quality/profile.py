"""The streaming quality profile: per-column nulls, min/max, distinct estimate, entropy, and an
order-independent checksum of the rows.

Row and value hashes come from DuckDB's ``hash`` run over each Arrow batch (zero copy,
multi-threaded). The checksum is the sum of the row hashes modulo 2^64, so it does not depend
on row order and can be recomputed from any copy of the data with one query::

    SELECT sum(hash(c1, c2, ...)) % 18446744073709551616 FROM read_parquet('out.parquet')

(:func:`checksum_sql` builds it). Profiles of parts merge exactly (sums, min/max, registers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import type_label
from .hll import HyperLogLog

ENTROPY_CAP = 65_536  # distinct values counted exactly per column for the entropy
_MASK64 = (1 << 64) - 1


def quote_ident(name: str) -> str:
    """Quotes a column name for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def checksum_sql(columns: list[str], relation: str) -> str:
    """SQL computing the logflow checksum of ``relation`` (a table or a ``read_parquet``).

    Example:
        >>> checksum_sql(["a", "b"], "t")
        'SELECT sum(hash("a", "b"))::HUGEINT % 18446744073709551616 FROM t'
    """
    cols = ", ".join(quote_ident(c) for c in columns)
    return f"SELECT sum(hash({cols}))::HUGEINT % {1 << 64} FROM {relation}"


@dataclass
class ColumnProfile:
    """What the profile knows about one column."""

    name: str
    type: str
    count: int = 0
    nulls: int = 0
    min: Any = None
    max: Any = None
    hll: HyperLogLog = field(default_factory=HyperLogLog, repr=False)
    counts: dict[Any, int] | None = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        entropy, exact = self.entropy()
        return {
            "name": self.name,
            "type": self.type,
            "count": self.count,
            "nulls": self.nulls,
            "null_ratio": (self.nulls / self.count) if self.count else 0.0,
            "min": _jsonable(self.min),
            "max": _jsonable(self.max),
            "distinct": round(self.hll.estimate()) if self.count > self.nulls else 0,
            "entropy": entropy,
            "entropy_exact": exact,
        }

    def entropy(self) -> tuple[float | None, bool]:
        """Shannon entropy in bits of the non-null values (text and boolean columns).

        Exact while the column has at most ``ENTROPY_CAP`` distinct values; above that the
        upper bound log2(distinct) is given and flagged as not exact.
        """
        if self.counts is None:
            distinct = self.hll.estimate()
            return (math.log2(distinct) if distinct > 1 else 0.0), False
        total = sum(self.counts.values())
        if not total or self.type not in ("string", "bool"):
            return None, True
        ent = -sum((c / total) * math.log2(c / total) for c in self.counts.values())
        return ent + 0.0, True


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class Profiler:
    """Accumulates the profile of a stream of batches with one schema.

    Example:
        >>> prof = Profiler()
        >>> prof.update(pa.record_batch({"a": [1, 2, None], "b": ["x", "y", "x"]}))
        >>> prof.rows, prof.columns["a"].nulls, prof.columns["b"].to_dict()["distinct"]
        (3, 1, 2)
    """

    def __init__(self) -> None:
        import duckdb

        self.rows = 0
        self._sum = 0
        self.columns: dict[str, ColumnProfile] = {}
        self._con = duckdb.connect(config={"autoinstall_known_extensions": "false",
                                           "autoload_known_extensions": "false"})

    @property
    def checksum(self) -> str:
        """The order-independent checksum as 16 hex digits."""
        return f"{self._sum & _MASK64:016x}"

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Adds one batch (or table)."""
        if batch.num_rows == 0:
            return
        for name, column in zip(batch.column_names, batch.columns, strict=True):
            if name not in self.columns:
                self.columns[name] = ColumnProfile(name, type_label(column.type))
        self.rows += batch.num_rows
        self._hash(batch)  # first: the distinct estimate decides whether to count values
        for name, column in zip(batch.column_names, batch.columns, strict=True):
            self._update_column(self.columns[name], column)

    def _hash(self, batch: pa.RecordBatch | pa.Table) -> None:
        names = [quote_ident(n) for n in batch.column_names]
        per_col = ", ".join(f"CASE WHEN {n} IS NULL THEN NULL ELSE hash({n}) END" for n in names)
        row = f"hash({', '.join(names)})"
        self._con.register("_b", batch)
        try:
            out = self._con.execute(f"SELECT {row} AS _row, {per_col} FROM _b").arrow()
            if isinstance(out, pa.RecordBatchReader):  # lazy: read before unregistering
                out = out.read_all()
        finally:
            self._con.unregister("_b")
        row_hashes = out.column(0).to_numpy()
        self._sum += int(np.sum(row_hashes.astype(np.uint64), dtype=np.uint64))
        for i, name in enumerate(batch.column_names, start=1):
            values = pc.drop_null(out.column(i))
            self.columns[name].hll.update(values.to_numpy())

    @staticmethod
    def _update_column(prof: ColumnProfile, column: pa.Array | pa.ChunkedArray) -> None:
        prof.count += len(column)
        prof.nulls += column.null_count
        t = column.type
        if pa.types.is_dictionary(t):
            column = pc.cast(column, t.value_type)
            t = column.type
        if not (pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t)):
            mm = pc.min_max(column)
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            if lo is not None:
                prof.min = lo if prof.min is None else min(prof.min, lo)
                prof.max = hi if prof.max is None else max(prof.max, hi)
        if prof.counts is not None and prof.hll.estimate() > ENTROPY_CAP * 1.05:
            prof.counts = None
        if prof.counts is not None and prof.type in ("string", "bool"):
            vc = pc.value_counts(pc.drop_null(column))
            if len(vc) + len(prof.counts) > ENTROPY_CAP:
                prof.counts = None
                return
            for value, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(),
                                strict=True):
                prof.counts[value] = prof.counts.get(value, 0) + n
        elif prof.type not in ("string", "bool"):
            prof.counts = {}

    def merge(self, other: Profiler) -> None:
        """Adds another profiler's state (parts of the same output)."""
        self.rows += other.rows
        self._sum += other._sum
        for name, theirs in other.columns.items():
            mine = self.columns.get(name)
            if mine is None:
                self.columns[name] = theirs
                continue
            mine.count += theirs.count
            mine.nulls += theirs.nulls
            for attr, pick in (("min", min), ("max", max)):
                a, b = getattr(mine, attr), getattr(theirs, attr)
                setattr(mine, attr, b if a is None else a if b is None else pick(a, b))
            mine.hll.merge(theirs.hll)
            if mine.counts is None or theirs.counts is None:
                mine.counts = None
            else:
                for k, v in theirs.counts.items():
                    mine.counts[k] = mine.counts.get(k, 0) + v
                if len(mine.counts) > ENTROPY_CAP:
                    mine.counts = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready profile: rows, checksum and one entry per column."""
        return {
            "rows": self.rows,
            "checksum": self.checksum,
            "checksum_algorithm": "sum64(duckdb.hash(row))",
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    def close(self) -> None:
        """Releases the DuckDB connection."""
        self._con.close()
