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
from .value_counts import ValueCounts

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
    """What the profile knows about one column.

    While a column has at most ``ENTROPY_CAP`` distinct values they are counted exactly by
    their hashes (:class:`ValueCounts`; min/max then come from the rows holding values not
    seen before); past that the hashes seed a HyperLogLog and min/max are taken batch by batch.
    """

    name: str
    type: str
    count: int = 0
    nulls: int = 0
    min: Any = None
    max: Any = None
    hll: HyperLogLog = field(default_factory=HyperLogLog, repr=False)
    counts: ValueCounts | None = field(default_factory=lambda: ValueCounts(ENTROPY_CAP),
                                       repr=False)

    @property
    def distinct(self) -> int:
        """Exact while values are counted (up to ``ENTROPY_CAP``), else the HLL estimate."""
        if self.counts is not None:
            return self.counts.distinct
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
        return self.counts.entropy(), True


def combine_hashes(hashes: list[np.ndarray]) -> np.ndarray:
    """DuckDB's ``hash(c0, ..., cn)`` from the column hashes ``hash(c0)``...``hash(cn)``:
    ``h = ((h ^ (h >> 32)) * 0xd6e8feb86659fd93) ^ next`` (DuckDB's ``CombineHashScalar``).

    Example:
        >>> import numpy as np
        >>> combine_hashes([np.array([1], np.uint64), np.array([2], np.uint64)]).tolist()
        [15485907386658061713]
    """
    out = hashes[0].astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        for h in hashes[1:]:
            out ^= out >> np.uint64(32)
            out *= np.uint64(0xD6E8FEB86659FD93)
            out ^= h
    return out


def _positional(batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    """The batch with columns named c0..cn (hash ignores names; any name, even "", works)."""
    return batch.rename_columns([f"c{i}" for i in range(batch.num_columns)])


def _bound(value: pa.Scalar) -> Any:
    """A bound as a Python value; nanosecond times (which ``datetime`` cannot hold) always as
    their ISO text, so that bounds of one column compare."""
    if getattr(value.type, "unit", None) == "ns":
        return value.cast(pa.string()).as_py()
    return value.as_py()


def _is_nested(t: pa.DataType) -> bool:
    return pa.types.is_nested(t.value_type if pa.types.is_dictionary(t) else t)


def _row_hash_sql(n: int) -> str:
    return f"SELECT hash({', '.join(f'c{i}' for i in range(n))}) FROM _b"


def _widest(a: tuple[Any, Any], b: tuple[Any, Any]) -> tuple[Any, Any]:
    """The (min, max) covering two (min, max) pairs whose parts may be None."""
    lo = b[0] if a[0] is None else a[0] if b[0] is None else min(a[0], b[0])
    hi = b[1] if a[1] is None else a[1] if b[1] is None else max(a[1], b[1])
    return lo, hi


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
        self._combine_ok: bool | None = None  # see _row_hashes
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
                self.columns[name] = ColumnProfile(name, type_label(column.type))
        self.rows += batch.num_rows
        hashes = self._column_hashes(batch)
        self._sum += int(np.sum(self._row_hashes(batch, hashes), dtype=np.uint64))
        for name, column, h in zip(batch.column_names, batch.columns, hashes, strict=True):
            self._update_column(self.columns[name], column, h)

    def _column_hashes(self, batch: pa.RecordBatch | pa.Table) -> list[np.ndarray]:
        """DuckDB's ``hash`` of every value, one uint64 array per column (one query)."""
        cols = ", ".join(f"hash(c{i})" for i in range(batch.num_columns))
        out = self._query(f"SELECT {cols} FROM _b", _positional(batch))
        return [c.to_numpy() for c in out.columns]

    def _row_hashes(self, batch: pa.RecordBatch | pa.Table,
                    hashes: list[np.ndarray]) -> np.ndarray:
        """The row hashes ``hash(c0, ..., cn)`` of the checksum, combined here from the column
        hashes as DuckDB combines them (three times cheaper than asking it for both). Checked
        once per profiler against DuckDB on the first rows; a DuckDB whose combination
        differs, and any batch with a nested column (DuckDB folds a list's or struct's
        hash into the row's differently), is asked for the row hashes instead."""
        if not any(_is_nested(f.type) for f in batch.schema):
            if self._combine_ok is None:
                head = batch.slice(0, 4096)
                want = self._query(_row_hash_sql(head.num_columns), _positional(head))
                self._combine_ok = bool(np.array_equal(want.column(0).to_numpy(), combine_hashes(
                    [h[:head.num_rows] for h in hashes])))
            if self._combine_ok:
                return combine_hashes(hashes)
        out = self._query(_row_hash_sql(batch.num_columns), _positional(batch))
        return out.column(0).to_numpy()

    def _query(self, sql: str, data: pa.RecordBatch | pa.Table) -> pa.Table:
        self._con.register("_b", data)
        try:
            out = self._con.execute(sql).arrow()
            if isinstance(out, pa.RecordBatchReader):  # lazy: read before unregistering
                out = out.read_all()
        finally:
            self._con.unregister("_b")
        return out

    @staticmethod
    def _to_hll(prof: ColumnProfile) -> None:
        """Leaves exact counting: the distinct hashes seen so far seed the HyperLogLog (the
        bounds are already known)."""
        counts, prof.counts = prof.counts, None
        if counts is not None:
            prof.hll.update(counts.keys())

    def _update_column(self, prof: ColumnProfile, column: pa.Array | pa.ChunkedArray,
                       hashes: np.ndarray) -> None:
        prof.count += len(column)
        prof.nulls += column.null_count
        valid = hashes
        if column.null_count:  # hash(NULL) is a value to DuckDB, not to the profile
            valid = hashes[column.is_valid().to_numpy(zero_copy_only=False)]
        t = column.type
        if pa.types.is_dictionary(t):
            column, t = pc.cast(column, t.value_type), t.value_type
        if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            prof.counts = None  # no exact counting or bounds of nested values; hashes only
            prof.hll.update(valid)
            return
        if prof.counts is not None:
            fresh, all_new = prof.counts.add(valid)
            if all_new:  # (as in a first batch)
                self._widen(prof, column)
            elif len(fresh):  # only rows holding a value not seen before can move the bounds
                self._widen(prof, column.filter(pc.is_in(pa.array(hashes), value_set=fresh)))
            if not prof.counts.ok:
                self._to_hll(prof)
            return
        self._widen(prof, column)
        prof.hll.update(valid)

    @staticmethod
    def _widen(prof: ColumnProfile, values: pa.Array | pa.ChunkedArray) -> None:
        try:
            mm = pc.min_max(values)
        except pa.ArrowNotImplementedError:  # a type without an order (duration): no bounds
            return
        prof.min, prof.max = _widest((prof.min, prof.max), (_bound(mm["min"]), _bound(mm["max"])))

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
            mine.min, mine.max = _widest((mine.min, mine.max), (theirs.min, theirs.max))
            if mine.counts is not None and theirs.counts is not None:
                if mine.counts.merge(theirs.counts):
                    continue
                theirs.counts = None  # now inside mine's counts
            for prof in (mine, theirs):
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
