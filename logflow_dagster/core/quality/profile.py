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

ENTROPY_CAP = 16_384  # distinct values counted exactly per column (entropy, exact distinct)
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
    arrow_type: pa.DataType | None = field(default=None, repr=False)

    @property
    def distinct(self) -> int:
        """Exact while values are counted (up to ``ENTROPY_CAP``), else the HLL estimate."""
        if self.counts is not None:
            return len(self.counts)
        return round(self.hll.estimate()) if self.count > self.nulls else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        entropy, exact = self.entropy()
        return {
            "name": self.name,
            "type": self.type,
            "count": self.count,
            "nulls": self.nulls,
            "null_ratio": (self.nulls / self.count) if self.count else 0.0,
            "min": jsonable(self.min),
            "max": jsonable(self.max),
            "distinct": self.distinct,
            "distinct_exact": self.counts is not None,
            "entropy": entropy,
            "entropy_exact": exact,
        }

    def entropy(self) -> tuple[float | None, bool]:
        """Shannon entropy in bits of the non-null values (text and boolean columns).

        Exact while the column has at most ``ENTROPY_CAP`` distinct values; above that the
        upper bound log2(distinct) is given and flagged as not exact.
        """
        if self.type not in ("string", "bool"):
            return None, True
        if self.counts is None:
            distinct = self.hll.estimate()
            return (math.log2(distinct) if distinct > 1 else 0.0), False
        total = sum(self.counts.values())
        if not total:
            return None, True
        ent = -sum((c / total) * math.log2(c / total) for c in self.counts.values())
        return ent + 0.0, True


def jsonable(value: Any) -> Any:
    """A profile or rule value as JSON can hold it (dates as ISO text, others as text)."""
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
        # one DuckDB thread: batches are small and the other core is decoding and writing
        self._con = duckdb.connect(config={"autoinstall_known_extensions": "false",
                                           "autoload_known_extensions": "false",
                                           "threads": 1})

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
                self.columns[name] = ColumnProfile(name, type_label(column.type),
                                                   arrow_type=column.type)
        self.rows += batch.num_rows
        for name, column in zip(batch.column_names, batch.columns, strict=True):
            self._update_column(self.columns[name], column)
        # exact value counts make hashing a column for its HyperLogLog unnecessary
        need_hll = [n for n in batch.column_names if self.columns[n].counts is None]
        self._hash(batch, need_hll)

    def _hash(self, batch: pa.RecordBatch | pa.Table, columns: list[str]) -> None:
        """Adds the row hashes to the checksum and the values of ``columns`` to their HLLs."""
        row = f"hash({', '.join(quote_ident(n) for n in batch.column_names)})"
        per_col = "".join(f", hash({quote_ident(n)})" for n in columns)
        out = self._query(f"SELECT {row} AS _row{per_col} FROM _b", batch)
        row_hashes = out.column(0).to_numpy()
        self._sum += int(np.sum(row_hashes.astype(np.uint64), dtype=np.uint64))
        for i, name in enumerate(columns, start=1):
            hashes = out.column(i).to_numpy()
            column = batch.column(name)
            if column.null_count:  # hash(NULL) is a value to DuckDB, not to the count
                hashes = hashes[column.is_valid().to_numpy(zero_copy_only=False)]
            self.columns[name].hll.update(hashes)

    def _query(self, sql: str, data: pa.RecordBatch | pa.Table) -> pa.Table:
        self._con.register("_b", data)
        try:
            out = self._con.execute(sql).arrow()
            if isinstance(out, pa.RecordBatchReader):  # lazy: read before unregistering
                out = out.read_all()
        finally:
            self._con.unregister("_b")
        return out

    def _to_hll(self, prof: ColumnProfile) -> None:
        """Leaves exact counting: the values counted so far seed the HyperLogLog."""
        keys, prof.counts = list(prof.counts or {}), None
        if keys and prof.arrow_type is not None:
            table = pa.table({"v": pa.array(keys, type=prof.arrow_type)})
            prof.hll.update(self._query("SELECT hash(v) FROM _b", table).column(0).to_numpy())

    def _update_column(self, prof: ColumnProfile, column: pa.Array | pa.ChunkedArray) -> None:
        prof.count += len(column)
        prof.nulls += column.null_count
        t = column.type
        if pa.types.is_dictionary(t):
            column = pc.cast(column, t.value_type)
            t = column.type
        if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            if prof.counts is not None:
                prof.counts = None  # no exact counting of nested values; hashes only
            return
        mm = pc.min_max(column)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if lo is not None:
            prof.min = lo if prof.min is None else min(prof.min, lo)
            prof.max = hi if prof.max is None else max(prof.max, hi)
        if prof.counts is None:
            return
        vc = pc.value_counts(column)
        if len(vc) + len(prof.counts) > ENTROPY_CAP:
            self._to_hll(prof)
            return
        for value, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(),
                            strict=True):
            if value is not None:
                prof.counts[value] = prof.counts.get(value, 0) + n

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
            if mine.counts is not None and theirs.counts is not None:
                for k, v in theirs.counts.items():
                    mine.counts[k] = mine.counts.get(k, 0) + v
                if len(mine.counts) <= ENTROPY_CAP:
                    continue
            for prof in (mine, theirs):
                if prof.counts is not None:
                    self._to_hll(prof)
            mine.hll.merge(theirs.hll)

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
