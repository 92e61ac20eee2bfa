"""Exact value counts of one column across batches, merged with Arrow kernels.

Each batch contributes ``pc.value_counts``; the parts are summed with a hash group-by only
when their combined length could pass the cap, so a column with a few hundred distinct values
costs one kernel call per batch and no Python loop over its values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MAX_PARTS = 32  # consolidate at least this often, so memory stays near the cap


class ValueCounts:
    """Counts of the non-null values of a column while they number at most ``cap``.

    Example:
        >>> vc = ValueCounts(cap=10)
        >>> vc.add(pa.array(["a", "b", "a", None])), vc.add(pa.array(["b", "b"]))
        (True, True)
        >>> vc.distinct, sorted(zip(vc.values().to_pylist(), vc.counts().tolist()))
        (2, [('a', 2), ('b', 3)])
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._values: list[pa.Array] = []
        self._counts: list[pa.Array] = []
        self._upper = 0  # an upper bound of the distinct values held

    def add(self, column: pa.Array | pa.ChunkedArray) -> bool:
        """Counts one batch's values; False once the column has more than ``cap`` distinct."""
        vc = pc.value_counts(column)
        values, counts = vc.field("values"), vc.field("counts")
        if values.null_count:
            valid = values.is_valid()
            values, counts = values.filter(valid), counts.filter(valid)
        return self.extend(values, counts)

    def extend(self, values: pa.Array, counts: pa.Array) -> bool:
        """Adds (value, count) pairs; False once there are more than ``cap`` distinct."""
        if len(values):
            self._values.append(values)
            self._counts.append(counts)
            self._upper += len(values)
        if self._upper > self.cap or len(self._values) > _MAX_PARTS:
            return self.consolidate()
        return True

    def merge(self, other: ValueCounts) -> bool:
        """Adds another column's counts; False when the union passes ``cap``."""
        ok = True
        for values, counts in zip(other._values, other._counts, strict=True):
            ok = self.extend(values, counts) and ok
        return ok and self.consolidate()

    def consolidate(self) -> bool:
        """Sums the parts into one; False when the distinct values are more than ``cap``."""
        if len(self._values) > 1:
            table = pa.table({"v": pa.concat_arrays(self._values),
                              "n": pa.concat_arrays(self._counts)})
            summed = table.group_by("v").aggregate([("n", "sum")])
            self._values = [summed.column("v").combine_chunks()]
            self._counts = [summed.column("n_sum").combine_chunks()]
        self._upper = len(self._values[0]) if self._values else 0
        return self._upper <= self.cap

    @property
    def distinct(self) -> int:
        """The number of distinct non-null values (consolidates)."""
        self.consolidate()
        return self._upper

    def values(self) -> pa.Array:
        """The distinct values (after :meth:`consolidate`)."""
        self.consolidate()
        return self._values[0] if self._values else pa.array([])

    def counts(self) -> np.ndarray:
        """The count of each of :meth:`values`."""
        self.consolidate()
        if not self._counts:
            return np.zeros(0, dtype=np.int64)
        return self._counts[0].to_numpy(zero_copy_only=False)

    def bounds(self) -> tuple[Any, Any]:
        """(min, max) of the values, as Python objects (None when there are none)."""
        values = self.values()
        if not len(values):
            return None, None
        mm = pc.min_max(values)
        return mm["min"].as_py(), mm["max"].as_py()

    def entropy(self) -> float | None:
        """Shannon entropy in bits of the value distribution (None without values)."""
        counts = self.counts().astype(np.float64)
        total = counts.sum()
        if not total:
            return None
        p = counts / total
        return float(-(p * np.log2(p)).sum()) + 0.0
